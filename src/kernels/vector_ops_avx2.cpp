// AVX2 + FMA float32 vector primitives; compiled for AVX2 alone, used where the CPU has it.
#include "kernels/vector_ops.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/avx2_conversions.h"
#include "kernels/exp_polynomial.h"

namespace lightseek::vector_kernels {
namespace {

using fast_kernels::horizontal_sum;

float dot(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float total = horizontal_sum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  const __m256 a = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// Lanes below `remaining` (at most 8) of a row's last, partial piece.
__m256i lanes_below(int64_t remaining) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(remaining)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// HB heads × JB rows: each 8-float step loads JB row pieces and HB query pieces for HB·JB FMAs
// (the dot-by-dot loop loaded both for one FMA, and reduced every dot horizontally). With
// PairwiseFold, 4-head blocks fold each sum as ((0+1)+(2+3))+((4+5)+(6+7)), whatever JB is;
// otherwise by horizontal_sum.
template <int HB, int JB, bool PairwiseFold = true>
void score_block(const float* q, int64_t q_stride, const float* const* rows, int64_t dim, float scale, float* logits,
                 int64_t n) {
  __m256 acc[HB][JB];
  for (int i = 0; i < HB; ++i) {
    for (int k = 0; k < JB; ++k) acc[i][k] = _mm256_setzero_ps();
  }
  // The whole pieces, then a masked last one: one loop with a branch per load made GCC keep
  // the accumulators in memory (29 GFLOP/s at 64 heads × 64 rows × 128).
  const int64_t whole = dim / 8 * 8;
  auto step = [&](int64_t d, auto load) {
    __m256 row[JB];
    for (int k = 0; k < JB; ++k) row[k] = load(rows[k] + d);
    for (int i = 0; i < HB; ++i) {
      __m256 qi = load(q + i * q_stride + d);
      // Held in a register: GCC otherwise reloads it as a memory operand of each FMA, and
      // loads, not FMAs, bound this loop (10 loads per 8 FMAs instead of 6).
      asm("" : "+x"(qi));
      for (int k = 0; k < JB; ++k) acc[i][k] = _mm256_fmadd_ps(qi, row[k], acc[i][k]);
    }
  };
  for (int64_t d = 0; d < whole; d += 8) step(d, [](const float* p) { return _mm256_loadu_ps(p); });
  if (whole < dim) {
    const __m256i lanes = lanes_below(dim - whole);
    step(whole, [&](const float* p) { return _mm256_maskload_ps(p, lanes); });
  }
  if constexpr (HB == 4 && JB == 2) {
    // The 8 sums at once in one vector (lane i·JB + k), where 8 separate reductions take 48
    // instructions.
    const __m256 pair01 = _mm256_hadd_ps(acc[0][0], acc[0][1]), pair23 = _mm256_hadd_ps(acc[1][0], acc[1][1]);
    const __m256 pair45 = _mm256_hadd_ps(acc[2][0], acc[2][1]), pair67 = _mm256_hadd_ps(acc[3][0], acc[3][1]);
    const __m256 low = _mm256_hadd_ps(pair01, pair23), high = _mm256_hadd_ps(pair45, pair67);
    const __m256 sums = _mm256_add_ps(_mm256_permute2f128_ps(low, high, 0x20), _mm256_permute2f128_ps(low, high, 0x31));
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, _mm256_mul_ps(sums, _mm256_set1_ps(scale)));
    for (int i = 0; i < HB; ++i) {
      for (int k = 0; k < JB; ++k) logits[i * n + k] = lanes[i * JB + k];
    }
  } else if constexpr (HB == 4 && PairwiseFold) {
    // Each row's 4 head sums in one vector: 3 hadds and a fold instead of 4 reductions.
    alignas(16) float lanes[4 * JB];
    for (int k = 0; k < JB; ++k) {
      const __m256 sums = _mm256_hadd_ps(_mm256_hadd_ps(acc[0][k], acc[1][k]), _mm256_hadd_ps(acc[2][k], acc[3][k]));
      const __m128 folded = _mm_add_ps(_mm256_castps256_ps128(sums), _mm256_extractf128_ps(sums, 1));
      _mm_store_ps(lanes + 4 * k, _mm_mul_ps(folded, _mm_set1_ps(scale)));
    }
    for (int i = 0; i < HB; ++i) {
      for (int k = 0; k < JB; ++k) logits[i * n + k] = lanes[4 * k + i];
    }
  } else {
    for (int i = 0; i < HB; ++i) {
      for (int k = 0; k < JB; ++k) logits[i * n + k] = horizontal_sum(acc[i][k]) * scale;
    }
  }
}

// Rows per pass of every head in scores: 256 KB of 512-wide rows, which stay in L2 while the
// head blocks pass over them. All the rows per head block streamed them from memory once per 4
// heads when they outgrew L3 (64 heads × 8K compressed entries at a 1M context: 16 × 17 MB).
constexpr int64_t kScoreRowBlock = 128;

void scores(const float* q, int64_t heads, int64_t q_stride, const float* const* rows, int64_t n, int64_t dim,
            float scale, float* logits) {
  for (int64_t j0 = 0; j0 < n; j0 += kScoreRowBlock) {
    const int64_t j1 = j0 + kScoreRowBlock < n ? j0 + kScoreRowBlock : n;
    int64_t h0 = 0;
    for (; h0 + 4 <= heads; h0 += 4) {
      const float* qh = q + h0 * q_stride;
      float* lh = logits + h0 * n;
      // 4×3 blocks hold 12 accumulators, enough FMAs in flight to cover their latency (4×2:
      // 45–60 → 46–62 GFLOP/s at 64 heads × 128; 52–68 → 58–76 at 64 × 512). Every row but a
      // block's odd last one gets the pairwise fold, and that one horizontal_sum, as when
      // rows went in pairs: the logits stay bit for bit what they were.
      const int64_t paired_end = j0 + (j1 - j0) / 2 * 2;
      int64_t j = j0;
      for (; j + 3 <= paired_end; j += 3) score_block<4, 3>(qh, q_stride, rows + j, dim, scale, lh + j, n);
      for (; j + 2 <= paired_end; j += 2) score_block<4, 2>(qh, q_stride, rows + j, dim, scale, lh + j, n);
      for (; j < paired_end; ++j) score_block<4, 1>(qh, q_stride, rows + j, dim, scale, lh + j, n);
      if (j < j1) score_block<4, 1, false>(qh, q_stride, rows + j, dim, scale, lh + j, n);
    }
    for (; h0 < heads; ++h0) {
      for (int64_t j = j0; j < j1; ++j) {
        score_block<1, 1>(q + h0 * q_stride, q_stride, rows + j, dim, scale, logits + h0 * n + j, n);
      }
    }
  }
}

// HB heads × one 16-column strip over rows [j0, j1), the strip's pieces of those rows packed
// contiguously (16 floats per row): each piece loaded serves HB heads. `load0`, `load1` read the
// output's two pieces (masked at the end of the row) and `store` writes a head's two sums. With
// `resume` the sums start from `out` (an earlier block of rows): stored and reloaded exactly, so
// the sum is the one a single pass makes. The accumulators stay local to this loop: in an array
// captured by a lambda, GCC kept them in memory.
template <int HB, typename Load0, typename Load1, typename Store>
void sum_strip(const float* weights, int64_t n, const float* strip, int64_t j0, int64_t j1, bool resume, int64_t d0,
               Load0 load0, Load1 load1, float* out, int64_t out_stride, Store store) {
  __m256 acc[HB][2];
  for (int i = 0; i < HB; ++i) {
    acc[i][0] = resume ? load0(out + i * out_stride + d0) : _mm256_setzero_ps();
    acc[i][1] = resume ? load1(out + i * out_stride + d0 + 8) : _mm256_setzero_ps();
  }
  const float* piece = strip;
  for (int64_t j = j0; j < j1; ++j, piece += 16) {
    const __m256 row0 = _mm256_load_ps(piece), row1 = _mm256_load_ps(piece + 8);
    for (int i = 0; i < HB; ++i) {
      const __m256 w = _mm256_broadcast_ss(weights + i * n + j);
      acc[i][0] = _mm256_fmadd_ps(w, row0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(w, row1, acc[i][1]);
    }
  }
  for (int i = 0; i < HB; ++i) store(out + i * out_stride + d0, acc[i][0], acc[i][1]);
}

template <int HB>
void sum_block(const float* weights, int64_t n, const float* strip, int64_t j0, int64_t j1, int64_t d0, int64_t dim,
               float* out, int64_t out_stride) {
  const bool resume = j0 > 0;
  const int64_t left = dim - d0;  // columns from d0 on: the strip covers up to 16 of them
  auto whole = [](const float* p) { return _mm256_loadu_ps(p); };
  if (left >= 16) {
    sum_strip<HB>(weights, n, strip, j0, j1, resume, d0, whole, whole, out, out_stride, [](float* o, __m256 a, __m256 b) {
      _mm256_storeu_ps(o, a);
      _mm256_storeu_ps(o + 8, b);
    });
  } else if (left > 8) {
    const __m256i lanes = lanes_below(left - 8);
    auto masked = [lanes](const float* p) { return _mm256_maskload_ps(p, lanes); };
    sum_strip<HB>(weights, n, strip, j0, j1, resume, d0, whole, masked, out, out_stride, [lanes](float* o, __m256 a, __m256 b) {
      _mm256_storeu_ps(o, a);
      _mm256_maskstore_ps(o + 8, lanes, b);
    });
  } else {
    const __m256i lanes = lanes_below(left);
    auto masked = [lanes](const float* p) { return _mm256_maskload_ps(p, lanes); };
    auto zero = [](const float*) { return _mm256_setzero_ps(); };
    sum_strip<HB>(weights, n, strip, j0, j1, resume, d0, masked, zero, out, out_stride,
                  [lanes](float* o, __m256 a, __m256) { _mm256_maskstore_ps(o, lanes, a); });
  }
}

// Rows per pass of weighted_sums (all of them, 512 KB at 512 wide, are read from memory once).
constexpr int64_t kSumRowBlock = 256;

// The 16-column strip at d0 of rows [j0, j1), one after another (zeros past the row's end).
// Rows of V4's 512 floats lie 2 KB apart, so a strip read in place falls into 2 of L1's 64 sets
// and was evicted before the next heads used it (64 heads × 640 × 512: 35–42 GFLOP/s).
void pack_strip(const float* const* rows, int64_t j0, int64_t j1, int64_t d0, int64_t dim, float* strip) {
  const int64_t left = dim - d0;
  const __m256i low = lanes_below(left < 8 ? left : 8), high = lanes_below(left < 16 ? (left > 8 ? left - 8 : 0) : 8);
  for (int64_t j = j0; j < j1; ++j, strip += 16) {
    const float* piece = rows[j] + d0;
    if (left >= 16) {
      _mm256_store_ps(strip, _mm256_loadu_ps(piece));
      _mm256_store_ps(strip + 8, _mm256_loadu_ps(piece + 8));
    } else {
      _mm256_store_ps(strip, _mm256_maskload_ps(piece, low));
      _mm256_store_ps(strip + 8, left > 8 ? _mm256_maskload_ps(piece + 8, high) : _mm256_setzero_ps());
    }
  }
}

void weighted_sums(const float* weights, int64_t heads, const float* const* rows, int64_t n, int64_t dim, float* out,
                   int64_t out_stride) {
  // Kept between calls: one strip of a block of rows, 16 KB.
  thread_local std::vector<float> strip_storage(static_cast<size_t>(kSumRowBlock * 16 + 16));
  float* strip = fast_kernels::align_to_64(strip_storage.data());
  // Blocks of rows outer; in each, columns outer and heads inner: a 16-column strip of the
  // block's rows stays in L1 while every head passes over it, where heads outer streamed all the
  // rows (1.3 MB at 640 × 512) from L3 once per 4 heads.
  for (int64_t j0 = 0; j0 < n || j0 == 0; j0 += kSumRowBlock) {
    const int64_t j1 = j0 + kSumRowBlock < n ? j0 + kSumRowBlock : n;
    for (int64_t d0 = 0; d0 < dim; d0 += 16) {
      pack_strip(rows, j0, j1, d0, dim, strip);
      for (int64_t h0 = 0; h0 < heads; h0 += 4) {
        const float* w = weights + h0 * n;
        float* o = out + h0 * out_stride;
        switch (heads - h0 < 4 ? heads - h0 : 4) {
          case 1: sum_block<1>(w, n, strip, j0, j1, d0, dim, o, out_stride); break;
          case 2: sum_block<2>(w, n, strip, j0, j1, d0, dim, o, out_stride); break;
          case 3: sum_block<3>(w, n, strip, j0, j1, d0, dim, o, out_stride); break;
          default: sum_block<4>(w, n, strip, j0, j1, d0, dim, o, out_stride); break;
        }
      }
    }
  }
}

// Whole blocks whose 2^(scale − 127) is a normal float (codes 1..254). Magnitudes by table
// (the codes doubled, so integers; halved in the scale), then the code's sign bit: -0 stays -0
// as in the scalar definition. Other blocks, and a last partial one, take the scalar code.
void decode_fp4_blocks32(const uint8_t* packed, const uint8_t* scales, int64_t width, float* out) {
  const __m128i doubled_magnitude = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, 1, 2, 3, 4, 6, 8, 12);
  const __m128i low_nibbles = _mm_set1_epi8(0x0F);
  const __m256i sign_bit = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  int64_t c = 0;
  for (; c + 32 <= width; c += 32) {
    const uint8_t code = scales[c / 32];
    if (code < 1 || code > 254) {
      decode_fp4_blocks32_scalar(packed + c / 2, scales + c / 32, 32, out + c);
      continue;
    }
    // 2^(code − 127) / 2, exact: the smallest, 2^-127, is a subnormal float.
    const __m256 half_scale =
        _mm256_mul_ps(_mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(code) << 23)), _mm256_set1_ps(0.5f));
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + c / 2));
    const __m128i even = _mm_and_si128(bytes, low_nibbles);
    const __m128i odd = _mm_and_si128(_mm_srli_epi16(bytes, 4), low_nibbles);
    // Columns in order: the low nibble of each byte is the even column.
    const __m128i nibbles[2] = {_mm_unpacklo_epi8(even, odd), _mm_unpackhi_epi8(even, odd)};
    for (int h = 0; h < 2; ++h) {
      const __m128i magnitude = _mm_shuffle_epi8(doubled_magnitude, nibbles[h]);
      for (int e = 0; e < 2; ++e) {
        const __m128i part_magnitude = e == 0 ? magnitude : _mm_srli_si128(magnitude, 8);
        const __m128i part_nibbles = e == 0 ? nibbles[h] : _mm_srli_si128(nibbles[h], 8);
        const __m256 value = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part_magnitude)), half_scale);
        const __m256i sign = _mm256_and_si256(_mm256_slli_epi32(_mm256_cvtepu8_epi32(part_nibbles), 28), sign_bit);
        _mm256_storeu_ps(out + c + 16 * h + 8 * e, _mm256_xor_ps(value, _mm256_castsi256_ps(sign)));
      }
    }
  }
  if (c < width) decode_fp4_blocks32_scalar(packed + c / 2, scales + c / 32, width - c, out + c);
}

