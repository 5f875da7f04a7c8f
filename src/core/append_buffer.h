// Contiguous bytes that grow at the end: the KV rows of a sequence, which gain a row every few
// tokens and reach hundreds of MB at a million tokens. A std::vector doubles by copying, so at
// such sizes one append stalls decode for a tenth of a second and briefly holds two copies.
// This buffer lives in its own anonymous mapping and grows with mremap, which moves page
// mappings instead of bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lightseek {

class AppendBuffer {
 public:
  AppendBuffer() = default;
  ~AppendBuffer();
  AppendBuffer(const AppendBuffer& other);
  AppendBuffer& operator=(const AppendBuffer& other);
  AppendBuffer(AppendBuffer&& other) noexcept;
  AppendBuffer& operator=(AppendBuffer&& other) noexcept;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  // Adds `bytes` uninitialised bytes at the end and returns them for the caller to fill. May
  // move the data: pointers from data() are invalid afterwards. Throws Error when the memory
  // cannot be had.
  uint8_t* extend(size_t bytes);
  void clear() { size_ = 0; }

 private:
  void reserve(size_t bytes);
  void release();

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // bytes mapped at data_, a multiple of the page size
};

}  // namespace lightseek
