#include "cli/numerics_flags.h"

#include <CLI/CLI.hpp>

#include "core/error.h"

namespace lightseek::cli {

void add_numerics_flags(CLI::App* command, NumericsFlags& flags, bool with_act_quant_flag) {
  command->add_option("--numerics", flags.numerics, "fast | exact | reference")->capture_default_str();
  command->add_option("--kv-cache", flags.kv_cache,
                      "f32 | fp8: fp8 applies DeepSeek's KV round trips (spec 9.4) and stores the compressed KV as "
                      "FP8 and index keys as FP4, ~3x smaller (default: f32; always fp8 under reference)");
  if (with_act_quant_flag) {
    command->add_flag("--no-act-quant", flags.no_act_quant,
                      "reference numerics without the FP8 activation quantisation of linears");
  }
}

NumericsOptions numerics_options(const NumericsFlags& flags) {
  const auto mode = parse_numerics(flags.numerics);
  if (!mode) fail("--numerics must be fast, exact or reference, got '", flags.numerics, "'");
  if (!flags.kv_cache.empty() && flags.kv_cache != "f32" && flags.kv_cache != "fp8") {
    fail("--kv-cache must be f32 or fp8, got '", flags.kv_cache, "'");
  }
  if (*mode == Numerics::Reference && flags.kv_cache == "f32") {
    fail("--kv-cache f32 contradicts --numerics reference, which rounds the KV through FP8 (spec 9.4) and stores "
         "it as FP8");
  }
  if (*mode != Numerics::Reference && flags.no_act_quant) fail("--no-act-quant goes with --numerics reference");
  NumericsOptions options;
  options.mode = *mode;
  options.activation_quant = !flags.no_act_quant;
  options.kv_fp8 = *mode != Numerics::Reference && flags.kv_cache == "fp8";
  return options;
}

}  // namespace lightseek::cli
