// How much memory a sequence's state takes (spec §11.4): the part that grows with the context
// (compressed KV entries and indexer keys) and the fixed part (sliding-window rings and the
// compressors' pending state).
#pragma once

#include <cstdint>
#include <string_view>

#include "formats/model_config.h"

namespace lightseek {

enum class KvStorage : uint8_t {
  Bf16,         // bf16 main entries and bf16 index keys
  Fp8,          // FP8-packed main entries (fp8 nope + bf16 rope + e8m0 scales) and FP8 index keys
  Fp8Fp4Index,  // FP8-packed main entries and FP4 index keys (lossless vs the reference)
};
std::string_view kv_storage_name(KvStorage storage);

// Bytes added to the cache per token of context, summed over layers (MTP blocks included).
// Growth is averaged: a ratio-m layer adds one entry every m tokens.
double kv_bytes_per_token(const ModelConfig& config, KvStorage storage);

// What lightseek's own state adds per token of context (bench measures it): float32 rows, or
// with coded_kv (--kv-cache fp8, reference numerics) FP8 entries with float32 RoPE channels and
// FP4 index keys.
double stored_kv_bytes_per_token(const ModelConfig& config, bool coded_kv);

struct SequenceFixedBytes {
  uint64_t window_rings = 0;      // bf16 raw-KV rings, one per layer
  uint64_t compressor_state = 0;  // fp32 (u, z) pending slots of main and indexer compressors
};
SequenceFixedBytes sequence_fixed_bytes(const ModelConfig& config);

}  // namespace lightseek
