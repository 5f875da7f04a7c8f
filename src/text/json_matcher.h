// Incremental byte-level matcher for a JsonSchemaGrammar: fed the model's output one byte at a
// time, it knows whether the text so far is a prefix of some document the schema accepts, and
// whether it is a whole one. The state is a few flat vectors of plain frames, so copying a
// matcher (what the vocabulary mask does at every trie node) allocates nothing once warm.
//
// What the model may write is a canonical subset of JSON, so it cannot stall or loop forever:
// at most one whitespace byte (space or newline) where JSON allows whitespace, none before or
// after the document; numbers of at most 16 digits (exponent: 3 digits, and only when the
// schema sets no bounds); object keys written as the schema spells them, without \u escapes;
// strings without \u escapes of UTF-16 surrogates; nesting at most kMaxDepth deep.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/json_schema.h"

namespace lightseek {

// One byte of a JSON string's content read from lexer state `state` (updated). CharStart marks
// the first byte of a code point, which is what minLength / maxLength count. Keys allow no \u
// and no \/ escapes, so every name has one spelling.
enum class StringByte : uint8_t { Reject, Inside, CharStart, Close };
StringByte lex_string_byte(uint8_t& state, uint8_t byte, bool key);
inline constexpr int kStringLexerStates = 17;  // states are below this

class JsonMatcher {
 public:
  static constexpr size_t kMaxDepth = 32;
  static constexpr uint8_t kMaxWhitespace = 1;
  static constexpr uint32_t kMaxNumberDigits = 16;
  static constexpr uint32_t kMaxExponentDigits = 3;
  static constexpr uint32_t kMaxFreeKeyBytes = 256;

  // One level of nesting in one reading of the text (see threads below). Plain bytes, compared
  // and hashed as such, so it has no padding.
  struct Frame {
    uint64_t bits = 0;        // object: properties done | literal: literals still matching
    uint64_t candidates = 0;  // object: property names the key being written may still become
    double whole = 0;         // number: the integer part's value
    double fraction = 0;      // number: the fraction digits as an integer
    uint32_t node = 0;        // grammar node
    uint32_t count = 0;       // array: items | string: code points | literal, key: bytes
    uint32_t current = 0;     // object: property whose value is being written
    uint8_t kind = 0;
    uint8_t phase = 0;
    uint8_t whitespace = 0;   // whitespace bytes written at this position
    uint8_t lexer = 0;        // string and key: escape / \u / UTF-8 continuation state
    uint8_t digits = 0;       // number: significant digits so far
    uint8_t fraction_digits = 0;
    uint8_t exponent_digits = 0;
    uint8_t negative = 0;
    uint32_t unused = 0;  // fills what would be padding, so equal states are equal bytes
  };

  explicit JsonMatcher(const JsonSchemaGrammar& grammar);
  // Matches a value of node `start` instead of the root (a tool parameter's part of the
  // tool's parameters schema).
  JsonMatcher(const JsonSchemaGrammar& grammar, uint32_t start);
  JsonMatcher(const JsonMatcher& other);
  JsonMatcher& operator=(const JsonMatcher& other);

  // Feeds one byte; false (state unchanged) when no accepted document continues this way.
  bool advance(uint8_t byte);
  // Feeds the bytes in order; false when one is refused (the state is then left after the
  // bytes that were accepted).
  bool advance(std::string_view bytes);
  // The text so far is a whole document the schema accepts.
  bool can_finish() const;
  // Some byte may still follow.
  bool can_continue() const;

  // The text ends inside a string, in a single reading: a value string, or an object key that
  // is already none of the schema's property names. The vocabulary mask then works from token
  // classes instead of walking the trie.
  struct OpenString {
    uint8_t lexer = 0;   // lexer state (json_matcher.cpp)
    bool key = false;    // keys count bytes and allow no \u or \/ escapes
    uint32_t used = 0;   // code points (keys: bytes) written
    uint32_t min_used = 0, max_used = 0;
  };
  bool open_string(OpenString& out) const;
  // Closes the open string as if its quote came now with a length in bounds; false when the
  // schema then has no way on.
  bool close_string();

  // The state as bytes: equal keys, equal futures (the vocabulary mask caches on it).
  std::string state_key() const;
  size_t thread_count() const { return ends_.size(); }

 private:
  enum class Outcome : uint8_t;
  Outcome step(Frame& frame, uint8_t byte, uint32_t& child) const;
  void feed(uint8_t byte);
  void start_value(uint32_t node, uint8_t byte, int unions);
  void child_done(Frame& parent) const;
  void emit();
  bool frame_may_end(const Frame& frame) const;

  const JsonSchemaGrammar* grammar_;
  // Every reading of the text that is still possible (several only after an anyOf whose
  // alternatives start alike): thread i is frames_[ends_[i-1] .. ends_[i]), bottom first.
  std::vector<Frame> frames_;
  std::vector<uint32_t> ends_;
  // Scratch for advance, kept to reuse its memory; not part of the state.
  std::vector<Frame> next_frames_;
  std::vector<uint32_t> next_ends_;
  std::vector<Frame> work_;
};

}  // namespace lightseek