// fp4_key_scores: keys of at most this many columns take the int8 path (V4's are 128).
constexpr int64_t kMaxKeyColumns = 256;

// 2^(code − 128) for an e8m0 code: a doubled FP4 code's step. (Bits, not std::ldexp: this file
// must not instantiate inline library functions, which the linker could pick for other files.)
float doubled_code_step(int code) {
  const uint32_t bits = code >= 2 ? static_cast<uint32_t>(code - 1) << 23 : uint32_t{1} << (21 + code);
  float step;
  std::memcpy(&step, &bits, sizeof(step));
  return step;
}

// One FP4 key as int8: per 32-block, the doubled codes shifted left by the block's exponent above
// the key's smallest (|value| ≤ 12 · 4), in the block's even-then-odd column order, the order of
// the queries (fp4_rows_as_int8). The key is value · scale.
struct IntegerKey {
  alignas(32) int8_t value[kMaxKeyColumns];
  float scale;
};

// False when the exponents of the key's nonzero blocks span more than 2 octaves: the int16
// sums of fp4_key_block could then overflow, and the scalar definition takes the key.
bool integer_key(const uint8_t* codes, int64_t dim, IntegerKey& key) {
  const uint8_t* scales = codes + dim / 2;
  const int64_t blocks = dim / 32;
  int lowest = 1 << 20, highest = -(1 << 20);
  for (int64_t b = 0; b < blocks; ++b) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + 16 * b));
    if (_mm_testz_si128(bytes, _mm_set1_epi8(0x77))) continue;  // only ±0: the scale does not matter
    const int code = scales[b];
    lowest = code < lowest ? code : lowest;
    highest = code > highest ? code : highest;
  }
  if (highest < lowest) lowest = highest = 127;  // an all-zero key
  if (highest - lowest > 2) return false;
  const __m256i doubled = _mm256_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12, 0, 1, 2, 3, 4, 6,
                                           8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  for (int64_t b = 0; b < blocks; ++b) {
    const __m256i bytes = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + 16 * b)));
    // Even columns (low nibbles) in the low half, odd ones (high nibbles) in the high half.
    const __m256i nibbles = _mm256_blend_epi32(_mm256_and_si256(bytes, low_nibbles),
                                               _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_nibbles), 0xF0);
    __m256i value = _mm256_shuffle_epi8(doubled, nibbles);
    for (int shift = static_cast<int>(scales[b]) - lowest; shift > 0; --shift) {
      value = _mm256_add_epi8(value, value);  // a zero block's shift may exceed 2: it stays 0
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(key.value + 32 * b), value);
  }
  key.scale = doubled_code_step(lowest);
  return true;
}

