// Feeds arbitrary bytes to the safetensors header parser as if they were a whole file. Only
// lightseek::Error is an acceptable outcome for bad input; any other exception escapes and
// libFuzzer reports it, as it does crashes and sanitizer findings.
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/error.h"
#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto header = lightseek::parse_safetensors_header(std::span(data, size), "fuzz");
    // Whatever the parser accepts must be consistent with the bytes it was given.
    for (const auto& tensor : header.tensors) {
      if (tensor.begin > tensor.end || tensor.end > size - header.data_offset) __builtin_trap();
    }
  } catch (const lightseek::Error&) {
  }
  return 0;
}
