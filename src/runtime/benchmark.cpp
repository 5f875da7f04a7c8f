#include "runtime/benchmark.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <span>

#include "core/error.h"
#include "core/stage_timer.h"
#include "core/thread_pool.h"
#include "formats/checkpoint.h"
#include "formats/model_binding.h"
#include "model/transformer.h"
#include "runtime/machine_probe.h"
#include "runtime/memory_estimate.h"
#include "runtime/state_bytes.h"
#include "runtime/synthetic_state.h"
#include "runtime/weight_residency.h"
#include "runtime/weight_traffic.h"

namespace lightseek {

namespace {

using Clock = std::chrono::steady_clock;

std::string model_label(const BenchOptions& options) {
  if (!options.model_label.empty()) return options.model_label;
  auto dir = options.model_dir.lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();  // "DIR/"
  return dir.filename().string();
}

}  // namespace

void check_bench_options(const BenchOptions& options) {
  if (options.threads < 0) fail("--threads must be at least 1, got ", options.threads);
  for (int64_t length : options.prompt_lengths) {
    if (length < 1) fail("--prompt lengths must be at least 1 token, got ", length);
  }
  for (int64_t context : options.prefill_contexts) {
    if (context < 1) fail("--prefill-contexts must be at least 1 token, got ", context);
  }
  if (options.prefill_chunk < 1) fail("--prefill-chunk must be at least 1 token, got ", options.prefill_chunk);
  for (int64_t context : options.decode_contexts) {
    if (context < 1) fail("--contexts must be at least 1 token, got ", context);
  }
  if (options.decode_tokens < 1) fail("--decode-tokens must be at least 1, got ", options.decode_tokens);
  if (options.repetitions < 1) fail("--repetitions must be at least 1, got ", options.repetitions);
  if (options.prompt_lengths.empty() && options.prefill_contexts.empty() && options.decode_contexts.empty()) {
    fail("nothing to measure: no prompt length, no prefill context and no decode context");
  }
}

namespace {

int32_t argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Between the smallest and largest decode contexts: every decode state holds its context plus the
// same number of further tokens, so the difference is the growth over the contexts' distance.
std::optional<double> measured_growth_per_token(const std::vector<DecodeReport>& decodes) {
  if (decodes.empty()) return std::nullopt;
  const auto [smallest, largest] = std::minmax_element(
      decodes.begin(), decodes.end(), [](const DecodeReport& a, const DecodeReport& b) { return a.context < b.context; });
  if (largest->context == smallest->context) return std::nullopt;
  const double growth = static_cast<double>(largest->state_bytes) - static_cast<double>(smallest->state_bytes);
  return growth / static_cast<double>(largest->context - smallest->context);
}

// This process's resource usage; all zero if the kernel will not say.
rusage own_usage() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return rusage{};
  return usage;
}

uint64_t peak_rss_bytes() { return static_cast<uint64_t>(own_usage().ru_maxrss) * 1024; }  // KiB on Linux

uint64_t major_page_faults() { return static_cast<uint64_t>(own_usage().ru_majflt); }

// "  12.3 tok/s", and with several runs "  12.3 tok/s (median of 11.9, 12.3, 14.0)".
std::string speed_message(double tok_s, const std::vector<double>& run_tok_s) {
  std::string message = str_cat("  ", tok_s, " tok/s");
  if (run_tok_s.size() < 2) return message;
  const char* separator = " (median of ";
  for (double run : run_tok_s) {
    message += str_cat(separator, run);
    separator = ", ";
  }
  return message + ")";
}

std::string runs_suffix(int repetitions) { return repetitions > 1 ? str_cat(", ", repetitions, " runs") : ""; }

// Everything the measurements need, alive together: the transformer points into the weights,
// which point into the mapped checkpoint.
struct BenchModel {
  ModelConfig config;
  Checkpoint checkpoint;
  ModelWeights weights;
  std::unique_ptr<Transformer> transformer;
};

class Runner {
 public:
  Runner(const BenchOptions& options, BenchModel& model)
      : options_(options), model_(model), random_(options.seed) {}

  // One token through a fresh state, so the first measurement does not pay for first-use setup
  // (pool wake-up, lazily built tables).
  void warm_up() {
    SequenceState state = model_.transformer->new_sequence();
    std::vector<float> logits;
    const int32_t token = random_tokens(1)[0];
    model_.transformer->forward(state, std::span(&token, 1), logits);
  }

  PrefillReport prefill(int64_t prompt_tokens) {
    return median_run<PrefillReport>([&] {
      SequenceState state = model_.transformer->new_sequence();
      PrefillReport report;
      report.prompt_tokens = prompt_tokens;
      report.seconds = timed_prefill(state, prompt_tokens, report.stage_seconds, report.major_faults);
      report.tok_s = report.seconds > 0 ? static_cast<double>(prompt_tokens) / report.seconds : 0.0;
      return report;
    });
  }

