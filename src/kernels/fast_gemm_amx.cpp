// Compiled with AMX and AVX-512 BF16 enabled for this file alone and called only where
// cpu_supports(Isa::Amx). No standard-library template is instantiated here: a weak copy built
// with these instructions could be the one the linker keeps for the rest of the program.
#include "kernels/fast_gemm_amx.h"

#include <cstring>

#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__) && defined(__AMX_TILE__) && defined(__AMX_BF16__)
#include <immintrin.h>

namespace lightseek::fast_kernels {
namespace {

constexpr int kTileRows = 16;
constexpr int kChunk = 32;  // bf16 columns per tile row

struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t bytes_per_row[16] = {};
  uint8_t rows[16] = {};
};

// Tiles 0–3: float32 results (16 weight rows × 16 tokens); 4–5: weights (16 rows × 32 bf16);
// 6–7: activations (16 column pairs × 16 tokens × 2 bf16). Loaded once per thread.
void configure_tiles() {
  thread_local bool configured = false;
  if (configured) return;
  TileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = kTileRows;
  }
  _tile_loadconfig(&config);
  configured = true;
}

inline __mmask32 mask32_for(int64_t remaining) {
  if (remaining <= 0) return 0;
  return remaining >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((1u << remaining) - 1);
}

// FP8 e4m3 → float32 × 2^-8 through IEEE half (see fast_linear_avx512.cpp).
inline __m512 fp8_to_scaled_f32(__m128i codes) {
  const __m256i shifted = _mm256_slli_epi16(_mm256_cvtepi8_epi16(codes), 7);
  return _mm512_cvtph_ps(_mm256_and_si256(shifted, _mm256_set1_epi16(static_cast<short>(0xBFFF))));
}

// Elements between the same column of consecutive chunks in the tile-ordered scratch.
constexpr int64_t kPanelChunk = 32 * kChunk;
constexpr int kPanelRows = 2 * kTileRows;

// FP4 e2m1 values as bf16 bits, twice over (vpermw reads five index bits, so a byte's low nibble
// can index without masking), with the e8m0 bias taken out of the nonzero entries: adding a
// scale code s to the exponent field then gives value · 2^(s−127).
constexpr uint16_t kFp4Bf16[16] = {0x0000, 0x3F00, 0x3F80, 0x3FC0, 0x4000, 0x4040, 0x4080, 0x40C0,
                                   0x8000, 0xBF00, 0xBF80, 0xBFC0, 0xC000, 0xC040, 0xC080, 0xC0C0};
constexpr __mmask32 kFp4NonZero = ~((1u << 0) | (1u << 8) | (1u << 16) | (1u << 24));

struct alignas(64) Fp4Table {
  uint16_t bits[32];
};
constexpr Fp4Table make_fp4_biased_table() {
  Fp4Table table{};
  for (int i = 0; i < 32; ++i) {
    const uint16_t bits = kFp4Bf16[i % 16];
    table.bits[i] = (kFp4NonZero >> i) & 1 ? static_cast<uint16_t>(bits - (127 << 7)) : bits;
  }
  return table;
}
constexpr Fp4Table kFp4BiasedTable = make_fp4_biased_table();

inline __m512i fp4_biased_table() { return _mm512_load_si512(kFp4BiasedTable.bits); }

