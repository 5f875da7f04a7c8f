// The float32 vector primitives of the fast numerics: every ISA variant against the scalar one,
// on lengths with tails and head and row counts that leave partial blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/number_formats.h"
#include "kernels/cpu_features.h"
#include "kernels/quantize.h"
#include "kernels/vector_ops.h"
#include "model/kv_rows.h"
#include "random_values.h"

namespace lightseek {
namespace {

using testing::normal_floats;

// Float32 sums in another order differ by a few ulps of the sum of magnitudes.
double sum_tolerance(double magnitude) { return 1e-5 * magnitude + 1e-6; }

TEST(VectorOps, DotAndAxpyOfEveryIsaMatchTheScalarOnes) {
  const VectorOps& scalar = vector_ops_for(Isa::Scalar);
  for (Isa isa : supported_isas()) {
    const VectorOps& ops = vector_ops_for(isa);
    for (int64_t n : {1, 7, 16, 33, 64, 100, 513}) {
      const std::vector<float> a = normal_floats(n, 1), b = normal_floats(n, 2);
      double magnitude = 0.0;
      for (int64_t i = 0; i < n; ++i) magnitude += std::fabs(a[i] * b[i]);
      EXPECT_NEAR(ops.dot(a.data(), b.data(), n), scalar.dot(a.data(), b.data(), n), sum_tolerance(magnitude))
          << isa_name(isa) << " n=" << n;
      std::vector<float> y = normal_floats(n + 1, 3), y_scalar = y;
      ops.axpy(0.75f, a.data(), y.data(), n);
      scalar.axpy(0.75f, a.data(), y_scalar.data(), n);
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(y[i], y_scalar[i], 1e-6) << isa_name(isa) << " n=" << n;
      EXPECT_EQ(y[n], y_scalar[n]) << "axpy wrote past its end";
    }
  }
}

struct AttentionShape {
  int64_t heads, rows, dim;
};

class VectorOpsAttention : public ::testing::TestWithParam<AttentionShape> {};

TEST_P(VectorOpsAttention, ScoresAndWeightedSumsOfEveryIsaMatchTheDefinition) {
  const auto [heads, n, dim] = GetParam();
  const int64_t q_stride = dim + 3;  // a stride unequal to dim: heads are read where they are
  const std::vector<float> q = normal_floats(heads * q_stride, 4), table = normal_floats(n * (dim + 5), 5);
  std::vector<const float*> rows(n);
  for (int64_t j = 0; j < n; ++j) rows[j] = table.data() + ((j * 7) % n) * (dim + 5);  // out of order
  const std::vector<float> weights = normal_floats(heads * n, 6);
  const float scale = 0.125f;
  for (Isa isa : supported_isas()) {
    const VectorOps& ops = vector_ops_for(isa);
    std::vector<float> logits(heads * n, -1.0f);
    ops.scores(q.data(), heads, q_stride, rows.data(), n, dim, scale, logits.data());
    const int64_t out_stride = dim + 2;
    std::vector<float> out(heads * out_stride, 42.0f);
    ops.weighted_sums(weights.data(), heads, rows.data(), n, dim, out.data(), out_stride);
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t j = 0; j < n; ++j) {
        double exact = 0.0, magnitude = 0.0;
        for (int64_t d = 0; d < dim; ++d) {
          exact += static_cast<double>(q[h * q_stride + d]) * rows[j][d];
          magnitude += std::fabs(static_cast<double>(q[h * q_stride + d]) * rows[j][d]);
        }
        ASSERT_NEAR(logits[h * n + j], scale * exact, scale * sum_tolerance(magnitude))
            << isa_name(isa) << " head " << h << " row " << j;
      }
      for (int64_t d = 0; d < dim; ++d) {
        double exact = 0.0, magnitude = 0.0;
        for (int64_t j = 0; j < n; ++j) {
          exact += static_cast<double>(weights[h * n + j]) * rows[j][d];
          magnitude += std::fabs(static_cast<double>(weights[h * n + j]) * rows[j][d]);
        }
        ASSERT_NEAR(out[h * out_stride + d], exact, sum_tolerance(magnitude)) << isa_name(isa) << " head " << h << " d " << d;
      }
      for (int64_t d = dim; d < out_stride; ++d) {
        ASSERT_EQ(out[h * out_stride + d], 42.0f) << isa_name(isa) << ": wrote past the row's end";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, VectorOpsAttention,
                         ::testing::Values(AttentionShape{1, 1, 1}, AttentionShape{4, 4, 16}, AttentionShape{5, 9, 37},
                                           AttentionShape{8, 130, 512}, AttentionShape{3, 2, 70},
                                           AttentionShape{7, 13, 128}, AttentionShape{64, 5, 64},
                                           AttentionShape{6, 11, 45},
                                           // Past the AVX2 row blocks (128 rows for scores, 256 for
                                           // weighted sums), with partial blocks and strips.
                                           AttentionShape{5, 389, 40}, AttentionShape{8, 300, 512}),
                         [](const ::testing::TestParamInfo<AttentionShape>& info) {
                           return "h" + std::to_string(info.param.heads) + "_n" + std::to_string(info.param.rows) +
                                  "_d" + std::to_string(info.param.dim);
                         });

}  // namespace
}  // namespace lightseek

namespace lightseek {
namespace {

// Every ISA decodes FP4 rows to the very bits of the definition (code value · 2^(scale − 127),
// ldexp per value): every code, -0 included, scale codes at both ends (0 and 1 give subnormal
// scales, 255 an overflowing one), whole and partial last blocks.
TEST(VectorOps, Fp4RowsDecodeToTheDefinitionsBitsOnEveryIsa) {
  for (int64_t width : {32, 64, 128, 100, 46, 2}) {
    const int64_t blocks = (width + 31) / 32;
    std::vector<uint8_t> packed(static_cast<size_t>((width + 1) / 2)), scales(static_cast<size_t>(blocks));
    for (size_t i = 0; i < packed.size(); ++i) packed[i] = static_cast<uint8_t>(i * 37 + 8 * (i % 3));
    const uint8_t scale_codes[] = {127, 0, 1, 2, 254, 255, 100, 140};
    for (size_t b = 0; b < scales.size(); ++b) scales[b] = scale_codes[(b + static_cast<size_t>(width)) % 8];
    for (uint8_t code : scale_codes) {
      scales[0] = code;
      std::vector<float> expected(static_cast<size_t>(width));
      for (int64_t c = 0; c < width; ++c) {
        expected[c] = std::ldexp(fp4_e2m1_to_f32(fp4_nibble_at(packed.data(), c)), static_cast<int>(scales[c / 32]) - 127);
      }
      for (Isa isa : supported_isas()) {
        std::vector<float> out(static_cast<size_t>(width) + 1, 42.0f);
        vector_ops_for(isa).decode_fp4_blocks32(packed.data(), scales.data(), width, out.data());
        for (int64_t c = 0; c < width; ++c) {
          uint32_t got, want;
          std::memcpy(&got, &out[c], 4);
          std::memcpy(&want, &expected[c], 4);
          ASSERT_EQ(got, want) << isa_name(isa) << " width " << width << " scale code " << int{code} << " column " << c
                               << ": " << out[c] << " vs " << expected[c];
        }
        EXPECT_EQ(out[width], 42.0f) << isa_name(isa) << ": wrote past the row";
      }
    }
  }
}

// The indexer's integer scores over FP4 keys: on every ISA, the float32 nearest the exact
// product of the FP4 query and the decoded key (here exact, in double) — for keys whose block
// scales lie close (the int8 path), far apart or on zero blocks (the scalar fallback), heads and
// key counts that leave partial register blocks, and columns past the int8 path's limit.
TEST(VectorOps, Fp4KeyScoresAreTheExactProductsOnEveryIsa) {
  for (int64_t dim : {32, 64, 128, 160, 288}) {
    for (int64_t heads : {1, 4, 7, 64}) {
      const int64_t n = heads == 64 ? 45 : 13;
      std::vector<float> q = normal_floats(static_cast<size_t>(heads * dim), static_cast<uint32_t>(dim + heads));
      for (int64_t h = 0; h < heads; ++h) q[h * dim] *= 2.0f;  // a block an octave or so above the others
      fp4_roundtrip_blocks(q.data(), heads * dim, 32);
      std::vector<int8_t> q8(q.size());
      std::vector<float> q_scale(static_cast<size_t>(heads));
      ASSERT_TRUE(fp4_rows_as_int8(q.data(), heads, dim, q8.data(), q_scale.data()));

      KvRows keys = KvRows::fp4(dim);
      const std::vector<float> values = normal_floats(static_cast<size_t>(n * dim), static_cast<uint32_t>(7 * dim));
      for (int64_t j = 0; j < n; ++j) {
        std::vector<float> key(values.begin() + j * dim, values.begin() + (j + 1) * dim);
        if (j % 5 == 1) key[dim - 1] *= 64.0f;  // its last block 4+ octaves up: no int16-safe shift
        if (j % 5 == 2) std::fill(key.begin(), key.begin() + 32, 0.0f);  // a zero block, tiny scale
        if (j % 5 == 3) std::fill(key.begin(), key.end(), 0.0f);
        keys.append(key.data());
      }
      std::vector<float> expected(static_cast<size_t>(heads * n)), key(static_cast<size_t>(dim));
      for (int64_t j = 0; j < n; ++j) {
        keys.read(j, key.data());
        for (int64_t h = 0; h < heads; ++h) {
          double sum = 0.0;
          for (int64_t c = 0; c < dim; ++c) sum += static_cast<double>(q[h * dim + c]) * key[c];
          expected[h * n + j] = static_cast<float>(sum);
        }
      }
      for (Isa isa : supported_isas()) {
        std::vector<float> out(static_cast<size_t>(heads * n), 42.0f);
        vector_ops_for(isa).fp4_key_scores(q8.data(), q_scale.data(), heads, dim, keys.stored_bytes().data(),
                                           keys.row_bytes(), n, out.data(), n);
        for (size_t i = 0; i < out.size(); ++i) {
          ASSERT_EQ(out[i], expected[i]) << isa_name(isa) << " dim " << dim << " heads " << heads << " head "
                                         << static_cast<int64_t>(i) / n << " key " << static_cast<int64_t>(i) % n;
        }
      }
    }
  }
}

// The indexer's weighted scores, Σ_h w_h · max(0, q_h · key), from per-head products computed in
// double; `head_product(t, h, j)` gives the exact product and the sum of its terms' magnitudes.
template <typename HeadProduct>
void expect_index_scores(const std::vector<float>& out, int64_t out_stride, int64_t tokens, int64_t heads, int64_t n,
                         const std::vector<float>& w, HeadProduct head_product, const std::string& what) {
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t j = 0; j < n; ++j) {
      double exact = 0.0, magnitude = 0.0;
      for (int64_t h = 0; h < heads; ++h) {
        const auto [product, product_magnitude] = head_product(t, h, j);
        exact += w[t * heads + h] * std::max(0.0, product);
        magnitude += std::fabs(w[t * heads + h]) * (std::fabs(product) + product_magnitude);
      }
      ASSERT_NEAR(out[t * out_stride + j], exact, sum_tolerance(magnitude))
          << what << " token " << t << " key " << j;
    }
    for (int64_t j = n; j < out_stride; ++j) {
      ASSERT_EQ(out[t * out_stride + j], 42.0f) << what << ": wrote past the row's end at token " << t;
    }
  }
}

// Float32 keys: every ISA against the definition, for token, head and key counts that leave
// partial register blocks and panels, keys past one 256-key run, and columns with tails.
TEST(VectorOps, IndexScoresOfEveryIsaMatchTheDefinition) {
  struct Shape {
    int64_t tokens, heads, dim, n;
  };
  for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{1, 4, 8, 8}, Shape{3, 7, 37, 13}, Shape{2, 64, 128, 300},
                             Shape{5, 5, 130, 25}, Shape{4, 8, 64, 519}}) {
    const auto [tokens, heads, dim, n] = shape;
    const int64_t key_stride = dim + 3, out_stride = n + 2;
    const std::vector<float> q = normal_floats(static_cast<size_t>(tokens * heads * dim), static_cast<uint32_t>(dim));
    const std::vector<float> keys = normal_floats(static_cast<size_t>(n * key_stride), static_cast<uint32_t>(n));
    std::vector<float> w = normal_floats(static_cast<size_t>(tokens * heads), 11);
    auto head_product = [&](int64_t t, int64_t h, int64_t j) {
      double product = 0.0, magnitude = 0.0;
      for (int64_t d = 0; d < dim; ++d) {
        const double term = static_cast<double>(q[(t * heads + h) * dim + d]) * keys[j * key_stride + d];
        product += term;
        magnitude += std::fabs(term);
      }
      return std::pair{product, magnitude};
    };
    for (Isa isa : supported_isas()) {
      std::vector<float> out(static_cast<size_t>(tokens * out_stride), 42.0f);
      vector_ops_for(isa).index_scores(q.data(), w.data(), tokens, heads, dim, keys.data(), key_stride, n, out.data(),
                                       out_stride);
      expect_index_scores(out, out_stride, tokens, heads, n, w, head_product,
                          str_cat(isa_name(isa), " tokens ", tokens, " heads ", heads, " dim ", dim, " keys ", n));
    }
    // AVX-512 packs 16 keys to a panel where AVX2 packs 8, with the same FMAs lane for lane: the
    // indexer selects the same entries on both.
    const std::vector<Isa> isas = supported_isas();
    if (std::ranges::find(isas, Isa::Avx512) != isas.end()) {
      std::vector<float> avx2(static_cast<size_t>(tokens * out_stride)), avx512(avx2.size());
      vector_ops_for(Isa::Avx2).index_scores(q.data(), w.data(), tokens, heads, dim, keys.data(), key_stride, n,
                                             avx2.data(), out_stride);
      vector_ops_for(Isa::Avx512).index_scores(q.data(), w.data(), tokens, heads, dim, keys.data(), key_stride, n,
                                               avx512.data(), out_stride);
      EXPECT_EQ(avx512, avx2) << "tokens " << tokens << " heads " << heads << " dim " << dim << " keys " << n;
    }
  }
}

