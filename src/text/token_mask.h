// Which vocabulary tokens may come next under a byte-level matcher (JSON documents, DSML tool
// calls): the tokens whose bytes keep the text a prefix of an accepted reply. Computed over the
// vocabulary as a byte trie (a dead prefix prunes every token under it) and, inside strings,
// from token classes precomputed per string-lexer state (a string's content admits nearly the
// whole vocabulary, which a trie walk would visit node by node).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/json_matcher.h"
#include "text/tokenizer.h"

namespace lightseek {

class ToolCallMatcher;

// How matchers read a token: its bytes, except that V4's ｜DSML｜ special token is the one byte
// kDsmlByte, which no UTF-8 text holds, so that a tool-call matcher can tell the markup token
// from the same text spelled by ordinary tokens. Ordinary tokens' stray 0xFF bytes (never valid
// UTF-8 either) read as 0xFE.
inline constexpr uint8_t kDsmlByte = 0xFF;
inline constexpr std::string_view kDsmlTokenText = "｜DSML｜";
std::optional<int32_t> dsml_token_id(const Tokenizer& tokenizer);
std::string matcher_bytes(const Tokenizer& tokenizer, int32_t id, std::optional<int32_t> dsml_id);

// One bit per token id.
using TokenBitset = std::vector<uint64_t>;

inline bool token_allowed(const TokenBitset& bits, int32_t id) {
  return id >= 0 && static_cast<size_t>(id) / 64 < bits.size() && ((bits[static_cast<size_t>(id) / 64] >> (id % 64)) & 1);
}
inline size_t words_for(int32_t vocab_size) { return (static_cast<size_t>(vocab_size) + 63) / 64; }
inline void set_bit(TokenBitset& bits, int32_t id) { bits[static_cast<size_t>(id) / 64] |= uint64_t{1} << (id % 64); }
inline void clear_bit(TokenBitset& bits, int32_t id) { bits[static_cast<size_t>(id) / 64] &= ~(uint64_t{1} << (id % 64)); }

// The tokens of `by_count` ((count, id) pairs sorted by count, `all` holding every id in it)
// whose count is at most `budget`, into `out`: what fits the rest of a bounded string. Starts
// from `all` and clears the few that do not fit, or from nothing and sets the few that do.
void tokens_within(const std::vector<std::pair<uint32_t, int32_t>>& by_count, const TokenBitset& all,
                   uint32_t budget, int32_t vocab_size, TokenBitset& out);

// The vocabulary's usable tokens as a byte trie of matcher bytes: every token except special
// and added ones (<｜...｜> markers, <think>, ...), which never belong inside a JSON document
// or a tool call, but with the ｜DSML｜ token (kDsmlByte, refused by JSON). Built once
// per tokenizer; read-only and thread-safe afterwards, except for the string classes, which are
// built on first use under a lock.
class TokenTrie {
 public:
  struct Node {
    uint32_t subtree_end;   // index one past this node's last descendant (nodes are in preorder)
    uint32_t tokens_begin;  // token_ids[tokens_begin .. tokens_end): tokens spelled by the path here
    uint32_t tokens_end;
    uint16_t depth;         // bytes from the root; the root itself is not stored
    uint8_t byte;
  };

  static std::shared_ptr<const TokenTrie> build(const Tokenizer& tokenizer);

  int32_t vocab_size() const { return vocab_size_; }
  std::optional<int32_t> dsml_id() const { return dsml_id_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  const std::string& bytes(int32_t id) const { return bytes_[static_cast<size_t>(id)]; }
  size_t max_depth() const { return max_depth_; }
  bool usable(int32_t id) const { return token_allowed(usable_, id); }

  // Tokens read from a string lexer state (see json_matcher.cpp), for keys or values.
  struct StringClasses {
    // Tokens that stay inside the string, with the code points they add, sorted by that count.
    std::vector<std::pair<uint32_t, int32_t>> inside;  // (code points, id)
    TokenBitset all_inside;
    // Tokens that close the string: the code points before the quote, and what follows it.
    struct Closing {
      int32_t id;
      uint32_t code_points;
      uint32_t suffix;  // index into suffixes
    };
    std::vector<Closing> closing;
    std::vector<std::string> suffixes;
  };
  const StringClasses& string_classes(uint8_t lexer_state, bool key) const;

 private:
  int32_t vocab_size_ = 0;
  std::optional<int32_t> dsml_id_;
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  std::vector<std::string> bytes_;  // by id; empty for unusable ids
  TokenBitset usable_;
  size_t max_depth_ = 0;
  mutable std::mutex classes_mutex_;
  mutable std::unordered_map<int, std::unique_ptr<StringClasses>> classes_;
};

// Tokens allowed after `matcher`'s text, by walking the trie (no string classes, no cache):
// the reference the faster paths are tested against. Matcher: JsonMatcher or ToolCallMatcher
// (copyable; advance(byte) is false for a byte no accepted text continues with).
template <typename Matcher>
TokenBitset walk_allowed_tokens(const TokenTrie& trie, const Matcher& matcher);

// Tokens allowed after `matcher`'s text, by the fastest path: string classes inside strings
// (Matcher::open_string, close_string), otherwise a trie walk remembered by matcher state
// (Matcher::state_key). Not thread-safe: one per sequence (the trie it reads may be shared).
template <typename Matcher>
class BasicTokenMasker {
 public:
  explicit BasicTokenMasker(std::shared_ptr<const TokenTrie> trie);
  const TokenBitset& allowed(const Matcher& matcher);
  const TokenTrie& trie() const { return *trie_; }

 private:
  bool string_allowed(const Matcher& matcher, TokenBitset& out);

  std::shared_ptr<const TokenTrie> trie_;
  std::unordered_map<std::string, TokenBitset> cache_;
  TokenBitset scratch_;
  // Per state after a closed string: whether each closing suffix (StringClasses) may follow.
  std::unordered_map<std::string, std::vector<bool>> suffix_fits_;
};

extern template class BasicTokenMasker<JsonMatcher>;
extern template class BasicTokenMasker<ToolCallMatcher>;
using TokenMasker = BasicTokenMasker<JsonMatcher>;

}  // namespace lightseek
