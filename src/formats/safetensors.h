// The safetensors container: an 8-byte little-endian header length N, N bytes of JSON header,
// then the data section. Each header entry names a tensor's dtype, shape and byte range
// [begin, end) relative to the start of the data section.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace lightseek {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // relative to the data section
  uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;  // in the order of their data offsets
  std::map<std::string, std::string> metadata;  // "__metadata__", string values only
  uint64_t data_offset = 0;  // 8 + header length: where the data section starts in the file
};

// Largest header accepted; real checkpoints stay far below it.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

// Parses and validates the header of a safetensors file whose complete contents are `file`.
// Throws Error (message starts with `source`) for: a file shorter than 8 bytes; a header
// length larger than the file or than kMaxSafetensorsHeaderBytes; a header that is not valid
// UTF-8 JSON or not an object; entries without a known dtype string, with a shape that is not
// an array of non-negative integers, or without data_offsets [begin, end] with begin <= end;
// byte ranges past the end of the file; a byte count that differs from shape × dtype size
// (including overflow); overlapping byte ranges; a non-string metadata value.
SafetensorsHeader parse_safetensors_header(std::span<const uint8_t> file, std::string_view source);

}  // namespace lightseek
