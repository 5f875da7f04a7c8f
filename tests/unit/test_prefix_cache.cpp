// The prefix cache: longest-prefix lookup, byte-bounded LRU eviction, and states resumed from it
// (in memory and from disk after a "restart") giving logits bit-identical to a fresh prefill.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "runtime/loaded_model.h"
#include "runtime/prefix_cache.h"
#include "runtime/state_bytes.h"
#include "runtime/state_file.h"
#include "text/chat_encoder.h"

namespace lightseek {
namespace {

// The built-in model: sliding window 16, compression ratios 4 (CSA, overlapping) and 16 (HCA),
// so short prompts cross every kind of boundary.
const LoadedTextModel& exact_builtin() {
  static const std::unique_ptr<LoadedTextModel> model = load_text_model("", "", NumericsOptions{Numerics::Exact, true});
  return *model;
}

std::vector<int32_t> some_tokens(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int32_t> id(100, 20000);
  std::vector<int32_t> tokens(count);
  for (int32_t& token : tokens) token = id(random);
  return tokens;
}

// Runs `tokens` from `state`'s position in one forward call; returns the last row of logits.
std::vector<float> run(const Transformer& model, SequenceState& state, std::span<const int32_t> tokens) {
  std::vector<float> logits;
  SequenceInput input;
  input.state = &state;
  input.tokens = tokens;
  input.logits = &logits;
  input.last_logits_only = true;
  std::vector<SequenceInput> batch{input};
  const_cast<Transformer&>(model).forward(batch);
  return logits;
}

PrefixCacheOptions memory_only(const Transformer& model, uint64_t ram_bytes = 1ull << 30) {
  PrefixCacheOptions options;
  options.ram_bytes = ram_bytes;
  options.expected_layout = model.new_sequence();
  return options;
}

// Saves the state after tokens[0..length) in `cache`.
void save_prefix(PrefixCache& cache, const Transformer& model, std::span<const int32_t> tokens, size_t length) {
  SequenceState state = model.new_sequence();
  const std::vector<float> logits = run(model, state, tokens.first(length));
  cache.insert(tokens.first(length), state, logits);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(PrefixCache, FindsTheLongestSavedPrefixWithinTheLimit) {
  const Transformer& model = *exact_builtin().transformer;
  PrefixCache cache(memory_only(model));
  const std::vector<int32_t> tokens = some_tokens(40, 1);
  save_prefix(cache, model, tokens, 8);
  save_prefix(cache, model, tokens, 20);
  std::vector<int32_t> other = tokens;
  other[5] = 7;  // shares only 5 tokens with both entries
  save_prefix(cache, model, other, 30);

  auto hit = cache.lookup(tokens, 40);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->length, 20);
  EXPECT_EQ(hit->state.length, 20);
  hit = cache.lookup(tokens, 19);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->length, 8);
  EXPECT_FALSE(cache.lookup(std::span<const int32_t>(tokens).first(7), 7));
  hit = cache.lookup(other, 40);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->length, 30);

  const PrefixCacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 3u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.reused_tokens, 58u);
  EXPECT_EQ(stats.entries, 3u);
  EXPECT_EQ(stats.insertions, 3u);
}

TEST(PrefixCache, EvictsTheLeastRecentlyUsedToStayWithinItsBytes) {
  const Transformer& model = *exact_builtin().transformer;
  const std::vector<int32_t> a = some_tokens(24, 2), b = some_tokens(24, 3), c = some_tokens(24, 4);
  SequenceState probe = model.new_sequence();
  const std::vector<float> logits = run(model, probe, a);
  const uint64_t entry_bytes = sequence_state_bytes(probe) + logits.size() * sizeof(float);
  PrefixCache cache(memory_only(model, 2 * entry_bytes + entry_bytes / 2));  // room for two
  save_prefix(cache, model, a, a.size());
  save_prefix(cache, model, b, b.size());
  ASSERT_TRUE(cache.lookup(a, 24));  // a is now the most recently used
  save_prefix(cache, model, c, c.size());
  EXPECT_TRUE(cache.lookup(a, 24));
  EXPECT_FALSE(cache.lookup(b, 24));
  EXPECT_TRUE(cache.lookup(c, 24));
  const PrefixCacheStats stats = cache.stats();
  EXPECT_EQ(stats.evictions, 1u);
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_LE(stats.bytes, 2 * entry_bytes + entry_bytes / 2);
}

