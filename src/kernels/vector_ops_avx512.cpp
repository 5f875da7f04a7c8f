// AVX-512 float32 vector primitives; compiled for AVX-512 alone, used where the CPU has it.
#include "kernels/vector_ops.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/avx2_conversions.h"
#include "kernels/exp_polynomial.h"

namespace lightseek::vector_kernels {
namespace {

inline __mmask16 mask_for(int64_t remaining) {
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}

float dot(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = mask_for(n - i);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  const __m512 a = _mm512_set1_ps(alpha);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask_for(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

inline __mmask16 mask_from(int64_t remaining) { return remaining <= 0 ? 0 : mask_for(remaining); }

// HB heads × JB rows: each 16-float step loads JB row pieces and HB query pieces for HB·JB FMAs.
template <int HB, int JB>
void score_block(const float* q, int64_t q_stride, const float* const* rows, int64_t dim, float scale, float* logits,
                 int64_t n) {
  __m512 acc[HB][JB];
  for (int i = 0; i < HB; ++i) {
    for (int k = 0; k < JB; ++k) acc[i][k] = _mm512_setzero_ps();
  }
  for (int64_t d = 0; d < dim; d += 16) {
    const __mmask16 m = mask_for(dim - d);
    __m512 row[JB];
    for (int k = 0; k < JB; ++k) row[k] = _mm512_maskz_loadu_ps(m, rows[k] + d);
    for (int i = 0; i < HB; ++i) {
      const __m512 qi = _mm512_maskz_loadu_ps(m, q + i * q_stride + d);
      for (int k = 0; k < JB; ++k) acc[i][k] = _mm512_fmadd_ps(qi, row[k], acc[i][k]);
    }
  }
  for (int i = 0; i < HB; ++i) {
    for (int k = 0; k < JB; ++k) logits[i * n + k] = _mm512_reduce_add_ps(acc[i][k]) * scale;
  }
}

// Rows in tiles that stay in cache while every head group passes over them: one head group at a
// time over all of attention's 640 rows of 512 floats (1.3 MB, more than L2) read them from L3
// sixteen times per call. Each output is still one block's arithmetic. 64 heads × 640 rows ×
// 512, one thread: scores 157 / 175 / 185 / 175 GFLOP/s and sums 138 / 188 / 190 / 177 with
// no tiles and tiles of 64, 16 and 32 rows.
constexpr int64_t kRowTile = 16;

// score_block<4, 4> with named accumulators: GCC 12 kept the 4 × 4 array of them in memory and
// stored all sixteen on every step, and the scores ran at 85 GFLOP/s instead of 175–210.
void score_block_4x4(const float* q, int64_t q_stride, const float* const* rows, int64_t dim, float scale,
                     float* logits, int64_t n) {
  __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  __m512 a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
  const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
  for (int64_t d = 0; d < dim; d += 16) {
    const __mmask16 m = mask_for(dim - d);
    const __m512 w0 = _mm512_maskz_loadu_ps(m, r0 + d), w1 = _mm512_maskz_loadu_ps(m, r1 + d);
    const __m512 w2 = _mm512_maskz_loadu_ps(m, r2 + d), w3 = _mm512_maskz_loadu_ps(m, r3 + d);
    __m512 x = _mm512_maskz_loadu_ps(m, q + d);
    a00 = _mm512_fmadd_ps(x, w0, a00), a01 = _mm512_fmadd_ps(x, w1, a01);
    a02 = _mm512_fmadd_ps(x, w2, a02), a03 = _mm512_fmadd_ps(x, w3, a03);
    x = _mm512_maskz_loadu_ps(m, q + q_stride + d);
    a10 = _mm512_fmadd_ps(x, w0, a10), a11 = _mm512_fmadd_ps(x, w1, a11);
    a12 = _mm512_fmadd_ps(x, w2, a12), a13 = _mm512_fmadd_ps(x, w3, a13);
    x = _mm512_maskz_loadu_ps(m, q + 2 * q_stride + d);
    a20 = _mm512_fmadd_ps(x, w0, a20), a21 = _mm512_fmadd_ps(x, w1, a21);
    a22 = _mm512_fmadd_ps(x, w2, a22), a23 = _mm512_fmadd_ps(x, w3, a23);
    x = _mm512_maskz_loadu_ps(m, q + 3 * q_stride + d);
    a30 = _mm512_fmadd_ps(x, w0, a30), a31 = _mm512_fmadd_ps(x, w1, a31);
    a32 = _mm512_fmadd_ps(x, w2, a32), a33 = _mm512_fmadd_ps(x, w3, a33);
  }
  const __m512 acc[4][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}, {a20, a21, a22, a23}, {a30, a31, a32, a33}};
  for (int i = 0; i < 4; ++i) {
    for (int k = 0; k < 4; ++k) logits[i * n + k] = _mm512_reduce_add_ps(acc[i][k]) * scale;
  }
}

void scores(const float* q, int64_t heads, int64_t q_stride, const float* const* rows, int64_t n, int64_t dim,
            float scale, float* logits) {
  for (int64_t j0 = 0; j0 < n; j0 += kRowTile) {
    const int64_t j1 = j0 + kRowTile < n ? j0 + kRowTile : n;
    for (int64_t h0 = 0; h0 < heads; h0 += 4) {
      const float* qh = q + h0 * q_stride;
      float* lh = logits + h0 * n;
      if (h0 + 4 <= heads) {
        int64_t j = j0;
        for (; j + 4 <= j1; j += 4) score_block_4x4(qh, q_stride, rows + j, dim, scale, lh + j, n);
        for (; j < j1; ++j) score_block<4, 1>(qh, q_stride, rows + j, dim, scale, lh + j, n);
      } else {
        for (int64_t h = h0; h < heads; ++h) {
          for (int64_t j = j0; j < j1; ++j) {
            score_block<1, 1>(q + h * q_stride, q_stride, rows + j, dim, scale, logits + h * n + j, n);
          }
        }
      }
    }
  }
}

// HB heads × 64 columns over rows [j0, j1): each row piece loaded serves HB heads. From j0 > 0
// the sums continue from what `out` holds: the same additions in the same order as one pass.
template <int HB>
void sum_block(const float* weights, int64_t n, const float* const* rows, int64_t j0, int64_t j1, int64_t d0,
               int64_t dim, float* out, int64_t out_stride) {
  __m512 acc[HB][4];
  __mmask16 m[4];
  for (int z = 0; z < 4; ++z) m[z] = mask_from(dim - d0 - 16 * z);
  for (int i = 0; i < HB; ++i) {
    for (int z = 0; z < 4; ++z) {
      acc[i][z] = j0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m[z], out + i * out_stride + d0 + 16 * z);
    }
  }
  for (int64_t j = j0; j < j1; ++j) {
    __m512 row[4];
    for (int z = 0; z < 4; ++z) row[z] = _mm512_maskz_loadu_ps(m[z], rows[j] + d0 + 16 * z);
    for (int i = 0; i < HB; ++i) {
      const __m512 w = _mm512_set1_ps(weights[i * n + j]);
      for (int z = 0; z < 4; ++z) acc[i][z] = _mm512_fmadd_ps(w, row[z], acc[i][z]);
    }
  }
  for (int i = 0; i < HB; ++i) {
    for (int z = 0; z < 4; ++z) _mm512_mask_storeu_ps(out + i * out_stride + d0 + 16 * z, m[z], acc[i][z]);
  }
}

// sum_block<4> with named accumulators, for the reason score_block_4x4 has them (84 → 176–190
// GFLOP/s).
void sum_block_4(const float* weights, int64_t n, const float* const* rows, int64_t j0, int64_t j1, int64_t d0,
                 int64_t dim, float* out, int64_t out_stride) {
  const __mmask16 m0 = mask_from(dim - d0), m1 = mask_from(dim - d0 - 16), m2 = mask_from(dim - d0 - 32),
                  m3 = mask_from(dim - d0 - 48);
  float* o0 = out + d0;
  float* o1 = o0 + out_stride;
  float* o2 = o1 + out_stride;
  float* o3 = o2 + out_stride;
  auto start = [&](const float* o, __mmask16 m, int64_t z) {
    return j0 == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m, o + 16 * z);
  };
  __m512 a00 = start(o0, m0, 0), a01 = start(o0, m1, 1), a02 = start(o0, m2, 2), a03 = start(o0, m3, 3);
  __m512 a10 = start(o1, m0, 0), a11 = start(o1, m1, 1), a12 = start(o1, m2, 2), a13 = start(o1, m3, 3);
  __m512 a20 = start(o2, m0, 0), a21 = start(o2, m1, 1), a22 = start(o2, m2, 2), a23 = start(o2, m3, 3);
  __m512 a30 = start(o3, m0, 0), a31 = start(o3, m1, 1), a32 = start(o3, m2, 2), a33 = start(o3, m3, 3);
  for (int64_t j = j0; j < j1; ++j) {
    const float* row = rows[j] + d0;
    const __m512 r0 = _mm512_maskz_loadu_ps(m0, row), r1 = _mm512_maskz_loadu_ps(m1, row + 16);
    const __m512 r2 = _mm512_maskz_loadu_ps(m2, row + 32), r3 = _mm512_maskz_loadu_ps(m3, row + 48);
    __m512 w = _mm512_set1_ps(weights[j]);
    a00 = _mm512_fmadd_ps(w, r0, a00), a01 = _mm512_fmadd_ps(w, r1, a01);
    a02 = _mm512_fmadd_ps(w, r2, a02), a03 = _mm512_fmadd_ps(w, r3, a03);
    w = _mm512_set1_ps(weights[n + j]);
    a10 = _mm512_fmadd_ps(w, r0, a10), a11 = _mm512_fmadd_ps(w, r1, a11);
    a12 = _mm512_fmadd_ps(w, r2, a12), a13 = _mm512_fmadd_ps(w, r3, a13);
    w = _mm512_set1_ps(weights[2 * n + j]);
    a20 = _mm512_fmadd_ps(w, r0, a20), a21 = _mm512_fmadd_ps(w, r1, a21);
    a22 = _mm512_fmadd_ps(w, r2, a22), a23 = _mm512_fmadd_ps(w, r3, a23);
    w = _mm512_set1_ps(weights[3 * n + j]);
    a30 = _mm512_fmadd_ps(w, r0, a30), a31 = _mm512_fmadd_ps(w, r1, a31);
    a32 = _mm512_fmadd_ps(w, r2, a32), a33 = _mm512_fmadd_ps(w, r3, a33);
  }
  _mm512_mask_storeu_ps(o0, m0, a00), _mm512_mask_storeu_ps(o0 + 16, m1, a01);
  _mm512_mask_storeu_ps(o0 + 32, m2, a02), _mm512_mask_storeu_ps(o0 + 48, m3, a03);
  _mm512_mask_storeu_ps(o1, m0, a10), _mm512_mask_storeu_ps(o1 + 16, m1, a11);
  _mm512_mask_storeu_ps(o1 + 32, m2, a12), _mm512_mask_storeu_ps(o1 + 48, m3, a13);
  _mm512_mask_storeu_ps(o2, m0, a20), _mm512_mask_storeu_ps(o2 + 16, m1, a21);
  _mm512_mask_storeu_ps(o2 + 32, m2, a22), _mm512_mask_storeu_ps(o2 + 48, m3, a23);
  _mm512_mask_storeu_ps(o3, m0, a30), _mm512_mask_storeu_ps(o3 + 16, m1, a31);
  _mm512_mask_storeu_ps(o3 + 32, m2, a32), _mm512_mask_storeu_ps(o3 + 48, m3, a33);
}

void weighted_sums(const float* weights, int64_t heads, const float* const* rows, int64_t n, int64_t dim, float* out,
                   int64_t out_stride) {
  for (int64_t j0 = 0; j0 < n || j0 == 0; j0 += kRowTile) {  // n = 0 still writes zeros
    const int64_t j1 = j0 + kRowTile < n ? j0 + kRowTile : n;
    for (int64_t h0 = 0; h0 < heads; h0 += 4) {
      const float* w = weights + h0 * n;
      float* o = out + h0 * out_stride;
      for (int64_t d0 = 0; d0 < dim; d0 += 64) {
        switch (heads - h0 < 4 ? heads - h0 : 4) {
          case 1: sum_block<1>(w, n, rows, j0, j1, d0, dim, o, out_stride); break;
          case 2: sum_block<2>(w, n, rows, j0, j1, d0, dim, o, out_stride); break;
          case 3: sum_block<3>(w, n, rows, j0, j1, d0, dim, o, out_stride); break;
          default: sum_block_4(w, n, rows, j0, j1, d0, dim, o, out_stride); break;
        }
      }
    }
  }
}

// The indexer's scores as AVX2's index_scores computes them, 16 keys to a panel instead of 8: each
// key's lane takes the same FMAs in the same order, so the scores are the same bits.
constexpr int64_t kIndexKeyRun = 256;  // keys packed at a time: 128 KB at 128 columns, kept in L2
constexpr int64_t kIndexMaxDim = 128;  // wider keys take the AVX2 version (its scratch grows)

// Value d of the panel's key k at d·16 + k; keys past n are zeros.
void pack_key_panels(const float* keys, int64_t key_stride, int64_t n, int64_t dim, float* panels) {
  for (int64_t p = 0; p * 16 < n; ++p) {
    float* panel = panels + p * dim * 16;
    const int64_t count = n - 16 * p < 16 ? n - 16 * p : 16;
    int64_t d = 0;
    if (count == 16) {
      for (; d + 8 <= dim; d += 8) {
        for (int half = 0; half < 2; ++half) {
          __m256 rows[8];
          for (int k = 0; k < 8; ++k) rows[k] = _mm256_loadu_ps(keys + (16 * p + 8 * half + k) * key_stride + d);
          fast_kernels::transpose8x8(rows);
          for (int i = 0; i < 8; ++i) _mm256_store_ps(panel + (d + i) * 16 + 8 * half, rows[i]);
        }
      }
    }
    for (; d < dim; ++d) {
      for (int64_t k = 0; k < 16; ++k) panel[d * 16 + k] = k < count ? keys[(16 * p + k) * key_stride + d] : 0.0f;
    }
  }
}

// HB heads of one token × PB panels: per query value, PB panel loads and HB broadcasts for HB·PB
// FMAs; then sums += w_h · max(0, q_h · key) for each head in order.
template <int HB, int PB>
void index_panel_block(const float* q, const float* w, int64_t dim, const float* panels, float* sums) {
  __m512 acc[HB][PB];
  for (int i = 0; i < HB; ++i) {
    for (int k = 0; k < PB; ++k) acc[i][k] = _mm512_setzero_ps();
  }
  // A do-while (dim ≥ 1), as in the AVX2 version: with a for loop GCC 12 stores the
  // accumulators back to the stack after every FMA.
  int64_t d = 0;
  do {
    __m512 panel[PB];
    for (int k = 0; k < PB; ++k) panel[k] = _mm512_load_ps(panels + (k * dim + d) * 16);
    for (int i = 0; i < HB; ++i) {
      const __m512 value = _mm512_set1_ps(q[i * dim + d]);
      for (int k = 0; k < PB; ++k) acc[i][k] = _mm512_fmadd_ps(value, panel[k], acc[i][k]);
    }
  } while (++d < dim);
  const __m512 zero = _mm512_setzero_ps();
  for (int k = 0; k < PB; ++k) {
    __m512 sum = _mm512_load_ps(sums + 16 * k);
    for (int i = 0; i < HB; ++i) sum = _mm512_fmadd_ps(_mm512_set1_ps(w[i]), _mm512_max_ps(acc[i][k], zero), sum);
    _mm512_store_ps(sums + 16 * k, sum);
  }
}

template <int HB>
void index_panels(const float* q, const float* w, int64_t dim, const float* panels, int64_t panel_count, float* sums) {
  int64_t p = 0;
  for (; p + 3 <= panel_count; p += 3) index_panel_block<HB, 3>(q, w, dim, panels + p * dim * 16, sums + 16 * p);
  for (; p < panel_count; ++p) index_panel_block<HB, 1>(q, w, dim, panels + p * dim * 16, sums + 16 * p);
}

void index_scores(const float* q, const float* w, int64_t tokens, int64_t heads, int64_t dim, const float* keys,
                  int64_t key_stride, int64_t n, float* out, int64_t out_stride) {
  if (dim < 1 || dim > kIndexMaxDim) {
    avx2_ops().index_scores(q, w, tokens, heads, dim, keys, key_stride, n, out, out_stride);
    return;
  }
  alignas(64) thread_local float panels[kIndexKeyRun * kIndexMaxDim];
  alignas(64) thread_local float sums[kIndexKeyRun];
  for (int64_t j0 = 0; j0 < n; j0 += kIndexKeyRun) {
    const int64_t count = n - j0 < kIndexKeyRun ? n - j0 : kIndexKeyRun;
    const int64_t panel_count = (count + 15) / 16;
    pack_key_panels(keys + j0 * key_stride, key_stride, count, dim, panels);
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t k = 0; k < panel_count * 16; ++k) sums[k] = 0.0f;
      const float* token_q = q + t * heads * dim;
      const float* token_w = w + t * heads;
      int64_t h = 0;
      for (; h + 4 <= heads; h += 4) index_panels<4>(token_q + h * dim, token_w + h, dim, panels, panel_count, sums);
      for (; h < heads; ++h) index_panels<1>(token_q + h * dim, token_w + h, dim, panels, panel_count, sums);
      for (int64_t k = 0; k < count; ++k) out[t * out_stride + j0 + k] = sums[k];
    }
  }
}

