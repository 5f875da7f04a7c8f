// A non-owning view of one tensor in its stored format (usually inside a mapped checkpoint).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace lightseek {

struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const {
    int64_t count = 1;
    for (int64_t extent : shape) count *= extent;
    return count;
  }
  int rank() const { return static_cast<int>(shape.size()); }
  bool valid() const { return data != nullptr || nbytes == 0; }
};

// "[24, 256]"
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace lightseek
