// The float32 vector primitives of the fast numerics: every ISA variant against the scalar one,
// on lengths with tails and head and row counts that leave partial blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/number_formats.h"
#include "kernels/cpu_features.h"
#include "kernels/vector_ops.h"
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

}  // namespace
}  // namespace lightseek
