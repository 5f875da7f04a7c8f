#include "text/added_tokens.h"

#include "core/error.h"
#include "text/regex.h"
#include "text/utf8.h"

namespace lightseek {

namespace {

bool flag(const nlohmann::json& entry, const char* key, bool fallback, size_t index) {
  if (!entry.contains(key) || entry[key].is_null()) return fallback;
  if (!entry[key].is_boolean()) fail("added_tokens[", index, "]: \"", key, "\" must be a boolean");
  return entry[key].get<bool>();
}

// The Rust regex crate's Unicode \w, which HF uses for single_word: alphabetic, marks, decimal
// digits, connector punctuation and the joiners.
bool is_word_character(char32_t code_point) {
  static const Regex word_class(R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}])", false);
  std::string text;
  utf8::append(text, code_point);
  Regex::Matcher matcher(word_class);
  MatchRange match{};
  return matcher.find(text, 0, match);
}

size_t white_space_run_start(std::string_view text, size_t end) {
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<uint8_t>(text[start]) & 0xC0) == 0x80) --start;
    size_t cursor = start;
    if (!utf8::is_white_space(utf8::decode_at(text, cursor))) break;
    end = start;
  }
  return end;
}

size_t white_space_run_end(std::string_view text, size_t start) {
  while (start < text.size()) {
    size_t cursor = start;
    if (!utf8::is_white_space(utf8::decode_at(text, cursor))) break;
    start = cursor;
  }
  return start;
}

}  // namespace

void AddedTokens::Trie::insert(std::string_view content, int32_t token_index) {
  uint32_t node = 0;
  for (const char c : content) {
    const auto byte = static_cast<uint8_t>(c);
    uint32_t child = 0;
    for (const auto& [edge, target] : nodes[node].children) {
      if (edge == byte) child = target;
    }
    if (child == 0) {
      child = static_cast<uint32_t>(nodes.size());
      nodes[node].children.emplace_back(byte, child);
      nodes.emplace_back();
    }
    node = child;
  }
  nodes[node].token_index = token_index;
  starts[static_cast<uint8_t>(content[0])] = true;
}

int32_t AddedTokens::Trie::longest_at(std::string_view text, size_t pos, size_t& length) const {
  int32_t best = -1;
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto byte = static_cast<uint8_t>(text[i]);
    uint32_t child = 0;
    for (const auto& [edge, target] : nodes[node].children) {
      if (edge == byte) {
        child = target;
        break;
      }
    }
    if (child == 0) break;
    node = child;
    if (nodes[node].token_index >= 0) {
      best = nodes[node].token_index;
      length = i + 1 - pos;
    }
  }
  return best;
}

AddedTokens AddedTokens::from_json(const nlohmann::json& list) {
  AddedTokens result;
  if (list.is_null()) return result;
  if (!list.is_array()) fail("\"added_tokens\" must be an array");
  size_t index = 0;
  for (const auto& entry : list) {
    if (!entry.is_object()) fail("added_tokens[", index, "] is not an object");
    if (!entry.contains("id") || !entry["id"].is_number_integer() || entry["id"].get<int64_t>() < 0 ||
        entry["id"].get<int64_t>() > INT32_MAX) {
      fail("added_tokens[", index, "]: \"id\" must be a non-negative integer");
    }
    if (!entry.contains("content") || !entry["content"].is_string()) {
      fail("added_tokens[", index, "]: \"content\" must be a string");
    }
    AddedToken token;
    token.id = entry["id"].get<int32_t>();
    token.content = entry["content"].get<std::string>();
    if (const auto bad = utf8::first_invalid_offset(token.content)) {
      fail("added_tokens[", index, "]: \"content\" is not valid UTF-8 at byte ", *bad);
    }
    token.special = flag(entry, "special", false, index);
    token.single_word = flag(entry, "single_word", false, index);
    token.lstrip = flag(entry, "lstrip", false, index);
    token.rstrip = flag(entry, "rstrip", false, index);
    token.normalized = flag(entry, "normalized", !token.special, index);
    ++index;
    // HF ignores tokens with empty content: they could never be matched.
    if (token.content.empty()) continue;
    if (!result.id_by_content_.emplace(token.content, token.id).second) {
      fail("added_tokens[", index - 1, "]: content \"", token.content, "\" appears twice");
    }
    const auto token_index = static_cast<int32_t>(result.tokens_.size());
    (token.normalized ? result.normalized_trie_ : result.raw_trie_).insert(token.content, token_index);
    result.has_normalized_ = result.has_normalized_ || token.normalized;
    result.tokens_.push_back(std::move(token));
  }
  return result;
}

std::optional<int32_t> AddedTokens::id_of(std::string_view content) const {
  const auto found = id_by_content_.find(std::string(content));
  if (found == id_by_content_.end()) return std::nullopt;
  return found->second;
}

void AddedTokens::find_matches(std::string_view sentence, size_t offset, const Trie& trie,
                               std::vector<TextSegment>& out) const {
  size_t segment_start = 0;  // HF's start_offset: where the text not yet emitted begins
  size_t pos = 0;
  while (pos < sentence.size()) {
    if (!trie.starts[static_cast<uint8_t>(sentence[pos])]) {
      ++pos;
      continue;
    }
    size_t length = 0;
    const int32_t token_index = trie.longest_at(sentence, pos, length);
    if (token_index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[token_index];
    size_t start = pos;
    size_t stop = pos + length;
    pos = stop;  // the next match starts after this one, even when this one is dropped
    if (token.single_word) {
      const auto before = utf8::decode_before(sentence, start);
      size_t after_cursor = stop;
      const bool word_before = before && is_word_character(*before);
      const bool word_after = stop < sentence.size() && is_word_character(utf8::decode_at(sentence, after_cursor));
      if (word_before || word_after) continue;
    }
    if (token.lstrip) start = std::max(white_space_run_start(sentence, start), segment_start);
    if (token.rstrip) stop = white_space_run_end(sentence, stop);
    if (segment_start < start) out.push_back({offset + segment_start, offset + start, -1});
    out.push_back({offset + start, offset + stop, token.id});
    segment_start = stop;
    // HF resumes after the match itself even when rstrip took white space beyond it; a token
    // starting inside that white space would then overlap, so lightseek resumes after it.
    pos = std::max(pos, stop);
  }
  if (segment_start < sentence.size()) out.push_back({offset + segment_start, offset + sentence.size(), -1});
}

void AddedTokens::split(std::string_view text, std::vector<TextSegment>& segments) const {
  segments.clear();
  if (text.empty()) return;
  if (tokens_.empty()) {
    segments.push_back({0, text.size(), -1});
    return;
  }
  find_matches(text, 0, raw_trie_, segments);
  if (!has_normalized_) return;
  std::vector<TextSegment> first_pass;
  first_pass.swap(segments);
  for (const TextSegment& segment : first_pass) {
    if (segment.token_id >= 0) {
      segments.push_back(segment);
    } else {
      find_matches(text.substr(segment.start, segment.end - segment.start), segment.start, normalized_trie_, segments);
    }
  }
}

}  // namespace lightseek
