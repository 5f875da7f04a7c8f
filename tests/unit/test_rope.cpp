// RoPE over several heads at once against one head at a time, and the inverse rotation.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "formats/model_config.h"
#include "model/rope.h"
#include "random_values.h"

namespace lightseek {
namespace {

TEST(Rope, ManyHeadsAtOnceGiveEachHeadsBitsAlone) {
  const ModelConfig config = v4_flash_config();
  const int64_t dim = config.rope_head_dim, stride = dim + 5, heads = 7;
  for (bool compressed : {false, true}) {  // the compressed layers' table has YaRN frequencies
    const RopeTable rope(config, compressed);
    for (int64_t position : {int64_t{0}, int64_t{1}, int64_t{4095}, int64_t{1000003}}) {
      for (bool inverse : {false, true}) {
        std::vector<float> together = testing::normal_floats(static_cast<size_t>(heads * stride), 3);
        std::vector<float> alone = together;
        rope.rotate_heads(together.data(), heads, stride, position, inverse);
        for (int64_t h = 0; h < heads; ++h) rope.rotate(alone.data() + h * stride, position, inverse);
        EXPECT_EQ(0, std::memcmp(together.data(), alone.data(), together.size() * sizeof(float)))
            << "position " << position << (inverse ? " inverse" : "");
      }
    }
  }
}

TEST(Rope, TheInverseUndoesTheRotationAndTheRestOfTheRowIsUntouched) {
  const ModelConfig config = v4_flash_config();
  const RopeTable rope(config, true);
  const int64_t dim = config.rope_head_dim, stride = 3 * dim, heads = 4;
  const std::vector<float> original = testing::normal_floats(static_cast<size_t>(heads * stride), 4);
  std::vector<float> x = original;
  rope.rotate_heads(x.data(), heads, stride, 777, false);
  EXPECT_NE(x[1], original[1]);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t c = dim; c < stride; ++c) EXPECT_EQ(x[h * stride + c], original[h * stride + c]);
  }
  rope.rotate_heads(x.data(), heads, stride, 777, true);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], original[i], 1e-5) << i;
}

}  // namespace
}  // namespace lightseek