  // No warm-up of its own: the plain prefills (or warm_up()) already paid for first-use setup, and
  // an untimed chunk first would move the state past `context` or cost a second synthetic fill.
  PrefillAtContextReport prefill_at(int64_t context) {
    return median_run<PrefillAtContextReport>([&] {
      SequenceState state = model_.transformer->new_sequence();
      fill_synthetic_state(state, model_.config, context, options_.seed + static_cast<uint64_t>(context));
      PrefillAtContextReport report;
      report.context = context;
      report.tokens = options_.prefill_chunk;
      report.seconds = timed_prefill(state, options_.prefill_chunk, report.stage_seconds, report.major_faults);
      report.tok_s = report.seconds > 0 ? static_cast<double>(report.tokens) / report.seconds : 0.0;
      return report;
    });
  }

  DecodeReport decode(int64_t context) {
    SequenceState state = model_.transformer->new_sequence();
    fill_synthetic_state(state, model_.config, context, options_.seed + static_cast<uint64_t>(context));
    std::vector<float> logits;
    int32_t token = random_tokens(1)[0];
    // The first step after a fresh state touches buffers and weights the timed ones reuse.
    model_.transformer->forward(state, std::span(&token, 1), logits);
    token = argmax(logits);
    DecodeReport report = median_run<DecodeReport>([&] { return timed_decode(state, token, logits); });
    report.context = context;
    report.state_bytes = sequence_state_bytes(state);
    return report;
  }

 private:
  // options_.repetitions runs of `measure`: the median one (see PrefillReport), with every run's
  // tok/s and the major faults of all.
  template <typename Report, typename Measure>
  Report median_run(Measure&& measure) {
    std::vector<Report> runs;
    for (int i = 0; i < options_.repetitions; ++i) runs.push_back(measure());
    std::vector<size_t> order(runs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return runs[a].tok_s < runs[b].tok_s; });
    Report median = runs[order[(order.size() - 1) / 2]];
    median.major_faults = 0;
    for (const Report& run : runs) {
      median.run_tok_s.push_back(run.tok_s);
      median.major_faults += run.major_faults;
    }
    return median;
  }

  // options_.decode_tokens greedy steps of `state` from `token`, which they advance.
  DecodeReport timed_decode(SequenceState& state, int32_t& token, std::vector<float>& logits) {
    StageTimes& stages = StageTimes::global();
    stages.reset();
    stages.enable(true);
    const uint64_t faults_before = major_page_faults();
    const int64_t parallel_before = kernel_pool().parallel_nanoseconds();
    const auto start = Clock::now();
    for (int64_t i = 0; i < options_.decode_tokens; ++i) {
      model_.transformer->forward(state, std::span(&token, 1), logits);
      token = argmax(logits);  // greedy, as a real decode would feed its own output back
    }
    const double seconds = seconds_since(start);
    const int64_t parallel = kernel_pool().parallel_nanoseconds() - parallel_before;
    stages.enable(false);

    DecodeReport report;
    if (kernel_pool().threads() > 1) {
      report.serial_ms_per_token =
          std::max(0.0, 1e3 * seconds - static_cast<double>(parallel) / 1e6) / static_cast<double>(options_.decode_tokens);
    }
    report.major_faults = major_page_faults() - faults_before;
    report.tokens = options_.decode_tokens;
    report.seconds = seconds;
    report.tok_s = seconds > 0 ? static_cast<double>(report.tokens) / seconds : 0.0;
    report.ms_per_token = 1e3 * seconds / static_cast<double>(report.tokens);
    for (int s = 0; s < static_cast<int>(Stage::Count); ++s) {
      report.stage_ms[static_cast<size_t>(s)] =
          static_cast<double>(stages.nanoseconds(static_cast<Stage>(s))) / 1e6 / static_cast<double>(report.tokens);
    }
    stages.reset();
    return report;
  }

  // Seconds of one forward of `count` random tokens appended to `state`, and by stage.
  double timed_prefill(SequenceState& state, int64_t count, StageSeconds& stage_seconds, uint64_t& major_faults) {
    const std::vector<int32_t> tokens = random_tokens(count);
    std::vector<float> logits;
    std::vector<SequenceInput> batch(1);
    batch[0].state = &state;
    batch[0].tokens = tokens;
    batch[0].logits = &logits;
    batch[0].last_logits_only = true;  // a prompt needs the next token's distribution only
    StageTimes& stages = StageTimes::global();
    stages.reset();
    stages.enable(true);
    const uint64_t faults_before = major_page_faults();
    const auto start = Clock::now();
    model_.transformer->forward(batch);
    const double seconds = seconds_since(start);
    major_faults = major_page_faults() - faults_before;
    stages.enable(false);
    for (int s = 0; s < static_cast<int>(Stage::Count); ++s) {
      stage_seconds[static_cast<size_t>(s)] = static_cast<double>(stages.nanoseconds(static_cast<Stage>(s))) / 1e9;
    }
    stages.reset();
    return seconds;
  }

  std::vector<int32_t> random_tokens(int64_t count) {
    std::uniform_int_distribution<int32_t> id(0, static_cast<int32_t>(model_.config.vocab_size - 1));
    std::vector<int32_t> tokens(static_cast<size_t>(count));
    for (int32_t& token : tokens) token = id(random_);
    return tokens;
  }

