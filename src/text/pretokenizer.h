// The pre-tokenizer of tokenizer.json: a Sequence of regex Split steps (behaviour Isolated)
// ending in ByteLevel, which is all byte-level BPE tokenizers such as DeepSeek's use. Each step
// splits every piece of the previous one; pieces are views into the input text. ByteLevel's
// byte-to-character mapping is not done here: the BPE model works on raw bytes.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/regex.h"

namespace lightseek {

class PreTokenizer {
 public:
  // Reads tokenizer.json's "pre_tokenizer". Throws Error naming the step that is not
  // supported (other step types, other Split behaviours, invert, add_prefix_space, a Split
  // after ByteLevel, or no ByteLevel at all).
  static PreTokenizer from_json(const nlohmann::json& config);

  // Per-thread match state for every step.
  struct Scratch {
    std::vector<Regex::Matcher> matchers;
  };
  Scratch make_scratch() const;

  // Calls on_piece(std::string_view) for every non-empty piece, in order. `text` must be
  // valid UTF-8.
  template <typename OnPiece>
  void split(std::string_view text, Scratch& scratch, OnPiece&& on_piece) const {
    split_from(0, text, scratch, on_piece);
  }

  size_t step_count() const { return steps_.size(); }

 private:
  template <typename OnPiece>
  void split_from(size_t step, std::string_view piece, Scratch& scratch, OnPiece& on_piece) const {
    if (piece.empty()) return;
    if (step == steps_.size()) {
      on_piece(piece);
      return;
    }
    Regex::Matcher& matcher = scratch.matchers[step];
    size_t previous_end = 0;
    size_t search_from = 0;
    MatchRange match{};
    // Isolated: matches and the text between them all become pieces of their own.
    while (search_from <= piece.size() && matcher.find(piece, search_from, match)) {
      if (match.start > previous_end) split_from(step + 1, piece.substr(previous_end, match.start - previous_end), scratch, on_piece);
      if (match.end > match.start) {
        split_from(step + 1, piece.substr(match.start, match.end - match.start), scratch, on_piece);
        search_from = match.end;
      } else {
        search_from = next_character(piece, match.end);  // an empty match: move on one character
      }
      previous_end = match.end;
    }
    if (previous_end < piece.size()) split_from(step + 1, piece.substr(previous_end), scratch, on_piece);
  }

  static size_t next_character(std::string_view text, size_t offset);

  std::vector<Regex> steps_;
};

}  // namespace lightseek
