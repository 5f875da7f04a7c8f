#include "runtime/memory_estimate.h"

#include "model/sequence_state.h"

namespace lightseek {
namespace {

uint64_t round_up(uint64_t value, uint64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

uint64_t main_entry_bytes(const ModelConfig& c, KvStorage storage) {
  const uint64_t head = static_cast<uint64_t>(c.head_dim);
  if (storage == KvStorage::Bf16) return head * 2;
  // FP8 non-RoPE channels with one e8m0 scale per 64, bf16 RoPE channels, padded to 8 bytes.
  const uint64_t nope = static_cast<uint64_t>(c.nope_head_dim());
  const uint64_t rope = static_cast<uint64_t>(c.rope_head_dim);
  return round_up(nope + (nope + 63) / 64 + rope * 2, 8);
}

uint64_t index_key_bytes(const ModelConfig& c, KvStorage storage) {
  const uint64_t dim = static_cast<uint64_t>(c.index_head_dim);
  switch (storage) {
    case KvStorage::Bf16: return dim * 2;
    case KvStorage::Fp8: return dim + 4;
    case KvStorage::Fp8Fp4Index: return dim / 2 + (dim + 31) / 32;
  }
  return 0;
}

}  // namespace

std::string_view kv_storage_name(KvStorage storage) {
  switch (storage) {
    case KvStorage::Bf16: return "bf16";
    case KvStorage::Fp8: return "fp8";
    case KvStorage::Fp8Fp4Index: return "fp8+fp4-index";
  }
  return "?";
}

namespace {

// Growth per token for entries and index keys of the given sizes in bytes.
double growth_per_token(const ModelConfig& config, uint64_t entry_bytes, uint64_t key_bytes) {
  double bytes = 0.0;
  for (const LayerSpec& layer : config.schedule()) {
    if (layer.compress_ratio == 0) continue;
    const double ratio = layer.compress_ratio;
    bytes += static_cast<double>(entry_bytes) / ratio;
    if (layer.attention == AttentionKind::CompressedSparse) bytes += static_cast<double>(key_bytes) / ratio;
  }
  return bytes;
}

}  // namespace

double kv_bytes_per_token(const ModelConfig& config, KvStorage storage) {
  return growth_per_token(config, main_entry_bytes(config, storage), index_key_bytes(config, storage));
}

double stored_kv_bytes_per_token(const ModelConfig& config, bool coded_kv) {
  return growth_per_token(config, static_cast<uint64_t>(kv_entry_rows(config, coded_kv).row_bytes()),
                          static_cast<uint64_t>(index_key_rows(config, coded_kv).row_bytes()));
}

SequenceFixedBytes sequence_fixed_bytes(const ModelConfig& config) {
  SequenceFixedBytes fixed;
  const uint64_t head = static_cast<uint64_t>(config.head_dim);
  const uint64_t index_dim = static_cast<uint64_t>(config.index_head_dim);
  for (const LayerSpec& layer : config.schedule()) {
    fixed.window_rings += static_cast<uint64_t>(config.sliding_window) * head * 2;
    const uint64_t ratio = static_cast<uint64_t>(layer.compress_ratio);
    // Two fp32 vectors (u and z) per pending slot.
    if (layer.attention == AttentionKind::CompressedSparse) {
      fixed.compressor_state += 2 * ratio * (2 * head) * 4 * 2;
      fixed.compressor_state += 2 * ratio * (2 * index_dim) * 4 * 2;
    } else if (layer.attention == AttentionKind::HeavilyCompressed) {
      fixed.compressor_state += ratio * head * 4 * 2;
    }
  }
  return fixed;
}

}  // namespace lightseek
