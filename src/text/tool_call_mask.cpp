#include "text/tool_call_mask.h"

#include <string_view>

namespace lightseek {
namespace {

constexpr std::string_view kDsmlText = "\xEF\xBD\x9C" "DSML" "\xEF\xBD\x9C";

void set_bit(TokenBitset& bits, int32_t id) { bits[static_cast<size_t>(id) / 64] |= uint64_t{1} << (id % 64); }
void clear_bit(TokenBitset& bits, int32_t id) { bits[static_cast<size_t>(id) / 64] &= ~(uint64_t{1} << (id % 64)); }
size_t words_for(int32_t size) { return (static_cast<size_t>(size) + 63) / 64; }

// Whether a raw value's bytes, written as the JSON string they denote, lex from string-lexer
// state `lexer` (json_matcher.h).
bool raw_bytes_fit(uint8_t lexer, const std::string& bytes) {
  for (char c : bytes) {
    const auto byte = static_cast<uint8_t>(c);
    if (byte == '"' || byte == '\\' || byte < 0x20) {
      // Written as a whole escape (\" \\ \n \u00XX), which lexes between characters only.
      if (lexer != 0) return false;
      continue;
    }
    if (lex_string_byte(lexer, byte, /*key=*/false) == StringByte::Reject) return false;
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
    if (trie->bytes(id).find(kDsmlText) != std::string::npos) {
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

const TokenBitset& ToolCallVocabulary::raw_string_tokens(uint8_t lexer) const {
  std::lock_guard lock(mutex_);
  auto found = raw_string_.find(lexer);
  if (found != raw_string_.end()) return found->second;
  TokenBitset allowed(words_for(vocab_size()), 0);
  for (int32_t id : trie_->token_ids()) {
    if (token_allowed(free_value_, id) && raw_bytes_fit(lexer, trie_->bytes(id))) set_bit(allowed, id);
  }
  return raw_string_.emplace(lexer, std::move(allowed)).first->second;
}

ToolCallMasker::ToolCallMasker(std::shared_ptr<const ToolCallVocabulary> vocabulary)
    : vocabulary_(std::move(vocabulary)), masker_(vocabulary_->trie()) {}

const TokenBitset& ToolCallMasker::allowed(const ToolCallMatcher& matcher) {
  uint8_t key = 0;
  if (matcher.free_content(key)) return vocabulary_->content_tokens(key, matcher);
  if (matcher.free_value()) return vocabulary_->free_value_tokens();
  if (matcher.free_raw_string(key)) return vocabulary_->raw_string_tokens(key);
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