// One 32-column chunk of one weight row as bf16 with its scales applied (exactly: the scales are
// powers of two), zero past the last column.
template <WeightFormat F>
inline void dequantize_chunk(const WeightMatrix& w, int64_t row, int64_t chunk, uint16_t* out) {
  const int64_t cols = w.cols, c = chunk * kChunk;
  if constexpr (F == WeightFormat::FP8_E4M3_BLOCK128) {
    const uint8_t* codes = w.weight.data + row * cols + c;
    const float scale = fast_e8m0(w.scale.data[(row / 128) * ((cols + 127) / 128) + c / 128]) * kFp8HalfCorrection;
    const __m512 low = _mm512_mul_ps(fp8_to_scaled_f32(_mm_maskz_loadu_epi8(lanes_below(cols - c), codes)),
                                     _mm512_set1_ps(scale));
    const __m512 high = _mm512_mul_ps(fp8_to_scaled_f32(_mm_maskz_loadu_epi8(lanes_below(cols - c - 16), codes + 16)),
                                      _mm512_set1_ps(scale));
    _mm512_storeu_si512(out, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(high, low)));
  } else if constexpr (F == WeightFormat::BF16) {
    _mm512_storeu_si512(out, _mm512_maskz_loadu_epi16(mask32_for(cols - c), w.weight.data + (row * cols + c) * 2));
  } else {  // F32: not sent here by fast_linear (bf16 would lose bits); kept exact-shaped
    const float* values = reinterpret_cast<const float*>(w.weight.data) + row * cols + c;
    const __m512 low = _mm512_maskz_loadu_ps(lanes_below(cols - c), values);
    const __m512 high = _mm512_maskz_loadu_ps(lanes_below(cols - c - 16), values + 16);
    _mm512_storeu_si512(out, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(high, low)));
  }
}

// Rows [rows, 32) of `chunks` chunks of a tile-ordered panel: zero, past the matrix's last row.
inline void zero_panel_rows(int64_t rows, int64_t chunks, uint16_t* out) {
  for (int64_t k = 0; k < chunks; ++k) {
    for (int64_t i = rows; i < kPanelRows; ++i) _mm512_storeu_si512(out + k * kPanelChunk + i * kChunk, _mm512_setzero_si512());
  }
}

// Chunks [chunk_begin, chunk_end) of 32 weight rows from r0 into tile order, rows past `rows`
// zero.
template <WeightFormat F>
void dequantize_panel(const WeightMatrix& w, int64_t r0, int64_t rows, int64_t chunk_begin, int64_t chunk_end,
                      uint16_t* out) {
  for (int64_t k = chunk_begin; k < chunk_end; ++k) {
    uint16_t* chunk_out = out + (k - chunk_begin) * kPanelChunk;
    for (int64_t i = 0; i < rows; ++i) dequantize_chunk<F>(w, r0 + i, k, chunk_out + i * kChunk);
  }
  zero_panel_rows(rows, chunk_end - chunk_begin, out);
}

// FP8 by moving bits: an e4m3 code's exponent and mantissa, shifted into bf16 position, read as
// code·2^-120, and adding the block's scale code − 7 to the exponent field makes that
// code·2^(scale−127), exactly, for every normal code while the scale code is within 7..239.
// Subnormal codes (under 2^-6, 1/28000 of the block's largest value) become zero, as they do in
// the one-token bf16 kernel. Scales outside that range go through IEEE half, exactly.
template <>
void dequantize_panel<WeightFormat::FP8_E4M3_BLOCK128>(const WeightMatrix& w, int64_t r0, int64_t rows,
                                                       int64_t chunk_begin, int64_t chunk_end, uint16_t* out) {
  const int64_t cols = w.cols, scale_cols = (cols + 127) / 128;
  const __m512i keep = _mm512_set1_epi16(static_cast<short>(0x87F0));
  const __m512i exponent = _mm512_set1_epi16(0x7F80);
  // Chunk by chunk, so that the scale and the column mask are worked out once for all rows that
  // share a 128-row scale block (a whole panel unless it straddles one).
  for (int64_t k = chunk_begin; k < chunk_end; ++k) {
    const int64_t c = k * kChunk;
    const __mmask32 columns = mask32_for(cols - c);
    uint16_t* chunk_out = out + (k - chunk_begin) * kPanelChunk;
    for (int64_t i = 0; i < rows;) {
      const int64_t row = r0 + i;
      const int64_t block_end = (row / 128 + 1) * 128 - r0 < rows ? (row / 128 + 1) * 128 - r0 : rows;
      const uint8_t scale = w.scale.data[(row / 128) * scale_cols + c / 128];
      if (scale < 7 || scale > 239) [[unlikely]] {
        for (; i < block_end; ++i) dequantize_chunk<WeightFormat::FP8_E4M3_BLOCK128>(w, r0 + i, k, chunk_out + i * kChunk);
        continue;
      }
      const __m512i scale_add = _mm512_set1_epi16(static_cast<short>((scale - 7) << 7));
      const uint8_t* codes = w.weight.data + r0 * cols + c;
      for (; i < block_end; ++i) {
        const __m512i bits = _mm512_and_si512(
            _mm512_slli_epi16(_mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(columns, codes + i * cols)), 4), keep);
        _mm512_storeu_si512(chunk_out + i * kChunk,
                            _mm512_maskz_add_epi16(_mm512_test_epi16_mask(bits, exponent), bits, scale_add));
      }
    }
  }
  zero_panel_rows(rows, chunk_end - chunk_begin, out);
}

