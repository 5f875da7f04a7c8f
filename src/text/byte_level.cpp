#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace lightseek::byte_level {

namespace {

// GPT-2's table: bytes that are printable and not space keep their own code point; the others
// take U+0100, U+0101, ... in byte order.
struct Alphabet {
  std::array<char32_t, 256> code_point_of_byte{};
  Alphabet() {
    char32_t next_extra = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      const bool keeps_itself =
          (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
      code_point_of_byte[byte] = keeps_itself ? static_cast<char32_t>(byte) : next_extra++;
    }
  }
};

// Every alphabet character is below U+0144, so the inverse is a small array.
struct InverseAlphabet {
  std::array<int, 0x144> byte_of_code_point{};
  InverseAlphabet() {
    byte_of_code_point.fill(-1);
    const Alphabet alphabet;
    for (int byte = 0; byte < 256; ++byte) byte_of_code_point[alphabet.code_point_of_byte[byte]] = byte;
  }
};

const Alphabet& alphabet() {
  static const Alphabet instance;
  return instance;
}

const InverseAlphabet& inverse_alphabet() {
  static const InverseAlphabet instance;
  return instance;
}

}  // namespace

std::string encode_byte(unsigned char byte) {
  std::string out;
  utf8::append(out, alphabet().code_point_of_byte[byte]);
  return out;
}

std::optional<std::string> decode(std::string_view alphabet_text) {
  if (utf8::first_invalid_offset(alphabet_text)) return std::nullopt;
  const auto& inverse = inverse_alphabet();
  std::string bytes;
  bytes.reserve(alphabet_text.size());
  size_t offset = 0;
  while (offset < alphabet_text.size()) {
    const char32_t code_point = utf8::decode_at(alphabet_text, offset);
    if (code_point >= inverse.byte_of_code_point.size() || inverse.byte_of_code_point[code_point] < 0) {
      return std::nullopt;
    }
    bytes += static_cast<char>(inverse.byte_of_code_point[code_point]);
  }
  return bytes;
}

}  // namespace lightseek::byte_level
