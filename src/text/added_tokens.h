// Added tokens of tokenizer.json (special or not): found in the raw text before
// pre-tokenization, as whole strings, leftmost first and longest at the same start, exactly as
// the HF library does it: tokens with normalized=false are found first in the whole text, then
// tokens with normalized=true in the text between those (the two are distinct only when a
// normalizer exists, but the order of the passes shows even without one). lstrip/rstrip widen
// a match over white space on that side; single_word drops matches inside a word.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace lightseek {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
};

// A piece of the input: an added token, or text for the pre-tokenizer (token_id < 0).
struct TextSegment {
  size_t start;
  size_t end;
  int32_t token_id;
};

class AddedTokens {
 public:
  // Reads tokenizer.json's "added_tokens" (null or an array). Throws Error naming the entry.
  static AddedTokens from_json(const nlohmann::json& list);

  // Replaces `segments` with the segments of `text` (valid UTF-8), in order, covering it.
  void split(std::string_view text, std::vector<TextSegment>& segments) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  std::optional<int32_t> id_of(std::string_view content) const;

 private:
  // A byte trie over the contents of one group of tokens.
  struct Trie {
    struct Node {
      std::vector<std::pair<uint8_t, uint32_t>> children;
      int32_t token_index = -1;  // index into tokens_ of the token that ends here
    };
    std::vector<Node> nodes{Node{}};
    bool starts[256] = {};
    void insert(std::string_view content, int32_t token_index);
    // Longest token starting at `pos`: its token index and length, or -1.
    int32_t longest_at(std::string_view text, size_t pos, size_t& length) const;
  };

  // One pass of HF's find_matches over `sentence` (a slice [offset, offset + size) of the text).
  void find_matches(std::string_view sentence, size_t offset, const Trie& trie,
                    std::vector<TextSegment>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, int32_t> id_by_content_;
  Trie raw_trie_;         // normalized == false
  Trie normalized_trie_;  // normalized == true
  bool has_normalized_ = false;
};

}  // namespace lightseek
