// Writes safetensors files (used by gen-model and by tests that build synthetic checkpoints).
// The header is computed from the declared shapes first; the output file is then sized and
// memory-mapped, and each tensor's bytes are produced in place by a callback, so multi-GB
// files never need a second copy in memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace lightseek {

struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  // Fills exactly `out.size()` bytes (shape × dtype size; packed FP4 pairs are I8 bytes).
  // Called once per tensor, in declaration order, with the tensor's whole byte range.
  std::function<void(std::span<uint8_t> out)> fill;
};

// Byte size of a tensor of this dtype and shape.
uint64_t tensor_nbytes(DType dtype, const std::vector<int64_t>& shape);

// Writes `tensors` in the given order to `path` (data offsets ascending, header padded with
// spaces to a multiple of 8 bytes). Writes to `path` + ".tmp" and renames on success, so an
// interrupted run never leaves a truncated file under the final name. Throws Error on I/O
// failure.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace lightseek
