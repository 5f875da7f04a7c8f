#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "runtime/model_summary.h"

namespace lightseek::cli {

namespace {
struct InspectOptions {
  std::string model_dir;
  bool json = false;
};
}  // namespace

void register_inspect(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* command = app.add_subcommand(
      "inspect", "Print a model's config, layer schedule, tensor inventory and memory needs");
  command->add_option("-m,--model", options->model_dir, "model directory (config.json + safetensors)")->required();
  command->add_flag("--json", options->json, "print JSON instead of text");
  command->callback([options] {
    const ModelSummary summary = summarize_model(options->model_dir);
    if (options->json) {
      std::printf("%s\n", summary_to_json(summary).dump(2).c_str());
    } else {
      std::fputs(summary_to_text(summary).c_str(), stdout);
    }
    // A checkpoint that does not bind is an error for scripts, even though it was described.
    if (!summary.binding.ok()) throw CLI::RuntimeError(1);
  });
}

}  // namespace lightseek::cli