// Keys in groups of 8, interleaved for vpmaddubsw: the 32 bytes at (c/4)·32 hold columns
// c..c+3 (c a multiple of 4) of the 8 keys, 4 bytes each, as value + 48 (unsigned). A key the
// int8 path cannot take is all 48s (value 0) and left to the scalar definition.
struct KeyGroup {
  alignas(32) uint8_t lanes[kMaxKeyColumns * 8];
  alignas(32) float scale[8];
  int count = 0;             // keys in the group
  bool integer[8] = {};      // false: the scalar definition writes this key's column
};

constexpr int kKeyBias = 48;

void fill_key_group(const uint8_t* keys, int64_t key_stride, int64_t dim, int count, KeyGroup& group,
                    IntegerKey (&decoded)[8]) {
  group.count = count;
  for (int k = 0; k < 8; ++k) {
    group.integer[k] = k < count && integer_key(keys + k * key_stride, dim, decoded[k]);
    if (!group.integer[k]) {
      std::memset(decoded[k].value, 0, static_cast<size_t>(dim));
      decoded[k].scale = 0.0f;
    }
    group.scale[k] = decoded[k].scale;
  }
  const __m256i bias = _mm256_set1_epi8(kKeyBias);
  for (int64_t b = 0; b < dim / 32; ++b) {
    // An 8×8 transpose of 32-bit lanes: lane t of key k (its columns 4t..4t+3 of the block)
    // goes to row t, position k.
    __m256 rows[8];
    for (int k = 0; k < 8; ++k) {
      const __m256i value = _mm256_load_si256(reinterpret_cast<const __m256i*>(decoded[k].value + 32 * b));
      rows[k] = _mm256_castsi256_ps(_mm256_add_epi8(value, bias));
    }
    fast_kernels::transpose8x8(rows);
    for (int t = 0; t < 8; ++t) _mm256_store_ps(reinterpret_cast<float*>(group.lanes + (8 * b + t) * 32), rows[t]);
  }
}