// FP4 keys and int8 queries: every ISA against the exact per-head products, weighted and summed,
// with keys the int8 path cannot take (block scales far apart) and zero blocks among them.
TEST(VectorOps, Fp4IndexScoresOfEveryIsaMatchTheDefinition) {
  struct Shape {
    int64_t tokens, heads, dim, n;
  };
  for (const Shape& shape : {Shape{1, 1, 32, 1}, Shape{3, 7, 64, 13}, Shape{2, 64, 128, 300}, Shape{4, 5, 288, 20}}) {
    const auto [tokens, heads, dim, n] = shape;
    std::vector<float> q = normal_floats(static_cast<size_t>(tokens * heads * dim), static_cast<uint32_t>(dim + n));
    fp4_roundtrip_blocks(q.data(), tokens * heads * dim, 32);
    std::vector<int8_t> q8(q.size());
    std::vector<float> q_scale(static_cast<size_t>(tokens * heads));
    ASSERT_TRUE(fp4_rows_as_int8(q.data(), tokens * heads, dim, q8.data(), q_scale.data()));
    KvRows keys = KvRows::fp4(dim);
    const std::vector<float> values = normal_floats(static_cast<size_t>(n * dim), static_cast<uint32_t>(3 * dim));
    for (int64_t j = 0; j < n; ++j) {
      std::vector<float> key(values.begin() + j * dim, values.begin() + (j + 1) * dim);
      if (j % 7 == 1) key[dim - 1] *= 64.0f;
      if (j % 7 == 2) std::fill(key.begin(), key.begin() + 32, 0.0f);
      keys.append(key.data());
    }
    std::vector<float> decoded(static_cast<size_t>(n * dim));
    for (int64_t j = 0; j < n; ++j) keys.read(j, decoded.data() + j * dim);
    const std::vector<float> w = normal_floats(static_cast<size_t>(tokens * heads), 12);
    auto head_product = [&](int64_t t, int64_t h, int64_t j) {
      double product = 0.0;
      for (int64_t d = 0; d < dim; ++d) product += static_cast<double>(q[(t * heads + h) * dim + d]) * decoded[j * dim + d];
      return std::pair{product, 0.0};  // exact: only its rounding to float32 and the sum over heads
    };
    const int64_t out_stride = n + 3;
    for (Isa isa : supported_isas()) {
      std::vector<float> out(static_cast<size_t>(tokens * out_stride), 42.0f);
      vector_ops_for(isa).fp4_index_scores(q8.data(), q_scale.data(), w.data(), tokens, heads, dim,
                                           keys.stored_bytes().data(), keys.row_bytes(), n, out.data(), out_stride);
      expect_index_scores(out, out_stride, tokens, heads, n, w, head_product,
                          str_cat(isa_name(isa), " tokens ", tokens, " heads ", heads, " dim ", dim, " keys ", n));
    }
  }
}