// e^x within ~2 ulp (x beyond float32's range gives 0 or +inf, NaN stays NaN), in the steps of
// kernels/exp_polynomial.h; scalef multiplies by 2^n, down into the subnormals.
inline __m512 exp16(__m512 x) {
  using namespace exp_polynomial;
  // min/max return their second operand when either is NaN: x second keeps a NaN.
  x = _mm512_max_ps(_mm512_set1_ps(kLowest), _mm512_min_ps(_mm512_set1_ps(kHighest), x));
  const __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Low), _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2High), x));
  __m512 p = _mm512_set1_ps(kCoefficients[0]);
  for (int i = 1; i <= kDegree; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kCoefficients[i]));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

void softmax_with_extra(float* row, int64_t n, float extra) {
  if (n <= 0) return;
  __m512 max16 = _mm512_set1_ps(-__builtin_inff());
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = mask_for(n - j);
    max16 = _mm512_mask_max_ps(max16, m, max16, _mm512_maskz_loadu_ps(m, row + j));
  }
  const float max = _mm512_reduce_max_ps(max16);
  const __m512 shift = _mm512_set1_ps(max);
  __m512 sum16 = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = mask_for(n - j);
    const __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + j), shift));
    _mm512_mask_storeu_ps(row + j, m, e);
    sum16 = _mm512_mask_add_ps(sum16, m, sum16, e);
  }
  // The lanes added in order, as the AVX2 version adds its two vectors': the same bits there.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum16);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  const float denominator = __builtin_expf(extra - max) + sum;
  const __m512 divisor = _mm512_set1_ps(denominator);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = mask_for(n - j);
    _mm512_mask_storeu_ps(row + j, m, _mm512_div_ps(_mm512_maskz_loadu_ps(m, row + j), divisor));
  }
}

