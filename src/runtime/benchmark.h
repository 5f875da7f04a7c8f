// `lightseek bench`: prefill and decode speed of a checkpoint on this machine, and how close
// decode comes to its memory roofline (weight bytes per token × tokens/s ÷ read bandwidth).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/stage_timer.h"
#include "model/numerics.h"

namespace lightseek {

struct BenchOptions {
  std::filesystem::path model_dir;
  std::string model_label;  // what the report calls the model; empty: the directory's name
  int threads = 0;          // 0: every CPU this process may use
  NumericsOptions numerics{Numerics::Fast};
  std::vector<int64_t> prompt_lengths{512};
  // Prefill deep into a conversation: one chunk of `prefill_chunk` tokens after a state filled
  // synthetically to each context (attention then reads the whole context, which a prefill from
  // an empty state never shows). Contexts without room for the chunk are skipped and listed.
  std::vector<int64_t> prefill_contexts{2048, 8192, 32768, 65536};
  int64_t prefill_chunk = 512;
  // Contexts the model cannot reach (past max_position_embeddings) are skipped and listed.
  std::vector<int64_t> decode_contexts{2048, 8192, 32768, 65536};
  int64_t decode_tokens = 16;
  // Runs of each measurement; the report keeps the median run. A shared machine (a VM beside
  // busy neighbours) moves single runs by ±25%, more than many changes are worth.
  int repetitions = 1;
  uint64_t seed = 1;
  size_t bandwidth_probe_bytes = 0;  // 0: measure_read_bandwidth_gbps's default (1 GiB)
};

struct MachineReport {
  int threads = 0;
  double bandwidth_gbps = 0;  // the best of bandwidth_probes_gbps: the roofline's denominator
  // The read-bandwidth probe before the measurements and after them: on a shared machine one
  // probe can catch a slow moment and flatter every roofline fraction.
  std::vector<double> bandwidth_probes_gbps;
  double peak_gflops = 0;
  std::string isa;
};

using StageSeconds = std::array<double, static_cast<size_t>(Stage::Count)>;

// With repetitions, each report is its median run (by tok/s; the slower middle one for an even
// count), and run_tok_s lists every run's tok/s in the order they ran.
struct PrefillReport {
  int64_t prompt_tokens = 0;
  double seconds = 0;
  double tok_s = 0;
  StageSeconds stage_seconds{};  // of the whole prompt, by Stage
  // Pages read from disk while timing any run (getrusage's major faults): the weights had left the
  // page cache, so the figure measures the disk as well as the engine.
  uint64_t major_faults = 0;
  std::vector<double> run_tok_s{};  // every run's, in the order they ran
};

struct PrefillAtContextReport {
  int64_t context = 0;  // tokens in the synthetic state before the chunk
  int64_t tokens = 0;   // the chunk
  double seconds = 0;
  double tok_s = 0;
  StageSeconds stage_seconds{};  // of the whole chunk, by Stage
  // Pages read from disk while timing any run (getrusage's major faults): the weights had left the
  // page cache, so the figure measures the disk as well as the engine.
  uint64_t major_faults = 0;
  std::vector<double> run_tok_s{};  // every run's, in the order they ran
};

struct DecodeReport {
  int64_t context = 0;  // tokens in the state before the first timed step
  int64_t tokens = 0;   // timed steps of one run
  double seconds = 0;
  double tok_s = 0;
  double ms_per_token = 0;
  uint64_t bytes_per_token = 0;
  double roofline_fraction = 0;
  // sequence_state_bytes after the timed steps. The runs continue one state, each from where the
  // last ended: a few steps more of context change a decode step's cost by nothing measurable,
  // where a fresh synthetic state per run would cost a fill each.
  uint64_t state_bytes = 0;
  std::array<double, static_cast<size_t>(Stage::Count)> stage_ms{};  // per token, by Stage
  // With several threads: the time per token outside the kernel pool's parallel regions, when the
  // calling thread worked alone (norms, routing, the hyper-connections' mixing, dispatch). It is
  // what more threads cannot shorten. Empty on one thread, where everything runs alone.
  std::optional<double> serial_ms_per_token{};
  // Pages read from disk while timing any run (getrusage's major faults): the weights had left the
  // page cache, so the figure measures the disk as well as the engine.
  uint64_t major_faults = 0;
  std::vector<double> run_tok_s{};  // every run's, in the order they ran
};

struct BenchReport {
  std::string model;
  int repetitions = 1;
  std::string numerics;
  bool coded_kv = false;  // compressed KV as FP8, index keys as FP4 (numerics.kv_roundtrip())
  MachineReport machine;
  double load_seconds = 0;
  bool weights_populated = false;  // every page mapped before timing (the weights fit in RAM)
  double populate_seconds = 0;
  uint64_t bytes_per_token = 0;  // decode_weight_bytes_per_token
  // Decode contexts are filled by fill_synthetic_state, not by a prefill.
  bool synthetic_state = true;
  std::vector<PrefillReport> prefill;
  std::vector<PrefillAtContextReport> prefill_sweep;
  std::vector<int64_t> skipped_prefill_contexts;
  std::vector<DecodeReport> decode;
  std::vector<int64_t> skipped_contexts;
  // Growth of the measured state per token of context: the state_bytes difference between the
  // smallest and largest decode contexts over their distance (exact when the distance is a
  // multiple of every compress ratio). Empty with fewer than two distinct decode contexts.
  std::optional<double> kv_bytes_per_token_measured;
  // memory_estimate's kv_bytes_per_token for each KvStorage, by kv_storage_name. None of them is
  // exactly what the state holds (float32, or FP8 with float32 RoPE channels), so all are listed
  // for comparison. The estimate counts MTP blocks; the measured state is the main sequence's only.
  std::vector<std::pair<std::string, double>> kv_bytes_per_token_estimates;
  uint64_t peak_rss_bytes = 0;  // of the model runs, before the machine probes
};

// Throws Error naming the first invalid option (a negative thread count, a non-positive length).
// run_benchmark checks too; front ends call it first to fail before costly preparations.
void check_bench_options(const BenchOptions& options);

// Loads the model, runs each prefill and decode measurement, then probes the machine (last, so
// the probe's buffer does not count in the peak RSS). `progress` receives one-line messages.
// Throws Error for invalid options (no thread, a non-positive length) and unloadable models.
BenchReport run_benchmark(const BenchOptions& options, const std::function<void(const std::string&)>& progress = {});

}  // namespace lightseek