// sum += v in sum's own register (GCC 12 otherwise adds into the product's register and copies
// the sum back, a move per product).
inline void add_into(__m256i& sum, __m256i v) { __asm__("vpaddd %1, %0, %0" : "+x"(sum) : "x"(v)); }

// HB heads × G groups of 8 keys. Per 8 columns and head: the query's two 4-byte pieces
// broadcast, two vpmaddubsw against the keys (|pair| ≤ 2·96·48, two pairs ≤ 18432 fit int16),
// vpmaddwd to int32. Each lane sums one key: no horizontal sums; the +48 of the keys comes off
// as 48·Σq. Integer sums are exact in any order, and so are the conversion (< 2^24) and the
// power-of-two scales: the result is the scalar definition's.
template <int HB, int G>
void fp4_key_block(const int8_t* q, const float* q_scale, const int32_t* q_sum, int64_t dim,
                   const KeyGroup* const* groups, float* out, int64_t out_stride) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i sums[HB][G];
  for (int i = 0; i < HB; ++i) {
    for (int g = 0; g < G; ++g) sums[i][g] = _mm256_setzero_si256();
  }
  for (int64_t c = 0; c < dim; c += 8) {
    __m256i first[G], second[G];
    for (int g = 0; g < G; ++g) {
      first[g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(groups[g]->lanes + (c / 4) * 32));
      second[g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(groups[g]->lanes + (c / 4 + 1) * 32));
    }
    for (int i = 0; i < HB; ++i) {
      int32_t piece[2];
      std::memcpy(piece, q + i * dim + c, 8);
      const __m256i q_first = _mm256_set1_epi32(piece[0]), q_second = _mm256_set1_epi32(piece[1]);
      for (int g = 0; g < G; ++g) {
        const __m256i pairs =
            _mm256_add_epi16(_mm256_maddubs_epi16(first[g], q_first), _mm256_maddubs_epi16(second[g], q_second));
        add_into(sums[i][g], _mm256_madd_epi16(pairs, ones));
      }
    }
  }
  for (int i = 0; i < HB; ++i) {
    const __m256i bias = _mm256_set1_epi32(kKeyBias * q_sum[i]);
    const __m256 head_scale = _mm256_set1_ps(q_scale[i]);
    for (int g = 0; g < G; ++g) {
      const __m256 dots = _mm256_cvtepi32_ps(_mm256_sub_epi32(sums[i][g], bias));
      const __m256 scores = _mm256_mul_ps(_mm256_mul_ps(dots, head_scale), _mm256_load_ps(groups[g]->scale));
      float* row = out + i * out_stride + 8 * g;
      if (groups[g]->count == 8) {
        _mm256_storeu_ps(row, scores);
      } else {
        alignas(32) float lanes[8];
        _mm256_store_ps(lanes, scores);
        for (int k = 0; k < groups[g]->count; ++k) row[k] = lanes[k];
      }
    }
  }
}

