// The whole V4 network (spec §4): embedding, the blocks (hyper-connections around attention
// and MoE), the final hyper-connection head, norm and LM head, and the MTP block (§8.2).
//
// Tokens are processed layer by layer; inside a layer, the sequence-dependent steps (ring,
// compressors, indexer, attention) run token by token in position order against the
// sequence's state. A full forward is therefore the same computation as chunked prefill or
// one-token decode, and a batch of sequences gives each the logits it would get alone.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "formats/model_binding.h"
#include "model/attention.h"
#include "model/hyper_connections.h"
#include "model/moe.h"
#include "model/numerics.h"
#include "model/sequence_state.h"

namespace lightseek {

class Block {
 public:
  Block(const ModelConfig& config, const BlockWeights& weights, NumericsOptions numerics);
  // streams: [rows, hc_mult, D], updated in place; states: one AttentionState per segment.
  void forward(float* streams, int64_t rows, const std::vector<Segment>& segments, const int32_t* token_ids);

 private:
  // Fast numerics split a prompt's RMS norms over the kernel threads in multiples of this many
  // rows; up to this many (decode's one) the pool runs them on the caller.
  static constexpr int64_t kRowGrain = 4;
  // x [rows, D] ← rms_norm(x)·weight, row by row.
  void normalize_rows(float* x, int64_t rows, const std::vector<float>& weight) const;

  const ModelConfig& config_;
  HyperConnection hc_attn_, hc_ffn_;
  std::vector<float> attn_norm_, ffn_norm_;
  Attention attention_;
  Moe moe_;
  bool fast_numerics_;
};

// One sequence's part of a batched forward.
struct SequenceInput {
  SequenceState* state = nullptr;
  std::span<const int32_t> tokens;
  std::vector<float>* logits = nullptr;         // resized to [tokens, vocab] (or [1, vocab], below)
  std::vector<float>* final_streams = nullptr;  // optional: [tokens, hc_mult, D] before the head (MTP input)
  // Prefill only needs the next token's distribution: skip the LM head for the other rows.
  bool last_logits_only = false;
};

class Transformer {
 public:
  Transformer(const ModelConfig& config, const ModelWeights& weights, NumericsOptions numerics);

  SequenceState new_sequence() const;
  // Runs each sequence's tokens from its current length and appends them to its state.
  // Throws Error for token ids outside the vocabulary, positions past max_position_embeddings
  // and empty inputs, before any state changes.
  void forward(std::vector<SequenceInput>& batch);
  void forward(SequenceState& state, std::span<const int32_t> tokens, std::vector<float>& logits,
               std::vector<float>* final_streams = nullptr);

  bool has_mtp() const { return mtp_block_ != nullptr; }
  SequenceState new_mtp_sequence() const;
  // MTP (§8.2): row t combines the main model's final streams at position t with the embedding
  // of token t+1 (`next_tokens`) and predicts token t+2. Rows continue the MTP state.
  // zero_first_embedding zeroes the embedding of position 0 (vLLM's convention).
  void forward_mtp(SequenceState& state, const float* final_streams, std::span<const int32_t> next_tokens,
                   std::vector<float>& logits, bool zero_first_embedding = false);

  const ModelConfig& config() const { return config_; }

 private:
  void check_input(const SequenceState& state, std::span<const int32_t> tokens) const;
  void embed(std::span<const int32_t> tokens, float* out) const;
  void head(const HyperConnectionHead& hc_head, const std::vector<float>& norm, const float* streams, int64_t rows,
            float* logits) const;

  const ModelConfig& config_;
  const ModelWeights& weights_;
  NumericsOptions numerics_;
  std::vector<std::unique_ptr<Block>> blocks_;
  HyperConnectionHead hc_head_;
  std::vector<float> norm_;
  // MTP block 0 when the checkpoint has it.
  std::unique_ptr<Block> mtp_block_;
  std::unique_ptr<HyperConnectionHead> mtp_hc_head_;
  std::vector<float> mtp_enorm_, mtp_hnorm_, mtp_norm_;
};

}  // namespace lightseek
