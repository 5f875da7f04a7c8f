// The fast linear kernels per ISA and weight format, at V4-Flash shapes: weight GB/s (decode is
// a matrix-vector product bound by memory) and GFLOP/s (prefill, many tokens per weight read).
// Weights rotate through a 512 MB set so that decode and the few-token products of a prefill's
// experts read them from memory, not the L3 cache, as they do in a model (HOT=1 keeps one
// matrix, cache-resident: the kernels' compute speed alone).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/cpu_features.h"
#include "kernels/fast_linear.h"

namespace lightseek {
namespace {

struct WeightSet {
  std::vector<std::vector<uint8_t>> weights, scales;
  std::vector<WeightMatrix> matrices;
  size_t bytes_each = 0;
};

WeightSet make_weights(WeightFormat format, int64_t rows, int64_t cols, size_t total_bytes) {
  WeightSet set;
  size_t weight_bytes = 0, scale_bytes = 0;
  switch (format) {
    case WeightFormat::F32: weight_bytes = rows * cols * 4; break;
    case WeightFormat::BF16: weight_bytes = rows * cols * 2; break;
    case WeightFormat::FP8_E4M3_BLOCK128:
      weight_bytes = rows * cols;
      scale_bytes = ((rows + 127) / 128) * ((cols + 127) / 128);
      break;
    case WeightFormat::FP4_E2M1_BLOCK32:
      weight_bytes = rows * cols / 2;
      scale_bytes = rows * cols / 32;
      break;
  }
  const size_t count = std::max<size_t>(1, total_bytes / (weight_bytes + scale_bytes));
  std::mt19937 rng(1);
  for (size_t i = 0; i < count; ++i) {
    set.weights.emplace_back(weight_bytes);
    auto& bytes = set.weights.back();
    if (format == WeightFormat::BF16) {  // values near ±0.01: no subnormals to slow the FMAs
      for (size_t k = 0; k + 1 < bytes.size(); k += 2) {
        bytes[k] = static_cast<uint8_t>(rng());
        bytes[k + 1] = static_cast<uint8_t>(0x3C | (rng() & 0x80));
      }
    } else if (format == WeightFormat::F32) {
      for (size_t k = 0; k + 3 < bytes.size(); k += 4) {
        const float value = static_cast<float>(static_cast<int>(rng() % 2001) - 1000) * 1e-5f;
        std::memcpy(bytes.data() + k, &value, 4);
      }
    } else {
      for (auto& b : bytes) b = static_cast<uint8_t>(rng() & 0x77);  // finite FP8, any FP4
    }
    set.scales.emplace_back(scale_bytes, 120);
  }
  for (size_t i = 0; i < count; ++i) {
    WeightMatrix m;
    m.format = format;
    m.rows = rows;
    m.cols = cols;
    m.weight.data = set.weights[i].data();
    m.weight.nbytes = weight_bytes;
    m.scale.data = set.scales[i].data();
    m.scale.nbytes = scale_bytes;
    set.matrices.push_back(m);
  }
  set.bytes_each = weight_bytes + scale_bytes;
  return set;
}

// Arguments: format, rows, cols, tokens, threads.
void BM_FastLinear(benchmark::State& state) {
  const auto format = static_cast<WeightFormat>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), tokens = state.range(3);
  const int threads = static_cast<int>(state.range(4));
  const WeightSet set = make_weights(format, rows, cols, tokens <= 32 && !getenv("HOT") ? (512u << 20) : 1);
  std::vector<float> x(tokens * cols, 0.5f), y(tokens * rows);
  ThreadPool pool(threads);
  size_t next = 0;
  for (auto _ : state) {
    fast_linear(set.matrices[next], x.data(), tokens, y.data(), &pool);
    next = (next + 1) % set.matrices.size();
    benchmark::DoNotOptimize(y.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * set.bytes_each));
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * rows * cols * tokens * state.iterations(), benchmark::Counter::kIsRate,
                         benchmark::Counter::kIs1000);
  state.SetLabel(std::string(weight_format_name(format)) + " " + std::string(isa_name(active_isa())));
}

void FlashShapes(benchmark::internal::Benchmark* b) {
  const int64_t fp4 = static_cast<int64_t>(WeightFormat::FP4_E2M1_BLOCK32);
  const int64_t fp8 = static_cast<int64_t>(WeightFormat::FP8_E4M3_BLOCK128);
  const int64_t bf16 = static_cast<int64_t>(WeightFormat::BF16);
  for (int64_t threads : {1, 2}) {
    for (int64_t tokens : {1, 4, 8, 12, 32, 256}) {
      b->Args({fp4, 2048, 4096, tokens, threads});  // routed expert w1/w3
      b->Args({fp8, 4096, 4096, tokens, threads});  // attention projections
      b->Args({bf16, 4096, 4096, tokens, threads});  // LM head rows, router
    }
    // A prefill's routed experts get ~12 tokens each, rarely a multiple of 4.
    for (int64_t tokens : {9, 13}) b->Args({fp4, 2048, 4096, tokens, threads});
    // Eight rows: mostly the activations' preparation, which every product pays once.
    b->Args({fp4, 8, 4096, 1, threads});
    // The same 8 MB of FP8 as rows of 1024 and of 8192 columns (wq_b and wo_b): one token reads
    // the longer rows slower, as their activations no longer stay in L1 beside the weights.
    b->Args({fp8, 8192, 1024, 1, threads});
    b->Args({fp8, 1024, 8192, 1, threads});
  }
  b->ArgNames({"format", "rows", "cols", "tokens", "threads"});
  b->UseRealTime();
}

BENCHMARK(BM_FastLinear)->Apply(FlashShapes);

}  // namespace
}  // namespace lightseek
