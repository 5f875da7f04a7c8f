// Byte-level BPE tokenizer for HF tokenizer.json files of the kind DeepSeek ships (spec §12.1):
// added/special tokens matched first, a Sequence of Split pre-tokenizers (PCRE2 with JIT),
// ByteLevel byte-to-unicode mapping, BPE merges by rank, and the ByteLevel decoder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lightseek {

class Tokenizer {
 public:
  // Throws Error naming the file for unreadable or malformed files and for tokenizer kinds it
  // does not implement (the message names the unsupported component).
  static Tokenizer load(const std::filesystem::path& tokenizer_json);
  // DIR/tokenizer.json.
  static Tokenizer load_from_model_dir(const std::filesystem::path& model_dir);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Encodes text. Special tokens written in the text are matched as whole strings (they are
  // how the V4 prompt encoder writes BOS, turn markers, <think>, ...). Invalid UTF-8 throws
  // Error naming the byte offset.
  std::vector<int32_t> encode(std::string_view text) const;
  // Concatenated token bytes; special tokens are included unless skip_special.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  // The raw bytes one token stands for (may be part of a UTF-8 sequence).
  std::string token_bytes(int32_t id) const;

  int32_t vocab_size() const;  // largest id + 1
  // Whether `id` stands for a token (ids can have gaps; models may have more rows than ids).
  bool has_token(int32_t id) const;
  // Id of an added/special token or a vocabulary entry written exactly like `text`.
  std::optional<int32_t> token_id(std::string_view text) const;
  bool is_special(int32_t id) const;
  std::optional<int32_t> bos_id() const;  // from tokenizer_config.json / added tokens when known
  std::optional<int32_t> eos_id() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Turns a stream of token ids into text pieces that are always whole UTF-8: bytes of an
// unfinished character are held back until the character completes. Invalid sequences are
// replaced by U+FFFD rather than emitted broken.
class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special = false);
  // The text that became complete with this token (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held back (an incomplete sequence becomes U+FFFD).
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace lightseek