template <int G>
void fp4_groups_all_heads(const int8_t* q, const float* q_scale, const int32_t* q_sum, int64_t heads, int64_t dim,
                          const KeyGroup* const* groups, float* out, int64_t out_stride) {
  int64_t h = 0;
  for (; h + 4 <= heads; h += 4) {
    fp4_key_block<4, G>(q + h * dim, q_scale + h, q_sum + h, dim, groups, out + h * out_stride, out_stride);
  }
  for (; h < heads; ++h) {
    fp4_key_block<1, G>(q + h * dim, q_scale + h, q_sum + h, dim, groups, out + h * out_stride, out_stride);
  }
}

// Heads beyond this many take the scalar definition in fp4_key_scores and fp4_index_scores
// (their per-head sums live on the stack).
constexpr int64_t kMaxIntegerHeads = 256;

// Σ of each head's int8 query values: the kernel takes the keys' +48 off again with it.
void query_sums(const int8_t* q, int64_t heads, int64_t dim, int32_t* q_sum) {
  for (int64_t h = 0; h < heads; ++h) {
    int32_t sum = 0;
    for (int64_t c = 0; c < dim; ++c) sum += q[h * dim + c];
    q_sum[h] = sum;
  }
}

// Every head against one or two filled key groups, whose first key is at `keys`:
// out[h·out_stride + 8g + k]. Keys the int8 path cannot take get the scalar definition.
void score_key_groups(const int8_t* q, const float* q_scale, const int32_t* q_sum, int64_t heads, int64_t dim,
                      const KeyGroup* const* groups, int group_count, const uint8_t* keys, int64_t key_stride,
                      float* out, int64_t out_stride) {
  if (group_count == 2) {
    fp4_groups_all_heads<2>(q, q_scale, q_sum, heads, dim, groups, out, out_stride);
  } else {
    fp4_groups_all_heads<1>(q, q_scale, q_sum, heads, dim, groups, out, out_stride);
  }
  for (int g = 0; g < group_count; ++g) {
    for (int k = 0; k < groups[g]->count; ++k) {
      if (groups[g]->integer[k]) continue;
      fp4_key_scores_scalar(q, q_scale, heads, dim, keys + (8 * g + k) * key_stride, key_stride, 1, out + 8 * g + k,
                            out_stride);
    }
  }
}

