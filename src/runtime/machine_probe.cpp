#include "runtime/machine_probe.h"

#include "kernels/cpu_features.h"

#include <immintrin.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/stage_timer.h"
#include "core/thread_pool.h"
#include "kernels/cpu_features.h"

namespace lightseek {

namespace {

using Clock = std::chrono::steady_clock;

// Results are written here so that the compiler must compute them.
volatile uint64_t word_sink;
volatile float float_sink;

// Bytes the probe may take without pushing the model's pages out: a quarter of what the kernel
// calls available (free memory plus reclaimable cache).
size_t available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return static_cast<size_t>(kib) * 1024;
  }
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : size_t{1} << 30;
}

// 32-byte GCC vectors: the loads stay wide even in a baseline x86-64 build (two SSE loads each),
// which is far more than one core's share of DRAM bandwidth needs.
using Lanes = uint64_t __attribute__((vector_size(32)));

// One way of reading a slice: how many parts of it are read side by side, and how far ahead of
// the loads each part is prefetched. One core's read rate depends on the misses it keeps in
// flight, and which pattern keeps the most differs between machines and even between spells of
// one shared machine: on the Zen 5 VM of 2026-12-01, two parts 8 KiB ahead read 42 GB/s on one
// thread in one spell, and 33.6 in another where four parts 1 KiB ahead read 37.9 and the BF16
// kernel's pattern 38.6. The probe takes the best of several, so that it never reads slower than
// a kernel does and the roofline fraction does not flatter the kernels. (On an AMD EPYC Zen 3
// VM, one part with a prefetch 4 KiB ahead of every other line had read 7.1–8.7 GB/s on one
// thread while the BF16 kernel streamed 10.5.)
struct ReadPattern {
  int parts;
  size_t ahead_bytes;
  int lines_per_step;  // cache lines read (and prefetched) from each part in turn
};
// One line at a time read faster in the slow spell: four parts 2 KiB ahead 35.2 GB/s against
// 31.8 two lines at a time (one thread, medians of 5, in a scratch harness), whatever the width
// of the loads. The probe used before (two parts, 8 KiB, two lines) stays in the set, so that the
// best of them never reads below it.
constexpr ReadPattern kReadPatterns[] = {{1, 4096, 1}, {2, 2048, 1}, {2, 4096, 1}, {2, 8192, 1},
                                         {2, 8192, 2}, {4, 1024, 1}, {4, 2048, 1}, {4, 4096, 1}};

template <int Parts, int Lines>
uint64_t sum_parts(const Lanes* data, size_t count, size_t ahead_lanes) {
  constexpr size_t kStep = 2 * Lines;  // two Lanes to a 64-byte line
  const size_t part = count / Parts;
  const Lanes* starts[Parts];
  Lanes sums[Parts];
  for (int p = 0; p < Parts; ++p) {
    starts[p] = data + p * part;
    sums[p] = Lanes{};
  }
  size_t i = 0;
  for (; i + kStep <= part; i += kStep) {
    for (int p = 0; p < Parts; ++p) {
      for (size_t k = 0; k < kStep; k += 2) {
        __builtin_prefetch(starts[p] + i + k + ahead_lanes);
        sums[p] += starts[p][i + k] + starts[p][i + k + 1];
      }
    }
  }
  Lanes total{};
  for (int p = 0; p < Parts; ++p) {
    for (size_t k = i; k < part; ++k) total += starts[p][k];
    total += sums[p];
  }
  for (size_t k = Parts * part; k < count; ++k) total += data[k];
  return total[0] + total[1] + total[2] + total[3];
}

uint64_t sum_lanes(const Lanes* data, size_t count, ReadPattern pattern) {
  const size_t ahead_lanes = pattern.ahead_bytes / sizeof(Lanes);
  if (pattern.lines_per_step == 2) return sum_parts<2, 2>(data, count, ahead_lanes);  // the old probe's only
  switch (pattern.parts) {
    case 1: return sum_parts<1, 1>(data, count, ahead_lanes);
    case 2: return sum_parts<2, 1>(data, count, ahead_lanes);
    default: break;
  }
  return sum_parts<4, 1>(data, count, ahead_lanes);
}

// Independent FMA chains: enough of them to cover the FMA latency on both FMA ports.
constexpr int kChains = 12;

__attribute__((target("avx512f,fma"))) float fma_chains_avx512(int64_t iterations) {
  __m512 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm512_set1_ps(0.001f * static_cast<float>(k));
  // a·x + b converges to b / (1 − a): no overflow or denormals however long it runs.
  const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-4f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kChains; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
  }
  __m512 total = acc[0];
  for (int k = 1; k < kChains; ++k) total = _mm512_add_ps(total, acc[k]);
  // Stored and summed by hand: GCC 12 warns falsely inside _mm512_reduce_add_ps.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, total);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t iterations) {
  __m256 acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = _mm256_set1_ps(0.001f * static_cast<float>(k));
  const __m256 a = _mm256_set1_ps(0.9999f), b = _mm256_set1_ps(1e-4f);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kChains; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
  }
  __m256 total = acc[0];
  for (int k = 1; k < kChains; ++k) total = _mm256_add_ps(total, acc[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, total);
  float sum = 0.0f;
  for (float lane : lanes) sum += lane;
  return sum;
}

float fma_chains_scalar(int64_t iterations) {
  float acc[kChains];
  for (int k = 0; k < kChains; ++k) acc[k] = 0.001f * static_cast<float>(k);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < kChains; ++k) acc[k] = acc[k] * 0.9999f + 1e-4f;
  }
  float sum = 0.0f;
  for (float value : acc) sum += value;
  return sum;
}

