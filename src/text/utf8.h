// UTF-8 helpers shared by the tokenizer and its decoders: strict validation (what Rust's str
// accepts: no overlongs, no surrogates, nothing above U+10FFFF), decoding one code point, and
// the lossy repair used when token bytes are shown as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lightseek::utf8 {

// Byte offset of the first byte that does not start a valid sequence, or nullopt when all of
// `text` is valid. A sequence cut off by the end of `text` is invalid.
std::optional<size_t> first_invalid_offset(std::string_view text);

// Length of the longest prefix of `bytes` that is a valid UTF-8 sequence start or is invalid
// for sure, i.e. everything except a trailing, still completable sequence: such a tail is held
// back by incremental decoders until more bytes arrive.
size_t completable_tail_start(std::string_view bytes);

// Replaces every maximal invalid subpart with U+FFFD (the Unicode recommended practice, which
// is also what Rust's String::from_utf8_lossy does).
std::string to_valid_lossy(std::string_view bytes);

// Decodes the code point starting at `text[offset]`, which must be valid UTF-8; advances offset.
char32_t decode_at(std::string_view text, size_t& offset);
// The code point that ends right before `end` (valid UTF-8 assumed); nullopt at the start.
std::optional<char32_t> decode_before(std::string_view text, size_t end);

void append(std::string& out, char32_t code_point);

// Unicode White_Space, the meaning of \s in the HF tokenizers' regexes.
bool is_white_space(char32_t code_point);

}  // namespace lightseek::utf8
