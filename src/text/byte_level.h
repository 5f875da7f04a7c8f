// The GPT-2 byte-level alphabet: each of the 256 byte values is written as one printable
// Unicode character (printable Latin-1 bytes as themselves, the rest as U+0100 and up), so that
// byte-level BPE vocabularies are plain strings. The tokenizer works on raw bytes internally and
// uses this mapping only to read the vocabulary and to decode tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lightseek::byte_level {

// The character that stands for `byte`, as UTF-8.
std::string encode_byte(unsigned char byte);
// Raw bytes for a string written in the byte-level alphabet, or nullopt when some character
// is not part of it.
std::optional<std::string> decode(std::string_view alphabet_text);

}  // namespace lightseek::byte_level
