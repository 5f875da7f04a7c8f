// Tokenizer encode throughput (MB/s of UTF-8 input) on the texts bench/tokenizer_bench.sh
// generates. Registered only when LIGHTSEEK_TOKENIZER (a tokenizer.json) and
// LIGHTSEEK_TOKENIZER_TEXTS (a folder of *.txt) are set, so a plain lightseek_bench run skips it.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "text/tokenizer.h"

namespace lightseek {
namespace {

const Tokenizer& bench_tokenizer() {
  static const Tokenizer tokenizer = Tokenizer::load(std::getenv("LIGHTSEEK_TOKENIZER"));
  return tokenizer;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// One call on the whole text, as the npm side measures it; repeated calls keep each
// implementation's BPE word cache warm on both sides.
void encode_text(benchmark::State& state, std::shared_ptr<const std::string> text) {
  const Tokenizer& tokenizer = bench_tokenizer();
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tokenizer.encode(*text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text->size()));
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["bytes"] = static_cast<double>(text->size());
}

const bool registered = [] {
  const char* tokenizer = std::getenv("LIGHTSEEK_TOKENIZER");
  const char* texts = std::getenv("LIGHTSEEK_TOKENIZER_TEXTS");
  if (!tokenizer || !texts) return false;
  for (const char* name : {"prose", "code", "cjk"}) {
    const auto path = std::filesystem::path(texts) / (std::string(name) + ".txt");
    if (!std::filesystem::exists(path)) continue;
    auto text = std::make_shared<const std::string>(read_text(path));
    benchmark::RegisterBenchmark((std::string("Tokenizer/encode/") + name).c_str(), encode_text, text)
        ->Unit(benchmark::kMillisecond)
        ->MinTime(2.0)
        ->UseRealTime();  // the npm side is timed by the wall clock too
  }
  return true;
}();

}  // namespace
}  // namespace lightseek
