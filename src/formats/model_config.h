// The model configuration of a DeepSeek-V4 checkpoint (spec §2), read from the HF-style
// config.json (model_type "deepseek_v4") or from the official inference/config.json key names,
// validated, and expanded into the per-layer schedule.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace lightseek {

enum class AttentionKind : uint8_t {
  SlidingWindow,      // compress ratio 0
  CompressedSparse,   // ratio 4: overlapping compressor + lightning indexer (CSA)
  HeavilyCompressed,  // any other ratio > 4: non-overlapping compressor (HCA)
};
std::string_view attention_kind_name(AttentionKind kind);  // "sliding", "csa", "hca"

struct LayerSpec {
  int index = 0;           // 0..L-1 for backbone layers, L+k for MTP block k
  bool is_mtp = false;
  int mtp_index = -1;      // k for MTP block k (tensor prefix "mtp.k.")
  int compress_ratio = 0;
  AttentionKind attention = AttentionKind::SlidingWindow;
  bool hash_routed = false;  // routes by tid2eid instead of the biased top-k

  bool operator==(const LayerSpec&) const = default;
};

struct YarnConfig {
  double factor = 1.0;
  int64_t original_max_position = 0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;

  bool operator==(const YarnConfig&) const = default;
};

struct ModelConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;            // D
  int64_t num_layers = 0;             // L, MTP blocks excluded
  int64_t num_heads = 0;              // H
  int64_t head_dim = 0;               // 512 in V4
  int64_t rope_head_dim = 0;          // trailing channels with RoPE (64 in V4)
  int64_t q_lora_rank = 0;
  int64_t o_groups = 0;
  int64_t o_lora_rank = 0;
  int64_t sliding_window = 0;
  std::vector<int> compress_ratios;   // L + num_mtp_layers entries
  double rope_theta = 10000.0;
  double compress_rope_theta = 160000.0;
  YarnConfig yarn;
  int64_t max_position_embeddings = 0;
  int64_t index_n_heads = 0;
  int64_t index_head_dim = 0;
  int64_t index_topk = 0;
  int64_t n_routed_experts = 0;
  int64_t num_experts_per_tok = 0;
  int64_t n_shared_experts = 1;
  int64_t moe_intermediate_size = 0;
  int64_t num_hash_layers = 0;
  std::string scoring_func = "sqrtsoftplus";
  std::string topk_method = "noaux_tc";
  double routed_scaling_factor = 1.0;
  double swiglu_limit = 0.0;
  int64_t hc_mult = 4;
  int64_t hc_sinkhorn_iters = 20;
  double hc_eps = 1e-6;
  double rms_norm_eps = 1e-6;
  int64_t num_mtp_layers = 0;
  int64_t bos_token_id = 0;
  int64_t eos_token_id = 1;
  // Quantisation as declared: "fp8" when the checkpoint declares FP8 block-quantised linears
  // (quantization_config or official "dtype": "fp8"), else "". expert_dtype "fp4", "fp8" or "".
  std::string weight_quant;
  std::string expert_dtype;

  // Backbone layers followed by the MTP blocks.
  std::vector<LayerSpec> schedule() const;
  int64_t nope_head_dim() const { return head_dim - rope_head_dim; }

  bool operator==(const ModelConfig&) const = default;
};

// Reads either key style (detected by "dim"/"n_layers" versus "hidden_size"/"num_hidden_layers")
// and validates the result. Throws Error with one line naming the offending field, e.g.
// "config.json: compress_ratios has 7 entries, expected num_hidden_layers + num_nextn_predict_layers = 6".
// Rejects model types other than deepseek_v4, scoring functions other than sqrtsoftplus,
// and ratios other than 0, 4 and > 4 (V4.1's ratios 1 and 2 are a different architecture).
ModelConfig parse_model_config(const nlohmann::json& json, std::string_view source);

// Reads DIR/config.json, else DIR/inference/config.json, or the file itself when `path` is a
// file. Throws Error naming the file for unreadable files and invalid JSON.
ModelConfig load_model_config(const std::filesystem::path& path);

// The HF-style config.json for a config (what gen-model writes). parse_model_config of the
// result gives back an equal config.
nlohmann::json to_hf_config_json(const ModelConfig& config);

// The released geometries (spec §2.1).
ModelConfig v4_flash_config();
ModelConfig v4_pro_config();

}  // namespace lightseek