// The 32-entry table for one FP4 scale block in each half (scale_low for entries 0–15,
// scale_high for 16–31): value · 2^(scale − 127) as bf16.
inline __m512i fp4_scaled_table(__m512i base, uint8_t scale_low, uint8_t scale_high) {
  if (scale_low >= 2 && scale_low <= 252 && scale_high >= 2 && scale_high <= 252) [[likely]] {
    // Every value stays a normal bf16: add the scale to the exponent field of the biased table.
    const __m512i scales = _mm512_mask_blend_epi16(0xFFFF0000u, _mm512_set1_epi16(static_cast<short>(scale_low)),
                                                   _mm512_set1_epi16(static_cast<short>(scale_high)));
    return _mm512_mask_add_epi16(base, kFp4NonZero, base, _mm512_slli_epi16(scales, 7));
  }
  // Subnormal or infinite results: let the conversion round them.
  const __m512 values = _mm512_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, -0.0f, -0.5f, -1.0f, -1.5f,
                                       -2.0f, -3.0f, -4.0f, -6.0f);
  const __m256i low = reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_mul_ps(values, _mm512_set1_ps(fast_e8m0(scale_low)))));
  const __m256i high =
      reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(_mm512_mul_ps(values, _mm512_set1_ps(fast_e8m0(scale_high)))));
  return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
}

// FP4, the bulk of a prefill's weights, row by row with the matrix's fields in locals (the
// stores could alias them otherwise, and each block reloaded them). Chunks go in pairs: the 32
// bytes of a 64-column group widen to 32 words, whose low nibbles (the even columns) and high
// nibbles (the odd ones) each index the table once, giving chunk 2g and chunk 2g + 1 in the
// order of TileActivations::fp4_column_pairs. Index bit 4 picks the table half, and with it
// the scale of the group's first or second 32 columns. A chunk without a partner (the last one,
// when the columns are an odd number of 32s) is unpacked in column order, as its activations are.
template <>
void dequantize_panel<WeightFormat::FP4_E2M1_BLOCK32>(const WeightMatrix& w, int64_t r0, int64_t rows,
                                                      int64_t chunk_begin, int64_t chunk_end, uint16_t* out) {
  const __m512i base = fp4_biased_table();
  const __m512i second_half = _mm512_mask_set1_epi16(_mm512_setzero_si512(), 0xFFFF0000u, 16);
  const __m512i low_nibble = _mm512_set1_epi16(0x0F);
  const int64_t row_bytes = w.cols / 2, row_scales = w.cols / 32, chunks = chunk_end - chunk_begin;
  const int64_t pairs = chunks / 2;
  const uint8_t* packed = w.weight.data + r0 * row_bytes + chunk_begin * 16;
  const uint8_t* scales = w.scale.data + r0 * row_scales + chunk_begin;
  for (int64_t i = 0; i < rows; ++i, packed += row_bytes, scales += row_scales) {
    uint16_t* row_out = out + i * kChunk;
    for (int64_t p = 0; p < pairs; ++p) {
      const __m512i table = fp4_scaled_table(base, scales[2 * p], scales[2 * p + 1]);
      const __m512i bytes = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(packed + p * 32)));
      const __m512i even_index = _mm512_ternarylogic_epi32(bytes, low_nibble, second_half, 0xEA);  // (a & b) | c
      const __m512i odd_index = _mm512_or_si512(_mm512_srli_epi16(bytes, 4), second_half);
      _mm512_storeu_si512(row_out + 2 * p * kPanelChunk, _mm512_permutexvar_epi16(even_index, table));
      _mm512_storeu_si512(row_out + (2 * p + 1) * kPanelChunk, _mm512_permutexvar_epi16(odd_index, table));
    }
    if (chunks % 2 != 0) {  // dword j holds byte j; the shifted copy puts its high nibble in the upper word
      const int64_t k = chunks - 1;
      const __m512i table = fp4_scaled_table(base, scales[k], scales[k]);
      const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + k * 16)));
      _mm512_storeu_si512(row_out + k * kPanelChunk,
                          _mm512_permutexvar_epi16(_mm512_or_si512(bytes, _mm512_slli_epi32(bytes, 12)), table));
    }
  }
  zero_panel_rows(rows, chunks, out);
}

