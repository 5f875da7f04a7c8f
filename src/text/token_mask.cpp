#include "text/token_mask.h"

#include <algorithm>

#include "text/tool_call_matcher.h"

namespace lightseek {
namespace {

// DeepSeek's added tokens that are not flagged special (<｜User｜>, <｜tool▁calls▁begin｜>, ...)
// are still turn and tool markers: the output parser would read them as such.
bool is_marker(const std::string& bytes) {
  static const std::string open = "<\xef\xbd\x9c", close = "\xef\xbd\x9c>";  // "<｜", "｜>"
  return bytes.size() >= open.size() + close.size() && bytes.compare(0, open.size(), open) == 0 &&
         bytes.compare(bytes.size() - close.size(), close.size(), close) == 0;
}

}  // namespace

std::optional<int32_t> dsml_token_id(const Tokenizer& tokenizer) {
  const std::optional<int32_t> id = tokenizer.token_id(kDsmlTokenText);
  if (id && tokenizer.is_special(*id)) return id;
  return std::nullopt;
}

std::string matcher_bytes(const Tokenizer& tokenizer, int32_t id, std::optional<int32_t> dsml_id) {
  if (dsml_id && id == *dsml_id) return std::string(1, static_cast<char>(kDsmlByte));
  std::string bytes = tokenizer.token_bytes(id);
  std::replace(bytes.begin(), bytes.end(), static_cast<char>(kDsmlByte), static_cast<char>(kDsmlByte - 1));
  return bytes;
}

std::shared_ptr<const TokenTrie> TokenTrie::build(const Tokenizer& tokenizer) {
  auto trie = std::make_shared<TokenTrie>();
  trie->vocab_size_ = tokenizer.vocab_size();
  trie->dsml_id_ = dsml_token_id(tokenizer);
  trie->bytes_.resize(static_cast<size_t>(trie->vocab_size_));
  trie->usable_.assign(words_for(trie->vocab_size_), 0);
  std::vector<int32_t> order;
  for (int32_t id = 0; id < trie->vocab_size_; ++id) {
    const bool dsml = trie->dsml_id_ == id;
    if (!tokenizer.has_token(id) || (tokenizer.is_special(id) && !dsml)) continue;
    std::string bytes = matcher_bytes(tokenizer, id, trie->dsml_id_);
    if (bytes.empty() || (!dsml && is_marker(bytes))) continue;
    trie->bytes_[static_cast<size_t>(id)] = std::move(bytes);
    set_bit(trie->usable_, id);
    order.push_back(id);
  }
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return trie->bytes(a) < trie->bytes(b); });

  // Sorted spellings give the trie in preorder: each token shares its longest common prefix
  // with the one before, so only the nodes past that prefix are new.
  std::vector<uint32_t> path;  // path[d]: node at depth d + 1 on the current branch
  const std::string* previous = nullptr;
  auto close_to = [&](size_t depth) {
    while (path.size() > depth) {
      trie->nodes_[path.back()].subtree_end = static_cast<uint32_t>(trie->nodes_.size());
      path.pop_back();
    }
  };
  for (int32_t id : order) {
    const std::string& bytes = trie->bytes(id);
    size_t common = 0;
    if (previous) {
      while (common < previous->size() && common < bytes.size() && (*previous)[common] == bytes[common]) ++common;
    }
    close_to(common);
    for (size_t depth = common; depth < bytes.size(); ++depth) {
      path.push_back(static_cast<uint32_t>(trie->nodes_.size()));
      trie->nodes_.push_back(Node{0, 0, 0, static_cast<uint16_t>(std::min<size_t>(depth + 1, 65535)),
                                  static_cast<uint8_t>(bytes[depth])});
    }
    Node& end = trie->nodes_[path.back()];
    if (end.tokens_begin == end.tokens_end) end.tokens_begin = end.tokens_end = static_cast<uint32_t>(trie->token_ids_.size());
    trie->token_ids_.push_back(id);
    end.tokens_end = static_cast<uint32_t>(trie->token_ids_.size());
    trie->max_depth_ = std::max(trie->max_depth_, bytes.size());
    previous = &bytes;
  }
  close_to(0);
  return trie;
}

const TokenTrie::StringClasses& TokenTrie::string_classes(uint8_t lexer_state, bool key) const {
  std::lock_guard lock(classes_mutex_);
  auto& slot = classes_[lexer_state * 2 + (key ? 1 : 0)];
  if (slot) return *slot;
  auto classes = std::make_unique<StringClasses>();
  classes->all_inside.assign(words_for(vocab_size_), 0);
  std::unordered_map<std::string, uint32_t> suffix_index;
  // A walk of the trie: tokens sharing a prefix share its reading, and a prefix the string
  // cannot hold (or that closes it) settles every token under it at once.
  std::vector<uint8_t> states(max_depth_ + 1);
  std::vector<uint32_t> units(max_depth_ + 1);  // code points for values, bytes for keys
  states[0] = lexer_state;
  units[0] = 0;
  size_t i = 0;
  while (i < nodes_.size()) {
    const Node& node = nodes_[i];
    uint8_t state = states[node.depth - 1];
    uint32_t count = units[node.depth - 1];
    const StringByte read = lex_string_byte(state, node.byte, key);
    if (read == StringByte::Reject) {
      i = node.subtree_end;
      continue;
    }
    if (read == StringByte::Close) {
      for (size_t j = i; j < node.subtree_end; ++j) {
        for (uint32_t t = nodes_[j].tokens_begin; t < nodes_[j].tokens_end; ++t) {
          const int32_t id = token_ids_[t];
          std::string suffix = bytes(id).substr(node.depth);
          auto [slot_index, inserted] = suffix_index.emplace(suffix, classes->suffixes.size());
          if (inserted) classes->suffixes.push_back(std::move(suffix));
          classes->closing.push_back({id, count, slot_index->second});
        }
      }
      i = node.subtree_end;
      continue;
    }
    if (key || read == StringByte::CharStart) ++count;
    states[node.depth] = state;
    units[node.depth] = count;
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) {
      classes->inside.emplace_back(count, token_ids_[t]);
      set_bit(classes->all_inside, token_ids_[t]);
    }
    ++i;
  }
  std::sort(classes->inside.begin(), classes->inside.end());
  slot = std::move(classes);
  return *slot;
}

