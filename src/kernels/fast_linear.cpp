#include "kernels/fast_linear.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/fast_gemm_amx.h"
#include "kernels/fast_linear_kernels.h"
#include "kernels/fp4_activations.h"

namespace lightseek {
namespace {

using fast_kernels::Activations;
using fast_kernels::KernelTable;

const KernelTable& kernels_for(Isa isa) {
  switch (isa) {
    case Isa::Amx:
    case Isa::Avx512Bf16: {
      // The AVX-512 kernels, FP4 unpacked with vpermb (FP8 takes the bf16 kernel in run()).
      static const KernelTable table = [] {
        KernelTable vbmi = fast_kernels::avx512_kernels();
        if (fast_kernels::avx512_vbmi_fp4_kernel() != nullptr) vbmi.fp4 = fast_kernels::avx512_vbmi_fp4_kernel();
        return vbmi;
      }();
      return table;
    }
    case Isa::Avx512: return fast_kernels::avx512_kernels();
    case Isa::Avx2: return fast_kernels::avx2_kernels();
    case Isa::Scalar: break;
  }
  return fast_kernels::scalar_kernels();
}

fast_kernels::RowsKernel kernel_for(const KernelTable& table, WeightFormat format) {
  switch (format) {
    case WeightFormat::FP4_E2M1_BLOCK32: return table.fp4;
    case WeightFormat::FP8_E4M3_BLOCK128: return table.fp8;
    case WeightFormat::BF16: return table.bf16;
    case WeightFormat::F32: return table.f32;
  }
  fail("unknown weight format");
}

void check_shape(const WeightMatrix& weight, int64_t row_begin, int64_t row_count) {
  if (row_begin < 0 || row_count < 0 || row_begin + row_count > weight.rows) {
    fail("fast_linear: rows [", row_begin, ", ", row_begin + row_count, ") outside ", weight.name(), " (", weight.rows,
         " rows)");
  }
  if (weight.format == WeightFormat::FP4_E2M1_BLOCK32 && weight.cols % 32 != 0) {
    fail("fast_linear: FP4 weight ", weight.name(), " has ", weight.cols, " columns, not a multiple of 32");
  }
}

// Rows per task: enough work to hide the dispatch, and a multiple of 16 so SIMD row blocks stay
// whole. One token reads rows in groups of 4 (one from each quarter of a task), so there a
// multiple of 4 will do: the 24 rows of a hyper-connection mix (64 KB each) then split 12 / 12
// over two threads rather than 16 / 8.
int64_t row_grain(const WeightMatrix& weight, int64_t tokens) {
  const int64_t bytes_per_row = std::max<int64_t>(1, static_cast<int64_t>(weight.stored_bytes()) / weight.rows);
  const int64_t block = tokens == 1 ? 4 : 16;
  const int64_t rows = std::max<int64_t>(block, (64 * 1024) / (bytes_per_row * std::max<int64_t>(1, tokens)));
  return (rows + block - 1) / block * block;
}

// Pieces each thread's share of rows is cut into, for the others to take over when it falls behind.
constexpr int kPiecesPerThread = 4;

// Tokens per pass over the weights: the int16 or float activations of a pass stay in L2.
constexpr int64_t kTokenChunk = 32;
// From this many tokens on, AMX tiles beat the matrix-vector kernels even though a tile holds 16
// tokens: the weights are dequantised once per call either way.
constexpr int64_t kAmxMinTokens = 4;
constexpr int64_t kAmxTokenGroup = 64;
// FP4 weights in groups of 32 tokens, which the fused L1 path takes (see fast_gemm_amx.cpp):
// unpacking each weight twice as often costs less than sending every panel through L2.
constexpr int64_t kAmxFp4TokenGroup = 32;

// Several tokens on AMX: activations converted to the tile layout once, rows split over threads
// in whole 32-row tiles, each thread with its own dequantisation scratch.
void run_amx(const WeightMatrix& weight, int64_t row_begin, int64_t row_count, const float* x, int64_t tokens,
             float* y, ThreadPool* pool) {
  thread_local std::vector<uint16_t> high, low;
  // Token groups small enough that their activation tiles stay in L2 while every weight panel
  // passes over them; the panels are dequantised once per group. (On the development machine
  // this measured the same as one group: tile loads, not L3, bound the loop there.)
  const int64_t group = weight.format == WeightFormat::FP4_E2M1_BLOCK32 ? kAmxFp4TokenGroup : kAmxTokenGroup;
  for (int64_t t0 = 0; t0 < tokens; t0 += group) {
    fast_kernels::TileActivations tiles;
    tiles.tokens = std::min(group, tokens - t0);
    tiles.token_blocks = (tiles.tokens + 15) / 16;
    tiles.chunks = (weight.cols + 31) / 32;
    tiles.fp4_column_pairs = weight.format == WeightFormat::FP4_E2M1_BLOCK32;
    high.resize(static_cast<size_t>(fast_kernels::amx_activation_elements(tiles)));
    low.resize(high.size());
    tiles.high = high.data();
    tiles.low = low.data();
    fast_kernels::amx_prepare_activations(x + t0 * weight.cols, weight.cols, tiles);
    float* y_group = y + t0 * row_count;
    auto work = [&](int64_t begin, int64_t end, int) {
      // Per thread and kept between calls: prefill makes hundreds of these calls per layer.
      thread_local std::vector<uint16_t> scratch;
      scratch.resize(static_cast<size_t>(fast_kernels::amx_scratch_elements(tiles)));
      fast_kernels::amx_rows(weight, row_begin + begin, row_begin + end, tiles, scratch.data(), y_group + begin,
                             row_count);
    };
    if (pool == nullptr) {
      work(0, row_count, 0);
    } else {
      pool->parallel_for(row_count, 32, work);
    }
  }
}

void run(Isa isa, const WeightMatrix& weight, int64_t row_begin, int64_t row_count, const float* x, int64_t tokens,
         float* y, ThreadPool* pool) {
  check_shape(weight, row_begin, row_count);
  if (tokens <= 0 || row_count == 0) return;
  // F32 weights (hyper-connection mixes) would lose bits as bf16: they stay on the FMA kernels.
  if (isa == Isa::Amx && tokens >= kAmxMinTokens && weight.format != WeightFormat::F32) {
    run_amx(weight, row_begin, row_count, x, tokens, y, pool);
    return;
  }
  const KernelTable& table = kernels_for(isa);
  fast_kernels::RowsKernel kernel = kernel_for(table, weight.format);
  // Several tokens on AVX2: packed panels, float32 (FP8, BF16) or int16 (FP4, vpmaddwd).
  const int64_t gemm_min_tokens = weight.format == WeightFormat::FP4_E2M1_BLOCK32 ? fast_kernels::kAvx2Fp4GemmMinTokens
                                                                                  : fast_kernels::kAvx2GemmMinTokens;
  const bool avx2_gemm = isa == Isa::Avx2 && tokens >= gemm_min_tokens &&
                         weight.format != WeightFormat::F32 && fast_kernels::avx2_gemm_kernel() != nullptr;
  const bool avx2_fp4_gemm = avx2_gemm && weight.format == WeightFormat::FP4_E2M1_BLOCK32 &&
                             fast_kernels::avx2_fp4_gemm_kernel() != nullptr;
  if (avx2_gemm) kernel = avx2_fp4_gemm ? fast_kernels::avx2_fp4_gemm_kernel() : fast_kernels::avx2_gemm_kernel();
  Activations activations;
  activations.tokens = tokens;
  activations.cols = weight.cols;
  activations.padded_cols = (weight.cols + 63) / 64 * 64;
  activations.f32 = x;
  thread_local QuantizedRows quantized;
  thread_local std::vector<uint16_t> bf16_high, bf16_low;
  // FP8 with whole 128-column blocks on CPUs with AVX512-BF16: the bf16 dot-product kernel.
  if ((isa == Isa::Amx || isa == Isa::Avx512Bf16) && weight.format == WeightFormat::FP8_E4M3_BLOCK128 &&
      weight.cols % 128 == 0 && fast_kernels::avx512_bf16_fp8_kernel() != nullptr) {
    kernel = fast_kernels::avx512_bf16_fp8_kernel();
    bf16_high.resize(static_cast<size_t>(tokens * activations.padded_cols));
    bf16_low.resize(bf16_high.size());
    fast_kernels::split_bf16_activations(x, tokens, weight.cols, activations.padded_cols, bf16_high.data(),
                                         bf16_low.data(), activations.fp8_tiny_correction);
    activations.bf16_high = bf16_high.data();
    activations.bf16_low = bf16_low.data();
  }
  // FP8 matrix-vector products on AVX2 multiply the codes' bits as tiny float32s against
  // activations scaled by 2^E (Activations::f32_scaled).
  thread_local std::vector<float> x_scaled;
  if (isa == Isa::Avx2 && weight.format == WeightFormat::FP8_E4M3_BLOCK128 && !avx2_gemm) {
    x_scaled.resize(static_cast<size_t>(tokens * weight.cols));
    fast_kernels::avx2_scale_for_fp8_codes(x, tokens * weight.cols, x_scaled.data(), activations.fp8_tiny_correction);
    activations.f32_scaled = x_scaled.data();
  }
  if (weight.format == WeightFormat::FP4_E2M1_BLOCK32) {
    activations.padded128 = (weight.cols + 127) / 128 * 128;
    activations.padded256 = (weight.cols + 255) / 256 * 256;
    if (isa == Isa::Scalar || isa == Isa::Avx2) {
      quantize_rows(x, tokens, weight.cols, activations.padded_cols, avx2_fp4_gemm, quantized);
      activations.q = quantized.q.data();
      activations.q_scale = quantized.q_scale.data();
      if (isa == Isa::Avx2 && !avx2_gemm) {  // vpmaddubsw on the int8 split of 64-column groups
        split_int8_rows(quantized, tokens, weight.cols, activations.padded_cols, activations.padded128,
                        activations.padded256, 64, quantized);
        activations.q8_high = quantized.high.data();
        activations.q8_low = quantized.low.data();
        activations.q8_block_bias = quantized.block_bias.data();
        activations.q8_block_scale = quantized.block_scale.data();
      }
    } else {  // the AVX-512 levels: vpdpbusd on the split of 128-column groups
      prepare_vnni_rows(isa, x, tokens, weight.cols, quantized);
      activations.q8_high = quantized.high.data();
      activations.q8_low = quantized.low.data();
      activations.q8_lane_bias = quantized.lane_bias.data();
      activations.q8_lane_scale = quantized.lane_scale.data();
    }
  }
  auto work = [&](int64_t begin, int64_t end, int) {
    const int64_t token_chunk = avx2_gemm ? fast_kernels::kAvx2GemmTokenChunk : kTokenChunk;
    // Per thread and kept between calls, like the AMX path's scratch.
    thread_local std::vector<float> gemm_scratch;
    for (int64_t t0 = 0; t0 < tokens; t0 += token_chunk) {
      Activations chunk = activations;
      chunk.tokens = std::min(token_chunk, tokens - t0);
      if (avx2_gemm) {
        gemm_scratch.resize(static_cast<size_t>(fast_kernels::avx2_gemm_scratch_floats(weight.cols, chunk.tokens)));
        chunk.scratch = gemm_scratch.data();
      }
      chunk.f32 = x + t0 * weight.cols;
      if (chunk.f32_scaled) chunk.f32_scaled += t0 * weight.cols;
      if (chunk.q) {
        chunk.q += t0 * chunk.padded_cols;
        chunk.q_scale += t0 * (chunk.padded_cols / 4);
      }
      if (chunk.q8_high) {
        chunk.q8_high += t0 * chunk.padded128;
        chunk.q8_low += t0 * chunk.padded128;
        if (chunk.q8_lane_bias) {
          chunk.q8_lane_bias += t0 * (chunk.padded128 / 8);
          chunk.q8_lane_scale += t0 * (chunk.padded128 / 8);
        } else {
          chunk.q8_block_bias += t0 * (chunk.padded256 / 32);
          chunk.q8_block_scale += t0 * (chunk.padded256 / 32);
        }
      }
      if (chunk.bf16_high) {
        chunk.bf16_high += t0 * chunk.padded_cols;
        chunk.bf16_low += t0 * chunk.padded_cols;
      }
      kernel(weight, row_begin + begin, row_begin + end, chunk, y + t0 * row_count + begin, row_count);
    }
  };
  if (pool == nullptr) {
    work(0, row_count, 0);
  } else if (avx2_gemm) {
    // Measured slower in pieces: 512-token prefill on 2 threads 38–41 → 32–36 tok/s.
    pool->parallel_for(row_count, fast_kernels::kAvx2GemmRowGrain, work);
  } else {
    pool->parallel_for_balanced(row_count, row_grain(weight, tokens), kPiecesPerThread, work);
  }
}

}  // namespace

void fast_linear_rows(const WeightMatrix& weight, int64_t row_begin, int64_t row_count, const float* x, int64_t tokens,
                      float* y, ThreadPool* pool) {
  run(active_isa(), weight, row_begin, row_count, x, tokens, y, pool ? pool : &kernel_pool());
}

void fast_linear(const WeightMatrix& weight, const float* x, int64_t tokens, float* y, ThreadPool* pool) {
  fast_linear_rows(weight, 0, weight.rows, x, tokens, y, pool);
}

void fast_linear_with(Isa isa, const WeightMatrix& weight, const float* x, int64_t tokens, float* y) {
  if (!cpu_supports(isa)) fail("fast_linear_with: this CPU does not support ", isa_name(isa));
  run(isa, weight, 0, weight.rows, x, tokens, y, nullptr);
}

}  // namespace lightseek
