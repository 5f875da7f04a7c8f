// The attention and indexer products of the fast numerics, per ISA (LIGHTSEEK_ISA), at V4
// shapes: GFLOP/s of the float32 scores (attention: 64 heads × 512 over 640 rows; indexer:
// 64 heads × 128 over 64 keys) and of the indexer's integer scores over FP4 keys, the form a
// coded cache (--kv-cache fp8) keeps them in, where decoding the keys is part of the work.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu_features.h"
#include "kernels/quantize.h"
#include "kernels/vector_ops.h"
#include "model/kv_rows.h"

namespace lightseek {
namespace {

std::vector<float> normal_values(size_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(count);
  for (float& v : values) v = normal(rng);
  return values;
}

// Pointers to the n rows of `rows`, dim floats each.
std::vector<const float*> row_pointers(const std::vector<float>& rows, int64_t n, int64_t dim) {
  std::vector<const float*> pointers(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) pointers[static_cast<size_t>(j)] = rows.data() + j * dim;
  return pointers;
}

// `rows` random query rows through the FP4 round trip, as int8 codes and scales
// (fp4_rows_as_int8); false when they did not convert.
bool fp4_queries(int64_t rows, int64_t dim, std::vector<int8_t>& q8, std::vector<float>& q_scale) {
  std::vector<float> q = normal_values(static_cast<size_t>(rows * dim), 1);
  fp4_roundtrip_blocks(q.data(), rows * dim, 32);
  q8.resize(q.size());
  q_scale.resize(static_cast<size_t>(rows));
  return fp4_rows_as_int8(q.data(), rows, dim, q8.data(), q_scale.data());
}

// n random keys stored as a coded cache stores them.
KvRows fp4_keys(int64_t n, int64_t dim) {
  KvRows keys = KvRows::fp4(dim);
  const std::vector<float> values = normal_values(static_cast<size_t>(n * dim), 2);
  for (int64_t j = 0; j < n; ++j) keys.append(values.data() + j * dim);
  return keys;
}

void count_flops(benchmark::State& state, int64_t heads, int64_t dim, int64_t n) {
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(heads * dim * n * state.iterations()),
                                                 benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
  state.SetLabel(std::string(isa_name(active_isa())));
}

// Arguments: heads, dim, rows.
void BM_FloatScores(benchmark::State& state) {
  const int64_t heads = state.range(0), dim = state.range(1), n = state.range(2);
  const std::vector<float> q = normal_values(static_cast<size_t>(heads * dim), 1);
  const std::vector<float> rows = normal_values(static_cast<size_t>(n * dim), 2);
  const std::vector<const float*> pointers = row_pointers(rows, n, dim);
  std::vector<float> out(static_cast<size_t>(heads * n));
  const VectorOps& ops = vector_ops();
  for (auto _ : state) {
    ops.scores(q.data(), heads, dim, pointers.data(), n, dim, 1.0f, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  count_flops(state, heads, dim, n);
}

// Attention's weighted sums of the rows. Arguments: heads, dim, rows.
void BM_WeightedSums(benchmark::State& state) {
  const int64_t heads = state.range(0), dim = state.range(1), n = state.range(2);
  const std::vector<float> weights = normal_values(static_cast<size_t>(heads * n), 1);
  const std::vector<float> rows = normal_values(static_cast<size_t>(n * dim), 2);
  const std::vector<const float*> pointers = row_pointers(rows, n, dim);
  std::vector<float> out(static_cast<size_t>(heads * dim));
  const VectorOps& ops = vector_ops();
  for (auto _ : state) {
    ops.weighted_sums(weights.data(), heads, pointers.data(), n, dim, out.data(), dim);
    benchmark::DoNotOptimize(out.data());
  }
  count_flops(state, heads, dim, n);
}

// Arguments: heads, dim, keys.
void BM_Fp4KeyScores(benchmark::State& state) {
  const int64_t heads = state.range(0), dim = state.range(1), n = state.range(2);
  std::vector<int8_t> q8;
  std::vector<float> q_scale;
  if (!fp4_queries(heads, dim, q8, q_scale)) {
    state.SkipWithError("the queries did not convert to int8");
    return;
  }
  const KvRows keys = fp4_keys(n, dim);
  std::vector<float> out(static_cast<size_t>(heads * n));
  const VectorOps& ops = vector_ops();
  for (auto _ : state) {
    ops.fp4_key_scores(q8.data(), q_scale.data(), heads, dim, keys.stored_bytes().data(), keys.row_bytes(), n,
                       out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  count_flops(state, heads, dim, n);
}

// The batched indexer: tokens × 64 heads × 128 against a run of keys, weighted and summed over
// the heads. Arguments: tokens, keys.
void BM_IndexScores(benchmark::State& state) {
  const int64_t tokens = state.range(0), n = state.range(1), heads = 64, dim = 128;
  const std::vector<float> q = normal_values(static_cast<size_t>(tokens * heads * dim), 1);
  const std::vector<float> w = normal_values(static_cast<size_t>(tokens * heads), 3);
  const std::vector<float> keys = normal_values(static_cast<size_t>(n * dim), 2);
  std::vector<float> out(static_cast<size_t>(tokens * n));
  const VectorOps& ops = vector_ops();
  for (auto _ : state) {
    ops.index_scores(q.data(), w.data(), tokens, heads, dim, keys.data(), dim, n, out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  count_flops(state, tokens * heads, dim, n);
}

void BM_Fp4IndexScores(benchmark::State& state) {
  const int64_t tokens = state.range(0), n = state.range(1), heads = 64, dim = 128;
  std::vector<int8_t> q8;
  std::vector<float> q_scale;
  if (!fp4_queries(tokens * heads, dim, q8, q_scale)) {
    state.SkipWithError("the queries did not convert to int8");
    return;
  }
  const std::vector<float> w = normal_values(static_cast<size_t>(tokens * heads), 3);
  const KvRows keys = fp4_keys(n, dim);
  std::vector<float> out(static_cast<size_t>(tokens * n));
  const VectorOps& ops = vector_ops();
  for (auto _ : state) {
    ops.fp4_index_scores(q8.data(), q_scale.data(), w.data(), tokens, heads, dim, keys.stored_bytes().data(),
                         keys.row_bytes(), n, out.data(), n);
    benchmark::DoNotOptimize(out.data());
  }
  count_flops(state, tokens * heads, dim, n);
}

BENCHMARK(BM_FloatScores)->Args({64, 512, 640})->Args({64, 128, 64})->Args({64, 128, 4096})->ArgNames({"heads", "dim", "rows"});
BENCHMARK(BM_WeightedSums)->Args({64, 512, 640})->ArgNames({"heads", "dim", "rows"});
BENCHMARK(BM_Fp4KeyScores)->Args({64, 128, 64})->Args({64, 128, 4096})->ArgNames({"heads", "dim", "keys"});
BENCHMARK(BM_IndexScores)->Args({1, 4096})->Args({32, 256})->Args({32, 4096})->Args({512, 1024})->ArgNames({"tokens", "keys"});
BENCHMARK(BM_Fp4IndexScores)->Args({1, 4096})->Args({32, 256})->Args({32, 4096})->ArgNames({"tokens", "keys"});

}  // namespace
}  // namespace lightseek