// Whether every FP4 scale code of rows [r0, r0 + rows) is within 2..252, where the scales can be
// added to the exponent field (see fp4_scaled_table). The rows' scales are contiguous.
inline bool fp4_panel_scales_normal(const WeightMatrix& w, int64_t r0, int64_t rows) {
  const int64_t count = rows * (w.cols / 32);
  const uint8_t* codes = w.scale.data + r0 * (w.cols / 32);
  const __m512i two = _mm512_set1_epi8(2), limit = _mm512_set1_epi8(static_cast<char>(250));
  for (int64_t i = 0; i < count; i += 64) {
    const __mmask64 present = count - i >= 64 ? ~__mmask64{0} : (__mmask64{1} << (count - i)) - 1;
    const __m512i shifted = _mm512_sub_epi8(_mm512_maskz_loadu_epi8(present, codes + i), two);
    if (_mm512_mask_cmpgt_epu8_mask(present, shifted, limit) != 0) return false;
  }
  return true;
}

// One 64-column group (chunks 2g and 2g + 1) of `rows` rows whose scales fp4_panel_scales_normal
// accepted: both scales come in one 16-bit load, the low one moved into the exponent field of
// the table's first half and the high one into its second half.
inline void dequantize_fp4_group(const WeightMatrix& w, int64_t r0, int64_t rows, int64_t group, uint16_t* out) {
  const __m512i base = fp4_biased_table();
  const __m512i second_half = _mm512_mask_set1_epi16(_mm512_setzero_si512(), 0xFFFF0000u, 16);
  const __m512i low_nibble = _mm512_set1_epi16(0x0F);
  const __m512i exponent = _mm512_set1_epi16(0x7F80);
  const int64_t row_bytes = w.cols / 2, row_scales = w.cols / 32;
  const uint8_t* packed = w.weight.data + r0 * row_bytes + group * 32;
  const uint8_t* scales = w.scale.data + r0 * row_scales + group * 2;
  for (int64_t i = 0; i < rows; ++i, packed += row_bytes, scales += row_scales) {
    uint16_t both;
    std::memcpy(&both, scales, 2);
    const __m512i word = _mm512_set1_epi16(static_cast<short>(both));
    // Low half: (low code) << 7 = word << 7; high half: (high code) << 7 = word >> 1.
    const __m512i moved = _mm512_mask_srli_epi16(_mm512_slli_epi16(word, 7), 0xFFFF0000u, word, 1);
    const __m512i table = _mm512_mask_add_epi16(base, kFp4NonZero, base, _mm512_and_si512(moved, exponent));
    const __m512i bytes = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(packed)));
    const __m512i even_index = _mm512_ternarylogic_epi32(bytes, low_nibble, second_half, 0xEA);  // (a & b) | c
    const __m512i odd_index = _mm512_or_si512(_mm512_srli_epi16(bytes, 4), second_half);
    _mm512_storeu_si512(out + i * kChunk, _mm512_permutexvar_epi16(even_index, table));
    _mm512_storeu_si512(out + kPanelChunk + i * kChunk, _mm512_permutexvar_epi16(odd_index, table));
  }
  zero_panel_rows(rows, 2, out);
}

