#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/progress_printer.h"
#include "core/error.h"
#include "formats/synthetic_model.h"

namespace lightseek::cli {

namespace {

struct GenModelOptions {
  std::string preset;
  std::string config_file;
  std::string output_dir;
  int layers = 4;
  int experts = 256;
  bool no_mtp = false;
  bool real_vocab = false;
  int64_t vocab = 0;
  std::string precision = "native";
  uint64_t seed = 1234;
  double shard_gb = 0.0;
};

WeightPrecision parse_precision(const std::string& name) {
  if (name == "native") return WeightPrecision::Native;
  if (name == "bf16") return WeightPrecision::BF16;
  if (name == "f32") return WeightPrecision::F32;
  fail("--precision must be native, bf16 or f32, got '", name, "'");
}

}  // namespace

void register_gen_model(CLI::App& app) {
  auto options = std::make_shared<GenModelOptions>();
  CLI::App* command = app.add_subcommand(
      "gen-model", "Write a synthetic V4 checkpoint (official layout and dtypes, deterministic random weights)");
  command->add_option("--preset", options->preset, "tiny | flash-slice")->check(CLI::IsMember({"tiny", "flash-slice"}));
  command->add_option("--config", options->config_file, "geometry from a config.json (HF or official keys)");
  command->add_option("-o,--output", options->output_dir, "directory to write")->required();
  command->add_option("--layers", options->layers, "flash-slice: number of V4-Flash layers (1-43)")->capture_default_str();
  command->add_option("--experts", options->experts, "flash-slice: routed experts per layer (6-256)")->capture_default_str();
  command->add_flag("--no-mtp", options->no_mtp, "flash-slice: leave out the MTP block");
  command->add_option("--vocab", options->vocab, "flash-slice: vocabulary size instead of 129280");
  command->add_flag("--real-vocab", options->real_vocab, "tiny: DeepSeek's 129280-token vocabulary");
  command->add_option("--precision", options->precision, "native (FP8/FP4 as released) | bf16 | f32")->capture_default_str();
  command->add_option("--seed", options->seed, "random seed")->capture_default_str();
  command->add_option("--shard-gb", options->shard_gb, "split into shards of at most this many GB (0: one file)");
  command->callback([options] {
    const int sources = !options->preset.empty() + !options->config_file.empty();
    if (sources != 1) fail("gen-model needs exactly one of --preset or --config");
    if (options->shard_gb < 0) fail("--shard-gb must not be negative");
    ModelConfig config;
    if (options->preset == "tiny") {
      config = tiny_model_config(options->real_vocab);
    } else if (options->preset == "flash-slice") {
      config = flash_slice_config(options->layers, options->experts, !options->no_mtp, options->vocab);
    } else {
      config = load_model_config(options->config_file);
    }
    SyntheticModelOptions write_options;
    write_options.precision = parse_precision(options->precision);
    write_options.seed = options->seed;
    write_options.max_shard_bytes = static_cast<uint64_t>(options->shard_gb * 1e9);
    write_options.progress = ProgressPrinter();
    write_synthetic_model(options->output_dir, config, write_options);
    std::printf("wrote %s\n", options->output_dir.c_str());
  });
}

}  // namespace lightseek::cli