enum class FmaIsa { Avx512, Avx2, Scalar };

FmaIsa detect_fma_isa() {
  if (cpu_supports(Isa::Avx512)) return FmaIsa::Avx512;
  if (cpu_supports(Isa::Avx2)) return FmaIsa::Avx2;
  return FmaIsa::Scalar;
}

// FP32 lanes per instruction of each variant.
int fma_lanes(FmaIsa isa) { return isa == FmaIsa::Avx512 ? 16 : isa == FmaIsa::Avx2 ? 8 : 1; }

float run_fma_chains(FmaIsa isa, int64_t iterations) {
  switch (isa) {
    case FmaIsa::Avx512: return fma_chains_avx512(iterations);
    case FmaIsa::Avx2: return fma_chains_avx2(iterations);
    case FmaIsa::Scalar: break;
  }
  return fma_chains_scalar(iterations);
}

void check_threads(int threads) {
  if (threads < 1) fail("the machine probes need at least 1 thread, got ", threads);
}

}  // namespace

double measure_read_bandwidth_gbps(int threads, size_t buffer_bytes) {
  check_threads(threads);
  if (buffer_bytes == 0) {
    buffer_bytes = std::clamp(available_memory_bytes() / 4, size_t{64} << 20, size_t{1} << 30);
  }
  // Every thread reads its own contiguous slice, as a kernel reading one weight matrix would.
  const size_t lanes = std::max<size_t>(buffer_bytes / sizeof(Lanes), static_cast<size_t>(threads));
  const size_t slice = (lanes + threads - 1) / threads;
  std::unique_ptr<Lanes[]> buffer(new Lanes[lanes]);
  ThreadPool& pool = kernel_pool();
  auto for_each_slice = [&](const std::function<void(size_t, Lanes*, size_t)>& body) {
    pool.parallel_for(threads, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t part = begin; part < end; ++part) {
        const size_t first = std::min(lanes, static_cast<size_t>(part) * slice);
        body(static_cast<size_t>(part), buffer.get() + first, std::min(lanes, first + slice) - first);
      }
    });
  };
  // Touch every page first, from the thread that will read it, so the passes measure reads and
  // not page faults. Each slice's lanes sum to Σ_{i < count} 4i + 6, modulo 2^64: what a pattern
  // must find if it reads every lane exactly once (one that skipped some would report a
  // bandwidth it did not read).
  std::vector<uint64_t> sums(static_cast<size_t>(threads)), expected_sums(sums.size());
  for_each_slice([&](size_t part, Lanes* data, size_t count) {
    for (size_t i = 0; i < count; ++i) data[i] = Lanes{i, i + 1, i + 2, i + 3};
    expected_sums[part] = 2 * uint64_t{count} * (count - 1) + 6 * uint64_t{count};
  });
  uint64_t expected = 0;
  for (uint64_t sum : expected_sums) expected += sum;

  double best = 0.0;
  for (int round = 0; round < 2; ++round) {
    for (const ReadPattern& pattern : kReadPatterns) {
      const auto start = Clock::now();
      for_each_slice([&](size_t part, Lanes* data, size_t count) { sums[part] = sum_lanes(data, count, pattern); });
      const double seconds = seconds_since(start);
      uint64_t total = 0;
      for (uint64_t sum : sums) total += sum;
      word_sink = total;
      if (total != expected) {
        fail("the bandwidth probe's pattern of ", pattern.parts, " parts, ", pattern.ahead_bytes,
             " bytes ahead did not read its buffer exactly once (sum ", total, ", expected ", expected, ")");
      }
      if (seconds > 0) best = std::max(best, static_cast<double>(lanes * sizeof(Lanes)) / seconds / 1e9);
    }
  }
  return best;
}

double measure_peak_gflops(int threads) {
  check_threads(threads);
  const FmaIsa isa = detect_fma_isa();
  const double flops_per_iteration = 2.0 * kChains * fma_lanes(isa);
  // Calibrate on one thread so that each timed pass lasts about 0.1 s.
  int64_t iterations = 1 << 16;
  for (;;) {
    const auto start = Clock::now();
    float_sink = run_fma_chains(isa, iterations);
    const double seconds = seconds_since(start);
    if (seconds >= 0.02 || iterations >= (int64_t{1} << 40)) {
      iterations = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(iterations) * 0.1 / std::max(seconds, 1e-9)));
      break;
    }
    iterations *= 4;
  }
  std::vector<float> results(static_cast<size_t>(threads));
  double best = 0.0;
  for (int pass = 0; pass < 3; ++pass) {
    const auto start = Clock::now();
    kernel_pool().parallel_for(threads, 1, [&](int64_t begin, int64_t end, int) {
      for (int64_t part = begin; part < end; ++part) results[static_cast<size_t>(part)] = run_fma_chains(isa, iterations);
    });
    const double seconds = seconds_since(start);
    float total = 0.0f;
    for (float result : results) total += result;
    float_sink = total;
    if (seconds > 0) best = std::max(best, flops_per_iteration * static_cast<double>(iterations) * threads / seconds / 1e9);
  }
  return best;
}

std::string_view peak_flops_isa() {
  switch (detect_fma_isa()) {
    case FmaIsa::Avx512: return "avx512f";
    case FmaIsa::Avx2: return "avx2+fma";
    case FmaIsa::Scalar: break;
  }
  return "scalar";
}

}  // namespace lightseek
