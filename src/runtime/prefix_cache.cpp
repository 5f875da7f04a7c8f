#include "runtime/prefix_cache.h"

#include <algorithm>
#include <cstdio>
#include <system_error>
#include <utility>

#include "core/error.h"
#include "runtime/state_bytes.h"
#include "runtime/state_file.h"

namespace lightseek {
namespace {

constexpr const char* kFileExtension = ".lsstate";

// hash(tokens[0..i)) for every i, so that each entry is compared in O(1) before its tokens are.
std::vector<uint64_t> prefix_hashes(std::span<const int32_t> tokens) {
  std::vector<uint64_t> hashes(tokens.size() + 1);
  uint64_t hash = 0x9e3779b97f4a7c15ull;
  hashes[0] = hash;
  for (size_t i = 0; i < tokens.size(); ++i) {
    hash = (hash ^ static_cast<uint32_t>(tokens[i])) * 0x100000001b3ull + 0x2545f4914f6cdd1dull;
    hashes[i + 1] = hash;
  }
  return hashes;
}

uint64_t hash_of(std::span<const int32_t> tokens) { return prefix_hashes(tokens).back(); }

}  // namespace

PrefixCache::PrefixCache(PrefixCacheOptions options) : options_(std::move(options)) {
  if (!options_.disk_directory.empty()) load_directory();
}

void PrefixCache::load_directory() {
  const std::filesystem::path& directory = options_.disk_directory;
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) fail("cannot create the prefix cache directory ", directory.string(), ": ", error.message());
  struct Found {
    std::filesystem::file_time_type written;
    Entry entry;
  };
  std::vector<Found> found;
  std::filesystem::directory_iterator it(directory, error);
  if (error) fail("cannot list the prefix cache directory ", directory.string(), ": ", error.message());
  for (const auto& item : it) {
    // A temporary left by a write that crashed half way: never a complete entry.
    if (item.path().filename().string().find(std::string(kFileExtension) + ".tmp-") != std::string::npos) {
      std::filesystem::remove(item.path(), error);
      continue;
    }
    if (item.path().extension() != kFileExtension || !item.is_regular_file()) continue;
    try {
      StateFileSummary summary = read_state_file_summary(item.path(), options_.model_identity);
      Found file;
      file.written = item.last_write_time(error);
      file.entry.hash = hash_of(summary.tokens);
      file.entry.tokens = std::move(summary.tokens);
      file.entry.file = item.path();
      file.entry.file_bytes = summary.file_bytes;
      found.push_back(std::move(file));
    } catch (const Error& rejected) {
      ++stats_.disk_rejected;
      if (options_.report) options_.report(std::string("prefix cache: ignoring ") + rejected.what());
    }
  }
  // Most recently written first: that is the order eviction keeps.
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.written > b.written; });
  for (Found& file : found) {
    stats_.disk_bytes += file.entry.file_bytes;
    ++stats_.disk_entries;
    entries_.push_back(std::move(file.entry));
  }
  evict_disk();
}

PrefixCache::EntryList::iterator PrefixCache::find_exact(std::span<const int32_t> tokens, uint64_t hash) {
  return std::find_if(entries_.begin(), entries_.end(), [&](const Entry& entry) {
    return entry.hash == hash && std::equal(entry.tokens.begin(), entry.tokens.end(), tokens.begin(), tokens.end());
  });
}

