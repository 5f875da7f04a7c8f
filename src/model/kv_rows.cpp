#include "model/kv_rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/number_formats.h"
#include "kernels/vector_ops.h"

namespace lightseek {

namespace {
constexpr float kFp8Max = 448.0f, kFp8AmaxFloor = 1e-4f;
constexpr float kFp4Max = 6.0f;
const float kFp4AmaxFloor = 6.0f * std::ldexp(1.0f, -126);

// The block's power-of-two scale exponent, computed as kernels/quantize's round trip does.
int block_exponent(const float* values, int64_t count, float qmax, float amax_floor) {
  float amax = 0.0f;
  for (int64_t i = 0; i < count; ++i) amax = std::max(amax, std::fabs(values[i]));
  return ceil_log2(std::max(amax, amax_floor) * (1.0f / qmax));
}
}  // namespace

KvRows::KvRows(KvRowFormat format, int64_t width, int64_t quantized, int64_t block, int64_t row_bytes)
    : format_(format), width_(width), quantized_(quantized), block_(block), row_bytes_(row_bytes) {}

KvRows KvRows::f32(int64_t width) { return KvRows(KvRowFormat::F32, width, 0, 0, width * 4); }

KvRows KvRows::fp8(int64_t width, int64_t quantized) {
  if (quantized < 0 || quantized > width) fail("FP8 KV rows: ", quantized, " quantised channels of ", width);
  return KvRows(KvRowFormat::Fp8Blocks64, width, quantized, 64,
                quantized + (quantized + 63) / 64 + (width - quantized) * 4);
}

KvRows KvRows::fp4(int64_t width) {
  if (width < 0 || width % 2 != 0) fail("FP4 KV rows: width ", width, " is not even");
  return KvRows(KvRowFormat::Fp4Blocks32, width, width, 32, width / 2 + (width + 31) / 32);
}

void KvRows::append(const float* row) {
  uint8_t* out = storage_.extend(static_cast<size_t>(row_bytes_));
  ++count_;
  if (format_ == KvRowFormat::F32) {
    std::memcpy(out, row, static_cast<size_t>(width_) * sizeof(float));
    return;
  }
  const bool fp8 = format_ == KvRowFormat::Fp8Blocks64;
  const float qmax = fp8 ? kFp8Max : kFp4Max, amax_floor = fp8 ? kFp8AmaxFloor : kFp4AmaxFloor;
  const int64_t blocks = (quantized_ + block_ - 1) / block_;  // the last one may be partial
  uint8_t* codes = out;
  uint8_t* scales = out + (fp8 ? quantized_ : quantized_ / 2);
  for (int64_t b = 0; b < blocks; ++b) {
    const float* values = row + b * block_;
    const int64_t size = std::min(block_, quantized_ - b * block_);
    const int exponent = block_exponent(values, size, qmax, amax_floor);
    scales[b] = static_cast<uint8_t>(exponent + 127);
    for (int64_t i = 0; i < size; ++i) {
      const float scaled = std::clamp(scale_by_power_of_two(values[i], -exponent), -qmax, qmax);
      const int64_t c = b * block_ + i;
      if (fp8) {
        codes[c] = fp8_e4m3_code(scaled);
      } else {
        const uint8_t nibble = fp4_e2m1_code(scaled);
        codes[c / 2] = (c % 2) ? static_cast<uint8_t>(codes[c / 2] | (nibble << 4)) : nibble;
      }
    }
  }
  if (fp8) std::memcpy(scales + blocks, row + quantized_, static_cast<size_t>(width_ - quantized_) * 4);
}

void KvRows::read(int64_t index, float* out) const {
  const uint8_t* in = storage_.data() + index * row_bytes_;
  if (format_ == KvRowFormat::F32) {
    std::memcpy(out, in, static_cast<size_t>(width_) * sizeof(float));
    return;
  }
  const bool fp8 = format_ == KvRowFormat::Fp8Blocks64;
  const uint8_t* scales = in + (fp8 ? quantized_ : quantized_ / 2);
  if (!fp8) {  // the indexer decodes every key once per token: SIMD where the CPU has it
    vector_ops().decode_fp4_blocks32(in, scales, quantized_, out);
    return;
  }
  for (int64_t b = 0; b * block_ < quantized_; ++b) {
    const int64_t begin = b * block_, end = std::min(quantized_, begin + block_);
    const int exponent = static_cast<int>(scales[b]) - 127;
    // One multiplication by the block's power of two instead of ldexp per channel: the same
    // correctly rounded value, since 2^exponent is an exact float32 for every exponent but 128
    // (scale code 255, never written).
    if (exponent > 127) {
      for (int64_t c = begin; c < end; ++c) out[c] = std::ldexp(fp8_e4m3_to_f32(in[c]), exponent);
      continue;
    }
    const float scale = std::ldexp(1.0f, exponent);
    const float* values = fp8_e4m3_values();
    for (int64_t c = begin; c < end; ++c) out[c] = values[in[c]] * scale;
  }
  std::memcpy(out + quantized_, scales + (quantized_ + block_ - 1) / block_, static_cast<size_t>(width_ - quantized_) * 4);
}

const float* KvRows::f32_data() const {
  // The mapping is page-aligned, and every row a whole number of floats.
  return format_ == KvRowFormat::F32 ? reinterpret_cast<const float*>(storage_.data()) : nullptr;
}

std::span<const uint8_t> KvRows::stored_bytes() const { return {storage_.data(), storage_.size()}; }

void KvRows::assign_stored(int64_t count, std::span<const uint8_t> bytes) {
  // Division instead of count × row_bytes: a corrupt count must not overflow into a match.
  const bool sizes_match = count >= 0 && (row_bytes_ == 0 ? bytes.empty()
                                                          : bytes.size() % static_cast<size_t>(row_bytes_) == 0 &&
                                                                bytes.size() / static_cast<size_t>(row_bytes_) ==
                                                                    static_cast<size_t>(count));
  if (!sizes_match) {
    fail("KV rows: ", bytes.size(), " bytes do not hold ", count, " rows of ", row_bytes_, " bytes");
  }
  storage_.clear();
  if (!bytes.empty()) std::memcpy(storage_.extend(bytes.size()), bytes.data(), bytes.size());
  count_ = count;
}

}  // namespace lightseek
