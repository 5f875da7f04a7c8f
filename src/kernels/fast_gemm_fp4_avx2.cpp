// FP4 weights times several tokens on AVX2 (CPUs without AMX), in the fast numerics' own
// arithmetic: doubled FP4 codes times the int16 activations (Activations::q), an exact int32 dot
// product per 32-column block, then the two block scales. So the outputs are the scalar
// definition's up to float32 rounding of the block sums.
//
// Why integers: vpmaddwd does 16 multiply-adds per instruction where an FMA does 8, and a
// weight unpacks to int16 with one table lookup where float32 needs a conversion and a scale.
// The float32 panels of fast_gemm_avx2.cpp ran FP4 experts of ~12 tokens at 35–43 GFLOP/s.
//
// Layout: 16 rows at a time, a panel of 256 columns = 8 blocks of 16 column pairs. For each
// pair, 16 int32 lanes hold the two int16 codes of each row (packed by an 8×8 transpose of
// 32-bit lanes), so one broadcast of a token's two int16 activations multiplies 8 rows with one
// vpmaddwd. The activations come in the quad layout (quad_position): a block's pairs are
// consecutive in both operands, each step's 4 broadcasts read one 16-byte run, and the inner
// loop only advances two pointers.
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstdint>

#include "kernels/avx2_conversions.h"

namespace lightseek::fast_kernels {
namespace {

constexpr int kFp4PanelRows = 16;
constexpr int64_t kFp4PanelColumns = 256;
constexpr int64_t kFp4PanelPairs = kFp4PanelColumns / 2;
constexpr int kFp4PanelBlocks = kFp4PanelColumns / 32;

// acc += v in acc's own register. Written as _mm256_add_epi32, GCC 12 put each sum in the
// product's register and copied it back (8 extra moves per step, a third of the loop's
// instructions).
inline void add_into(__m256i& acc, __m256i v) { __asm__("vpaddd %1, %0, %0" : "+x"(acc) : "x"(v)); }

// Block `block` (32 columns) of rows [r0, r0 + n): pairs[16][16] int32, zero for missing rows.
// Byte p of a row holds exactly column pair p (even column in the low nibble), so packing is a
// transpose of the raw 16 rows × 16 bytes, then decoding each pair's 16 rows at once. Before,
// the decoded int32 pairs were transposed: four times the data, through cross-lane shuffles.
void pack_fp4_block(const WeightMatrix& w, int64_t r0, int n, int64_t block, int32_t* pairs) {
  const __m256i table = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kFp4DoubledCodes)));
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  const int64_t row_bytes = w.cols / 2;
  auto row = [&](int i) {
    return i < n ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.weight.data + (r0 + i) * row_bytes + block * 16))
                 : _mm_setzero_si128();
  };
  // v[i]: row i in the low lane, row i + 8 in the high lane; each lane is transposed alike.
  __m256i v[8];
  for (int i = 0; i < 8; ++i) v[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(row(i)), row(i + 8), 1);
  // Bytes of rows (0,1), (2,3), ...: a[2k] holds bytes 0–7 of rows 2k and 2k+1 interleaved, a[2k+1] bytes 8–15.
  __m256i a[8];
  for (int k = 0; k < 4; ++k) {
    a[2 * k] = _mm256_unpacklo_epi8(v[2 * k], v[2 * k + 1]);
    a[2 * k + 1] = _mm256_unpackhi_epi8(v[2 * k], v[2 * k + 1]);
  }
  // Four rows per 32-bit group: b[4h + g] holds bytes 8h + 4(g & 1) .. + 3 of rows 0–3 (g < 2) or 4–7.
  __m256i b[8];
  for (int h = 0; h < 2; ++h) {
    b[4 * h + 0] = _mm256_unpacklo_epi16(a[h], a[2 + h]);
    b[4 * h + 1] = _mm256_unpackhi_epi16(a[h], a[2 + h]);
    b[4 * h + 2] = _mm256_unpacklo_epi16(a[4 + h], a[6 + h]);
    b[4 * h + 3] = _mm256_unpackhi_epi16(a[4 + h], a[6 + h]);
  }
  // c[j]: pairs 2j and 2j + 1, eight rows each per lane (rows 0–7 low, 8–15 high).
  __m256i c[8];
  for (int h = 0; h < 2; ++h) {
    for (int g = 0; g < 2; ++g) {
      c[4 * h + 2 * g] = _mm256_unpacklo_epi32(b[4 * h + g], b[4 * h + 2 + g]);
      c[4 * h + 2 * g + 1] = _mm256_unpackhi_epi32(b[4 * h + g], b[4 * h + 2 + g]);
    }
  }
  for (int j = 0; j < 8; ++j) {
    const __m256i even = _mm256_shuffle_epi8(table, _mm256_and_si256(c[j], low_nibbles));
    const __m256i odd = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(c[j], 4), low_nibbles));
    const __m256i first = _mm256_unpacklo_epi8(even, odd);  // pair 2j's (even, odd) codes
    const __m256i second = _mm256_unpackhi_epi8(even, odd);  // pair 2j + 1's
    int32_t* out = pairs + 2 * j * kFp4PanelRows;
    _mm256_store_si256(reinterpret_cast<__m256i*>(out), _mm256_cvtepi8_epi16(_mm256_castsi256_si128(first)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out + 8), _mm256_cvtepi8_epi16(_mm256_extracti128_si256(first, 1)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out + kFp4PanelRows),
                       _mm256_cvtepi8_epi16(_mm256_castsi256_si128(second)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out + kFp4PanelRows + 8),
                       _mm256_cvtepi8_epi16(_mm256_extracti128_si256(second, 1)));
  }
}

