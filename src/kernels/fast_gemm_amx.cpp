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

inline __mmask16 mask_for(int64_t remaining) {
  if (remaining <= 0) return 0;
  return remaining >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << remaining) - 1);
}

// FP8 e4m3 → float32 × 2^-8 through IEEE half (see fast_linear_avx512.cpp).
inline __m512 fp8_to_scaled_f32(__m128i codes) {
  const __m256i shifted = _mm256_slli_epi16(_mm256_cvtepi8_epi16(codes), 7);
  return _mm512_cvtph_ps(_mm256_and_si256(shifted, _mm256_set1_epi16(static_cast<short>(0xBFFF))));
}

inline void store_bf16(uint16_t* out, __m512 values, __mmask16 mask) {
  _mm256_mask_storeu_epi16(out, mask, reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(values)));
}

// Elements between the same column of consecutive chunks in the tile-ordered scratch.
constexpr int64_t kPanelChunk = 32 * kChunk;

// One weight row as bf16 with its scales applied, into the tile-ordered scratch (column c at
// out[(c / 32) * kPanelChunk + c % 32]), zero up to the end of the last chunk.
void dequantize_row_bf16(const WeightMatrix& w, int64_t row, int64_t chunks, uint16_t* out) {
  const int64_t cols = w.cols;
  switch (w.format) {
    case WeightFormat::FP4_E2M1_BLOCK32: {
      const __m512 values = _mm512_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, -0.0f, -0.5f, -1.0f, -1.5f,
                                           -2.0f, -3.0f, -4.0f, -6.0f);
      const uint8_t* packed = w.weight.data + row * (cols / 2);
      const uint8_t* scales = w.scale.data + row * (cols / 32);
      const __m512i low = _mm512_set1_epi32(0x0F);
      for (int64_t b = 0; b < cols / 32; ++b) {
        const __m512 scaled = _mm512_mul_ps(values, _mm512_set1_ps(fast_e8m0(scales[b])));
        const __m512i table = _mm512_castsi256_si512(reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(scaled)));
        const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + b * 16)));
        // Each dword indexes two words: the even column (low nibble), then the odd one.
        const __m512i index = _mm512_or_si512(_mm512_and_si512(bytes, low), _mm512_slli_epi32(_mm512_srli_epi32(bytes, 4), 16));
        _mm512_storeu_si512(out + b * kPanelChunk, _mm512_permutexvar_epi16(index, table));
      }
      return;  // FP4 rows are whole chunks
    }
    case WeightFormat::FP8_E4M3_BLOCK128: {
      const uint8_t* codes = w.weight.data + row * cols;
      const uint8_t* scales = w.scale.data + (row / 128) * ((cols + 127) / 128);
      for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 mask = mask_for(cols - c);
        const __m512 scale = _mm512_set1_ps(fast_e8m0(scales[c / 128]) * kFp8HalfCorrection);
        store_bf16(out + (c / kChunk) * kPanelChunk + c % kChunk,
                   _mm512_mul_ps(fp8_to_scaled_f32(_mm_maskz_loadu_epi8(mask, codes + c)), scale), mask);
      }
      break;
    }
    case WeightFormat::BF16: {
      const uint8_t* bits = w.weight.data + row * cols * 2;
      for (int64_t c = 0; c < cols; c += kChunk) {
        const int64_t n = cols - c < kChunk ? cols - c : kChunk;
        std::memcpy(out + (c / kChunk) * kPanelChunk, bits + c * 2, static_cast<size_t>(n) * 2);
      }
      break;
    }
    case WeightFormat::F32: {  // not sent here by fast_linear (bf16 would lose bits); kept exact-shaped
      const float* values = reinterpret_cast<const float*>(w.weight.data) + row * cols;
      for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 mask = mask_for(cols - c);
        store_bf16(out + (c / kChunk) * kPanelChunk + c % kChunk, _mm512_maskz_loadu_ps(mask, values + c), mask);
      }
      break;
    }
  }
  if (cols % kChunk != 0) {
    std::memset(out + (chunks - 1) * kPanelChunk + cols % kChunk, 0, static_cast<size_t>(kChunk - cols % kChunk) * 2);
  }
}

// Zero rows of a panel past the matrix's last row.
void zero_row(int64_t chunks, uint16_t* out) {
  for (int64_t k = 0; k < chunks; ++k) std::memset(out + k * kPanelChunk, 0, kChunk * 2);
}

// Writes the sum of two 16×16 float tiles (weight rows × tokens) for the rows and tokens that exist.
void write_tile(const float* high, const float* low, int64_t rows, int64_t tokens, float* y, int64_t y_stride) {
  for (int64_t n = 0; n < rows; ++n) {
    for (int64_t t = 0; t < tokens; ++t) y[t * y_stride + n] = high[n * 16 + t] + low[n * 16 + t];
  }
}

}  // namespace