void swiglu(float* gate, const float* up, int64_t n, float limit, float weight) {
  const bool clamp = limit > 0.0f;
  const __m512 high = _mm512_set1_ps(limit), low = _mm512_set1_ps(-limit), w = _mm512_set1_ps(weight);
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask_for(n - i);
    __m512 g = _mm512_maskz_loadu_ps(m, gate + i), u = _mm512_maskz_loadu_ps(m, up + i);
    if (clamp) {
      u = _mm512_max_ps(low, _mm512_min_ps(high, u));
      g = _mm512_min_ps(high, g);
    }
    const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), g))));
    _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(_mm512_mul_ps(silu, u), w));
  }
}

}  // namespace

const VectorOps& avx512_ops() {
  // The FP4 keys: the AVX2 versions (a CPU with AVX-512 has AVX2).
  static const VectorOps ops = {dot,
                                axpy,
                                scores,
                                weighted_sums,
                                avx2_ops().decode_fp4_blocks32,
                                avx2_ops().fp4_key_scores,
                                index_scores,
                                avx2_ops().fp4_index_scores,
                                softmax_with_extra,
                                swiglu};
  return ops;
}

}  // namespace lightseek::vector_kernels
#else
namespace lightseek::vector_kernels {
const VectorOps& avx512_ops() { return scalar_ops(); }
}  // namespace lightseek::vector_kernels
#endif