TEST(VectorOps, Fp4QueriesBecomeInt8OnlyWhenExactAndWithinRange) {
  std::vector<float> row = normal_floats(64, 3);
  fp4_roundtrip_blocks(row.data(), 64, 32);
  std::vector<int8_t> codes(64);
  float scale = 0.0f;
  ASSERT_TRUE(fp4_rows_as_int8(row.data(), 1, 64, codes.data(), &scale));
  for (int64_t b = 0; b < 2; ++b) {  // each block's even columns, then its odd ones
    for (int64_t m = 0; m < 32; ++m) {
      const int64_t column = 32 * b + (m < 16 ? 2 * m : 2 * (m - 16) + 1);
      EXPECT_EQ(codes[32 * b + m] * scale, row[column]) << "column " << column;
    }
  }
  std::vector<float> zero(64, 0.0f);
  EXPECT_TRUE(fp4_rows_as_int8(zero.data(), 1, 64, codes.data(), &scale));
  EXPECT_EQ(codes[5], 0);

  std::vector<float> off_grid = row;
  off_grid[3] = 0.3f * scale;  // not a whole multiple of the block's step
  EXPECT_FALSE(fp4_rows_as_int8(off_grid.data(), 1, 64, codes.data(), &scale));
  std::vector<float> far = row;
  for (int64_t c = 32; c < 64; ++c) far[c] *= 8.0f;  // 3 octaves above the first block
  EXPECT_FALSE(fp4_rows_as_int8(far.data(), 1, 64, codes.data(), &scale));
  std::vector<float> infinite = row;
  infinite[0] = INFINITY;
  EXPECT_FALSE(fp4_rows_as_int8(infinite.data(), 1, 64, codes.data(), &scale));
  EXPECT_FALSE(fp4_rows_as_int8(row.data(), 1, 48, codes.data(), &scale));  // not whole blocks
}

}  // namespace
}  // namespace lightseek