// sums[t][0..16) += Σ over the panel's blocks of (weight scale · activation scale) · (int32 dot
// product of the block) for the first T tokens of a quad. `pairs` and `scales` as packed by
// fp4_gemm_rows; q points at the panel's first column pair of the quad (quad_position), q_scale
// at token 0's scale of the panel's first column (one entry per 4 columns). T < 4 serves the
// last quad of a call: an expert's tokens in prefill number ~12 on average but rarely a
// multiple of 4, and multiplying the padding tokens' zero rows cost up to 3/4 of a quad.
template <int T>
void panel_times_quad(const int32_t* pairs, const float* scales, int blocks, const int16_t* q, const float* q_scale,
                      int64_t q_scale_stride, float* sums) {
  for (int block = 0; block < blocks; ++block) {
    __m256i acc[T][2];
    for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_si256();
    const int32_t* w = pairs + block * 16 * kFp4PanelRows;
    const int16_t* a = q + block * 16 * 8;
    for (int i = 0; i < 16; ++i, w += kFp4PanelRows, a += 8) {
      const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w));
      const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(w + 8));
      for (int t = 0; t < T; ++t) {
        const __m256i two = _mm256_castps_si256(_mm256_broadcast_ss(reinterpret_cast<const float*>(a + 2 * t)));
        add_into(acc[t][0], _mm256_madd_epi16(w0, two));
        add_into(acc[t][1], _mm256_madd_epi16(w1, two));
      }
    }
    const __m256 scale0 = _mm256_load_ps(scales + block * kFp4PanelRows);
    const __m256 scale1 = _mm256_load_ps(scales + block * kFp4PanelRows + 8);
    for (int t = 0; t < T; ++t) {
      const __m256 activation_scale = _mm256_broadcast_ss(q_scale + t * q_scale_stride + block * 8);
      float* out = sums + t * kFp4PanelRows;
      _mm256_store_ps(out, _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t][0]), _mm256_mul_ps(scale0, activation_scale),
                                           _mm256_load_ps(out)));
      _mm256_store_ps(out + 8, _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t][1]),
                                               _mm256_mul_ps(scale1, activation_scale), _mm256_load_ps(out + 8)));
    }
  }
}

void fp4_gemm_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const Activations& x, float* y,
                   int64_t y_stride) {
  const int64_t cols = w.cols, blocks_per_row = cols / 32;
  int32_t* pairs = reinterpret_cast<int32_t*>(align_to_64(x.scratch));
  float* scales = align_to_64(reinterpret_cast<float*>(pairs + kFp4PanelPairs * kFp4PanelRows));
  float* sums = align_to_64(scales + kFp4PanelBlocks * kFp4PanelRows);
  const int64_t q_scale_stride = x.padded_cols / 4;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kFp4PanelRows) {
    const int n = static_cast<int>(min_index(kFp4PanelRows, row_end - r0));
    for (int64_t i = 0; i < (x.tokens + 3) / 4 * 4 * kFp4PanelRows; ++i) sums[i] = 0.0f;
    for (int64_t c0 = 0; c0 < cols; c0 += kFp4PanelColumns) {
      const int blocks = static_cast<int>(min_index(kFp4PanelColumns, cols - c0) / 32);
      for (int block = 0; block < blocks; ++block) {
        pack_fp4_block(w, r0, n, c0 / 32 + block, pairs + block * 16 * kFp4PanelRows);
      }
      for (int block = 0; block < blocks; ++block) {
        for (int i = 0; i < kFp4PanelRows; ++i) {
          scales[block * kFp4PanelRows + i] =
              i < n ? fast_e8m0(w.scale.data[(r0 + i) * blocks_per_row + c0 / 32 + block]) : 0.0f;
        }
      }
      for (int64_t t0 = 0; t0 < x.tokens; t0 += 4) {
        const int16_t* q = x.q + t0 * x.padded_cols + c0 * 4;
        const float* q_scale = x.q_scale + t0 * q_scale_stride + c0 / 4;
        float* quad_sums = sums + t0 * kFp4PanelRows;
        switch (min_index(4, x.tokens - t0)) {
          case 1: panel_times_quad<1>(pairs, scales, blocks, q, q_scale, q_scale_stride, quad_sums); break;
          case 2: panel_times_quad<2>(pairs, scales, blocks, q, q_scale, q_scale_stride, quad_sums); break;
          case 3: panel_times_quad<3>(pairs, scales, blocks, q, q_scale, q_scale_stride, quad_sums); break;
          default: panel_times_quad<4>(pairs, scales, blocks, q, q_scale, q_scale_stride, quad_sums); break;
        }
      }
    }
    for (int64_t t = 0; t < x.tokens; ++t) {
      for (int i = 0; i < n; ++i) y[t * y_stride + (r0 + i - row_begin)] = sums[t * kFp4PanelRows + i];
    }
  }
}

}  // namespace

RowsKernel avx2_fp4_gemm_kernel() { return fp4_gemm_rows; }

}  // namespace lightseek::fast_kernels

#else
namespace lightseek::fast_kernels {
RowsKernel avx2_fp4_gemm_kernel() { return nullptr; }
}  // namespace lightseek::fast_kernels
#endif
