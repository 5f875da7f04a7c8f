#include "kernels/fp4_activations.h"

#include <algorithm>
#include <bit>

#include "kernels/fast_linear_kernels.h"

namespace lightseek {
namespace {

// std::nearbyint in the default rounding mode (to nearest, ties to even) for |v| < 2^22: after
// adding 1.5·2^23 no fraction bits are left. Inline, where std::nearbyint is a libm call per
// element on baseline x86-64 (perf: 8% of a 256-token FP4 product went to quantising).
inline float round_half_even(float v) {
  constexpr float kShift = 12582912.0f;
  return (v + kShift) - kShift;
}

}  // namespace

void quantize_rows(const float* x, int64_t tokens, int64_t cols, int64_t padded, bool token_quads,
                   QuantizedRows& out) {
  const int64_t rows = token_quads ? (tokens + 3) / 4 * 4 : tokens;
  out.q.assign(static_cast<size_t>(rows * padded), 0);
  out.q_scale.assign(static_cast<size_t>(rows * padded / 4), 0.0f);
  for (int64_t t = 0; t < tokens; ++t) {
    const float* xt = x + t * cols;
    int16_t* q = out.q.data() + t * padded;
    float* q_scale = out.q_scale.data() + t * (padded / 4);
    for (int64_t b = 0; b < cols; b += 32) {
      // The largest magnitude through the bits (ordered as the values are for non-NaN floats):
      // GCC does not vectorise a float max reduction without -ffast-math.
      int32_t amax_bits = 0;
      for (int64_t c = b; c < b + 32; ++c) amax_bits = std::max(amax_bits, std::bit_cast<int32_t>(xt[c]) & 0x7FFFFFFF);
      const float amax = std::bit_cast<float>(amax_bits);
      const float inverse = amax > 0.0f ? fast_kernels::kQuantMax / amax : 0.0f;
      int16_t values[32];  // |x·inverse| ≤ kQuantMax (+ rounding), far inside round_half_even's range
      for (int64_t k = 0; k < 32; ++k) values[k] = static_cast<int16_t>(round_half_even(xt[b + k] * inverse));
      if (token_quads) {
        for (int64_t k = 0; k < 32; ++k) {
          out.q[static_cast<size_t>(fast_kernels::quad_position(t, b + k, padded))] = values[k];
        }
      } else {
        // The block's even columns, then its odd ones, as q_position places them (a loop over
        // q_position took most of the time of preparing a matrix-vector product).
        int16_t* evens = q + (b - b % 64) + (b % 64) / 2;
        for (int64_t k = 0; k < 16; ++k) {
          evens[k] = values[2 * k];
          evens[32 + k] = values[2 * k + 1];
        }
      }
      // Halved: the kernels multiply doubled FP4 codes.
      std::fill(q_scale + b / 4, q_scale + b / 4 + 8, amax / fast_kernels::kQuantMax * 0.5f);
    }
  }
}

void split_int8_rows(const QuantizedRows& in, int64_t tokens, int64_t cols, int64_t padded, int64_t padded128,
                     int64_t padded256, int64_t group_cols, QuantizedRows& out) {
  out.high.assign(static_cast<size_t>(tokens * padded128), 0);
  out.low.assign(out.high.size(), 0);
  if (group_cols == 64) {
    out.block_bias.assign(static_cast<size_t>(tokens * padded256 / 32), 0);
    out.block_scale.assign(out.block_bias.size(), 0.0f);
  } else {
    out.lane_bias.assign(static_cast<size_t>(tokens * padded128 / 8), 0);
    out.lane_scale.assign(out.lane_bias.size(), 0.0f);
  }
  for (int64_t t = 0; t < tokens; ++t) {
    const int16_t* q = in.q.data() + t * padded;
    if (group_cols == 64) {
      // The chunk order is already AVX2's (each 64 columns' even columns, then their odd ones),
      // so the split is elementwise, and block B of a chunk sits at positions 16B..16B+15 and
      // 32+16B..32+16B+15. (Column by column, through q_position, this took as long as the
      // 128×4096 product it serves.)
      int8_t* high_row = out.high.data() + t * padded128;
      int8_t* low_row = out.low.data() + t * padded128;
      for (int64_t i = 0; i < padded; ++i) {
        const int32_t high = (q[i] + 128) >> 8;  // floor: low = value − 256·high is in [-128, 127]
        high_row[i] = static_cast<int8_t>(high);
        low_row[i] = static_cast<int8_t>(q[i] - 256 * high);
      }
      int32_t* bias = out.block_bias.data() + t * padded256 / 32;
      float* scale = out.block_scale.data() + t * padded256 / 32;
      // Blocks of whole chunks only: a last lone block of 32 is the kernel's scalar tail.
      for (int64_t block = 0; block < cols / 64 * 2; ++block) {
        const int16_t* evens = q + block / 2 * 64 + block % 2 * 16;
        int32_t sum = 0;
        for (int64_t k = 0; k < 16; ++k) sum += evens[k] + evens[32 + k];
        bias[fast_kernels::hadd_block_position(block)] = -12 * sum;
        scale[fast_kernels::hadd_block_position(block)] = in.q_scale[static_cast<size_t>(t * padded / 4 + block * 8)];
      }
    } else {
      // Each 128-column group is its two chunks with their middle quarters swapped (chunk 0's
      // evens, chunk 1's evens, chunk 0's odds, chunk 1's odds), so this too is elementwise, and
      // lane l of a chunk is its positions 4l..4l+3 and 32+4l..32+4l+3. (Column by column,
      // through q_position, preparing a one-token product over 4096 columns took 10 µs, as long
      // as reading 400 KB of its weights.)
      int8_t* high_row = out.high.data() + t * padded128;
      int8_t* low_row = out.low.data() + t * padded128;
      for (int64_t chunk = 0; chunk < padded; chunk += 64) {
        const int64_t group = chunk - chunk % 128, second = chunk % 128 / 64;
        for (int64_t half = 0; half < 2; ++half) {  // evens, odds
          const int16_t* from = q + chunk + half * 32;
          const int64_t to = group + half * 64 + second * 32;
          for (int64_t i = 0; i < 32; ++i) {
            const int32_t high = (from[i] + 128) >> 8;  // floor: low = value − 256·high is in [-128, 127]
            high_row[to + i] = static_cast<int8_t>(high);
            low_row[to + i] = static_cast<int8_t>(from[i] - 256 * high);
          }
        }
        int32_t* bias = out.lane_bias.data() + (t * padded128 + chunk) / 8;
        float* scale = out.lane_scale.data() + (t * padded128 + chunk) / 8;
        for (int64_t lane = 0; lane < 8; ++lane) {
          int32_t sum = 0;
          for (int64_t k = 0; k < 4; ++k) sum += q[chunk + 4 * lane + k] + q[chunk + 32 + 4 * lane + k];
          bias[lane] = -12 * sum;
          scale[lane] = in.q_scale[static_cast<size_t>(t * padded / 4 + (chunk / 8 + lane) * 2)];
        }
      }
    }
  }
}

void prepare_vnni_rows(Isa isa, const float* x, int64_t tokens, int64_t cols, QuantizedRows& out) {
  const int64_t padded128 = (cols + 127) / 128 * 128;
  if (isa == Isa::Avx512 || isa == Isa::Avx512Bf16 || isa == Isa::Amx) {
    out.high.resize(static_cast<size_t>(tokens * padded128));
    out.low.resize(out.high.size());
    out.lane_bias.resize(static_cast<size_t>(tokens * padded128 / 8));
    out.lane_scale.resize(out.lane_bias.size());
    fast_kernels::avx512_prepare_fp4_rows(x, tokens, cols, padded128, out.high.data(), out.low.data(),
                                          out.lane_bias.data(), out.lane_scale.data());
    return;
  }
  const int64_t padded = (cols + 63) / 64 * 64;
  quantize_rows(x, tokens, cols, padded, false, out);
  split_int8_rows(out, tokens, cols, padded, padded128, (cols + 255) / 256 * 256, 128, out);
}

}  // namespace lightseek
