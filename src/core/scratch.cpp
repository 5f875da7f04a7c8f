#include "core/scratch.h"

#include <cstring>
#include <new>
#include <vector>

// Under AddressSanitizer a pooled block is poisoned until it is lent again (a pointer kept past
// its Scratch is then caught), and every block lent is filled with 0xFF bytes, NaN as float: a
// layer that reads scratch it never wrote gets NaN logits in the tests instead of the previous
// layer's values.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define LIGHTSEEK_SCRATCH_CHECKS 1
#else
#define LIGHTSEEK_SCRATCH_CHECKS 0
#endif

namespace lightseek {
namespace {

constexpr std::align_val_t kAlignment{64};

struct FreeBlock {
  void* block;
  size_t capacity;
};

struct ThreadScratch {
  int depth = 0;
  std::vector<FreeBlock> free;

  void release_all() {
    for (const FreeBlock& f : free) {
#if LIGHTSEEK_SCRATCH_CHECKS
      ASAN_UNPOISON_MEMORY_REGION(f.block, f.capacity);
#endif
      ::operator delete(f.block, kAlignment);
    }
    free.clear();
  }
  ~ThreadScratch() { release_all(); }
};

ThreadScratch& this_thread_pool() {
  thread_local ThreadScratch pool;
  return pool;
}

void* lend(void* block, size_t capacity) {
#if LIGHTSEEK_SCRATCH_CHECKS
  ASAN_UNPOISON_MEMORY_REGION(block, capacity);
  std::memset(block, 0xFF, capacity);
#else
  (void)capacity;
#endif
  return block;
}

}  // namespace

ScratchScope::ScratchScope() { ++this_thread_pool().depth; }

ScratchScope::~ScratchScope() {
  ThreadScratch& pool = this_thread_pool();
  if (--pool.depth == 0) pool.release_all();
}

namespace scratch_detail {

void* take(size_t bytes, size_t* capacity) {
  ThreadScratch& pool = this_thread_pool();
  if (pool.depth > 0) {
    // The smallest free block that fits and wastes at most half of itself: a 64 MB block
    // lent to a 2 MB request would send the next 64 MB request to the allocator again.
    size_t best = pool.free.size();
    for (size_t i = 0; i < pool.free.size(); ++i) {
      const size_t c = pool.free[i].capacity;
      if (c >= bytes && c / 2 <= bytes && (best == pool.free.size() || c < pool.free[best].capacity)) best = i;
    }
    if (best < pool.free.size()) {
      void* block = pool.free[best].block;
      *capacity = pool.free[best].capacity;
      pool.free.erase(pool.free.begin() + static_cast<std::ptrdiff_t>(best));
      return lend(block, *capacity);
    }
  }
  const size_t rounded = (bytes + 63) / 64 * 64;
  *capacity = rounded;
  return lend(::operator new(rounded, kAlignment), rounded);
}

void give(void* block, size_t capacity) {
  ThreadScratch& pool = this_thread_pool();
  if (pool.depth > 0) {
#if LIGHTSEEK_SCRATCH_CHECKS
    ASAN_POISON_MEMORY_REGION(block, capacity);
#endif
    pool.free.push_back({block, capacity});
  } else {
    ::operator delete(block, kAlignment);
  }
}

size_t pooled_blocks() { return this_thread_pool().free.size(); }

size_t pooled_bytes() {
  size_t total = 0;
  for (const FreeBlock& f : this_thread_pool().free) total += f.capacity;
  return total;
}

}  // namespace scratch_detail
}  // namespace lightseek