TEST(PrefixCache, SavingTheSameTokensAgainReplacesTheEntry) {
  const Transformer& model = *exact_builtin().transformer;
  PrefixCache cache(memory_only(model));
  const std::vector<int32_t> tokens = some_tokens(12, 5);
  save_prefix(cache, model, tokens, 12);
  const uint64_t bytes = cache.stats().bytes;
  save_prefix(cache, model, tokens, 12);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.stats().bytes, bytes);
}

TEST(PrefixCache, RefusesAStateThatDoesNotMatchItsTokens) {
  const Transformer& model = *exact_builtin().transformer;
  PrefixCache cache(memory_only(model));
  const std::vector<int32_t> tokens = some_tokens(10, 6);
  SequenceState state = model.new_sequence();
  const std::vector<float> logits = run(model, state, std::span<const int32_t>(tokens).first(9));
  EXPECT_THROW(cache.insert(tokens, state, logits), Error);
  EXPECT_THROW(cache.insert(std::span<const int32_t>(tokens).first(9), state, {}), Error);
}

// Split points inside a compression window, on the 4- and 16-token boundaries and past the
// sliding window: resuming from the cache and running the rest equals the whole prompt at once.
TEST(PrefixCache, ResumedLogitsEqualAFreshPrefillBitForBitAtManySplitPoints) {
  const Transformer& model = *exact_builtin().transformer;
  const std::vector<int32_t> prompt = some_tokens(53, 7);
  SequenceState fresh = model.new_sequence();
  const std::vector<float> expected = run(model, fresh, prompt);
  for (size_t split : {1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 48, 52, 53}) {
    SCOPED_TRACE("split " + std::to_string(split));
    PrefixCache cache(memory_only(model));
    save_prefix(cache, model, prompt, split);
    auto hit = cache.lookup(prompt, static_cast<int64_t>(prompt.size()));
    ASSERT_TRUE(hit);
    ASSERT_EQ(hit->length, static_cast<int64_t>(split));
    const std::vector<float> resumed = split == prompt.size()
                                           ? hit->last_logits
                                           : run(model, hit->state, std::span<const int32_t>(prompt).subspan(split));
    EXPECT_TRUE(same_bits(resumed, expected));
  }
}

// A rendered agent turn: resuming right after the assistant's tool call, after the tool's result
// and after the next "<｜Assistant｜>" equals processing the whole conversation at once.
TEST(PrefixCache, ResumingAfterAToolCallAndItsResultIsBitExact) {
  const LoadedTextModel& loaded = exact_builtin();
  const Transformer& model = *loaded.transformer;
  const auto messages = parse_chat_messages(nlohmann::ordered_json::parse(R"([
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [{"id": "call_1", "type": "function",
      "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "{\"temperature\": 18}"}])"));
  EncodeOptions options;
  const std::string text = encode_chat(messages, options);
  const std::string call_end = "</｜DSML｜tool_calls>";
  const size_t after_call_text = text.find(call_end);
  ASSERT_NE(after_call_text, std::string::npos) << text;
  const std::vector<int32_t> prompt = loaded.tokenizer->encode(text);
  // The first token boundaries at or after the tool call's end and the tool result's end, and the
  // one right after the last "<｜Assistant｜>".
  const std::string result_end = "</tool_result>";
  const std::vector<size_t> targets = {after_call_text + call_end.size(), text.find(result_end) + result_end.size()};
  std::vector<size_t> splits;
  size_t decoded = 0;
  for (size_t i = 0; i < prompt.size() && splits.size() < targets.size(); ++i) {
    decoded += loaded.tokenizer->token_bytes(prompt[i]).size();
    if (decoded >= targets[splits.size()]) splits.push_back(i + 1);
  }
  splits.push_back(prompt.size() - 1);
  ASSERT_EQ(splits.size(), 3u) << text;
  SequenceState fresh = model.new_sequence();
  const std::vector<float> expected = run(model, fresh, prompt);
  for (size_t split : splits) {
    SCOPED_TRACE("split " + std::to_string(split) + " of " + std::to_string(prompt.size()));
    PrefixCache cache(memory_only(model));
    save_prefix(cache, model, prompt, split);
    auto hit = cache.lookup(prompt, static_cast<int64_t>(prompt.size()));
    ASSERT_TRUE(hit);
    EXPECT_TRUE(same_bits(run(model, hit->state, std::span<const int32_t>(prompt).subspan(split)), expected));
  }
}

class PrefixCacheOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("lightseek-prefix-cache-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  PrefixCacheOptions on_disk(std::string identity = "model-a") {
    PrefixCacheOptions options = memory_only(*exact_builtin().transformer);
    options.disk_directory = directory_;
    options.model_identity = std::move(identity);
    options.report = [this](const std::string& message) { reports_.push_back(message); };
    return options;
  }
  std::vector<std::filesystem::path> files() const {
    std::vector<std::filesystem::path> found;
    for (const auto& item : std::filesystem::directory_iterator(directory_)) found.push_back(item.path());
    return found;
  }

  std::filesystem::path directory_;
  std::vector<std::string> reports_;
};

TEST_F(PrefixCacheOnDisk, ARestartedCacheResumesFromItsFilesBitForBit) {
  const Transformer& model = *exact_builtin().transformer;
  const std::vector<int32_t> prompt = some_tokens(45, 8);
  SequenceState fresh = model.new_sequence();
  const std::vector<float> expected = run(model, fresh, prompt);
  {
    PrefixCache cache(on_disk());
    save_prefix(cache, model, prompt, 21);
    EXPECT_EQ(cache.stats().disk_entries, 1u);
  }
  PrefixCache restarted(on_disk());
  EXPECT_EQ(restarted.stats().disk_entries, 1u);
  EXPECT_EQ(restarted.stats().entries, 0u);
  auto hit = restarted.lookup(prompt, 45);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->length, 21);
  EXPECT_EQ(restarted.stats().disk_loads, 1u);
  EXPECT_TRUE(same_bits(run(model, hit->state, std::span<const int32_t>(prompt).subspan(21)), expected));
  EXPECT_TRUE(reports_.empty());
}

