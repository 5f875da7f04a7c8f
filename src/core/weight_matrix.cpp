#include "core/weight_matrix.h"

namespace lightseek {

std::string_view weight_format_name(WeightFormat format) {
  switch (format) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::BF16: return "bf16";
    case WeightFormat::FP8_E4M3_BLOCK128: return "fp8-e4m3/128x128";
    case WeightFormat::FP4_E2M1_BLOCK32: return "fp4-e2m1/1x32";
  }
  return "?";
}

}  // namespace lightseek
