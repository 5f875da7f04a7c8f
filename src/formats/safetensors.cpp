#include "formats/safetensors.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

#include "core/error.h"
#include "core/tensor_view.h"
#include "formats/quoted_text.h"

namespace lightseek {
namespace {

using Json = nlohmann::json;

// Real headers nest three levels (header, entry, shape); the cap keeps a hostile header of
// "[[[[..." from building a DOM hundreds of megabytes deep.
constexpr int kMaxHeaderNesting = 32;
uint64_t read_u64_le(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// Offset of the first byte that breaks UTF-8 well-formedness (overlong forms, surrogates and
// code points past U+10FFFF included), or nullopt if all of `text` is well-formed.
std::optional<size_t> find_invalid_utf8(std::span<const uint8_t> text) {
  size_t i = 0;
  while (i < text.size()) {
    const uint8_t lead = text[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint8_t second_min = 0x80;
    uint8_t second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) second_min = 0xA0;  // overlong
      if (lead == 0xED) second_max = 0x9F;  // UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) second_min = 0x90;  // overlong
      if (lead == 0xF4) second_max = 0x8F;  // past U+10FFFF
    } else {
      return i;
    }
    if (text.size() - i < length) return i;
    if (text[i + 1] < second_min || text[i + 1] > second_max) return i;
    for (size_t k = 2; k < length; ++k) {
      if ((text[i + k] & 0xC0) != 0x80) return i;
    }
    i += length;
  }
  return std::nullopt;
}

std::string_view json_kind(const Json& value) {
  if (value.is_number_unsigned()) return "a non-negative integer";
  if (value.is_number_integer()) return "a negative integer";
  if (value.is_number_float()) return "a non-integer number";
  return value.type_name();
}

// Duplicate tensor names are rejected here because nlohmann merges them silently (the last one
// wins), which would hide a byte range that nothing points at.
Json parse_header_json(std::span<const uint8_t> text, std::string_view source) {
  if (const auto bad = find_invalid_utf8(text)) {
    fail(source, ": header is not valid UTF-8 (byte 0x", std::hex,
         static_cast<unsigned>(text[*bad]), std::dec, " at header offset ", *bad, ")");
  }
  // nlohmann stops at a NUL byte as if the input ended there, which would accept anything
  // after it; valid JSON never holds a raw NUL, not even inside strings.
  if (const auto nul = std::find(text.begin(), text.end(), uint8_t{0}); nul != text.end()) {
    fail(source, ": header is not valid JSON: NUL byte at header offset ", nul - text.begin());
  }
  std::unordered_set<std::string> top_level_keys;
  std::string duplicate_key;
  const auto inspect = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
        depth >= kMaxHeaderNesting) {
      fail(source, ": header nests deeper than ", kMaxHeaderNesting, " levels");
    }
    if (event == Json::parse_event_t::key && depth == 1 && duplicate_key.empty()) {
      std::string key = parsed.get<std::string>();
      if (!top_level_keys.insert(key).second) duplicate_key = std::move(key);
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), inspect);
  } catch (const nlohmann::json::exception& error) {
    fail(source, ": header is not valid JSON: ", json_reason(error));
  }
  if (!header.is_object()) {
    fail(source, ": header is JSON ", header.type_name(), ", expected an object of tensors");
  }
  if (!duplicate_key.empty()) {
    fail(source, ": header names '", shortened(duplicate_key), "' more than once");
  }
  return header;
}