void fp4_key_scores(const int8_t* q, const float* q_scale, int64_t heads, int64_t dim, const uint8_t* keys,
                    int64_t key_stride, int64_t n, float* out, int64_t out_stride) {
  if (dim % 32 != 0 || dim > kMaxKeyColumns || heads > kMaxIntegerHeads) {
    fp4_key_scores_scalar(q, q_scale, heads, dim, keys, key_stride, n, out, out_stride);
    return;
  }
  int32_t q_sum[kMaxIntegerHeads];
  query_sums(q, heads, dim, q_sum);
  thread_local KeyGroup groups[2];
  thread_local IntegerKey decoded[8];
  const KeyGroup* pair[2] = {&groups[0], &groups[1]};
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const int64_t count = n - j0 < 16 ? n - j0 : 16;
    const int group_count = count > 8 ? 2 : 1;
    for (int g = 0; g < group_count; ++g) {
      const int64_t in_group = count - 8 * g < 8 ? count - 8 * g : 8;
      fill_key_group(keys + (j0 + 8 * g) * key_stride, key_stride, dim, static_cast<int>(in_group), groups[g], decoded);
    }
    score_key_groups(q, q_scale, q_sum, heads, dim, pair, group_count, keys + j0 * key_stride, key_stride, out + j0,
                     out_stride);
  }
}

// index_scores and fp4_index_scores take keys in runs of this many: 128 KB of 128-wide float32
// keys packed in panels (68 KB of FP4 key groups), which stay in L2 while every query token
// passes over them.
constexpr int64_t kIndexKeyRun = 256;

// Float32 keys 8 to a panel: value d of the panel's key k at d·8 + k, so that one load holds a
// column of 8 keys and a broadcast query value multiplies them all (no horizontal sums). Keys
// past n are zeros.
void pack_key_panels(const float* keys, int64_t key_stride, int64_t n, int64_t dim, float* panels) {
  for (int64_t p = 0; p * 8 < n; ++p) {
    float* panel = panels + p * dim * 8;
    const int64_t count = n - 8 * p < 8 ? n - 8 * p : 8;
    int64_t d = 0;
    if (count == 8) {
      for (; d + 8 <= dim; d += 8) {
        __m256 rows[8];
        for (int k = 0; k < 8; ++k) rows[k] = _mm256_loadu_ps(keys + (8 * p + k) * key_stride + d);
        fast_kernels::transpose8x8(rows);
        for (int i = 0; i < 8; ++i) _mm256_store_ps(panel + (d + i) * 8, rows[i]);
      }
    }
    for (; d < dim; ++d) {
      for (int64_t k = 0; k < 8; ++k) panel[d * 8 + k] = k < count ? keys[(8 * p + k) * key_stride + d] : 0.0f;
    }
  }
}

// HB heads of one token × PB panels (8 PB keys): per query value, PB panel loads and HB
// broadcasts for HB·PB FMAs; then each key's sum takes the HB heads in order:
// sums += w_h · max(0, q_h · key).
template <int HB, int PB>
void index_panel_block(const float* q, const float* w, int64_t dim, const float* panels, float* sums) {
  __m256 acc[HB][PB];
  for (int i = 0; i < HB; ++i) {
    for (int k = 0; k < PB; ++k) acc[i][k] = _mm256_setzero_ps();
  }
  // A do-while (dim ≥ 1): with a for loop, GCC 12 at -O3 stored every accumulator back to the
  // stack after each FMA (26 GFLOP/s instead of ~60 at 32 tokens × 256 keys).
  int64_t d = 0;
  do {
    __m256 panel[PB];
    for (int k = 0; k < PB; ++k) panel[k] = _mm256_load_ps(panels + (k * dim + d) * 8);
    for (int i = 0; i < HB; ++i) {
      const __m256 value = _mm256_broadcast_ss(q + i * dim + d);
      for (int k = 0; k < PB; ++k) acc[i][k] = _mm256_fmadd_ps(value, panel[k], acc[i][k]);
    }
  } while (++d < dim);
  const __m256 zero = _mm256_setzero_ps();
  for (int k = 0; k < PB; ++k) {
    __m256 sum = _mm256_load_ps(sums + 8 * k);
    for (int i = 0; i < HB; ++i) sum = _mm256_fmadd_ps(_mm256_set1_ps(w[i]), _mm256_max_ps(acc[i][k], zero), sum);
    _mm256_store_ps(sums + 8 * k, sum);
  }
}

