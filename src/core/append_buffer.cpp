#include "core/append_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace lightseek {

namespace {
size_t page_size() {
  static const size_t size = static_cast<size_t>(std::max(4096L, sysconf(_SC_PAGESIZE)));
  return size;
}
}  // namespace

AppendBuffer::~AppendBuffer() { release(); }

AppendBuffer::AppendBuffer(const AppendBuffer& other) {
  if (other.size_ == 0) return;
  reserve(other.size_);
  std::memcpy(data_, other.data_, other.size_);
  size_ = other.size_;
}

AppendBuffer& AppendBuffer::operator=(const AppendBuffer& other) {
  if (this == &other) return *this;
  size_ = 0;
  if (other.size_ > 0) {
    reserve(other.size_);
    std::memcpy(data_, other.data_, other.size_);
  }
  size_ = other.size_;
  return *this;
}

AppendBuffer::AppendBuffer(AppendBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

AppendBuffer& AppendBuffer::operator=(AppendBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void AppendBuffer::release() {
  if (data_ != nullptr) ::munmap(data_, capacity_);
  data_ = nullptr;
  size_ = capacity_ = 0;
}

void AppendBuffer::reserve(size_t bytes) {
  if (bytes <= capacity_) return;
  // Half as much again: moving mappings is cheap, but each move is a system call.
  const size_t wanted = std::max(bytes, capacity_ + capacity_ / 2);
  const size_t page = page_size();
  if (wanted > SIZE_MAX - page) fail("KV rows: cannot grow to ", bytes, " bytes");
  const size_t mapped = (wanted + page - 1) / page * page;
  void* grown = data_ == nullptr ? ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
                                 : ::mremap(data_, capacity_, mapped, MREMAP_MAYMOVE);
  if (grown == MAP_FAILED) {
    fail("KV rows: cannot grow from ", capacity_, " to ", mapped, " bytes: ", std::strerror(errno));
  }
  data_ = static_cast<uint8_t*>(grown);
  capacity_ = mapped;
}

uint8_t* AppendBuffer::extend(size_t bytes) {
  if (bytes > SIZE_MAX - size_) fail("KV rows: cannot grow past ", size_, " bytes by ", bytes);
  reserve(size_ + bytes);
  uint8_t* added = data_ + size_;
  size_ += bytes;
  return added;
}

}  // namespace lightseek
