// Element types of checkpoint tensors, named as safetensors names them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lightseek {

enum class DType : uint8_t {
  F64,
  F32,
  F16,
  BF16,
  F8_E4M3,  // FP8 e4m3fn: no infinities, 0x7F/0xFF are NaN
  F8_E5M2,
  F8_E8M0,  // unsigned power-of-two scale byte, value 2^(b-127); 0xFF is NaN
  I64,
  I32,
  I16,
  I8,  // also the container of packed FP4 e2m1 pairs (low nibble = even column)
  U8,
  BOOL,
};

// "F8_E4M3" -> DType::F8_E4M3; nullopt for names safetensors does not define.
std::optional<DType> parse_dtype(std::string_view name);
std::string_view dtype_name(DType dtype);
size_t dtype_size(DType dtype);

}  // namespace lightseek