// Transposes 16×16 floats in registers: rows[n][t] becomes rows[t][n].
inline void transpose16(__m512 rows[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(rows[2 * i], rows[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    rows[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    rows[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    rows[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    rows[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_f32x4(rows[8 * i + j], rows[8 * i + 4 + j], 0x88);
      t[8 * i + 4 + j] = _mm512_shuffle_f32x4(rows[8 * i + j], rows[8 * i + 4 + j], 0xDD);
    }
  }
  for (int j = 0; j < 8; ++j) {
    rows[j] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88);
    rows[j + 8] = _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD);
  }
}

// A 16×16 float tile (weight rows × tokens), or the sum of two (`second` not null), into y
// (tokens × rows) for the rows and tokens that exist: transposed in registers, one masked store
// per token.
void write_tile(const float* first, const float* second, int64_t rows, int64_t tokens, float* y, int64_t y_stride) {
  __m512 values[16];
  for (int n = 0; n < 16; ++n) {
    values[n] = _mm512_load_ps(first + n * 16);
    if (second != nullptr) values[n] = _mm512_add_ps(values[n], _mm512_load_ps(second + n * 16));
  }
  transpose16(values);
  const __mmask16 mask = lanes_below(rows);
  for (int64_t t = 0; t < tokens; ++t) _mm512_mask_storeu_ps(y + t * y_stride, mask, values[t]);
}

}  // namespace

// Each token's chunk becomes 16 column pairs (dwords) of the two parts; a block's 16 tokens are
// then transposed in registers so that every tile row is one store (a scatter per token and
// chunk cost several times more).
void amx_prepare_activations(const float* x, int64_t cols, const TileActivations& out) {
  uint32_t* high_pairs = reinterpret_cast<uint32_t*>(out.high);
  uint32_t* low_pairs = reinterpret_cast<uint32_t*>(out.low);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (int64_t block = 0; block < out.token_blocks; ++block) {
    const int64_t t0 = block * kTileRows;
    const int64_t lanes = out.tokens - t0 < kTileRows ? out.tokens - t0 : kTileRows;
    for (int64_t k = 0; k < out.chunks; ++k) {
      const int64_t c = k * kChunk, group = (k / 2) * 64;
      const bool column_pairs = out.fp4_column_pairs && group + 64 <= cols;
      __m512 high_rows[kTileRows], low_rows[kTileRows];
      for (int64_t lane = 0; lane < kTileRows; ++lane) {
        if (lane >= lanes) {
          high_rows[lane] = low_rows[lane] = _mm512_setzero_ps();
          continue;
        }
        const float* row = x + (t0 + lane) * cols;
        __m512 first, second;  // the chunk's columns 0–15 and 16–31
        if (column_pairs) {
          const __m512i pick = k % 2 == 0 ? even : odd;
          first = _mm512_permutex2var_ps(_mm512_loadu_ps(row + group), pick, _mm512_loadu_ps(row + group + 16));
          second = _mm512_permutex2var_ps(_mm512_loadu_ps(row + group + 32), pick, _mm512_loadu_ps(row + group + 48));
        } else {
          first = _mm512_maskz_loadu_ps(lanes_below(cols - c), row + c);
          second = _mm512_maskz_loadu_ps(lanes_below(cols - c - 16), row + c + 16);
        }
        const __m512i rounded = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(second, first));
        // The rounding error, exact in float32, rounded again: the second bf16 part.
        const __m512 first_back =
            _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(rounded)), 16));
        const __m512 second_back =
            _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(rounded, 1)), 16));
        high_rows[lane] = _mm512_castsi512_ps(rounded);
        low_rows[lane] = reinterpret_cast<__m512>(
            _mm512_cvtne2ps_pbh(_mm512_sub_ps(second, second_back), _mm512_sub_ps(first, first_back)));
      }
      transpose16(high_rows);
      transpose16(low_rows);
      const int64_t offset = (block * out.chunks + k) * kTileRows * kTileRows;
      for (int64_t pair = 0; pair < kTileRows; ++pair) {
        _mm512_storeu_ps(high_pairs + offset + pair * kTileRows, high_rows[pair]);
        _mm512_storeu_ps(low_pairs + offset + pair * kTileRows, low_rows[pair]);
      }
    }
  }
}

