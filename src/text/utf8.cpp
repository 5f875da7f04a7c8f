#include "text/utf8.h"

#include <cstring>

namespace lightseek::utf8 {

namespace {

enum class Status { Valid, Invalid, Incomplete };

struct Sequence {
  Status status;
  size_t length;  // Valid: bytes of the character; Invalid: the maximal invalid subpart (≥ 1)
};

// The second byte's allowed range depends on the lead byte (Unicode Table 3-7); this is what
// excludes overlongs, surrogates and code points above U+10FFFF.
bool second_byte_ok(uint8_t lead, uint8_t second) {
  switch (lead) {
    case 0xE0: return second >= 0xA0 && second <= 0xBF;
    case 0xED: return second >= 0x80 && second <= 0x9F;
    case 0xF0: return second >= 0x90 && second <= 0xBF;
    case 0xF4: return second >= 0x80 && second <= 0x8F;
    default: return second >= 0x80 && second <= 0xBF;
  }
}

size_t sequence_length_for_lead(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // continuation bytes, C0, C1, F5..FF never start a sequence
}

Sequence classify(std::string_view bytes, size_t pos) {
  const auto lead = static_cast<uint8_t>(bytes[pos]);
  const size_t length = sequence_length_for_lead(lead);
  if (length == 0) return {Status::Invalid, 1};
  for (size_t i = 1; i < length; ++i) {
    if (pos + i >= bytes.size()) return {Status::Incomplete, i};
    const auto next = static_cast<uint8_t>(bytes[pos + i]);
    const bool ok = i == 1 ? second_byte_ok(lead, next) : (next & 0xC0) == 0x80;
    if (!ok) return {Status::Invalid, i};
  }
  return {Status::Valid, length};
}

bool eight_ascii_bytes(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return (word & 0x8080808080808080ull) == 0;
}

}  // namespace

std::optional<size_t> first_invalid_offset(std::string_view text) {
  size_t pos = 0;
  const size_t size = text.size();
  while (pos < size) {
    if (pos + 8 <= size && eight_ascii_bytes(text.data() + pos)) {
      pos += 8;
      continue;
    }
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Sequence sequence = classify(text, pos);
    if (sequence.status != Status::Valid) return pos;
    pos += sequence.length;
  }
  return std::nullopt;
}

size_t completable_tail_start(std::string_view bytes) {
  // A UTF-8 sequence is at most 4 bytes, so only the last 3 bytes can begin an unfinished one.
  const size_t from = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (size_t pos = from; pos < bytes.size(); ++pos) {
    if (classify(bytes, pos).status == Status::Incomplete) return pos;
  }
  return bytes.size();
}

std::string to_valid_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const Sequence sequence = classify(bytes, pos);
    if (sequence.status == Status::Valid) {
      out.append(bytes.substr(pos, sequence.length));
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD
    }
    pos += sequence.length;
  }
  return out;
}

char32_t decode_at(std::string_view text, size_t& offset) {
  const auto lead = static_cast<uint8_t>(text[offset]);
  const size_t length = sequence_length_for_lead(lead);
  char32_t code_point = length == 1 ? lead : length == 2 ? (lead & 0x1F) : length == 3 ? (lead & 0x0F) : (lead & 0x07);
  for (size_t i = 1; i < length; ++i) {
    code_point = (code_point << 6) | (static_cast<uint8_t>(text[offset + i]) & 0x3F);
  }
  offset += length == 0 ? 1 : length;
  return code_point;
}

std::optional<char32_t> decode_before(std::string_view text, size_t end) {
  if (end == 0) return std::nullopt;
  size_t start = end - 1;
  while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
  return decode_at(text, start);
}

void append(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

}  // namespace lightseek::utf8
