// A TensorView over bytes a test owns, for kernel tests that build weights by hand.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/tensor_view.h"

namespace lightseek {

inline TensorView view(DType dtype, std::vector<int64_t> shape, const std::vector<uint8_t>& bytes) {
  TensorView tensor;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.data = bytes.data();
  tensor.nbytes = bytes.size();
  return tensor;
}

}  // namespace lightseek
