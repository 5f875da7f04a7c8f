// The per-sequence state that incremental decoding carries from one forward call to the next
// (spec §11.1), per layer: the raw-KV ring of the sliding window, the compressed KV entries, the
// indexer keys, and the compressors' pending windows.
#pragma once

#include <cstdint>
#include <vector>

#include "formats/model_config.h"
#include "model/kv_rows.h"

namespace lightseek {

// The pending windows of one compressor (spec §11.1). Slots hold (u, z + ape) per token.
// Non-overlapping (HCA): `ratio` slots for the current window. Overlapping (CSA): 2·ratio slots,
// the previous complete window first (u = 0, z = −∞ before the first), then the current one.
struct CompressorState {
  int64_t ratio = 0;
  int64_t width = 0;        // d_c: channels of one pooled entry
  bool overlapping = false; // CSA
  std::vector<float> u, z;  // [slots, (overlapping ? 2 : 1) · width]

  void reset(int64_t ratio, int64_t width, bool overlapping);
  int64_t vector_width() const { return (overlapping ? 2 : 1) * width; }
};

struct AttentionState {
  int64_t window = 0;
  int64_t head_dim = 0;
  int64_t index_dim = 0;
  std::vector<float> ring;  // [window, head_dim]; slot = position mod window
  KvRows entries;           // compressed KV, [count, head_dim]
  KvRows index_keys;        // indexer keys, [count, index_dim] (CSA only)
  CompressorState compressor;
  CompressorState index_compressor;

  int64_t entry_count() const { return entries.count(); }
  int64_t index_key_count() const { return index_keys.count(); }
};

struct SequenceState {
  int64_t length = 0;  // tokens already processed: the position of the next token
  std::vector<AttentionState> layers;
};

// The rows a sequence keeps for compressed KV entries and for index keys: float32, or with
// coded_kv FP8 entries whose RoPE channels stay float32 (the round trip of spec §9.4 leaves them
// alone) and FP4 index keys.
KvRows kv_entry_rows(const ModelConfig& config, bool coded_kv);
KvRows index_key_rows(const ModelConfig& config, bool coded_kv);

// A fresh state for `layers` (a slice of config.schedule()). coded_kv keeps compressed KV as
// FP8 and index keys as FP4 (lossless when the numerics round-trip them: reference).
SequenceState make_sequence_state(const ModelConfig& config, const std::vector<LayerSpec>& layers,
                                  bool coded_kv = false);

}  // namespace lightseek
