// Structured output's per-token cost on DeepSeek's real tokenizer: masking one row of logits
// (129280 entries, as the built-in model's head has) in the typical states of a document. The
// first visit of a structural state walks the vocabulary trie ("walk"); later visits hit the
// mask cache ("cached"); strings use precomputed token classes and are never cached.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/output_constraint.h"
#include "text/json_matcher.h"
#include "text/json_schema.h"
#include "text/token_mask.h"
#include "text/tokenizer.h"

namespace lightseek {
namespace {

constexpr size_t kHeadRows = 129280;

const Tokenizer& tokenizer() {
  static const Tokenizer loaded = Tokenizer::load_from_model_dir(LIGHTSEEK_DEEPSEEK_TOKENIZER_DIR);
  return loaded;
}

const std::shared_ptr<const TokenTrie>& trie() {
  static const auto built = TokenTrie::build(tokenizer());
  return built;
}

const std::shared_ptr<const JsonSchemaGrammar>& grammar() {
  static const auto compiled = JsonSchemaGrammar::compile(nlohmann::ordered_json::parse(R"({
      "type": "object", "additionalProperties": false, "required": ["name", "age"],
      "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                     "tags": {"type": "array", "items": {"type": "string", "maxLength": 20}}}})"),
                                                          "schema");
  return compiled;
}

// The state after `text`: "{" start of object, "{\"name\"" after a key, "{\"name\":\"Ad" inside
// a free string, "{\"age\":12" inside a number.
void mask_row(benchmark::State& state, const std::string& text, bool cached) {
  const int32_t eos = *tokenizer().token_id("<｜end▁of▁sentence｜>");
  OutputConstraint constraint(grammar(), trie(), eos, std::nullopt);
  for (int32_t id : tokenizer().encode(text)) constraint.accept(id);
  std::vector<float> logits(kHeadRows, 0.5f);
  if (cached) constraint.mask(logits);
  for (auto _ : state) {
    state.PauseTiming();
    std::fill(logits.begin(), logits.end(), 0.5f);
    std::optional<OutputConstraint> fresh;
    if (!cached) {
      fresh.emplace(grammar(), trie(), eos, std::nullopt);
      for (int32_t id : tokenizer().encode(text)) fresh->accept(id);
    }
    state.ResumeTiming();
    (fresh ? *fresh : constraint).mask(logits);
    benchmark::DoNotOptimize(logits.data());
  }
}

void BM_JsonMaskTrieBuild(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(TokenTrie::build(tokenizer()));
}

// Once per tokenizer and string-lexer state, on the first string in that state.
void BM_JsonMaskStringClasses(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    const auto fresh = TokenTrie::build(tokenizer());
    state.ResumeTiming();
    benchmark::DoNotOptimize(&fresh->string_classes(0, false));
  }
}

BENCHMARK(BM_JsonMaskStringClasses)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_JsonMaskTrieBuild)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(mask_row, object_start_walk, std::string("{"), false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, object_start_cached, std::string("{"), true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, after_key_walk, std::string("{\"name\""), false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, after_key_cached, std::string("{\"name\""), true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, free_string, std::string("{\"name\":\"Ad"), true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, bounded_string, std::string("{\"tags\":[\"ab"), true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, number_walk, std::string("{\"age\":12"), false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(mask_row, number_cached, std::string("{\"age\":12"), true)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace lightseek
