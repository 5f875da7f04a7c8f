#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "core/error.h"
#include "eval/verify.h"

namespace lightseek::cli {

namespace {
struct VerifyCommandOptions {
  std::string model_dir;
  std::string expected_file;
  std::string numerics = "exact";
  bool no_act_quant = false;
  double atol = 1e-4;
  std::vector<std::string> cases;
};
}  // namespace

void register_verify(CLI::App& app) {
  auto options = std::make_shared<VerifyCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "verify", "Run the cases of a reference expectation file and compare logits (and MTP logits)");
  command->add_option("-m,--model", options->model_dir, "model directory")->required();
  command->add_option("--expected", options->expected_file, "expectation file, e.g. DIR/expected.safetensors")
      ->required();
  command->add_option("--numerics", options->numerics, "exact | reference | fast (fast passes on top-1 ≥ 99% and mean KL ≤ 1e-3)")->capture_default_str();
  command->add_flag("--no-act-quant", options->no_act_quant,
                    "reference numerics without the FP8 activation quantisation of linears");
  command->add_option("--atol", options->atol, "largest accepted |difference|")->capture_default_str();
  command->add_option("--case", options->cases, "run only these cases (repeatable)");
  command->callback([options] {
    VerifyOptions verify;
    const auto numerics = parse_numerics(options->numerics);
    if (!numerics) fail("--numerics must be exact, reference or fast, got '", options->numerics, "'");
    verify.numerics.mode = *numerics;
    verify.numerics.activation_quant = !options->no_act_quant;
    verify.atol = options->atol;
    if (*numerics == Numerics::Fast) {  // judged against the exact logits by distribution
      verify.min_top1 = 0.99;
      verify.max_mean_kl = 1e-3;
    }
    verify.only_cases = options->cases;
    std::printf("%s\n", format_case_header().c_str());
    int passed = 0, failed = 0;
    verify_expectations(options->model_dir, options->expected_file, verify, [&](const CaseResult& result) {
      std::fputs(format_case_result(result).c_str(), stdout);
      std::fflush(stdout);
      (result.passed() ? passed : failed)++;
    });
    std::printf("%d passed, %d failed\n", passed, failed);
    if (failed > 0 || passed == 0) throw CLI::RuntimeError(1);
  });
}

}  // namespace lightseek::cli
