#include "core/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/error.h"

namespace lightseek {

namespace {
// How long an idle worker polls before it sleeps: long enough to catch the next region of a
// decode step, short enough not to burn a core between requests.
constexpr int kSpinIterations = 1 << 14;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

thread_local bool inside_pool_body = false;
}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads < 1) fail("thread count must be at least 1, got ", threads);
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
  stopping_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::run_part(int part) {
  const int64_t begin = std::min(count_, part * chunk_);
  const int64_t end = part == parts_ - 1 ? count_ : std::min(count_, begin + chunk_);
  if (begin < end) {
    inside_pool_body = true;
    (*body_)(begin, end, part);
    inside_pool_body = false;
  }
}

void ThreadPool::worker_loop(int index) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t now = generation_.load(std::memory_order_acquire);
    for (int spin = 0; now == seen && spin < kSpinIterations; ++spin) {
      cpu_relax();
      now = generation_.load(std::memory_order_acquire);
    }
    if (now == seen) {
      generation_.wait(seen, std::memory_order_acquire);
      continue;
    }
    seen = now;
    if (stopping_.load()) return;
    if (index < parts_) {
      if (piece_ > 0) {
        run_pieces(index);
      } else {
        run_part(index);
      }
    }
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::parallel_for(int64_t count, int64_t grain, const std::function<void(int64_t, int64_t, int)>& body) {
  dispatch(count, grain, 0, body);
}

void ThreadPool::parallel_for_balanced(int64_t count, int64_t grain, int pieces_per_thread,
                                       const std::function<void(int64_t, int64_t, int)>& body) {
  dispatch(count, grain, std::max(1, pieces_per_thread), body);
}

void ThreadPool::dispatch(int64_t count, int64_t grain, int pieces_per_thread,
                          const std::function<void(int64_t, int64_t, int)>& body) {
  if (count <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t units = (count + grain - 1) / grain;
  const int parts = static_cast<int>(std::min<int64_t>(threads(), units));
  if (parts == 1 || inside_pool_body) {
    body(0, count, 0);
    return;
  }
  std::lock_guard lock(dispatch_mutex_);  // one region at a time; other callers wait their turn
  const auto start = std::chrono::steady_clock::now();
  body_ = &body;
  count_ = count;
  parts_ = parts;
  if (pieces_per_thread == 0) {  // a fixed split: part p is chunk_ indices from p · chunk_
    chunk_ = (units + parts - 1) / parts * grain;
    piece_ = 0;
  } else {
    const int64_t wanted = std::min<int64_t>(units, int64_t{parts} * pieces_per_thread);
    piece_ = (units + wanted - 1) / wanted * grain;
    const int64_t pieces = (count + piece_ - 1) / piece_;
    const int64_t per_part = (pieces + parts - 1) / parts;
    if (ranges_.size() < static_cast<size_t>(parts)) ranges_ = std::vector<PieceRange>(static_cast<size_t>(threads()));
    for (int p = 0; p < parts; ++p) {
      const auto front = static_cast<uint64_t>(std::min(pieces, p * per_part));
      const auto back = static_cast<uint64_t>(std::min(pieces, (p + 1) * per_part));
      ranges_[static_cast<size_t>(p)].front_back.store(front << 32 | back, std::memory_order_relaxed);
    }
  }
  run_region();
  parallel_nanoseconds_.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count(),
      std::memory_order_relaxed);
}

void ThreadPool::run_region() {
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  if (piece_ > 0) {
    run_pieces(0);
  } else {
    run_part(0);
  }
  // Spin first (parts finish within microseconds when every thread has a core), then yield: on
  // a busy machine a worker may be off its core for a whole time slice, and spinning then only
  // keeps it off longer.
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kSpinIterations) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::run_piece(int64_t piece, int thread) {
  const int64_t begin = piece * piece_;
  const int64_t end = std::min(count_, begin + piece_);
  inside_pool_body = true;
  (*body_)(begin, end, thread);
  inside_pool_body = false;
}

void ThreadPool::run_pieces(int part) {
  constexpr uint64_t kLow = 0xffffffffu;
  // Own part from the front, so each thread streams through contiguous memory...
  std::atomic<uint64_t>& own = ranges_[static_cast<size_t>(part)].front_back;
  for (uint64_t state = own.load(std::memory_order_acquire); (state >> 32) < (state & kLow);) {
    if (own.compare_exchange_weak(state, state + (uint64_t{1} << 32), std::memory_order_acq_rel)) {
      run_piece(static_cast<int64_t>(state >> 32), part);
      state = own.load(std::memory_order_acquire);
    }
  }
  // ...then the others' last pieces, far from where their owners are working.
  for (int step = 1; step < parts_; ++step) {
    std::atomic<uint64_t>& other = ranges_[static_cast<size_t>((part + step) % parts_)].front_back;
    for (uint64_t state = other.load(std::memory_order_acquire); (state >> 32) < (state & kLow);) {
      if (other.compare_exchange_weak(state, state - 1, std::memory_order_acq_rel)) {
        run_piece(static_cast<int64_t>(state & kLow) - 1, part);
        state = other.load(std::memory_order_acquire);
      }
    }
  }
}

int default_thread_count() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {
std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}
}  // namespace

ThreadPool& kernel_pool() {
  auto& pool = pool_slot();
  if (!pool) pool = std::make_unique<ThreadPool>(default_thread_count());
  return *pool;
}

void set_kernel_threads(int threads) {
  auto& pool = pool_slot();
  if (pool && pool->threads() == threads) return;
  pool.reset();
  pool = std::make_unique<ThreadPool>(threads);
}

}  // namespace lightseek
