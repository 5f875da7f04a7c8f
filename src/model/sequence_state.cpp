#include "model/sequence_state.h"

#include <limits>

namespace lightseek {

void CompressorState::reset(int64_t new_ratio, int64_t new_width, bool new_overlapping) {
  ratio = new_ratio;
  width = new_width;
  overlapping = new_overlapping;
  const int64_t slots = (overlapping ? 2 : 1) * ratio;
  u.assign(static_cast<size_t>(slots * vector_width()), 0.0f);
  // −∞ gates give the (not yet existing) previous window of a CSA compressor zero weight.
  z.assign(static_cast<size_t>(slots * vector_width()), -std::numeric_limits<float>::infinity());
}

KvRows kv_entry_rows(const ModelConfig& config, bool coded_kv) {
  return coded_kv ? KvRows::fp8(config.head_dim, config.nope_head_dim()) : KvRows::f32(config.head_dim);
}

KvRows index_key_rows(const ModelConfig& config, bool coded_kv) {
  return coded_kv ? KvRows::fp4(config.index_head_dim) : KvRows::f32(config.index_head_dim);
}

SequenceState make_sequence_state(const ModelConfig& config, const std::vector<LayerSpec>& layers,
                                  bool coded_kv) {
  SequenceState state;
  for (const LayerSpec& layer : layers) {
    AttentionState attention;
    attention.window = config.sliding_window;
    attention.head_dim = config.head_dim;
    attention.ring.assign(static_cast<size_t>(config.sliding_window * config.head_dim), 0.0f);
    attention.entries = kv_entry_rows(config, coded_kv);
    if (layer.compress_ratio > 0) {
      const bool csa = layer.attention == AttentionKind::CompressedSparse;
      attention.compressor.reset(layer.compress_ratio, config.head_dim, csa);
      if (csa) {
        attention.index_dim = config.index_head_dim;
        attention.index_keys = index_key_rows(config, coded_kv);
        attention.index_compressor.reset(layer.compress_ratio, config.index_head_dim, true);
      }
    }
    state.layers.push_back(std::move(attention));
  }
  return state;
}

}  // namespace lightseek
