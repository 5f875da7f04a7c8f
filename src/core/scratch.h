// Activation buffers that a forward pass reuses from layer to layer. A 512-token prefill of
// V4-Flash allocates ~250 MB of activations per layer (the 64 MB query and attention-output
// rows among them); glibc serves blocks that large with fresh mappings, so every layer paid a
// page fault and the kernel's zeroing for each 4 KiB page, and std::vector zeroed them again.
//
// While a ScratchScope lives on a thread, a Scratch buffer returned on that thread goes to the
// thread's pool, and a later Scratch of a fitting size takes it back instead of allocating: the
// layers ask for the same sizes in the same order, so from the second layer on nothing is
// mapped. The pool empties when the outermost scope ends. Without a scope, Scratch allocates
// and frees like a vector.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace lightseek {

// Keeps returned Scratch memory on this thread for reuse until the outermost scope ends. Scopes
// nest; a forward pass opens one.
class ScratchScope {
 public:
  ScratchScope();
  ~ScratchScope();
  ScratchScope(const ScratchScope&) = delete;
  ScratchScope& operator=(const ScratchScope&) = delete;
};

namespace scratch_detail {
// `bytes` of 64-byte aligned memory, from this thread's pool when a scope is open and a free
// block fits (at least `bytes`, at most twice that); *capacity receives the block's size.
void* take(size_t bytes, size_t* capacity);
// Returns a block from take() (to the pool when a scope is open, else frees it).
void give(void* block, size_t capacity);
// Blocks held for reuse on this thread, and their bytes (for tests and diagnostics).
size_t pooled_blocks();
size_t pooled_bytes();
}  // namespace scratch_detail

// `count` values of a trivially copyable type, uninitialised unless made with zeroed().
// Move-only; destroy it on the thread that made it.
template <typename T>
class Scratch {
  static_assert(std::is_trivially_copyable_v<T>, "Scratch holds plain values only");

 public:
  Scratch() = default;
  explicit Scratch(size_t count) : size_(count) {
    if (count > 0) data_ = static_cast<T*>(scratch_detail::take(count * sizeof(T), &capacity_));
  }
  static Scratch zeroed(size_t count) {
    Scratch s(count);
    if (count > 0) std::memset(static_cast<void*>(s.data_), 0, count * sizeof(T));
    return s;
  }
  ~Scratch() { release(); }
  Scratch(Scratch&& other) noexcept : data_(other.data_), size_(other.size_), capacity_(other.capacity_) {
    other.data_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }
  Scratch& operator=(Scratch&& other) noexcept {
    if (this != &other) {
      release();
      data_ = other.data_;
      size_ = other.size_;
      capacity_ = other.capacity_;
      other.data_ = nullptr;
      other.size_ = other.capacity_ = 0;
    }
    return *this;
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

 private:
  void release() {
    if (data_ != nullptr) scratch_detail::give(data_, capacity_);
    data_ = nullptr;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;  // bytes of the block behind data_
};

}  // namespace lightseek
