// A read-only memory mapping of a whole file. Weights are used straight from the mapping, so
// opening a checkpoint reads nothing but the headers; pages come in as kernels touch them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace lightseek {

class MappedFile {
 public:
  // Throws Error naming the path when the file cannot be opened or mapped.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

  // Maps every page now (reading it from disk if it is not cached) instead of on first use, so
  // that the first tokens do not pay a page fault per 4 KiB of weights they touch. Best effort:
  // returns false when the kernel cannot (MADV_POPULATE_READ needs Linux 5.14).
  bool populate() const;

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace lightseek
