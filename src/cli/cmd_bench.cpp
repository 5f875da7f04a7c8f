#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/numerics_flags.h"
#include "cli/progress_printer.h"
#include "core/error.h"
#include "runtime/bench_report.h"
#include "runtime/benchmark.h"
#include "runtime/synthetic_checkpoint_cache.h"

namespace lightseek::cli {

namespace {

struct BenchCommandOptions {
  std::string model_dir;
  std::string synthetic;
  int layers = 4;
  int experts = 256;
  int threads = 0;
  NumericsFlags numerics;
  std::vector<int64_t> prompts{512};
  bool no_prefill = false;
  std::vector<int64_t> prefill_contexts{2048, 8192, 32768, 65536};
  int64_t prefill_chunk = 512;
  std::vector<int64_t> contexts{2048, 8192, 32768, 65536};
  int64_t decode_tokens = 16;
  int repetitions = 1;
  uint64_t seed = 1;
  int64_t probe_mib = 0;
  bool json = false;
};

// Flags that were given explicitly; CLI11 counts them.
bool given(const CLI::App* command, const char* name) { return command->count(name) > 0; }

void print_progress(const std::string& message) {
  std::fprintf(stderr, "bench: %s\n", message.c_str());
  std::fflush(stderr);
}

// Which checkpoint to measure: -m DIR, or a synthetic V4-Flash slice generated once into the
// cache. Fills in options.model_dir and the label.
void choose_model(const BenchCommandOptions& flags, const CLI::App* command, BenchOptions& options) {
  const bool synthetic = !flags.synthetic.empty();
  if (synthetic == !flags.model_dir.empty()) fail("bench needs exactly one of -m DIR or --synthetic flash-slice");
  if (!synthetic) {
    if (given(command, "--layers") || given(command, "--experts")) fail("--layers and --experts go with --synthetic");
    options.model_dir = flags.model_dir;
    return;
  }
  if (flags.synthetic != "flash-slice") fail("--synthetic knows only flash-slice, got '", flags.synthetic, "'");
  SyntheticCheckpointProgress progress;
  progress.status = print_progress;
  progress.bytes = ProgressPrinter();
  options.model_dir = ensure_synthetic_flash_slice(flags.layers, flags.experts, progress);
  options.model_label = str_cat("synthetic flash-slice L", flags.layers, " E", flags.experts);
}

}  // namespace

void register_bench(CLI::App& app) {
  auto flags = std::make_shared<BenchCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "bench", "Measure prefill and decode speed, and decode against the memory-bandwidth roofline");
  command->add_option("-m,--model", flags->model_dir, "model directory");
  command->add_option("--synthetic", flags->synthetic,
                      "flash-slice: a synthetic V4-Flash slice (random weights, generated once into the cache)");
  command->add_option("--layers", flags->layers, "--synthetic: V4-Flash layers")->capture_default_str();
  command->add_option("--experts", flags->experts, "--synthetic: routed experts per layer")->capture_default_str();
  command->add_option("--threads", flags->threads, "kernel threads (default: every CPU this process may use)");
  add_numerics_flags(command, flags->numerics, /*with_act_quant_flag=*/true);
  command->add_option("--prompt", flags->prompts, "prompt lengths to prefill (several allowed)")->capture_default_str();
  command->add_option("--prefill-contexts", flags->prefill_contexts,
                      "contexts to prefill a chunk at, filled synthetically (several allowed; those past the "
                      "model's maximum are skipped)")
      ->capture_default_str();
  command->add_option("--prefill-chunk", flags->prefill_chunk, "tokens prefilled at each --prefill-contexts context")
      ->capture_default_str();
  command->add_flag("--no-prefill", flags->no_prefill, "measure decode only");
  command->add_option("--contexts", flags->contexts,
                      "decode contexts, filled synthetically (several allowed; those past the model's maximum are skipped)")
      ->capture_default_str();
  command->add_option("--decode-tokens", flags->decode_tokens, "timed decode steps per context")->capture_default_str();
  command->add_option("--repetitions", flags->repetitions,
                      "runs of each measurement; the tables show the median run and the range (3 or more on a "
                      "shared machine)")
      ->capture_default_str();
  command->add_option("--seed", flags->seed, "seed of the prompt tokens and the synthetic state")->capture_default_str();
  command->add_option("--probe-mib", flags->probe_mib, "buffer of the bandwidth probe in MiB (default: 1024)");
  command->add_flag("--json", flags->json, "print one JSON object instead of tables");
  command->callback([flags, command] {
    BenchOptions options;
    if (given(command, "--threads") && flags->threads < 1) fail("--threads must be at least 1, got ", flags->threads);
    options.threads = flags->threads;
    options.numerics = numerics_options(flags->numerics);
    for (const char* prefill_flag : {"--prompt", "--prefill-contexts", "--prefill-chunk"}) {
      if (flags->no_prefill && given(command, prefill_flag)) {
        fail("--no-prefill and ", prefill_flag, " contradict each other");
      }
    }
    options.prompt_lengths = flags->prompts;
    options.prefill_contexts = flags->prefill_contexts;
    options.prefill_chunk = flags->prefill_chunk;
    if (flags->no_prefill) {
      options.prompt_lengths.clear();
      options.prefill_contexts.clear();
    }
    options.decode_contexts = flags->contexts;
    options.decode_tokens = flags->decode_tokens;
    options.repetitions = flags->repetitions;
    options.seed = flags->seed;
    if (given(command, "--probe-mib") && flags->probe_mib < 1) fail("--probe-mib must be at least 1, got ", flags->probe_mib);
    options.bandwidth_probe_bytes = static_cast<size_t>(flags->probe_mib) << 20;
    // Checked before a synthetic checkpoint is generated: a typo should not cost a 16 GB write.
    check_bench_options(options);
    choose_model(*flags, command, options);

    const BenchReport report = run_benchmark(options, print_progress);
    if (flags->json) {
      std::printf("%s\n", bench_report_json(report).dump(2).c_str());
    } else {
      std::fputs(format_bench_report(report).c_str(), stdout);
    }
  });
}

}  // namespace lightseek::cli
