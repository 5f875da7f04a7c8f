#include "text/bpe.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "text/byte_level.h"

namespace lightseek {

namespace {

// Longer words rarely repeat; caching them would only churn the cache.
constexpr size_t kMaxCachedWordBytes = 128;
constexpr size_t kMaxCachedWords = 1 << 16;
// Up to this many symbols a scan over all pairs per merge beats keeping a heap.
constexpr size_t kMaxSymbolsForScan = 24;

bool is_set(const nlohmann::json& model, const char* key) {
  return model.contains(key) && !model[key].is_null();
}

std::pair<std::string, std::string> merge_parts(const nlohmann::json& merge, size_t rank) {
  if (merge.is_string()) {
    // HF splits "a b" on spaces and needs exactly two parts.
    const auto text = merge.get<std::string>();
    const size_t space = text.find(' ');
    if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos || space == 0 ||
        space + 1 == text.size()) {
      fail("model.merges[", rank, "] \"", text, "\" is not two tokens separated by one space");
    }
    return {text.substr(0, space), text.substr(space + 1)};
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
    return {merge[0].get<std::string>(), merge[1].get<std::string>()};
  }
  fail("model.merges[", rank, "] must be a string \"a b\" or a pair [\"a\", \"b\"]");
}

}  // namespace

void BpeModel::MergeTable::reserve(size_t count) {
  size_t capacity = 16;
  while (capacity < count * 2) capacity <<= 1;
  keys_.assign(capacity, kEmpty);
  values_.assign(capacity, MergeResult{});
  mask_ = capacity - 1;
}

void BpeModel::MergeTable::insert(int32_t left, int32_t right, MergeResult result) {
  const uint64_t key = key_of(left, right);
  size_t slot = (key * 0x9E3779B97F4A7C15ull >> 32) & mask_;
  while (keys_[slot] != kEmpty && keys_[slot] != key) slot = (slot + 1) & mask_;
  // A repeated merge keeps the later rank, as HF's map built from the list does.
  keys_[slot] = key;
  values_[slot] = result;
}

const BpeModel::MergeResult* BpeModel::MergeTable::find(int32_t left, int32_t right) const {
  const uint64_t key = key_of(left, right);
  size_t slot = (key * 0x9E3779B97F4A7C15ull >> 32) & mask_;
  while (true) {
    if (keys_[slot] == key) return &values_[slot];
    if (keys_[slot] == kEmpty) return nullptr;
    slot = (slot + 1) & mask_;
  }
}

const int32_t* BpeModel::Cache::find(std::string_view word, size_t& count) const {
  const auto found = index_.find(word);
  if (found == index_.end()) return nullptr;
  count = found->second.count;
  return ids_.data() + found->second.offset;
}

void BpeModel::Cache::insert(std::string_view word, const int32_t* ids, size_t count) {
  if (word.size() > kMaxCachedWordBytes) return;
  if (index_.size() >= kMaxCachedWords) {
    index_.clear();
    ids_.clear();
  }
  index_.emplace(std::string(word), Span{static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(count)});
  ids_.insert(ids_.end(), ids, ids + count);
}