namespace {

// Chunks ahead that the weights of a panel are prefetched: each of its 32 rows is a separate
// stream, more than the hardware prefetchers follow.
constexpr int64_t kPrefetchChunks = 8;

template <WeightFormat F>
constexpr int64_t bytes_per_chunk_row() {
  switch (F) {
    case WeightFormat::FP4_E2M1_BLOCK32: return kChunk / 2;
    case WeightFormat::FP8_E4M3_BLOCK128: return kChunk;
    case WeightFormat::BF16: return kChunk * 2;
    case WeightFormat::F32: return kChunk * 4;
  }
  return kChunk;
}

// The cache lines holding `chunk` of every row of a panel, when the chunk starts a line.
template <WeightFormat F>
inline void prefetch_chunk(const WeightMatrix& w, int64_t r0, int64_t rows, int64_t chunk) {
  constexpr int64_t bytes = bytes_per_chunk_row<F>();
  const int64_t row_bytes = w.cols * bytes / kChunk, offset = chunk * bytes;
  if (offset >= row_bytes || offset % 64 >= bytes) return;
  const char* line = reinterpret_cast<const char*>(w.weight.data) + r0 * row_bytes + offset;
  for (int64_t i = 0; i < rows; ++i, line += row_bytes) {
    for (int64_t b = 0; b < bytes; b += 64) _mm_prefetch(line + b, _MM_HINT_T0);
  }
}

// One token block against a 32-row panel whose chunks start at `panel` (chunk stride
// `chunk_stride`): four independent accumulators (two weight tiles × the two activation parts),
// so that consecutive tile products do not wait for each other.
inline void panel_times_one_block(const uint16_t* panel, int64_t chunk_stride, int64_t chunks, const uint16_t* high,
                                  const uint16_t* low) {
  constexpr int64_t tile_elements = kTileRows * kChunk;
  for (int64_t k = 0; k < chunks; ++k) {
    const uint16_t* a = panel + k * chunk_stride;
    _tile_loadd(4, a, 64);
    _tile_loadd(5, a + tile_elements, 64);
    _tile_loadd(6, high + k * tile_elements, 64);
    _tile_loadd(7, low + k * tile_elements, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
}

// Stores the accumulators of panel_times_one_block: each weight tile's two parts, summed, for
// the tokens [t0, t0 + 16) that exist.
void write_one_block(const TileActivations& x, int64_t t0, int64_t rows, float* y, int64_t y_stride) {
  alignas(64) float high_part[kTileRows * kTileRows];
  alignas(64) float low_part[kTileRows * kTileRows];
  const int64_t tokens = x.tokens - t0 < kTileRows ? x.tokens - t0 : kTileRows;
  _tile_stored(0, high_part, 64);
  _tile_stored(1, low_part, 64);
  write_tile(high_part, low_part, rows < kTileRows ? rows : kTileRows, tokens, y + t0 * y_stride, y_stride);
  if (rows > kTileRows) {
    _tile_stored(2, high_part, 64);
    _tile_stored(3, low_part, 64);
    write_tile(high_part, low_part, rows - kTileRows, tokens, y + t0 * y_stride + kTileRows, y_stride);
  }
}

// Two token blocks against a 32-row panel whose chunks start at `panel` (chunk stride
// `chunk_stride`): each accumulator takes both activation parts, so four accumulators cover two
// weight tiles × two token blocks and a chunk needs six tile loads for eight products, where
// separate parts would need eight.
inline void panel_times_two_blocks(const uint16_t* panel, int64_t chunk_stride, int64_t chunks,
                                   const uint16_t* high0, const uint16_t* low0, const uint16_t* high1,
                                   const uint16_t* low1) {
  constexpr int64_t tile_elements = kTileRows * kChunk;
  for (int64_t k = 0; k < chunks; ++k) {
    const uint16_t* a = panel + k * chunk_stride;
    _tile_loadd(4, a, 64);
    _tile_loadd(5, a + tile_elements, 64);
    _tile_loadd(6, high0 + k * tile_elements, 64);
    _tile_loadd(7, high1 + k * tile_elements, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
    _tile_loadd(6, low0 + k * tile_elements, 64);
    _tile_loadd(7, low1 + k * tile_elements, 64);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
}

// Stores the four accumulators of panel_times_two_blocks: weight tiles × token blocks tb, tb + 1.
void write_two_blocks(const TileActivations& x, int64_t tb, int64_t rows, float* y, int64_t y_stride) {
  alignas(64) float sum[kTileRows * kTileRows];
  for (int tile = 0; tile < 4; ++tile) {
    const int64_t row0 = (tile / 2) * kTileRows, t0 = (tb + tile % 2) * kTileRows;
    const int64_t tile_rows = rows - row0 < kTileRows ? rows - row0 : kTileRows;
    const int64_t tokens = x.tokens - t0 < kTileRows ? x.tokens - t0 : kTileRows;
    if (tile_rows <= 0 || tokens <= 0) continue;
    switch (tile) {
      case 0: _tile_stored(0, sum, 64); break;
      case 1: _tile_stored(1, sum, 64); break;
      case 2: _tile_stored(2, sum, 64); break;
      default: _tile_stored(3, sum, 64); break;
    }
    write_tile(sum, nullptr, tile_rows, tokens, y + t0 * y_stride + row0, y_stride);
  }
}

// Several token blocks: each 32-row panel is dequantised whole into the scratch, then multiplied
// with the token blocks two at a time (one left over goes alone, with its two parts apart).
template <WeightFormat F>
void amx_rows_panels(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const TileActivations& x,
                     uint16_t* scratch, float* y, int64_t y_stride) {
  const int64_t tile_elements = kTileRows * kChunk;  // bf16 per activation tile
  const int64_t block_elements = x.chunks * tile_elements;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int64_t rows = row_end - r0 < kPanelRows ? row_end - r0 : kPanelRows;
    float* y_rows = y + (r0 - row_begin);
    dequantize_panel<F>(w, r0, rows, 0, x.chunks, scratch);
    int64_t tb = 0;
    for (; tb + 1 < x.token_blocks; tb += 2) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      const int64_t b = tb * block_elements;
      panel_times_two_blocks(scratch, kPanelChunk, x.chunks, x.high + b, x.low + b, x.high + b + block_elements,
                             x.low + b + block_elements);
      write_two_blocks(x, tb, rows, y_rows, y_stride);
    }
    if (tb < x.token_blocks) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      panel_times_one_block(scratch, kPanelChunk, x.chunks, x.high + tb * block_elements, x.low + tb * block_elements);
      write_one_block(x, tb * kTileRows, rows, y_rows, y_stride);
    }
  }
}

// At most 32 tokens: the four accumulators stay in their tiles for a whole panel and every
// dequantised weight meets two (one token block) or four (two blocks) tile products, so each
// chunk is dequantised into a small L1 buffer just before its products, instead of the panel
// going to L2 and back. The next chunk's dequantisation is issued right after the current
// chunk's products, so the vector units work while the tile unit does.
// Chunks dequantised at a time: FP4 unpacks them in pairs (see dequantize_panel).
constexpr int64_t kFusedStep = 2;

template <WeightFormat F>
void amx_rows_fused(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const TileActivations& x,
                    float* y, int64_t y_stride) {
  alignas(64) uint16_t weights[2][kFusedStep * kPanelChunk];
  const int64_t tile_elements = kTileRows * kChunk;
  const int64_t chunks = x.chunks;
  const bool two_blocks = x.token_blocks == 2;
  const uint16_t* high1 = x.high + chunks * tile_elements;
  const uint16_t* low1 = x.low + chunks * tile_elements;
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kPanelRows) {
    const int64_t rows = row_end - r0 < kPanelRows ? row_end - r0 : kPanelRows;
    float* y_rows = y + (r0 - row_begin);
    for (int64_t k = 0; k < kPrefetchChunks; ++k) prefetch_chunk<F>(w, r0, rows, k);
    // FP4 panels whose scale codes all stay normal in bf16 (any real checkpoint's) are unpacked
    // a 64-column group at a time, without the per-pair range checks of dequantize_panel.
    bool fp4_groups = false;
    if constexpr (F == WeightFormat::FP4_E2M1_BLOCK32) fp4_groups = fp4_panel_scales_normal(w, r0, rows);
    // Chunks [k0, k1) into `out`.
    auto dequantize = [&](int64_t k0, int64_t k1, uint16_t* out) {
      if (fp4_groups && k1 - k0 == 2) {
        dequantize_fp4_group(w, r0, rows, k0 / 2, out);
      } else {
        dequantize_panel<F>(w, r0, rows, k0, k1, out);
      }
    };
    dequantize(0, chunks < kFusedStep ? chunks : kFusedStep, weights[0]);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t k0 = 0, step = 0; k0 < chunks; k0 += kFusedStep, ++step) {
      const int64_t k1 = chunks - k0 < kFusedStep ? chunks : k0 + kFusedStep;
      for (int64_t k = k0; k < k1; ++k) {
        const uint16_t* panel = weights[step & 1] + (k - k0) * kPanelChunk;
        const int64_t b = k * tile_elements;
        if (two_blocks) {
          panel_times_two_blocks(panel, 0, 1, x.high + b, x.low + b, high1 + b, low1 + b);
        } else {
          panel_times_one_block(panel, 0, 1, x.high + b, x.low + b);
        }
      }
      if (k1 < chunks) {
        const int64_t k2 = chunks - k1 < kFusedStep ? chunks : k1 + kFusedStep;
        for (int64_t k = k1; k < k2; ++k) prefetch_chunk<F>(w, r0, rows, k + kPrefetchChunks);
        dequantize(k1, k2, weights[(step + 1) & 1]);
      }
    }
    if (two_blocks) {
      write_two_blocks(x, 0, rows, y_rows, y_stride);
    } else {
      write_one_block(x, 0, rows, y_rows, y_stride);
    }
  }
}