void amx_prepare_activations(const float* x, int64_t cols, const TileActivations& out) {
  const int64_t tokens = out.tokens;
  const size_t bytes = static_cast<size_t>(out.token_blocks * out.chunks * kTileRows * kChunk) * 2;
  std::memset(out.high, 0, bytes);
  std::memset(out.low, 0, bytes);
  uint32_t* high_pairs = reinterpret_cast<uint32_t*>(out.high);
  uint32_t* low_pairs = reinterpret_cast<uint32_t*>(out.low);
  const __m512i pair_offsets = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(kTileRows));
  for (int64_t t = 0; t < tokens; ++t) {
    const float* row = x + t * cols;
    const int64_t block = t / kTileRows, lane = t % kTileRows;
    for (int64_t k = 0; k < out.chunks; ++k) {
      const int64_t c = k * kChunk;
      const __m512 low = _mm512_maskz_loadu_ps(mask_for(cols - c), row + c);
      const __m512 high = _mm512_maskz_loadu_ps(mask_for(cols - c - 16), row + c + 16);
      const __m512bh rounded = _mm512_cvtne2ps_pbh(high, low);
      // The rounding error, exact in float32, rounded again: the second bf16 part.
      const __m512 high_back = _mm512_castsi512_ps(_mm512_slli_epi32(
          _mm512_cvtepu16_epi32(_mm512_castsi512_si256(reinterpret_cast<__m512i>(rounded))), 16));
      const __m512 low_back = _mm512_castsi512_ps(_mm512_slli_epi32(
          _mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(reinterpret_cast<__m512i>(rounded), 1)), 16));
      const __m512bh residual = _mm512_cvtne2ps_pbh(_mm512_sub_ps(high, low_back), _mm512_sub_ps(low, high_back));
      const int64_t offset = ((block * out.chunks + k) * kTileRows) * kTileRows + lane;
      _mm512_i32scatter_epi32(high_pairs + offset, pair_offsets, reinterpret_cast<__m512i>(rounded), 4);
      _mm512_i32scatter_epi32(low_pairs + offset, pair_offsets, reinterpret_cast<__m512i>(residual), 4);
    }
  }
}

void amx_rows(const WeightMatrix& w, int64_t row_begin, int64_t row_end, const TileActivations& x, uint16_t* scratch,
              float* y, int64_t y_stride) {
  configure_tiles();
  alignas(64) float high_part[kTileRows * kTileRows];
  alignas(64) float low_part[kTileRows * kTileRows];

  const int64_t tile_elements = kTileRows * kChunk;  // bf16 per activation tile

  for (int64_t r0 = row_begin; r0 < row_end; r0 += 2 * kTileRows) {
    const int64_t rows = row_end - r0 < 2 * kTileRows ? row_end - r0 : 2 * kTileRows;
    for (int64_t i = 0; i < 2 * kTileRows; ++i) {
      if (i < rows) {
        dequantize_row_bf16(w, r0 + i, x.chunks, scratch + i * kChunk);
      } else {
        zero_row(x.chunks, scratch + i * kChunk);
      }
    }
    const uint16_t* a0 = scratch;
    const uint16_t* a1 = scratch + kTileRows * kChunk;
    for (int64_t tb = 0; tb < x.token_blocks; ++tb) {
      const int64_t b = tb * x.chunks * tile_elements;
      // Four independent accumulators (two weight tiles × the two activation parts), so that
      // consecutive tile products do not wait for each other.
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (int64_t k = 0; k < x.chunks; ++k) {
        _tile_loadd(4, a0 + k * kPanelChunk, 64);
        _tile_loadd(5, a1 + k * kPanelChunk, 64);
        _tile_loadd(6, x.high + b + k * tile_elements, 64);
        _tile_loadd(7, x.low + b + k * tile_elements, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      const int64_t t0 = tb * kTileRows;
      const int64_t tokens = x.tokens - t0 < kTileRows ? x.tokens - t0 : kTileRows;
      _tile_stored(0, high_part, 64);
      _tile_stored(1, low_part, 64);
      write_tile(high_part, low_part, rows < kTileRows ? rows : kTileRows, tokens, y + t0 * y_stride + (r0 - row_begin),
                 y_stride);
      if (rows > kTileRows) {
        _tile_stored(2, high_part, 64);
        _tile_stored(3, low_part, 64);
        write_tile(high_part, low_part, rows - kTileRows, tokens, y + t0 * y_stride + (r0 - row_begin) + kTileRows,
                   y_stride);
      }
    }
  }
}

}  // namespace lightseek::fast_kernels

#else  // built without AMX support: never usable

namespace lightseek::fast_kernels {
void amx_prepare_activations(const float*, int64_t, const TileActivations&) {}
void amx_rows(const WeightMatrix&, int64_t, int64_t, const TileActivations&, uint16_t*, float*, int64_t) {}
}  // namespace lightseek::fast_kernels

#endif
