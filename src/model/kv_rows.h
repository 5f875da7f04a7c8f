// Rows of the growing KV state (compressed KV entries, indexer keys) in the format the numerics
// allow. Under the reference numerics every stored row has already been through DeepSeek's
// quantisation round trip (spec §9.4), so keeping the codes instead of the floats loses nothing:
// compressed KV as FP8 e4m3 in 64-channel blocks with e8m0 scales plus float32 RoPE channels
// (711 instead of 2048 bytes per 512-wide row), index keys as FP4 e2m1 in 32-channel blocks
// (68 instead of 512 bytes per 128-wide key). Under the other numerics rows stay float32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include "core/append_buffer.h"

namespace lightseek {

enum class KvRowFormat : uint8_t {
  F32,
  Fp8Blocks64,  // channels [0, quantized) FP8 in 64-blocks (the last may be partial), the rest float32
  Fp4Blocks32,  // every channel FP4 in 32-blocks (the last may be partial)
};

class KvRows {
 public:
  KvRows() = default;
  static KvRows f32(int64_t width);
  // `quantized` must be at most width.
  static KvRows fp8(int64_t width, int64_t quantized);
  // `width` must be even (two codes per byte).
  static KvRows fp4(int64_t width);

  KvRowFormat format() const { return format_; }
  int64_t width() const { return width_; }
  int64_t count() const { return count_; }
  size_t bytes() const { return storage_.size(); }

  // Stores a row of `width` floats: exactly for float32 rows and for rows that went through the
  // matching round trip (kernels/quantize); other values are rounded as that round trip would.
  void append(const float* row);
  // Row `index` as float32 into out[width].
  void read(int64_t index, float* out) const;
  // The float32 rows, contiguous, for the F32 format only (nullptr otherwise).
  const float* f32_data() const;

  // Persistence (runtime/state_file): the rows exactly as stored, so that a state written to
  // disk and read back is bit-identical, codes included. Row layout: for F32, `width` floats;
  // for the coded formats, the codes, then one e8m0 scale byte per block, then (FP8 only) the
  // float32 channels past `quantized`. Floats are in the host's byte order.
  int64_t quantized() const { return quantized_; }  // leading channels held as codes
  int64_t row_bytes() const { return row_bytes_; }
  bool same_layout(const KvRows& other) const {
    return format_ == other.format_ && width_ == other.width_ && quantized_ == other.quantized_;
  }
  // count() × row_bytes() bytes.
  std::span<const uint8_t> stored_bytes() const;
  // Replaces the rows with `count` rows of this layout taken from `bytes` (as stored_bytes()
  // gave them). Throws Error when count is negative or bytes is not count × row_bytes().
  void assign_stored(int64_t count, std::span<const uint8_t> bytes);

 private:
  KvRows(KvRowFormat format, int64_t width, int64_t quantized, int64_t block, int64_t row_bytes);

  KvRowFormat format_ = KvRowFormat::F32;
  int64_t width_ = 0;
  int64_t quantized_ = 0;  // leading channels held as codes
  int64_t block_ = 0;      // channels per scale
  int64_t row_bytes_ = 0;
  int64_t count_ = 0;
  AppendBuffer storage_;  // count_ rows of row_bytes_ (float32 rows in the host's byte order)
};

}  // namespace lightseek