BpeModel BpeModel::from_json(const nlohmann::json& model) {
  if (!model.is_object()) fail("\"model\" is not an object");
  if (model.contains("type")) {
    if (!model["type"].is_string()) fail("model.type must be a string");
    const auto type = model["type"].get<std::string>();
    if (type != "BPE") fail("model type \"", type, "\" is not supported (only BPE)");
  } else if (!model.contains("merges")) {
    fail("model has no \"type\" and is not a BPE model (no \"merges\")");
  }
  if (is_set(model, "dropout") && !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0)) {
    fail("model.dropout is not supported (it makes encoding random)");
  }
  if (is_set(model, "continuing_subword_prefix")) fail("model.continuing_subword_prefix is not supported");
  if (is_set(model, "end_of_word_suffix")) fail("model.end_of_word_suffix is not supported");
  if (is_set(model, "byte_fallback") && model["byte_fallback"] == true) {
    fail("model.byte_fallback is not supported (byte-level vocabularies do not need it)");
  }

  BpeModel result;
  if (!model.contains("vocab") || !model["vocab"].is_object()) fail("model.vocab must be an object");
  const auto& vocab = model["vocab"];
  result.vocab_.reserve(vocab.size());
  std::unordered_map<int32_t, const std::string*> token_by_id;
  token_by_id.reserve(vocab.size());
  for (const auto& [token, id_json] : vocab.items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0 ||
        id_json.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
      fail("model.vocab[\"", token, "\"] must be a non-negative integer id");
    }
    const auto id = id_json.get<int32_t>();
    const auto inserted = result.vocab_.emplace(token, id).first;
    if (!token_by_id.emplace(id, &inserted->first).second) {
      fail("model.vocab: id ", id, " is used by \"", *token_by_id[id], "\" and \"", token, "\"");
    }
  }

  std::fill(std::begin(result.byte_ids_), std::end(result.byte_ids_), -1);
  for (int byte = 0; byte < 256; ++byte) {
    const auto found = result.vocab_.find(byte_level::encode_byte(static_cast<unsigned char>(byte)));
    if (found != result.vocab_.end()) result.byte_ids_[byte] = found->second;
  }

  if (!model.contains("merges") || !model["merges"].is_array()) fail("model.merges must be an array");
  const auto& merges = model["merges"];
  result.merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto [left, right] = merge_parts(merges[rank], rank);
    const auto left_id = result.vocab_.find(left);
    const auto right_id = result.vocab_.find(right);
    const auto merged_id = result.vocab_.find(left + right);
    if (left_id == result.vocab_.end() || right_id == result.vocab_.end()) {
      fail("model.merges[", rank, "] (\"", left, "\", \"", right, "\"): ",
           left_id == result.vocab_.end() ? left : right, " is not in the vocabulary");
    }
    if (merged_id == result.vocab_.end()) {
      fail("model.merges[", rank, "] (\"", left, "\", \"", right, "\"): the merged token \"", left + right,
           "\" is not in the vocabulary");
    }
    result.merges_.insert(left_id->second, right_id->second,
                          MergeResult{static_cast<uint32_t>(rank), merged_id->second});
  }

  result.ignore_merges_ = is_set(model, "ignore_merges") && model["ignore_merges"] == true;
  if (result.ignore_merges_) {
    for (const auto& [token, id] : result.vocab_) {
      if (auto bytes = byte_level::decode(token)) result.raw_vocab_.emplace(std::move(*bytes), id);
    }
  }
  if (is_set(model, "unk_token")) {
    if (!model["unk_token"].is_string()) fail("model.unk_token must be a string or null");
    const auto unknown = result.vocab_.find(model["unk_token"].get<std::string>());
    if (unknown == result.vocab_.end()) fail("model.unk_token \"", model["unk_token"].get<std::string>(), "\" is not in the vocabulary");
    result.unknown_id_ = unknown->second;
    result.fuse_unknown_ = is_set(model, "fuse_unk") && model["fuse_unk"] == true;
  }
  return result;
}

std::optional<int32_t> BpeModel::id_of(std::string_view token) const {
  const auto found = vocab_.find(std::string(token));
  if (found == vocab_.end()) return std::nullopt;
  return found->second;
}