std::optional<CachedPrefix> PrefixCache::lookup(std::span<const int32_t> prompt, int64_t max_length) {
  const std::vector<uint64_t> hashes = prefix_hashes(prompt);
  const auto limit = static_cast<size_t>(std::clamp<int64_t>(max_length, 0, static_cast<int64_t>(prompt.size())));
  std::lock_guard lock(mutex_);
  while (true) {
    auto best = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const size_t length = it->tokens.size();
      if (length == 0 || length > limit || it->hash != hashes[length]) continue;
      if (best != entries_.end() && best->tokens.size() >= length) continue;
      if (std::equal(it->tokens.begin(), it->tokens.end(), prompt.begin())) best = it;
    }
    if (best == entries_.end()) {
      ++stats_.misses;
      return std::nullopt;
    }
    if (!best->state) {
      try {
        CachedState loaded = read_state_file(best->file, options_.model_identity, options_.expected_layout);
        if (loaded.tokens != best->tokens || loaded.last_logits.empty()) {
          fail(best->file.string(), ": holds other tokens than its summary, or no logits");
        }
        best->state = std::move(loaded.state);
        best->last_logits = std::move(loaded.last_logits);
        best->ram_bytes = sequence_state_bytes(*best->state) + best->last_logits.size() * sizeof(float);
        stats_.bytes += best->ram_bytes;
        ++stats_.entries;
        ++stats_.disk_loads;
      } catch (const Error& rejected) {
        ++stats_.disk_rejected;
        if (options_.report) options_.report(std::string("prefix cache: ignoring ") + rejected.what());
        stats_.disk_bytes -= best->file_bytes;
        --stats_.disk_entries;
        entries_.erase(best);
        continue;
      }
    }
    entries_.splice(entries_.begin(), entries_, best);
    ++stats_.hits;
    stats_.reused_tokens += best->tokens.size();
    CachedPrefix hit{static_cast<int64_t>(best->tokens.size()), *best->state, best->last_logits};
    evict_memory();
    return hit;
  }
}

void PrefixCache::insert(std::span<const int32_t> tokens, const SequenceState& state, std::span<const float> last_logits) {
  if (tokens.empty() || state.length != static_cast<int64_t>(tokens.size()) || last_logits.empty()) {
    fail("prefix cache: a state of ", state.length, " tokens saved under ", tokens.size(), " tokens with ",
         last_logits.size(), " logits");
  }
  const uint64_t hash = hash_of(tokens);
  std::lock_guard lock(mutex_);
  auto entry = find_exact(tokens, hash);
  if (entry == entries_.end()) {
    entries_.push_front(Entry{});
    entry = entries_.begin();
    entry->tokens.assign(tokens.begin(), tokens.end());
    entry->hash = hash;
  } else {
    entries_.splice(entries_.begin(), entries_, entry);
    if (entry->state) {
      stats_.bytes -= entry->ram_bytes;
      --stats_.entries;
    }
  }
  entry->state = state;
  entry->last_logits.assign(last_logits.begin(), last_logits.end());
  entry->ram_bytes = sequence_state_bytes(state) + last_logits.size() * sizeof(float);
  stats_.bytes += entry->ram_bytes;
  ++stats_.entries;
  ++stats_.insertions;
  if (!options_.disk_directory.empty() && entry->file.empty()) write_file(*entry);
  evict_memory();
  evict_disk();
}

void PrefixCache::write_file(Entry& entry) {
  char name[64];
  std::snprintf(name, sizeof(name), "%016llx-%zu%s", static_cast<unsigned long long>(entry.hash), entry.tokens.size(),
                kFileExtension);
  const std::filesystem::path file = options_.disk_directory / name;
  try {
    write_state_file(file, CachedState{entry.tokens, *entry.state, entry.last_logits}, options_.model_identity);
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    entry.file = file;
    entry.file_bytes = error ? 0 : size;
    stats_.disk_bytes += entry.file_bytes;
    ++stats_.disk_entries;
  } catch (const Error& failed) {
    if (options_.report) options_.report(std::string("prefix cache: not saved to disk: ") + failed.what());
  }
}

void PrefixCache::evict_memory() {
  // Least recently used first; the newest entry (the front) stays even when alone over budget,
  // because the caller is about to use it.
  for (auto it = entries_.end(); stats_.bytes > options_.ram_bytes && it != entries_.begin();) {
    --it;
    if (!it->state || it == entries_.begin()) continue;
    stats_.bytes -= it->ram_bytes;
    --stats_.entries;
    ++stats_.evictions;
    it->state.reset();
    it->last_logits = {};
    it->ram_bytes = 0;
    if (it->file.empty()) it = entries_.erase(it);
  }
}

void PrefixCache::evict_disk() {
  for (auto it = entries_.end(); stats_.disk_bytes > options_.disk_bytes && it != entries_.begin();) {
    --it;
    if (it->file.empty()) continue;
    std::error_code error;
    std::filesystem::remove(it->file, error);
    stats_.disk_bytes -= it->file_bytes;
    --stats_.disk_entries;
    ++stats_.disk_evictions;
    it->file.clear();
    it->file_bytes = 0;
    if (!it->state) it = entries_.erase(it);
  }
}

PrefixCacheStats PrefixCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace lightseek
