// A persistent pool of worker threads for the kernels. Decode issues thousands of small
// parallel regions per token, so dispatch must cost microseconds, not a thread start: workers
// spin briefly on a generation counter before sleeping on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lightseek {

class ThreadPool {
 public:
  // threads counts the caller: ThreadPool(1) runs everything on the calling thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Wall time spent in regions that ran on more than one thread, since the pool was made. The
  // rest of a step's time ran on the calling thread alone: the serial part that more threads
  // cannot shorten.
  int64_t parallel_nanoseconds() const { return parallel_nanoseconds_.load(std::memory_order_relaxed); }

  // Calls body(begin, end, thread) on disjoint ranges covering [0, count), split into at most
  // threads() contiguous parts of multiples of `grain` (the last part takes the remainder), and
  // returns when all have finished. `thread` is in [0, threads()). Calls from inside a body run
  // serially on the calling thread.
  void parallel_for(int64_t count, int64_t grain, const std::function<void(int64_t, int64_t, int)>& body);

  // Like parallel_for, but each thread's contiguous part is cut into `pieces_per_thread` pieces
  // (multiples of `grain`), and a thread that finishes its own part takes the pieces another has
  // not started, from that part's end. On a shared machine one thread is often held up (another
  // process, a page fault), and a fixed split leaves the others idle until it catches up. body
  // may run several times on one thread; ranges stay disjoint and cover [0, count).
  void parallel_for_balanced(int64_t count, int64_t grain, int pieces_per_thread,
                             const std::function<void(int64_t, int64_t, int)>& body);

 private:
  // A part's unclaimed pieces [front, back), as front << 32 | back so that one compare-exchange
  // claims a piece: its owner takes them from the front, helpers from the back.
  struct alignas(64) PieceRange {
    std::atomic<uint64_t> front_back{0};
  };

  void worker_loop(int index);
  void run_part(int part);
  void run_pieces(int part);
  // Both parallel_fors: pieces_per_thread 0 for the fixed split.
  void dispatch(int64_t count, int64_t grain, int pieces_per_thread,
                const std::function<void(int64_t, int64_t, int)>& body);
  void run_piece(int64_t piece, int thread);
  // Publishes the region set up in the members, runs part 0 on the caller and waits for the rest.
  void run_region();

  std::vector<std::thread> workers_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> parallel_nanoseconds_{0};
  // The current job, published before generation_ is bumped.
  const std::function<void(int64_t, int64_t, int)>* body_ = nullptr;
  int64_t count_ = 0, chunk_ = 0;
  int parts_ = 0;
  // Balanced regions: piece_ > 0, and ranges_[p] holds part p's unclaimed pieces.
  int64_t piece_ = 0;
  std::vector<PieceRange> ranges_;
  std::mutex dispatch_mutex_;
};

// The pool the model's kernels use. Its size is set once by the front end (--threads); the
// default is the number of CPUs this process may run on.
ThreadPool& kernel_pool();
// Replaces the kernel pool; call before any forward pass, not while one runs.
void set_kernel_threads(int threads);
int default_thread_count();

}  // namespace lightseek
