#include "model/moe.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/scratch.h"
#include "core/thread_pool.h"
#include "kernels/vector_ops.h"
#include "model/linear_map.h"
#include "model/hyper_connections.h"

namespace lightseek {

Moe::Moe(const ModelConfig& config, const MoeWeights& weights, bool hash_routed, NumericsOptions numerics)
    : config_(config),
      weights_(weights),
      hash_routed_(hash_routed),
      numerics_(numerics),
      bias_(hash_routed ? std::vector<float>() : to_f32_vector(weights.gate_bias)),
      limit_(static_cast<float>(config.swiglu_limit)) {}

namespace {

float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

int64_t token_table_entry(const TensorView& table, int64_t index) {
  if (table.dtype == DType::I32) {
    int32_t value;
    std::memcpy(&value, table.data + index * 4, 4);
    return value;
  }
  int64_t value;
  std::memcpy(&value, table.data + index * 8, 8);
  return value;
}

void gather_rows(const float* f, int64_t dim, const std::vector<int64_t>& rows, float* out) {
  for (size_t i = 0; i < rows.size(); ++i) {
    std::copy(f + rows[i] * dim, f + (rows[i] + 1) * dim, out + static_cast<int64_t>(i) * dim);
  }
}

}  // namespace

void Moe::add_routed_experts(const float* f, const std::vector<std::vector<int64_t>>& rows_of,
                             const std::vector<std::vector<float>>& weights_of, bool prompt, float* out) const {
  const int64_t dim = config_.hidden_size;
  ThreadPool& pool = kernel_pool();
  std::vector<int64_t> active;
  for (int64_t e = 0; e < static_cast<int64_t>(rows_of.size()); ++e) {
    if (!rows_of[e].empty()) active.push_back(e);
  }
  // A decode step's experts, when they divide evenly among the threads, go whole to the threads
  // too: no barrier and no serial activation quantisation between a step's products. Two threads,
  // decode at 2K, experts' stage (alternated, 2 runs each): 10.1–12.7 ms split by rows, 9.4 whole.
  const bool whole_experts = prompt || (pool.threads() > 1 && active.size() % pool.threads() == 0);
  std::vector<int64_t> offsets;
  Scratch<float> partial;
  for (size_t wave_begin = 0; wave_begin < active.size();) {
    // Experts [wave_begin, wave_end) of `active`, at least one, their outputs within the cap.
    size_t wave_end = wave_begin;
    offsets.assign(1, 0);
    while (wave_end < active.size() &&
           (wave_end == wave_begin ||
            offsets.back() + static_cast<int64_t>(rows_of[active[wave_end]].size()) <= kWaveRows)) {
      offsets.push_back(offsets.back() + static_cast<int64_t>(rows_of[active[wave_end]].size()));
      ++wave_end;
    }
    partial = Scratch<float>::zeroed(static_cast<size_t>(offsets.back() * dim));
    std::atomic<size_t> next{wave_begin};
    auto run_experts = [&](int64_t, int64_t, int) {
      std::vector<float> gathered;
      for (size_t i = next.fetch_add(1); i < wave_end; i = next.fetch_add(1)) {
        const int64_t e = active[i];
        const int64_t n = static_cast<int64_t>(rows_of[e].size());
        gathered.resize(static_cast<size_t>(n * dim));
        gather_rows(f, dim, rows_of[e], gathered.data());
        add_expert(weights_.experts[e], gathered.data(), n, weights_of[e].data(),
                   partial.data() + offsets[i - wave_begin] * dim);
      }
    };
    if (whole_experts) {
      pool.parallel_for(pool.threads(), 1, run_experts);
    } else {
      run_experts(0, 1, 0);  // each product spread over the threads by rows instead
    }
    // Added in expert order, whichever thread ran each expert.
    auto add_outputs = [&](int64_t c0, int64_t c1, int) {
      for (size_t i = wave_begin; i < wave_end; ++i) {
        const auto& selected_rows = rows_of[active[i]];
        const float* expert_out = partial.data() + offsets[i - wave_begin] * dim;
        for (size_t j = 0; j < selected_rows.size(); ++j) {
          float* destination = out + selected_rows[j] * dim;
          const float* source = expert_out + static_cast<int64_t>(j) * dim;
          for (int64_t d = c0; d < c1; ++d) destination[d] += source[d];
        }
      }
    };
    if (prompt) {
      pool.parallel_for(dim, 64, add_outputs);  // a prompt's outputs: column ranges per thread
    } else {
      add_outputs(0, dim, 0);  // a decode step's few rows: less work than waking the threads
    }
    wave_begin = wave_end;
  }
}

void Moe::add_expert(const ExpertWeights& expert, const float* x, int64_t rows, const float* routing_weight,
                     float* out) const {
  const int64_t dim = config_.hidden_size, inter = config_.moe_intermediate_size;
  Scratch<float> gate(static_cast<size_t>(rows * inter)), up(gate.size()), down(static_cast<size_t>(rows * dim));
  apply_linear(numerics_, expert.w1, x, rows, gate.data(), ActivationQuant::Allowed);
  apply_linear(numerics_, expert.w3, x, rows, up.data(), ActivationQuant::Allowed);
  // §7.2: the up projection is clamped on both sides, the gate from above only. The fast numerics
  // take the SIMD exp: std::exp cost a one-thread decode ~0.2 ms per token (57K calls).
  const auto swiglu = numerics_.fast_kernels() ? vector_ops().swiglu : vector_kernels::swiglu_scalar;
  for (int64_t r = 0; r < rows; ++r) {
    swiglu(gate.data() + r * inter, up.data() + r * inter, inter, limit_, routing_weight ? routing_weight[r] : 1.0f);
  }
  apply_linear(numerics_, expert.w2, gate.data(), rows, down.data(), ActivationQuant::Allowed);
  for (int64_t i = 0; i < rows * dim; ++i) out[i] += down[i];
}

void Moe::forward(const float* f, int64_t rows, const int32_t* token_ids, float* out) const {
  const ModelConfig& c = config_;
  const int64_t experts = c.n_routed_experts, top_k = c.num_experts_per_tok, dim = c.hidden_size;
  Scratch<float> scores(static_cast<size_t>(rows * experts));
  apply_linear(numerics_, weights_.gate, f, rows, scores.data());
  std::fill(out, out + rows * dim, 0.0f);

  // Route every row, then run each expert once over the rows that chose it.
  std::vector<std::vector<int64_t>> rows_of(static_cast<size_t>(experts));
  std::vector<std::vector<float>> weights_of(static_cast<size_t>(experts));
  std::vector<int64_t> order(static_cast<size_t>(experts));
  std::vector<int64_t> chosen(static_cast<size_t>(top_k));
  for (int64_t r = 0; r < rows; ++r) {
    float* sigma = scores.data() + r * experts;
    for (int64_t e = 0; e < experts; ++e) sigma[e] = std::sqrt(softplus(sigma[e]));
    if (hash_routed_) {
      for (int64_t k = 0; k < top_k; ++k) chosen[k] = token_table_entry(weights_.tid2eid, token_ids[r] * top_k + k);
    } else {  // the bias steers the choice but not the weights
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + top_k, order.end(), [&](int64_t a, int64_t b) {
        const float sa = sigma[a] + bias_[a], sb = sigma[b] + bias_[b];
        return sa > sb || (sa == sb && a < b);
      });
      std::copy(order.begin(), order.begin() + top_k, chosen.begin());
    }
    float total = 0.0f;
    for (int64_t k = 0; k < top_k; ++k) total += sigma[chosen[k]];
    for (int64_t k = 0; k < top_k; ++k) {
      rows_of[chosen[k]].push_back(r);
      weights_of[chosen[k]].push_back(sigma[chosen[k]] / total * static_cast<float>(c.routed_scaling_factor));
    }
  }

  add_routed_experts(f, rows_of, weights_of, rows >= kExpertParallelRows, out);
  add_expert(weights_.shared, f, rows, nullptr, out);
}

}  // namespace lightseek