  const BenchOptions& options_;
  BenchModel& model_;
  std::mt19937_64 random_;
};

}  // namespace

BenchReport run_benchmark(const BenchOptions& options, const std::function<void(const std::string&)>& progress) {
  check_bench_options(options);
  auto say = [&](const std::string& message) {
    if (progress) progress(message);
  };
  BenchReport report;
  report.model = model_label(options);
  report.numerics = numerics_label(options.numerics);
  report.repetitions = options.repetitions;
  report.coded_kv = options.numerics.kv_roundtrip();
  report.machine.threads = options.threads > 0 ? options.threads : default_thread_count();
  // Before the transformer exists: it may size buffers by the pool.
  set_kernel_threads(report.machine.threads);

  say("probing memory bandwidth");
  report.machine.bandwidth_probes_gbps.push_back(
      measure_read_bandwidth_gbps(report.machine.threads, options.bandwidth_probe_bytes));

  say("loading " + options.model_dir.string());
  const auto load_start = Clock::now();
  BenchModel model;
  model.config = load_model_config(options.model_dir);
  model.checkpoint = Checkpoint::open(options.model_dir);
  model.weights = bind_model(model.config, model.checkpoint);
  model.transformer = std::make_unique<Transformer>(model.config, model.weights, options.numerics);
  report.load_seconds = seconds_since(load_start);
  // As `run` and `chat` do: map every page now, so that timed steps do not fault in experts
  // (an 8-step decode of the 16 GB slice took ~275k faults without this).
  const auto populate_start = Clock::now();
  report.weights_populated = populate_if_it_fits(model.checkpoint);
  report.populate_seconds = seconds_since(populate_start);
  report.bytes_per_token = decode_weight_bytes_per_token(model.config, model.weights);

  Runner runner(options, model);
  runner.warm_up();
  for (int64_t length : options.prompt_lengths) {
    if (length > model.config.max_position_embeddings) {
      fail("a prompt of ", length, " tokens is longer than the model's maximum of ",
           model.config.max_position_embeddings, " positions");
    }
    say(str_cat("prefill of ", length, " tokens", runs_suffix(options.repetitions)));
    report.prefill.push_back(runner.prefill(length));
    say(speed_message(report.prefill.back().tok_s, report.prefill.back().run_tok_s));
  }
  for (int64_t context : options.prefill_contexts) {
    if (context + options.prefill_chunk > model.config.max_position_embeddings) {
      say(str_cat("skipping prefill at context ", context, ": past the model's maximum of ",
                  model.config.max_position_embeddings, " positions"));
      report.skipped_prefill_contexts.push_back(context);
      continue;
    }
    say(str_cat("prefill of ", options.prefill_chunk, " tokens at context ", context, " (synthetic state",
                runs_suffix(options.repetitions), ")"));
    report.prefill_sweep.push_back(runner.prefill_at(context));
    say(speed_message(report.prefill_sweep.back().tok_s, report.prefill_sweep.back().run_tok_s));
  }
  for (int64_t context : options.decode_contexts) {
    // The state holds `context` tokens; the warm-up and every run's timed steps take the next
    // positions.
    if (context + 1 + options.repetitions * options.decode_tokens > model.config.max_position_embeddings) {
      say(str_cat("skipping decode at context ", context, ": past the model's maximum of ",
                  model.config.max_position_embeddings, " positions"));
      report.skipped_contexts.push_back(context);
      continue;
    }
    say(str_cat("decode of ", options.decode_tokens, " tokens at context ", context, " (synthetic state",
                runs_suffix(options.repetitions), ")"));
    DecodeReport decode = runner.decode(context);
    decode.bytes_per_token = report.bytes_per_token;
    report.decode.push_back(decode);
    say(speed_message(decode.tok_s, decode.run_tok_s));
  }
  report.peak_rss_bytes = peak_rss_bytes();
  report.kv_bytes_per_token_measured = measured_growth_per_token(report.decode);
  for (KvStorage storage : {KvStorage::Bf16, KvStorage::Fp8, KvStorage::Fp8Fp4Index}) {
    report.kv_bytes_per_token_estimates.emplace_back(std::string(kv_storage_name(storage)),
                                                     kv_bytes_per_token(model.config, storage));
  }

  say("probing memory bandwidth and FMA throughput");
  report.machine.bandwidth_probes_gbps.push_back(
      measure_read_bandwidth_gbps(report.machine.threads, options.bandwidth_probe_bytes));
  report.machine.bandwidth_gbps =
      *std::max_element(report.machine.bandwidth_probes_gbps.begin(), report.machine.bandwidth_probes_gbps.end());
  report.machine.peak_gflops = measure_peak_gflops(report.machine.threads);
  report.machine.isa = std::string(peak_flops_isa());
  for (DecodeReport& decode : report.decode) {
    if (report.machine.bandwidth_gbps > 0) {
      decode.roofline_fraction =
          static_cast<double>(decode.bytes_per_token) * decode.tok_s / (report.machine.bandwidth_gbps * 1e9);
    }
  }
  return report;
}

}  // namespace lightseek
