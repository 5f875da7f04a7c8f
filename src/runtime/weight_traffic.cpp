#include "runtime/weight_traffic.h"

namespace lightseek {

namespace {

uint64_t bytes(const TensorView& tensor) { return tensor.nbytes; }
uint64_t bytes(const WeightMatrix& matrix) { return matrix.stored_bytes(); }

// A table read by lookup: one row of it per token.
uint64_t one_row(const TensorView& table) {
  return table.shape.empty() || table.shape[0] == 0 ? 0 : table.nbytes / static_cast<uint64_t>(table.shape[0]);
}

uint64_t bytes(const HyperConnectionWeights& hc) { return bytes(hc.fn) + bytes(hc.base) + bytes(hc.scale); }

uint64_t bytes(const CompressorWeights& compressor) {
  // The whole position bias is counted although a token uses one row of it: it is a few hundred
  // KiB per layer against tens of MB of projections.
  return bytes(compressor.wkv) + bytes(compressor.wgate) + bytes(compressor.ape) + bytes(compressor.norm);
}

uint64_t bytes(const ExpertWeights& expert) { return bytes(expert.w1) + bytes(expert.w2) + bytes(expert.w3); }

uint64_t bytes(const AttentionWeights& attn) {
  uint64_t total = bytes(attn.wq_a) + bytes(attn.wq_b) + bytes(attn.wkv) + bytes(attn.wo_a) + bytes(attn.wo_b) +
                   bytes(attn.q_norm) + bytes(attn.kv_norm) + bytes(attn.attn_sink);
  if (attn.has_compressor) total += bytes(attn.compressor);
  if (attn.has_indexer) {
    total += bytes(attn.indexer.wq_b) + bytes(attn.indexer.weights_proj) + bytes(attn.indexer.compressor);
  }
  return total;
}

uint64_t bytes(const MoeWeights& ffn, int64_t experts_per_token) {
  uint64_t total = bytes(ffn.gate) + bytes(ffn.gate_bias) + one_row(ffn.tid2eid) + bytes(ffn.shared);
  // Routed experts all have one shape, so any k of them cost k times the first.
  if (!ffn.experts.empty()) total += static_cast<uint64_t>(experts_per_token) * bytes(ffn.experts.front());
  return total;
}

}  // namespace

uint64_t decode_weight_bytes_per_token(const ModelConfig& config, const ModelWeights& weights) {
  uint64_t total = weights.embed.rows > 0 ? bytes(weights.embed) / static_cast<uint64_t>(weights.embed.rows) : 0;
  total += bytes(weights.hc_head) + bytes(weights.norm) + bytes(weights.head);
  for (const BlockWeights& block : weights.layers) {
    total += bytes(block.hc_attn) + bytes(block.hc_ffn) + bytes(block.attn_norm) + bytes(block.ffn_norm);
    total += bytes(block.attn) + bytes(block.ffn, config.num_experts_per_tok);
  }
  return total;
}

}  // namespace lightseek