template <WeightFormat F>
void amx_rows_for(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const TileActivations& x,
                  uint16_t* scratch, float* y, int64_t y_stride) {
  if (x.token_blocks <= 2) {
    amx_rows_fused<F>(w, row_begin, row_end, x, y, y_stride);
  } else {
    amx_rows_panels<F>(w, row_begin, row_end, x, scratch, y, y_stride);
  }
}

}  // namespace

void amx_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const TileActivations& x, uint16_t* scratch,
              float* y, int64_t y_stride) {
  configure_tiles();
  switch (w.format) {
    case WeightFormat::FP4_E2M1_BLOCK32:
      return amx_rows_for<WeightFormat::FP4_E2M1_BLOCK32>(w, row_begin, row_end, x, scratch, y, y_stride);
    case WeightFormat::FP8_E4M3_BLOCK128:
      return amx_rows_for<WeightFormat::FP8_E4M3_BLOCK128>(w, row_begin, row_end, x, scratch, y, y_stride);
    case WeightFormat::BF16:
      return amx_rows_for<WeightFormat::BF16>(w, row_begin, row_end, x, scratch, y, y_stride);
    case WeightFormat::F32:
      return amx_rows_for<WeightFormat::F32>(w, row_begin, row_end, x, scratch, y, y_stride);
  }
}

}  // namespace lightseek::fast_kernels

#else  // built without AMX support: never usable

namespace lightseek::fast_kernels {
void amx_prepare_activations(const float*, int64_t, const TileActivations&) {}
void amx_rows(const WeightMatrix&, int64_t, int64_t, const TileActivations&, uint16_t*, float*, int64_t) {}
}  // namespace lightseek::fast_kernels

#endif
