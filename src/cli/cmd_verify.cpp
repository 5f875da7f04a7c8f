#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "cli/numerics_flags.h"
#include "core/error.h"
#include "eval/verify.h"

namespace lightseek::cli {

namespace {
struct VerifyCommandOptions {
  std::string model_dir;
  std::string expected_file;
  NumericsFlags numerics = exact_by_default();
  double atol = 1e-4;
  std::vector<std::string> cases;
};
}  // namespace

void register_verify(CLI::App& app) {
  auto options = std::make_shared<VerifyCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "verify",
      "Run the cases of a reference expectation file and compare logits (and MTP logits): within --atol, or under "
      "--numerics fast by top-1 >= 99% and mean KL <= 1e-3 per case (with --kv-cache fp8 by the mean KL only)");
  command->add_option("-m,--model", options->model_dir, "model directory")->required();
  command->add_option("--expected", options->expected_file, "expectation file, e.g. DIR/expected.safetensors")
      ->required();
  add_numerics_flags(command, options->numerics, /*with_act_quant_flag=*/true);
  command->add_option("--atol", options->atol, "largest accepted |difference|")->capture_default_str();
  command->add_option("--case", options->cases, "run only these cases (repeatable)");
  command->callback([options] {
    VerifyOptions verify = verify_options_for(numerics_options(options->numerics));
    verify.atol = options->atol;
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
