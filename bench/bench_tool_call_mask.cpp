// Strict tool calls' per-token cost on the built-in model's V4 vocabulary (DeepSeek's tokens plus
// V4's specials, ｜DSML｜ among them): masking one 129,280-entry row in the typical states of a
// reply. "walk" builds a fresh constraint for each mask (a state's first visit walks the trie);
// "cached" masks the same state again. docs/serving.md quotes these numbers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/builtin_model.h"
#include "runtime/output_constraint.h"
#include "text/token_mask.h"
#include "text/tokenizer.h"
#include "text/tool_call_grammar.h"
#include "text/tool_call_mask.h"

namespace lightseek {
namespace {

constexpr size_t kHeadRows = 129280;

const Tokenizer& v4_tokenizer() {
  static const Tokenizer loaded = Tokenizer::load_from_model_dir(ensure_builtin_model());
  return loaded;
}

const std::shared_ptr<const ToolCallVocabulary>& v4_vocabulary() {
  static const auto built = ToolCallVocabulary::build(v4_tokenizer(), TokenTrie::build(v4_tokenizer()));
  return built;
}

// get_weather is strict, search is not.
const std::shared_ptr<const ToolCallGrammar>& tools() {
  static const nlohmann::ordered_json weather = nlohmann::ordered_json::parse(R"({
      "type": "object", "additionalProperties": false, "required": ["location"],
      "properties": {"location": {"type": "string"}, "note": {"type": "string", "maxLength": 5},
                     "tags": {"type": "array", "items": {"type": "string"}}}})");
  static const auto compiled =
      ToolCallGrammar::compile({{"get_weather", &weather, "tools[0].function.parameters"}, {"search", nullptr, ""}}, {});
  return compiled;
}

const std::string kOpen = "\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"get_weather\">\n<｜DSML｜parameter name=";

OutputConstraint constraint_after(const std::string& text) {
  const int32_t eos = *v4_tokenizer().token_id("<｜end▁of▁sentence｜>");
  OutputConstraint made(OutputConstraint::Rules{nullptr, tools()}, v4_vocabulary(), eos, std::nullopt);
  for (int32_t id : v4_tokenizer().encode(text)) made.accept(id);
  return made;
}

void mask_row(benchmark::State& state, const std::string& text, bool cached) {
  OutputConstraint constraint = constraint_after(text);
  std::vector<float> logits(kHeadRows, 0.5f);
  constraint.mask(logits);  // what a state's first visit builds once per vocabulary
  for (auto _ : state) {
    state.PauseTiming();
    std::fill(logits.begin(), logits.end(), 0.5f);
    std::optional<OutputConstraint> fresh;
    if (!cached) fresh.emplace(constraint_after(text));
    state.ResumeTiming();
    (fresh ? *fresh : constraint).mask(logits);
    benchmark::DoNotOptimize(logits.data());
  }
}

BENCHMARK_CAPTURE(mask_row, free_content, std::string("Let me check the weather"), true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, markup_walk, kOpen, false)->Unit(benchmark::kMicrosecond)->Iterations(20);
BENCHMARK_CAPTURE(mask_row, markup_cached, kOpen, true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, raw_free_string, kOpen + "\"location\" string=\"true\">Paris centre", true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, raw_string_max_length_walk, kOpen + "\"note\" string=\"true\">ab", false)
    ->Unit(benchmark::kMicrosecond)->Iterations(20);
BENCHMARK_CAPTURE(mask_row, raw_string_max_length_cached, kOpen + "\"note\" string=\"true\">ab", true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, json_value_inside_string, kOpen + "\"tags\" string=\"false\">[\"ab", true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, free_tool_value,
                  std::string("\n\n<｜DSML｜tool_calls>\n<｜DSML｜invoke name=\"search\">\n<｜DSML｜parameter name=\"q\" "
                              "string=\"false\">{\"a\": [1, 2"),
                  true)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace lightseek