template <int HB>
void index_panels(const float* q, const float* w, int64_t dim, const float* panels, int64_t panel_count, float* sums) {
  int64_t p = 0;
  for (; p + 3 <= panel_count; p += 3) index_panel_block<HB, 3>(q, w, dim, panels + p * dim * 8, sums + 8 * p);
  for (; p + 2 <= panel_count; p += 2) index_panel_block<HB, 2>(q, w, dim, panels + p * dim * 8, sums + 8 * p);
  for (; p < panel_count; ++p) index_panel_block<HB, 1>(q, w, dim, panels + p * dim * 8, sums + 8 * p);
}

void index_scores(const float* q, const float* w, int64_t tokens, int64_t heads, int64_t dim, const float* keys,
                  int64_t key_stride, int64_t n, float* out, int64_t out_stride) {
  if (dim < 1) {
    index_scores_scalar(q, w, tokens, heads, dim, keys, key_stride, n, out, out_stride);
    return;
  }
  // Kept between calls (every element used is written first): 128 KB at V4's 128 columns.
  thread_local std::vector<float> panel_storage;
  const size_t wanted = static_cast<size_t>(kIndexKeyRun * dim + kIndexKeyRun + 32);
  if (panel_storage.size() < wanted) panel_storage.resize(wanted);
  float* panels = fast_kernels::align_to_64(panel_storage.data());
  float* sums = fast_kernels::align_to_64(panels + kIndexKeyRun * dim);
  for (int64_t j0 = 0; j0 < n; j0 += kIndexKeyRun) {
    const int64_t count = n - j0 < kIndexKeyRun ? n - j0 : kIndexKeyRun;
    const int64_t panel_count = (count + 7) / 8;
    pack_key_panels(keys + j0 * key_stride, key_stride, count, dim, panels);
    for (int64_t t = 0; t < tokens; ++t) {
      std::fill(sums, sums + panel_count * 8, 0.0f);
      const float* token_q = q + t * heads * dim;
      const float* token_w = w + t * heads;
      int64_t h = 0;
      for (; h + 4 <= heads; h += 4) index_panels<4>(token_q + h * dim, token_w + h, dim, panels, panel_count, sums);
      for (; h < heads; ++h) index_panels<1>(token_q + h * dim, token_w + h, dim, panels, panel_count, sums);
      std::copy(sums, sums + count, out + t * out_stride + j0);
    }
  }
}

void fp4_index_scores(const int8_t* q, const float* q_scale, const float* w, int64_t tokens, int64_t heads,
                      int64_t dim, const uint8_t* keys, int64_t key_stride, int64_t n, float* out,
                      int64_t out_stride) {
  if (dim % 32 != 0 || dim > kMaxKeyColumns || heads > kMaxIntegerHeads) {
    fp4_index_scores_scalar(q, q_scale, w, tokens, heads, dim, keys, key_stride, n, out, out_stride);
    return;
  }
  // A run's keys are decoded into groups once and serve every token.
  thread_local std::vector<KeyGroup> groups(kIndexKeyRun / 8);
  thread_local IntegerKey decoded[8];
  alignas(32) float head_scores[kMaxIntegerHeads * 16];
  int32_t q_sum[kMaxIntegerHeads];
  for (int64_t j0 = 0; j0 < n; j0 += kIndexKeyRun) {
    const int64_t count = n - j0 < kIndexKeyRun ? n - j0 : kIndexKeyRun;
    const int64_t group_count = (count + 7) / 8;
    for (int64_t g = 0; g < group_count; ++g) {
      const int64_t in_group = count - 8 * g < 8 ? count - 8 * g : 8;
      fill_key_group(keys + (j0 + 8 * g) * key_stride, key_stride, dim, static_cast<int>(in_group), groups[g], decoded);
    }
    for (int64_t t = 0; t < tokens; ++t) {
      const int8_t* token_q = q + t * heads * dim;
      const float* token_scale = q_scale + t * heads;
      const float* token_w = w + t * heads;
      query_sums(token_q, heads, dim, q_sum);
      for (int64_t g = 0; g < group_count; g += 2) {
        const KeyGroup* pair[2] = {&groups[g], g + 1 < group_count ? &groups[g + 1] : &groups[g]};
        const int pair_count = g + 1 < group_count ? 2 : 1;
        score_key_groups(token_q, token_scale, q_sum, heads, dim, pair, pair_count, keys + (j0 + 8 * g) * key_stride,
                         key_stride, head_scores, 16);
        // Each key's sum over the heads in order, 8 keys to a vector.
        const __m256 zero = _mm256_setzero_ps();
        float* row = out + t * out_stride + j0 + 8 * g;
        for (int p = 0; p < pair_count; ++p) {
          __m256 sum = _mm256_setzero_ps();
          for (int64_t h = 0; h < heads; ++h) {
            const __m256 score = _mm256_load_ps(head_scores + h * 16 + 8 * p);
            sum = _mm256_add_ps(sum, _mm256_mul_ps(_mm256_set1_ps(token_w[h]), _mm256_max_ps(score, zero)));
          }
          alignas(32) float lanes[8];
          _mm256_store_ps(lanes, sum);
          for (int k = 0; k < pair[p]->count; ++k) row[8 * p + k] = lanes[k];
        }
      }
    }
  }
}

