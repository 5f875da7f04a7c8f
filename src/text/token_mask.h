// Which vocabulary tokens may come next under a JSON matcher: the tokens whose bytes keep the
// text a prefix of an accepted document. Computed over the vocabulary as a byte trie (a dead
// prefix prunes every token under it) and, inside strings, from token classes precomputed per
// string-lexer state (a string's content admits nearly the whole vocabulary, which a trie walk
// would visit node by node).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/json_matcher.h"
#include "text/tokenizer.h"

namespace lightseek {

// One bit per token id.
using TokenBitset = std::vector<uint64_t>;

inline bool token_allowed(const TokenBitset& bits, int32_t id) {
  return id >= 0 && static_cast<size_t>(id) / 64 < bits.size() && ((bits[static_cast<size_t>(id) / 64] >> (id % 64)) & 1);
}

// The vocabulary's JSON-usable tokens as a byte trie: every token except special and added
// ones (<｜...｜> markers, <think>, ...), which never belong inside a JSON document. Built once
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
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  std::vector<std::string> bytes_;  // by id; empty for unusable ids
  TokenBitset usable_;
  size_t max_depth_ = 0;
  mutable std::mutex classes_mutex_;
  mutable std::unordered_map<int, std::unique_ptr<StringClasses>> classes_;
};

// Tokens allowed after `matcher`'s text, by walking the trie (no string classes, no cache):
// the reference the faster paths are tested against.
TokenBitset walk_allowed_tokens(const TokenTrie& trie, const JsonMatcher& matcher);

// Tokens allowed after `matcher`'s text, by the fastest path: string classes inside strings,
// otherwise a trie walk remembered by matcher state. Not thread-safe: one per sequence (the
// trie it reads may be shared).
class TokenMasker {
 public:
  explicit TokenMasker(std::shared_ptr<const TokenTrie> trie);
  const TokenBitset& allowed(const JsonMatcher& matcher);
  const TokenTrie& trie() const { return *trie_; }

 private:
  bool string_allowed(const JsonMatcher& matcher, TokenBitset& out);

  std::shared_ptr<const TokenTrie> trie_;
  std::unordered_map<std::string, TokenBitset> cache_;
  TokenBitset scratch_;
  // Per state after a closed string: whether each closing suffix (StringClasses) may follow.
  std::unordered_map<std::string, std::vector<bool>> suffix_fits_;
};

}  // namespace lightseek
