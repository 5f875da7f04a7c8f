// A 2-D weight [rows = out, cols = in] in the format it is stored in (spec §9.2). Kernels
// consume it directly; nothing is widened at load time.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/tensor_view.h"

namespace lightseek {

enum class WeightFormat : uint8_t {
  F32,
  BF16,
  FP8_E4M3_BLOCK128,  // F8_E4M3 [rows, cols] + F8_E8M0 scale [ceil(rows/128), ceil(cols/128)]
  FP4_E2M1_BLOCK32,   // I8 [rows, cols/2] packed pairs + F8_E8M0 scale [rows, cols/32]
};

std::string_view weight_format_name(WeightFormat format);

struct WeightMatrix {
  WeightFormat format = WeightFormat::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  TensorView weight;
  TensorView scale;  // empty (data == nullptr) for F32 and BF16

  const std::string& name() const { return weight.name; }
  // Bytes read to use the whole matrix once: the weight plus its scales.
  size_t stored_bytes() const { return weight.nbytes + scale.nbytes; }
};

}  // namespace lightseek