void BpeModel::merge_small(Scratch& scratch) const {
  auto& symbols = scratch.symbols;
  // Each symbol remembers the merge of itself with its right neighbour, so a merge costs one
  // scan of plain integers and two table look-ups (for the pairs it changed).
  auto& pair_merges = scratch.pair_merges;
  pair_merges.resize(symbols.size());
  auto refresh = [&](int32_t position) {
    const int32_t next = symbols[position].next;
    const MergeResult* merge = next == -1 ? nullptr : merges_.find(symbols[position].id, symbols[next].id);
    pair_merges[position] = merge ? *merge : MergeResult{std::numeric_limits<uint32_t>::max(), -1};
  };
  for (int32_t i = 0; i < static_cast<int32_t>(symbols.size()); ++i) refresh(i);
  while (true) {
    uint32_t best_rank = std::numeric_limits<uint32_t>::max();
    int32_t best_position = -1;
    for (int32_t i = 0; i != -1; i = symbols[i].next) {
      if (pair_merges[i].rank < best_rank) {
        best_rank = pair_merges[i].rank;
        best_position = i;
      }
    }
    if (best_position < 0) return;
    Scratch::Symbol& left = symbols[best_position];
    const int32_t right = left.next;
    left.id = pair_merges[best_position].merged_id;
    left.next = symbols[right].next;
    if (left.next != -1) symbols[left.next].prev = best_position;
    refresh(best_position);
    if (left.prev != -1) refresh(left.prev);
  }
}

void BpeModel::merge_with_heap(Scratch& scratch) const {
  auto& symbols = scratch.symbols;
  auto& heap = scratch.heap;
  heap.clear();
  auto push_candidate = [&](int32_t position) {
    const int32_t next = symbols[position].next;
    if (next == -1) return;
    if (const MergeResult* merge = merges_.find(symbols[position].id, symbols[next].id)) {
      heap.push_back({merge->rank, position, merge->merged_id});
      std::push_heap(heap.begin(), heap.end());
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) push_candidate(i);
  constexpr int32_t kRemoved = -2;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Scratch::Candidate candidate = heap.back();
    heap.pop_back();
    Scratch::Symbol& left = symbols[candidate.position];
    if (left.prev == kRemoved || left.next == -1) continue;
    // Stale when either side has changed since the candidate was queued.
    const MergeResult* merge = merges_.find(left.id, symbols[left.next].id);
    if (!merge || merge->merged_id != candidate.merged_id) continue;
    const int32_t right = left.next;
    left.id = candidate.merged_id;
    left.next = symbols[right].next;
    if (left.next != -1) symbols[left.next].prev = candidate.position;
    symbols[right].prev = kRemoved;
    if (left.prev >= 0) push_candidate(left.prev);
    push_candidate(candidate.position);
  }
}

void BpeModel::encode_word(std::string_view word, Scratch& scratch, std::vector<int32_t>& out) const {
  if (word.size() == 1 && byte_ids_[static_cast<uint8_t>(word[0])] >= 0) {
    out.push_back(byte_ids_[static_cast<uint8_t>(word[0])]);
    return;
  }
  size_t cached_count = 0;
  if (const int32_t* cached = scratch.cache.find(word, cached_count)) {
    out.insert(out.end(), cached, cached + cached_count);
    return;
  }
  if (ignore_merges_) {
    const auto whole = raw_vocab_.find(std::string(word));
    if (whole != raw_vocab_.end()) {
      out.push_back(whole->second);
      return;
    }
  }

  auto& symbols = scratch.symbols;
  symbols.clear();
  bool previous_unknown = false;
  for (const char c : word) {
    int32_t id = byte_ids_[static_cast<uint8_t>(c)];
    if (id < 0) {
      // HF drops a character with no token when there is no unknown token.
      if (!unknown_id_) continue;
      if (fuse_unknown_ && previous_unknown) continue;
      id = *unknown_id_;
      previous_unknown = true;
    } else {
      previous_unknown = false;
    }
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, index - 1, -1});
    if (index > 0) symbols[index - 1].next = index;
  }
  if (symbols.empty()) return;
  if (symbols.size() <= kMaxSymbolsForScan) {
    merge_small(scratch);
  } else {
    merge_with_heap(scratch);
  }
  auto& word_ids = scratch.word_ids;
  word_ids.clear();
  for (int32_t i = 0; i != -1; i = symbols[i].next) word_ids.push_back(symbols[i].id);
  scratch.cache.insert(word, word_ids.data(), word_ids.size());
  out.insert(out.end(), word_ids.begin(), word_ids.end());
}

}  // namespace lightseek
