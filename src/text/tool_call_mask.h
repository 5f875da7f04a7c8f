// Which tokens may come next under a ToolCallMatcher, cheaply where text is free: free content
// before the block and free argument values admit nearly every token, so those masks are
// computed once per vocabulary (they do not depend on the tools), as are the tokens a raw
// string value admits per UTF-8 state, by length. Inside a string="false" JSON
// value's strings the JSON string classes apply; markup, names and the rest walk the trie,
// remembered per matcher state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "text/token_mask.h"
#include "text/tokenizer.h"
#include "text/tool_call_matcher.h"

namespace lightseek {

// The vocabulary as tool-call matchers read it. Built once per tokenizer; thread-safe.
class ToolCallVocabulary {
 public:
  static std::shared_ptr<const ToolCallVocabulary> build(const Tokenizer& tokenizer, std::shared_ptr<const TokenTrie> trie);

  const std::shared_ptr<const TokenTrie>& trie() const { return trie_; }
  int32_t vocab_size() const { return static_cast<int32_t>(bytes_.size()); }
  // Every id the tokenizer has (special tokens too: free content may hold them), as matcher
  // bytes; has(id) false for the ids it lacks.
  bool has(int32_t id) const { return token_allowed(known_, id); }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }
  // Whether `matcher` may read token `id` at all: any token in free content, only the trie's
  // inside the block (special tokens other than ｜DSML｜ are never markup or argument text).
  bool readable(const ToolCallMatcher& matcher, int32_t id) const {
    return id >= 0 && id < vocab_size() && (matcher.in_block() ? trie_->usable(id) : has(id));
  }
  // Trie tokens that spell "｜DSML｜" with ordinary bytes (the matcher refuses them in values).
  const std::vector<int32_t>& dsml_text_tokens() const { return dsml_text_tokens_; }

  // Free content in the state `key` (ToolCallMatcher::free_content), found by trying every
  // token on `matcher` the first time.
  const TokenBitset& content_tokens(uint8_t key, const ToolCallMatcher& matcher) const;
  // A free value with nothing pending: every trie token but ｜DSML｜ and the "｜DSML｜" spellers.
  const TokenBitset& free_value_tokens() const { return free_value_; }
  // A raw value's tokens from UTF-8 state `lexer`: the trie tokens that are valid UTF-8 from
  // there (but the "｜DSML｜" spellers), by the code points they add.
  struct RawStringClasses {
    std::vector<std::pair<uint32_t, int32_t>> by_length;  // (code points, id), sorted
    TokenBitset all;
    // Tokens ending in "<" or "</", which may begin the closing tag instead of adding to the
    // value: (code points before that ending, ending length, id).
    struct Ending {
      uint32_t code_points;
      uint32_t pending;
      int32_t id;
    };
    std::vector<Ending> endings;
  };
  const RawStringClasses& raw_string_classes(uint8_t lexer) const;
  // The tokens of raw_string_classes(lexer) adding at most `budget` code points, remembered
  // for budgets below kRememberedBudgets (bounded strings near their end ask for these often).
  static constexpr uint32_t kRememberedBudgets = 256;
  void raw_string_within(uint8_t lexer, uint32_t budget, TokenBitset& out) const;

 private:
  std::shared_ptr<const TokenTrie> trie_;
  std::vector<std::string> bytes_;
  TokenBitset known_;
  std::vector<int32_t> dsml_text_tokens_;
  TokenBitset free_value_;
  mutable std::mutex mutex_;
  mutable std::map<uint8_t, TokenBitset> content_;
  mutable std::map<uint8_t, RawStringClasses> raw_string_;
  mutable std::map<std::pair<uint8_t, uint32_t>, TokenBitset> raw_within_;
};

// One per sequence, like TokenMasker.
class ToolCallMasker {
 public:
  explicit ToolCallMasker(std::shared_ptr<const ToolCallVocabulary> vocabulary);
  const TokenBitset& allowed(const ToolCallMatcher& matcher);
  const ToolCallVocabulary& vocabulary() const { return *vocabulary_; }

 private:
  bool raw_string_allowed(const ToolCallMatcher& matcher);

  std::shared_ptr<const ToolCallVocabulary> vocabulary_;
  BasicTokenMasker<ToolCallMatcher> masker_;
  TokenBitset scratch_;
};

}  // namespace lightseek