template <typename Matcher>
TokenBitset walk_allowed_tokens(const TokenTrie& trie, const Matcher& matcher) {
  TokenBitset allowed(words_for(trie.vocab_size()), 0);
  std::vector<Matcher> by_depth(trie.max_depth() + 1, matcher);
  const auto& nodes = trie.nodes();
  const auto& ids = trie.token_ids();
  size_t i = 0;
  while (i < nodes.size()) {
    const TokenTrie::Node& node = nodes[i];
    Matcher& here = by_depth[node.depth];
    here = by_depth[node.depth - 1];
    if (!here.advance(node.byte)) {
      i = node.subtree_end;
      continue;
    }
    for (uint32_t t = node.tokens_begin; t < node.tokens_end; ++t) set_bit(allowed, ids[t]);
    ++i;
  }
  return allowed;
}

void tokens_within(const std::vector<std::pair<uint32_t, int32_t>>& by_count, const TokenBitset& all,
                   uint32_t budget, int32_t vocab_size, TokenBitset& out) {
  const size_t fitting = static_cast<size_t>(
      std::upper_bound(by_count.begin(), by_count.end(), std::make_pair(budget, INT32_MAX)) - by_count.begin());
  if (fitting * 2 >= by_count.size()) {
    out = all;
    for (size_t i = fitting; i < by_count.size(); ++i) clear_bit(out, by_count[i].second);
  } else {
    out.assign(words_for(vocab_size), 0);
    for (size_t i = 0; i < fitting; ++i) set_bit(out, by_count[i].second);
  }
}

template <typename Matcher>
BasicTokenMasker<Matcher>::BasicTokenMasker(std::shared_ptr<const TokenTrie> trie) : trie_(std::move(trie)) {}

template <typename Matcher>
bool BasicTokenMasker<Matcher>::string_allowed(const Matcher& matcher, TokenBitset& out) {
  JsonMatcher::OpenString open;
  if (!matcher.open_string(open)) return false;
  const TokenTrie::StringClasses& classes = trie_->string_classes(open.lexer, open.key);
  const uint32_t budget = open.max_used - open.used;
  tokens_within(classes.inside, classes.all_inside, budget, trie_->vocab_size(), out);
  Matcher closed(matcher);
  if (!closed.close_string()) return true;
  // Whether the text after the quote fits is the same for every token with that text, and the
  // same at every step of one string (the state after it does not change): remembered per
  // state after the string and lexer state.
  std::string key = closed.state_key();
  key.push_back(static_cast<char>(open.lexer));
  key.push_back(open.key ? 'k' : 'v');
  auto found = suffix_fits_.find(key);
  if (found == suffix_fits_.end()) {
    if (suffix_fits_.size() >= 1024) suffix_fits_.clear();
    std::vector<bool> fits(classes.suffixes.size());
    Matcher probe(closed);
    for (size_t i = 0; i < classes.suffixes.size(); ++i) {
      probe = closed;
      fits[i] = probe.advance(classes.suffixes[i]);
    }
    found = suffix_fits_.emplace(std::move(key), std::move(fits)).first;
  }
  const std::vector<bool>& fits = found->second;
  for (const auto& token : classes.closing) {
    const uint64_t length = static_cast<uint64_t>(open.used) + token.code_points;
    if (length >= open.min_used && length <= open.max_used && fits[token.suffix]) set_bit(out, token.id);
  }
  return true;
}

template <typename Matcher>
const TokenBitset& BasicTokenMasker<Matcher>::allowed(const Matcher& matcher) {
  if (string_allowed(matcher, scratch_)) return scratch_;
  std::string key = matcher.state_key();
  if (auto found = cache_.find(key); found != cache_.end()) return found->second;
  // States rarely repeat across documents of different shapes; a bounded cache keeps a long
  // generation from growing it without end.
  if (cache_.size() >= 4096) cache_.clear();
  return cache_.emplace(std::move(key), walk_allowed_tokens(*trie_, matcher)).first->second;
}

template TokenBitset walk_allowed_tokens(const TokenTrie&, const JsonMatcher&);
template TokenBitset walk_allowed_tokens(const TokenTrie&, const ToolCallMatcher&);
template class BasicTokenMasker<JsonMatcher>;
template class BasicTokenMasker<ToolCallMatcher>;

}  // namespace lightseek
