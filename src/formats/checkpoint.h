// A checkpoint on disk: one safetensors file, or several shards listed by
// model.safetensors.index.json. Every shard is memory-mapped; tensors are views into the
// mappings (zero-copy), so opening reads only the headers.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor_view.h"
#include "formats/safetensors.h"

namespace lightseek {

class Checkpoint {
 public:
  // `path` is a safetensors file, or a directory holding model.safetensors.index.json (sharded),
  // or model.safetensors, or model-*.safetensors shards without an index.
  // Throws Error naming the file for: nothing to open; a malformed shard (see
  // parse_safetensors_header); a malformed index; a shard named by the index that is missing;
  // an index entry whose tensor is not in its shard; a tensor present in a shard but not in
  // the index; the same tensor name in two shards.
  static Checkpoint open(const std::filesystem::path& path);

  Checkpoint() = default;
  Checkpoint(Checkpoint&&) noexcept = default;
  Checkpoint& operator=(Checkpoint&&) noexcept = default;

  // nullptr when absent.
  const TensorView* find(std::string_view name) const;
  // Every tensor, sorted by name.
  const std::map<std::string, TensorView, std::less<>>& tensors() const { return tensors_; }
  size_t size() const { return tensors_.size(); }
  // Sum of the tensors' byte sizes.
  uint64_t total_bytes() const { return total_bytes_; }
  const std::vector<std::filesystem::path>& shard_paths() const { return shard_paths_; }
  // `metadata.total_size` of the index, or 0 when there is none.
  uint64_t index_total_size() const { return index_total_size_; }
  // MappedFile::populate for every shard; false if any could not be populated.
  bool populate() const;

 private:
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::vector<std::filesystem::path> shard_paths_;
  std::map<std::string, TensorView, std::less<>> tensors_;
  uint64_t total_bytes_ = 0;
  uint64_t index_total_size_ = 0;
};

}  // namespace lightseek
