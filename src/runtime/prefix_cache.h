// Sequence states kept after requests end, keyed by the tokens they hold, so that a later prompt
// sharing a prefix with one resumes from it instead of being processed again. A state cannot be
// rewound (the compressors' pending windows and the CSA overlap fold tokens in for good), so
// only the exact token counts that were saved can be resumed; the server saves at the points a
// later prompt is likely to share (runtime/prefix_checkpoints.h) and at the generation's end.
//
// Entries are whole copies: memory is bounded by a byte budget with least-recently-used
// eviction. With a directory, every entry is also written to disk and the directory is read
// back at start-up, so a restarted server resumes cached conversations; files that are corrupt,
// truncated or another model's are reported and never loaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/sequence_state.h"

namespace lightseek {

struct PrefixCacheOptions {
  uint64_t ram_bytes = 4ull << 30;
  std::filesystem::path disk_directory;  // empty: memory only
  uint64_t disk_bytes = 20ull << 30;
  std::string model_identity;            // ties disk entries to the model (and numerics)
  // A fresh state of the model, the layout every loaded file must have.
  SequenceState expected_layout;
  // Told about disk files that were rejected or could not be written (the cache goes on).
  std::function<void(const std::string&)> report;
};

struct PrefixCacheStats {
  uint64_t hits = 0;           // lookups that found a usable prefix
  uint64_t misses = 0;
  uint64_t reused_tokens = 0;  // prompt tokens not processed again thanks to hits
  uint64_t insertions = 0;
  uint64_t evictions = 0;      // entries dropped from memory for room
  uint64_t entries = 0;        // in memory now
  uint64_t bytes = 0;          // in memory now
  uint64_t disk_entries = 0;
  uint64_t disk_bytes = 0;
  uint64_t disk_loads = 0;     // hits served from a file
  uint64_t disk_rejected = 0;  // files found corrupt, truncated or foreign
  uint64_t disk_evictions = 0;
};

// What a hit gives back: a private copy the caller may advance.
struct CachedPrefix {
  int64_t length = 0;  // tokens the state holds: the prompt's first `length` tokens
  SequenceState state;
  std::vector<float> last_logits;  // logits of token length-1
};

class PrefixCache {
 public:
  // Reads the disk directory's entries (creating the directory when missing). Throws Error when
  // the directory cannot be created or listed.
  explicit PrefixCache(PrefixCacheOptions options);

  // The longest saved prefix of `prompt`, at most `max_length` tokens long. Counts a hit or a
  // miss. Thread-safe.
  std::optional<CachedPrefix> lookup(std::span<const int32_t> prompt, int64_t max_length);
  // Saves the state after exactly `tokens` (state.length must equal tokens.size()) with the
  // logits of its last token. Replaces an entry with the same tokens. Thread-safe.
  void insert(std::span<const int32_t> tokens, const SequenceState& state, std::span<const float> last_logits);

  PrefixCacheStats stats() const;

 private:
  struct Entry {
    std::vector<int32_t> tokens;
    uint64_t hash = 0;  // of tokens
    std::optional<SequenceState> state;  // empty: only on disk
    std::vector<float> last_logits;
    uint64_t ram_bytes = 0;
    std::filesystem::path file;  // empty: memory only
    uint64_t file_bytes = 0;
  };
  using EntryList = std::list<Entry>;  // most recently used first

  void load_directory();
  void evict_memory();
  void evict_disk();
  void write_file(Entry& entry);
  EntryList::iterator find_exact(std::span<const int32_t> tokens, uint64_t hash);

  PrefixCacheOptions options_;
  mutable std::mutex mutex_;
  EntryList entries_;
  PrefixCacheStats stats_;
};

}  // namespace lightseek