namespace lightseek {
namespace {

// The SIMD exp is a polynomial, not std::exp: each value within a few ulp of the definition's
// (`relative`), or within `absolute` where the definition's exp underflows or overflows.
void expect_close_to_definition(float value, float definition, double relative, double absolute,
                                const std::string& where) {
  if (std::isnan(definition)) {
    EXPECT_TRUE(std::isnan(value)) << where;
    return;
  }
  EXPECT_NEAR(value, definition, relative * std::fabs(definition) + absolute) << where;
}

TEST(VectorOps, SoftmaxWithAnExtraLogitOfEveryIsaMatchesTheDefinition) {
  for (Isa isa : supported_isas()) {
    const VectorOps& ops = vector_ops_for(isa);
    for (int64_t n : {1, 2, 7, 16, 17, 100, 640, 1001}) {
      for (float extra : {-INFINITY, 0.5f, 30.0f}) {
        std::vector<float> row = normal_floats(static_cast<size_t>(n) + 1, static_cast<uint32_t>(n));
        for (float& value : row) value *= 6.0f;  // logits over several octaves of probability
        std::vector<float> definition = row;
        ops.softmax_with_extra(row.data(), n, extra);
        vector_kernels::softmax_with_extra_scalar(definition.data(), n, extra);
        double total = 0.0;
        for (int64_t j = 0; j < n; ++j) {
          // The denominators' float32 sums in another order: 1e-5 of it, as for sum_tolerance.
          const std::string where = std::string(isa_name(isa)) + " n=" + std::to_string(n) + " j=" + std::to_string(j);
          expect_close_to_definition(row[j], definition[j], 1e-5, 1e-37, where);
          total += row[j];
        }
        EXPECT_EQ(row[n], definition[n]) << "wrote past the row";
        if (extra == -INFINITY) {
          EXPECT_NEAR(total, 1.0, 1e-5) << isa_name(isa) << " n=" << n;
        } else if (extra == 30.0f) {
          EXPECT_LT(total, 1e-3) << isa_name(isa) << " n=" << n;  // the sink takes the mass
        }
      }
    }
  }
}

// Two logits {0, x}: the second probability is e^x / (1 + e^x), so the exp itself is checked
// against std::exp from 1 down to far below float32's smallest normal.
TEST(VectorOps, SoftmaxExpFollowsStdExpOverTheWholeRange) {
  for (Isa isa : supported_isas()) {
    const VectorOps& ops = vector_ops_for(isa);
    for (float x = -120.0f; x <= 0.0f; x += 0.0137f) {
      float row[2] = {0.0f, x}, definition[2] = {0.0f, x};
      ops.softmax_with_extra(row, 2, -INFINITY);
      vector_kernels::softmax_with_extra_scalar(definition, 2, -INFINITY);
      // Two ulp of the result, and of 1 + e^x in the denominator.
      expect_close_to_definition(row[1], definition[1], 3e-7, 1e-37,
                                 std::string(isa_name(isa)) + " x=" + std::to_string(x));
    }
  }
}

TEST(VectorOps, SoftmaxOfARowWithNanIsNanEverywhere) {
  for (Isa isa : supported_isas()) {
    std::vector<float> row = normal_floats(37, 5);
    row[20] = NAN;
    vector_ops_for(isa).softmax_with_extra(row.data(), 37, 0.0f);
    for (float value : row) EXPECT_TRUE(std::isnan(value)) << isa_name(isa);
  }
}

TEST(VectorOps, SwigluOfEveryIsaMatchesTheDefinition) {
  for (Isa isa : supported_isas()) {
    const VectorOps& ops = vector_ops_for(isa);
    for (int64_t n : {1, 9, 16, 31, 2048}) {
      for (float limit : {0.0f, 10.0f}) {
        std::vector<float> gate = normal_floats(static_cast<size_t>(n) + 1, 7), up = normal_floats(n, 8);
        // Gates from −120 to 120: exp(−g) both overflows and underflows; ups past the limit.
        for (int64_t i = 0; i < n; ++i) {
          gate[i] *= 40.0f;
          up[i] *= 8.0f;
        }
        if (n > 5) gate[5] = NAN;
        std::vector<float> definition = gate;
        ops.swiglu(gate.data(), up.data(), n, limit, 0.37f);
        vector_kernels::swiglu_scalar(definition.data(), up.data(), n, limit, 0.37f);
        for (int64_t i = 0; i < n; ++i) {
          // AVX2's exp stops at e^88: a gate below −88 gives ~1e−36 where std::exp's infinity gives 0.
          const std::string where = std::string(isa_name(isa)) + " n=" + std::to_string(n) +
                                    " limit=" + std::to_string(limit) + " i=" + std::to_string(i);
          expect_close_to_definition(gate[i], definition[i], 1e-6, 1e-30, where);
        }
        EXPECT_EQ(gate[n], definition[n]) << "wrote past the row";
      }
    }
  }
}

// AVX2 computes the exp and the denominators as AVX-512 does, so a model's fast numerics do not
// depend on which of the two runs them (in this step).
TEST(VectorOps, SoftmaxAndSwigluGiveTheSameBitsOnAvx2AndAvx512) {
  const std::vector<Isa> isas = supported_isas();
  if (std::ranges::find(isas, Isa::Avx512) == isas.end()) GTEST_SKIP() << "this CPU has no AVX-512";
  const VectorOps& avx2 = vector_ops_for(Isa::Avx2);
  const VectorOps& avx512 = vector_ops_for(Isa::Avx512);
  for (int64_t n : {1, 8, 15, 16, 17, 33, 640, 1001}) {
    std::vector<float> row = normal_floats(static_cast<size_t>(n), 21);
    for (float& value : row) value *= 30.0f;  // down to e^-200: both ends of the exp's range
    std::vector<float> other = row;
    avx2.softmax_with_extra(row.data(), n, 1.25f);
    avx512.softmax_with_extra(other.data(), n, 1.25f);
    EXPECT_EQ(0, std::memcmp(row.data(), other.data(), row.size() * sizeof(float))) << "softmax n=" << n;

    std::vector<float> gate = normal_floats(static_cast<size_t>(n), 22), up = normal_floats(static_cast<size_t>(n), 23);
    for (float& value : gate) value *= 60.0f;
    std::vector<float> other_gate = gate;
    avx2.swiglu(gate.data(), up.data(), n, 0.0f, 0.5f);
    avx512.swiglu(other_gate.data(), up.data(), n, 0.0f, 0.5f);
    EXPECT_EQ(0, std::memcmp(gate.data(), other_gate.data(), gate.size() * sizeof(float))) << "swiglu n=" << n;
  }
}

}  // namespace
}  // namespace lightseek