std::map<std::string, std::string> parse_metadata(const Json& value, std::string_view source) {
  if (!value.is_object()) {
    fail(source, ": __metadata__ is ", value.type_name(), ", expected an object of strings");
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail(source, ": __metadata__ '", shortened(key), "' is ", json_kind(item),
           ", expected a string");
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// Rejects any shape whose element count, counted in any order, or byte count would overflow
// int64, so TensorView::numel() and nbytes arithmetic downstream can never wrap.
uint64_t checked_nbytes(DType dtype, const std::vector<int64_t>& shape, std::string_view source,
                        std::string_view name) {
  uint64_t nonzero_product = dtype_size(dtype);
  bool has_zero = false;
  for (int64_t extent : shape) {
    if (extent == 0) {
      has_zero = true;
      continue;
    }
    if (__builtin_mul_overflow(nonzero_product, static_cast<uint64_t>(extent), &nonzero_product) ||
        nonzero_product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(source, ": tensor '", name, "': ", dtype_name(dtype), " ", shape_string(shape),
           " is too large (byte count overflows 64 bits)");
    }
  }
  return has_zero ? 0 : nonzero_product;
}

SafetensorsEntry parse_entry(const std::string& name, const Json& value, uint64_t data_bytes,
                             std::string_view source) {
  const std::string quoted = shortened(name);
  if (!value.is_object()) {
    fail(source, ": tensor '", quoted, "' is ", value.type_name(), ", expected an object");
  }
  SafetensorsEntry entry;
  entry.name = name;

  const auto dtype_field = value.find("dtype");
  if (dtype_field == value.end()) fail(source, ": tensor '", quoted, "' has no dtype");
  if (!dtype_field->is_string()) {
    fail(source, ": tensor '", quoted, "': dtype is ", json_kind(*dtype_field),
         ", expected a string");
  }
  const auto& dtype_text = dtype_field->get_ref<const std::string&>();
  const auto dtype = parse_dtype(dtype_text);
  if (!dtype) fail(source, ": tensor '", quoted, "': unknown dtype '", shortened(dtype_text), "'");
  entry.dtype = *dtype;

  const auto shape_field = value.find("shape");
  if (shape_field == value.end()) fail(source, ": tensor '", quoted, "' has no shape");
  if (!shape_field->is_array()) {
    fail(source, ": tensor '", quoted, "': shape is ", json_kind(*shape_field),
         ", expected an array of non-negative integers");
  }
  for (size_t axis = 0; axis < shape_field->size(); ++axis) {
    const Json& extent = (*shape_field)[axis];
    if (!extent.is_number_unsigned()) {
      fail(source, ": tensor '", quoted, "': shape[", axis, "] is ", json_kind(extent), " (",
           shortened(extent.dump()), "), expected a non-negative integer");
    }
    const uint64_t size = extent.get<uint64_t>();
    if (size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(source, ": tensor '", quoted, "': shape[", axis, "] = ", size, " is too large");
    }
    entry.shape.push_back(static_cast<int64_t>(size));
  }
  const uint64_t needed = checked_nbytes(entry.dtype, entry.shape, source, quoted);

  const auto offsets_field = value.find("data_offsets");
  if (offsets_field == value.end()) fail(source, ": tensor '", quoted, "' has no data_offsets");
  if (!offsets_field->is_array() || offsets_field->size() != 2) {
    fail(source, ": tensor '", quoted, "': data_offsets is ", shortened(offsets_field->dump()),
         ", expected [begin, end]");
  }
  for (size_t i = 0; i < 2; ++i) {
    const Json& offset = (*offsets_field)[i];
    if (!offset.is_number_unsigned()) {
      fail(source, ": tensor '", quoted, "': data_offsets[", i, "] is ", json_kind(offset), " (",
           shortened(offset.dump()), "), expected a non-negative integer");
    }
  }
  entry.begin = (*offsets_field)[0].get<uint64_t>();
  entry.end = (*offsets_field)[1].get<uint64_t>();
  if (entry.begin > entry.end) {
    fail(source, ": tensor '", quoted, "': data_offsets [", entry.begin, ", ", entry.end,
         "] end before they begin");
  }
  if (entry.end > data_bytes) {
    fail(source, ": tensor '", quoted, "': data_offsets [", entry.begin, ", ", entry.end,
         "] run past the end of the data section (", data_bytes, " bytes)");
  }
  if (entry.end - entry.begin != needed) {
    fail(source, ": tensor '", quoted, "': data_offsets [", entry.begin, ", ", entry.end, "] hold ",
         entry.end - entry.begin, " bytes but ", dtype_name(entry.dtype), " ",
         shape_string(entry.shape), " needs ", needed);
  }
  return entry;
}

void check_no_overlap(const std::vector<SafetensorsEntry>& sorted, std::string_view source) {
  // Sorted by begin, a range overlaps an earlier one exactly when it starts before the
  // furthest end seen so far.
  const SafetensorsEntry* furthest = nullptr;
  for (const auto& entry : sorted) {
    if (entry.begin == entry.end) continue;
    if (furthest && entry.begin < furthest->end) {
      fail(source, ": tensors '", shortened(furthest->name), "' [", furthest->begin, ", ",
           furthest->end, ") and '", shortened(entry.name), "' [", entry.begin, ", ", entry.end,
           ") overlap");
    }
    if (!furthest || entry.end > furthest->end) furthest = &entry;
  }
}

}  // namespace

SafetensorsHeader parse_safetensors_header(std::span<const uint8_t> file, std::string_view source) {
  if (file.size() < 8) {
    fail(source, ": file is ", file.size(),
         " bytes, too short for the 8-byte header length of a safetensors file");
  }
  const uint64_t header_length = read_u64_le(file.data());
  if (header_length > kMaxSafetensorsHeaderBytes) {
    fail(source, ": header length ", header_length, " exceeds the limit of ",
         kMaxSafetensorsHeaderBytes, " bytes");
  }
  if (header_length > file.size() - 8) {
    fail(source, ": header length ", header_length, " runs past the end of the file (", file.size(),
         " bytes, so at most ", file.size() - 8, " header bytes)");
  }

  const Json json = parse_header_json(file.subspan(8, header_length), source);
  SafetensorsHeader header;
  header.data_offset = 8 + header_length;
  const uint64_t data_bytes = file.size() - header.data_offset;
  header.tensors.reserve(json.size());
  for (const auto& [name, value] : json.items()) {
    if (name == "__metadata__") {
      header.metadata = parse_metadata(value, source);
    } else {
      header.tensors.push_back(parse_entry(name, value, data_bytes, source));
    }
  }
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.name < b.name;
            });
  check_no_overlap(header.tensors, source);
  return header;
}

}  // namespace lightseek
