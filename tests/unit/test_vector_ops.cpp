// The float32 vector primitives of the fast numerics: every ISA variant against the scalar one,
// on lengths with tails and head and row counts that leave partial blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

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