// e^x in the steps of kernels/exp_polynomial.h, to the AVX-512 version's bits: 2^n in two
// factors (each a normal float32), which round once as scalef does.
inline __m256 exp8(__m256 x) {
  using namespace exp_polynomial;
  x = _mm256_max_ps(_mm256_set1_ps(kLowest), _mm256_min_ps(_mm256_set1_ps(kHighest), x));
  const __m256 n =
      _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Low), _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2High), x));
  __m256 p = _mm256_set1_ps(kCoefficients[0]);
  for (int i = 1; i <= kDegree; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kCoefficients[i]));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i whole = _mm256_cvtps_epi32(n);
  const __m256i first = _mm256_srai_epi32(whole, 1), second = _mm256_sub_epi32(whole, first);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 first_power = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(first, bias), 23));
  const __m256 second_power = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(second, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, first_power), second_power);
}

// As the AVX-512 version: sixteen lane sums (here two vectors of eight), added in lane order.
void softmax_with_extra(float* row, int64_t n, float extra) {
  if (n <= 0) return;
  __m256 max8 = _mm256_set1_ps(-__builtin_inff());
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i m = lanes_below(n - j);
    max8 = _mm256_max_ps(max8, _mm256_blendv_ps(max8, _mm256_maskload_ps(row + j, m), _mm256_castsi256_ps(m)));
  }
  alignas(32) float lanes[16];
  _mm256_store_ps(lanes, max8);
  float max = lanes[0];
  for (int k = 1; k < 8; ++k) max = max > lanes[k] ? max : lanes[k];
  const __m256 shift = _mm256_set1_ps(max);
  __m256 sums[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i m = lanes_below(n - j);
    const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(_mm256_maskload_ps(row + j, m), shift)), _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(row + j, m, e);
    sums[(j / 8) % 2] = _mm256_add_ps(sums[(j / 8) % 2], e);
  }
  _mm256_store_ps(lanes, sums[0]);
  _mm256_store_ps(lanes + 8, sums[1]);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  const __m256 divisor = _mm256_set1_ps(__builtin_expf(extra - max) + sum);
  for (int64_t j = 0; j < n; j += 8) {
    const __m256i m = lanes_below(n - j);
    _mm256_maskstore_ps(row + j, m, _mm256_div_ps(_mm256_maskload_ps(row + j, m), divisor));
  }
}

void swiglu(float* gate, const float* up, int64_t n, float limit, float weight) {
  const bool clamp = limit > 0.0f;
  const __m256 high = _mm256_set1_ps(limit), low = _mm256_set1_ps(-limit), w = _mm256_set1_ps(weight);
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes_below(n - i);
    __m256 g = _mm256_maskload_ps(gate + i, m), u = _mm256_maskload_ps(up + i, m);
    if (clamp) {
      u = _mm256_max_ps(low, _mm256_min_ps(high, u));
      g = _mm256_min_ps(high, g);
    }
    const __m256 silu = _mm256_div_ps(g, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), g))));
    _mm256_maskstore_ps(gate + i, m, _mm256_mul_ps(_mm256_mul_ps(silu, u), w));
  }
}

}  // namespace

const VectorOps& avx2_ops() {
  static const VectorOps ops = {dot,          axpy,           scores,
                                weighted_sums, decode_fp4_blocks32, fp4_key_scores,
                                index_scores,  fp4_index_scores,    softmax_with_extra,
                                swiglu};
  return ops;
}

}  // namespace lightseek::vector_kernels
#else
namespace lightseek::vector_kernels {
const VectorOps& avx2_ops() { return scalar_ops(); }
}  // namespace lightseek::vector_kernels
#endif
