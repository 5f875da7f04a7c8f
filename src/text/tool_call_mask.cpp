#include "text/tool_call_mask.h"

#include <algorithm>
#include <string_view>

namespace lightseek {
namespace {

// Code points a raw value's bytes add, written as the JSON string they denote and read from
// string-lexer state `lexer` (json_matcher.h); false when they are not valid UTF-8 from there.
bool raw_code_points(uint8_t lexer, const std::string& bytes, uint32_t& code_points) {
  code_points = 0;
  for (char c : bytes) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte == '"' || byte == '\\' || byte < 0x20) {
      // Written as a whole escape (\" \\ \n \u00XX), which lexes between characters only.
      if (lexer != 0) return false;
      ++code_points;
      continue;
    }
    const StringByte read = lex_string_byte(lexer, byte, /*key=*/false);
    if (read == StringByte::Reject) return false;
    if (read == StringByte::CharStart) ++code_points;
  }
  return true;
}

}  // namespace

std::shared_ptr<const ToolCallVocabulary> ToolCallVocabulary::build(const Tokenizer& tokenizer,
                                                                   std::shared_ptr<const TokenTrie> trie) {
  auto vocabulary = std::make_shared<ToolCallVocabulary>();
  const int32_t size = tokenizer.vocab_size();
  vocabulary->bytes_.resize(static_cast<size_t>(size));
  vocabulary->known_.assign(words_for(size), 0);
  vocabulary->free_value_.assign(words_for(size), 0);
  for (int32_t id = 0; id < size; ++id) {
    if (!tokenizer.has_token(id)) continue;
    set_bit(vocabulary->known_, id);
    vocabulary->bytes_[static_cast<size_t>(id)] = matcher_bytes(tokenizer, id, trie->dsml_id());
    if (!trie->usable(id) || trie->dsml_id() == id) continue;
    if (trie->bytes(id).find(kDsmlTokenText) != std::string::npos) {
      vocabulary->dsml_text_tokens_.push_back(id);
    } else {
      set_bit(vocabulary->free_value_, id);
    }
  }
  vocabulary->trie_ = std::move(trie);
  return vocabulary;
}

const TokenBitset& ToolCallVocabulary::content_tokens(uint8_t key, const ToolCallMatcher& matcher) const {
  std::lock_guard lock(mutex_);
  auto found = content_.find(key);
  if (found != content_.end()) return found->second;
  // What free content admits depends only on the partial markers `key` stands for, never on
  // the tools: the block's first tag is the same for every grammar.
  TokenBitset allowed(words_for(vocab_size()), 0);
  ToolCallMatcher probe(matcher);
  for (int32_t id = 0; id < vocab_size(); ++id) {
    if (!has(id)) continue;
    probe = matcher;
    if (probe.advance(bytes(id))) set_bit(allowed, id);
  }
  return content_.emplace(key, std::move(allowed)).first->second;
}

const ToolCallVocabulary::RawStringClasses& ToolCallVocabulary::raw_string_classes(uint8_t lexer) const {
  std::lock_guard lock(mutex_);
  auto found = raw_string_.find(lexer);
  if (found != raw_string_.end()) return found->second;
  RawStringClasses classes;
  classes.all.assign(words_for(vocab_size()), 0);
  for (int32_t id : trie_->token_ids()) {
    uint32_t code_points = 0;
    const std::string& text = trie_->bytes(id);
    if (!token_allowed(free_value_, id) || !raw_code_points(lexer, text, code_points)) continue;
    set_bit(classes.all, id);
    classes.by_length.emplace_back(code_points, id);
    const uint32_t pending = text.ends_with("</") ? 2 : text.ends_with("<") ? 1 : 0;
    if (pending) classes.endings.push_back({code_points - pending, pending, id});
  }
  std::sort(classes.by_length.begin(), classes.by_length.end());
  return raw_string_.emplace(lexer, std::move(classes)).first->second;
}

bool ToolCallMasker::raw_string_allowed(const ToolCallMatcher& matcher) {
  JsonMatcher::OpenString open;
  if (!matcher.raw_string(open)) return false;
  const ToolCallVocabulary::RawStringClasses& classes = vocabulary_->raw_string_classes(open.lexer);
  const uint32_t budget = open.max_used - open.used;
  vocabulary_->raw_string_within(open.lexer, budget, scratch_);
  if (classes.by_length.empty() || classes.by_length.back().first <= budget) return true;
  // A token ending in "<" or "</" that does not fit may still begin the closing tag, where the
  // value is long enough to end.
  for (const auto& ending : classes.endings) {
    if (ending.code_points <= budget && open.used + ending.code_points >= open.min_used) set_bit(scratch_, ending.id);
  }
  return true;
}

void ToolCallVocabulary::raw_string_within(uint8_t lexer, uint32_t budget, TokenBitset& out) const {
  const RawStringClasses& classes = raw_string_classes(lexer);
  if (classes.by_length.empty() || classes.by_length.back().first <= budget) {
    out = classes.all;
    return;
  }
  std::lock_guard lock(mutex_);
  const auto key = std::make_pair(lexer, budget);
  if (auto found = raw_within_.find(key); found != raw_within_.end()) {
    out = found->second;
    return;
  }
  tokens_within(classes.by_length, classes.all, budget, vocab_size(), out);
  if (budget < kRememberedBudgets) raw_within_.emplace(key, out);
}

ToolCallMasker::ToolCallMasker(std::shared_ptr<const ToolCallVocabulary> vocabulary)
    : vocabulary_(std::move(vocabulary)), masker_(vocabulary_->trie()) {}

const TokenBitset& ToolCallMasker::allowed(const ToolCallMatcher& matcher) {
  uint8_t key = 0;
  if (matcher.free_content(key)) return vocabulary_->content_tokens(key, matcher);
  if (matcher.free_value()) return vocabulary_->free_value_tokens();
  if (raw_string_allowed(matcher)) return scratch_;
  JsonMatcher::OpenString open;
  const bool in_string = matcher.open_string(open);
  const TokenBitset& allowed = masker_.allowed(matcher);
  if (!in_string || vocabulary_->dsml_text_tokens().empty()) return allowed;
  // The JSON string classes know nothing of markup: take out the tokens spelling "｜DSML｜".
  scratch_ = allowed;
  for (int32_t id : vocabulary_->dsml_text_tokens()) clear_bit(scratch_, id);
  return scratch_;
}

}  // namespace lightseek
