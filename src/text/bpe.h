// The BPE model of tokenizer.json for byte-level vocabularies. The vocabulary is read in the
// byte-level alphabet and kept by raw bytes, so a pre-token's bytes go straight in: each byte
// is a symbol, and adjacent symbols are merged lowest merge rank first (leftmost among equal
// ranks) until no listed merge applies, as the HF library does. Results are cached per word.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace lightseek {

class BpeModel {
 public:
  // Reads tokenizer.json's "model". Throws Error for other model types, options it does not
  // implement (dropout, subword prefixes/suffixes, byte_fallback) and malformed vocab/merges
  // (a merge whose parts or result are not in the vocabulary is malformed).
  static BpeModel from_json(const nlohmann::json& model);

  // Word results remembered by one thread. Bounded: cleared when it grows past a limit.
  class Cache {
   public:
    const int32_t* find(std::string_view word, size_t& count) const;
    void insert(std::string_view word, const int32_t* ids, size_t count);

   private:
    struct Hash {
      using is_transparent = void;
      size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    struct Span {
      uint32_t offset;
      uint32_t count;
    };
    std::unordered_map<std::string, Span, Hash, std::equal_to<>> index_;
    std::vector<int32_t> ids_;
  };

  struct MergeResult {
    uint32_t rank;
    int32_t merged_id;
  };

  // Per-thread working memory for merging.
  struct Scratch {
    struct Symbol {
      int32_t id;
      int32_t prev;
      int32_t next;
    };
    struct Candidate {
      uint32_t rank;
      int32_t position;
      int32_t merged_id;
      // std::priority_queue is a max-heap: "greater" must mean "merged later".
      bool operator<(const Candidate& other) const {
        return rank != other.rank ? rank > other.rank : position > other.position;
      }
    };
    std::vector<Symbol> symbols;
    std::vector<MergeResult> pair_merges;  // per symbol: merging it with its right neighbour
    std::vector<Candidate> heap;
    std::vector<int32_t> word_ids;
    Cache cache;
  };

  // Appends the ids of one pre-token (raw bytes) to `out`.
  void encode_word(std::string_view word, Scratch& scratch, std::vector<int32_t>& out) const;

  // Vocabulary entry written in the byte-level alphabet, e.g. "Ġhello".
  std::optional<int32_t> id_of(std::string_view token) const;
  // (id, token text) for every vocabulary entry.
  const std::unordered_map<std::string, int32_t>& vocab() const { return vocab_; }

 private:
  // Open addressing over (left id, right id); the merge table is probed for every adjacent
  // pair of every new word, so it avoids std::unordered_map's node chasing.
  class MergeTable {
   public:
    void reserve(size_t count);
    void insert(int32_t left, int32_t right, MergeResult result);
    const MergeResult* find(int32_t left, int32_t right) const;

   private:
    static uint64_t key_of(int32_t left, int32_t right) {
      return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
    }
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    std::vector<uint64_t> keys_;
    std::vector<MergeResult> values_;
    size_t mask_ = 0;
  };

  void merge_small(Scratch& scratch) const;
  void merge_with_heap(Scratch& scratch) const;

  std::unordered_map<std::string, int32_t> vocab_;       // byte-level alphabet → id
  std::unordered_map<std::string, int32_t> raw_vocab_;   // raw bytes → id (ignore_merges)
  int32_t byte_ids_[256];                                // -1: the byte has no token
  MergeTable merges_;
  bool ignore_merges_ = false;
  std::optional<int32_t> unknown_id_;
  bool fuse_unknown_ = false;
};

}  // namespace lightseek