TEST_F(PrefixCacheOnDisk, CorruptTruncatedAndForeignFilesAreReportedAndNeverLoaded) {
  const Transformer& model = *exact_builtin().transformer;
  const std::vector<int32_t> a = some_tokens(20, 9), b = some_tokens(20, 10), c = some_tokens(20, 11);
  {
    PrefixCache cache(on_disk());
    save_prefix(cache, model, a, 20);
    save_prefix(cache, model, b, 20);
  }
  {
    PrefixCache foreign(on_disk("model-b"));
    save_prefix(foreign, model, c, 20);
  }
  std::vector<std::filesystem::path> written = files();
  ASSERT_EQ(written.size(), 3u);
  // Find which file holds which prompt through a cache that reads them all.
  std::filesystem::path file_a, file_b;
  for (const auto& file : written) {
    try {
      const StateFileSummary summary = read_state_file_summary(file, "model-a");
      (summary.tokens == a ? file_a : file_b) = file;
    } catch (const Error&) {
    }
  }
  ASSERT_FALSE(file_a.empty());
  ASSERT_FALSE(file_b.empty());
  {  // a: one payload byte flipped (found only when the payload is read); b: cut short.
    std::fstream out(file_a, std::ios::in | std::ios::out | std::ios::binary);
    out.seekg(-40, std::ios::end);
    char byte = 0;
    out.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x20);
    out.seekp(-40, std::ios::end);
    out.write(&byte, 1);
  }
  std::filesystem::resize_file(file_b, std::filesystem::file_size(file_b) / 2);

  reports_.clear();  // the model-b cache reported model-a's files as foreign
  PrefixCache restarted(on_disk("model-a"));
  EXPECT_FALSE(restarted.lookup(a, 20));
  EXPECT_FALSE(restarted.lookup(b, 20));
  EXPECT_FALSE(restarted.lookup(c, 20));
  EXPECT_EQ(restarted.stats().hits, 0u);
  EXPECT_EQ(restarted.stats().disk_loads, 0u);
  EXPECT_EQ(restarted.stats().disk_rejected, 3u);  // b and c at start-up, a when first read
  EXPECT_EQ(reports_.size(), 3u);
  // Nothing was deleted: a rejected file is left for the user to look at.
  EXPECT_EQ(files().size(), 3u);
}

TEST_F(PrefixCacheOnDisk, DiskBudgetDeletesTheOldestFiles) {
  const Transformer& model = *exact_builtin().transformer;
  PrefixCacheOptions options = on_disk();
  {
    PrefixCache probe(on_disk());
    save_prefix(probe, model, some_tokens(20, 12), 20);
  }
  const uint64_t file_bytes = std::filesystem::file_size(files().front());
  std::filesystem::remove_all(directory_);
  options.disk_bytes = 2 * file_bytes + file_bytes / 2;
  PrefixCache cache(options);
  for (uint32_t seed = 20; seed < 24; ++seed) save_prefix(cache, model, some_tokens(20, seed), 20);
  EXPECT_EQ(files().size(), 2u);
  EXPECT_EQ(cache.stats().disk_evictions, 2u);
  EXPECT_LE(cache.stats().disk_bytes, options.disk_bytes);
}

}  // namespace
}  // namespace lightseek
