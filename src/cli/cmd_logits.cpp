#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <numeric>

#include "cli/commands.h"
#include "cli/numerics_flags.h"
#include "core/error.h"
#include "formats/checkpoint.h"
#include "formats/model_binding.h"
#include "model/transformer.h"

namespace lightseek::cli {

namespace {

struct LogitsOptions {
  std::string model_dir;
  std::string prompt_ids;
  NumericsFlags numerics = exact_by_default();
  int top = 10;
};

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || value < 0 || value > INT32_MAX) {
      fail("--prompt-ids: '", item, "' is not a token id (expected comma-separated non-negative integers)");
    }
    ids.push_back(static_cast<int32_t>(value));
    start = comma + 1;
  }
  return ids;
}

}  // namespace

void register_logits(CLI::App& app) {
  auto options = std::make_shared<LogitsOptions>();
  CLI::App* command = app.add_subcommand("logits", "Print the top tokens and logits at the last prompt position");
  command->add_option("-m,--model", options->model_dir, "model directory")->required();
  command->add_option("--prompt-ids", options->prompt_ids, "token ids, e.g. 1,2,3")->required();
  add_numerics_flags(command, options->numerics, /*with_act_quant_flag=*/false);
  command->add_option("--top", options->top, "how many tokens to print")->capture_default_str()->check(
      CLI::PositiveNumber);
  command->callback([options] {
    const std::vector<int32_t> ids = parse_ids(options->prompt_ids);
    const NumericsOptions numerics = numerics_options(options->numerics);
    const ModelConfig config = load_model_config(options->model_dir);
    const Checkpoint checkpoint = Checkpoint::open(options->model_dir);
    const ModelWeights weights = bind_model(config, checkpoint);
    Transformer model(config, weights, numerics);
    SequenceState state = model.new_sequence();
    std::vector<float> logits;
    model.forward(state, ids, logits);
    const float* last = logits.data() + (ids.size() - 1) * config.vocab_size;
    std::vector<int32_t> order(static_cast<size_t>(config.vocab_size));
    std::iota(order.begin(), order.end(), 0);
    const size_t top = std::min<size_t>(static_cast<size_t>(options->top), order.size());
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int32_t a, int32_t b) { return last[a] > last[b] || (last[a] == last[b] && a < b); });
    std::printf("position %zu, top %zu of %lld\n  rank  token      logit\n", ids.size() - 1, top,
                (long long)config.vocab_size);
    for (size_t i = 0; i < top; ++i) std::printf("  %4zu  %6d  %9.5f\n", i + 1, order[i], last[order[i]]);
  });
}

}  // namespace lightseek::cli
