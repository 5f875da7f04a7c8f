// The vocabulary mask for structured output, on DeepSeek's real tokenizer: the trie walk and
// the string-class shortcut against trying every token, the output constraint's gating of the
// end of sentence and of reasoning, and generation on the built-in model under many seeds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "runtime/conversation.h"
#include "runtime/loaded_model.h"
#include "runtime/output_constraint.h"
#include "text/json_matcher.h"
#include "text/json_schema.h"
#include "text/token_mask.h"
#include "text/tokenizer.h"
#include "cli_runner.h"
#include "test_paths.h"

namespace lightseek {
namespace {

using Json = nlohmann::ordered_json;

const Tokenizer& deepseek_tokenizer() {
  static const Tokenizer tokenizer = Tokenizer::load_from_model_dir(fixture_dir() / "tokenizer" / "deepseek-v3");
  return tokenizer;
}

const std::shared_ptr<const TokenTrie>& deepseek_trie() {
  static const std::shared_ptr<const TokenTrie> trie = TokenTrie::build(deepseek_tokenizer());
  return trie;
}

std::shared_ptr<const JsonSchemaGrammar> compile_schema(const std::string& schema) {
  return JsonSchemaGrammar::compile(Json::parse(schema), "schema");
}

// The definition: a token is allowed when the matcher accepts all its bytes.
TokenBitset brute_force(const TokenTrie& trie, const JsonMatcher& matcher) {
  TokenBitset allowed((static_cast<size_t>(trie.vocab_size()) + 63) / 64, 0);
  JsonMatcher probe(matcher);
  for (int32_t id = 0; id < trie.vocab_size(); ++id) {
    if (!trie.usable(id)) continue;
    probe = matcher;
    if (probe.advance(trie.bytes(id))) allowed[static_cast<size_t>(id) / 64] |= uint64_t{1} << (id % 64);
  }
  return allowed;
}

size_t count(const TokenBitset& bits) {
  size_t total = 0;
  for (uint64_t word : bits) total += static_cast<size_t>(__builtin_popcountll(word));
  return total;
}

TEST(TokenTrie, HoldsEveryTokenButSpecialAndMarkerTokens) {
  const Tokenizer& tokenizer = deepseek_tokenizer();
  const TokenTrie& trie = *deepseek_trie();
  EXPECT_EQ(trie.vocab_size(), tokenizer.vocab_size());
  EXPECT_FALSE(trie.usable(*tokenizer.token_id("<｜end▁of▁sentence｜>")));
  EXPECT_FALSE(trie.usable(*tokenizer.token_id("<｜begin▁of▁sentence｜>")));
  EXPECT_FALSE(trie.usable(*tokenizer.token_id("<｜User｜>")));  // an added token not flagged special
  EXPECT_FALSE(trie.usable(*tokenizer.token_id("<｜tool▁calls▁begin｜>")));
  EXPECT_TRUE(trie.usable(tokenizer.encode("{\"")[0]));
  size_t usable = 0;
  for (int32_t id = 0; id < trie.vocab_size(); ++id) usable += trie.usable(id);
  EXPECT_EQ(usable, trie.token_ids().size());
  EXPECT_GT(usable, 127000u);
}

struct Sample {
  const char* schema;
  const char* document;
};

const Sample kSamples[] = {
    {R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer",
        "minimum": 0, "maximum": 150}, "tags": {"type": "array", "items": {"enum": ["a", "bc"]}, "maxItems": 3}},
        "required": ["name", "age"], "additionalProperties": false})",
     R"({"name": "Ada L\u00f6v\"e", "age": 36, "tags": ["bc","a"]})"},
    {R"({"type": "object"})", "{\"k\u00e9y\": [1.5e3, true, null, {\"x\": \"\xe2\x82\xac\"}]}"},
    {R"({"anyOf": [{"type": "number", "minimum": -1, "maximum": 1}, {"type": "string", "minLength": 3}]})",
     R"("abc\ndef")"},
    {R"({"type": "array", "items": {"type": "number"}})", "[-0.25, 17, 3E+2]"},
    {R"({"type": "object", "properties": {"id": {"type": "string", "pattern": "^[a-f0-9]{2,6}(-x)?$"},
        "note": {"type": "string", "pattern": "é|\\d"}}, "additionalProperties": false})",
     R"({"id":"c0ffee-x","note":"caf\u00e9"})"},
};

TEST(TokenMask, EqualsTryingEveryTokenInManyStates) {
  const TokenTrie& trie = *deepseek_trie();
  int states = 0, string_states = 0;
  for (const Sample& sample : kSamples) {
    const auto grammar = compile_schema(sample.schema);
    const std::string document = sample.document;
    ASSERT_TRUE(Json::accept(document)) << document;
    JsonMatcher matcher(*grammar);
    TokenMasker masker(deepseek_trie());
    // Every few bytes: start, keys, inside strings and escapes, numbers, after values.
    for (size_t length = 0; length <= document.size(); ++length) {
      if (length > 0) {
        ASSERT_TRUE(matcher.advance(static_cast<uint8_t>(document[length - 1]))) << document.substr(0, length);
      }
      if (length % 3 != 0 && length != document.size()) continue;
      const TokenBitset expected = brute_force(trie, matcher);
      EXPECT_EQ(walk_allowed_tokens(trie, matcher), expected) << sample.schema << " after " << document.substr(0, length);
      EXPECT_EQ(masker.allowed(matcher), expected) << sample.schema << " after " << document.substr(0, length);
      EXPECT_EQ(masker.allowed(matcher), expected) << "(cached) after " << document.substr(0, length);
      ++states;
      if (count(expected) > 100000) ++string_states;
    }
  }
  EXPECT_GT(states, 40);
  EXPECT_GT(string_states, 5);  // inside strings nearly the whole vocabulary fits
}

TEST(TokenMask, NearTheEndOfABoundedStringOnlyShortTokensFit) {
  const TokenTrie& trie = *deepseek_trie();
  const auto grammar = compile_schema(R"({"type": "object", "properties": {"s": {"type": "string", "minLength": 2,
      "maxLength": 4}}, "required": ["s"], "additionalProperties": false})");
  TokenMasker masker(deepseek_trie());
  for (const char* prefix : {R"({"s":")", R"({"s":"a)", R"({"s":"ab)", R"({"s":"abc)", R"({"s":"abcd)", R"({"s":"\)"}) {
    JsonMatcher matcher(*grammar);
    ASSERT_TRUE(matcher.advance(prefix));
    EXPECT_EQ(masker.allowed(matcher), brute_force(trie, matcher)) << prefix;
  }
  JsonMatcher full(*grammar);
  ASSERT_TRUE(full.advance(R"({"s":"abcd)"));
  const TokenBitset& allowed = masker.allowed(full);
  EXPECT_TRUE(token_allowed(allowed, *deepseek_tokenizer().token_id("\"}")));
  EXPECT_FALSE(token_allowed(allowed, *deepseek_tokenizer().token_id("e")));
}

std::vector<float> flat_logits(size_t size) { return std::vector<float>(size, 0.0f); }

std::vector<int32_t> allowed_ids(const std::vector<float>& logits) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (!std::isinf(logits[i])) ids.push_back(static_cast<int32_t>(i));
  }
  return ids;
}

TEST(OutputConstraint, EndOfSentenceOnlyWhenTheDocumentIsWhole) {
  const Tokenizer& tokenizer = deepseek_tokenizer();
  const int32_t eos = *tokenizer.token_id("<｜end▁of▁sentence｜>");
  OutputConstraint constraint(compile_schema(R"({"type": "object", "properties": {"n": {"type": "integer"}},
      "required": ["n"], "additionalProperties": false})"), deepseek_trie(), eos, std::nullopt);
  // 10 rows more than the tokenizer has ids, as V4's head has: never allowed.
  auto logits = flat_logits(static_cast<size_t>(tokenizer.vocab_size()) + 10);
  constraint.mask(logits);
  auto ids = allowed_ids(logits);
  EXPECT_THAT(ids, ::testing::Not(::testing::Contains(eos)));
  EXPECT_FALSE(ids.empty());
  for (int32_t id : ids) EXPECT_EQ(tokenizer.token_bytes(id)[0], '{') << id;
  EXPECT_THROW(constraint.accept(tokenizer.encode("[")[0]), Error);
  EXPECT_THROW(constraint.accept(eos), Error);
  for (int32_t id : tokenizer.encode(R"({"n":12)")) constraint.accept(id);
  EXPECT_FALSE(constraint.finished());
  constraint.accept(*tokenizer.token_id("}"));
  EXPECT_TRUE(constraint.finished());
  logits = flat_logits(static_cast<size_t>(tokenizer.vocab_size()));
  constraint.mask(logits);
  EXPECT_THAT(allowed_ids(logits), ::testing::ElementsAre(eos));
  constraint.accept(eos);
  EXPECT_TRUE(constraint.ended());
}

TEST(OutputConstraint, ANumberAtTheTopMayEndOrGoOn) {
  const Tokenizer& tokenizer = deepseek_tokenizer();
  const int32_t eos = *tokenizer.token_id("<｜end▁of▁sentence｜>");
  OutputConstraint constraint(compile_schema(R"({"type": "integer"})"), deepseek_trie(), eos, std::nullopt);
  constraint.accept(*tokenizer.token_id("4"));
  auto logits = flat_logits(static_cast<size_t>(tokenizer.vocab_size()));
  constraint.mask(logits);
  const auto ids = allowed_ids(logits);
  EXPECT_THAT(ids, ::testing::Contains(eos));
  EXPECT_THAT(ids, ::testing::Contains(*tokenizer.token_id("2")));
  EXPECT_FALSE(constraint.finished());
}

TEST(OutputConstraint, ReasoningIsFreeButMustEndBeforeTheAnswer) {
  const Tokenizer& tokenizer = deepseek_tokenizer();
  const int32_t eos = *tokenizer.token_id("<｜end▁of▁sentence｜>");
  const int32_t end_of_thinking = *tokenizer.token_id("<｜tool▁calls▁end｜>");  // stands in for </think> here
  OutputConstraint constraint(JsonSchemaGrammar::any_object(), deepseek_trie(), eos, end_of_thinking);
  auto logits = flat_logits(static_cast<size_t>(tokenizer.vocab_size()));
  constraint.mask(logits);
  EXPECT_EQ(allowed_ids(logits).size(), logits.size() - 1);  // everything but the end of sentence
  EXPECT_THROW(constraint.accept(eos), Error);
  for (int32_t id : tokenizer.encode("Let me think [about] it")) constraint.accept(id);
  EXPECT_FALSE(constraint.constraining());
  constraint.accept(end_of_thinking);
  EXPECT_TRUE(constraint.constraining());
  logits = flat_logits(static_cast<size_t>(tokenizer.vocab_size()));
  constraint.mask(logits);
  for (int32_t id : allowed_ids(logits)) EXPECT_EQ(tokenizer.token_bytes(id)[0], '{') << id;
}

// Generation on the built-in model (random weights, so its choices are arbitrary): whatever
// the seed, the answer is JSON of the schema's shape.
TEST(StructuredGeneration, BuiltInModelAnswersWithMatchingJsonUnderEverySeed) {
  const auto model = load_text_model("", "", NumericsOptions{Numerics::Fast, true});
  const auto vocabulary = TokenTrie::build(*model->tokenizer);
  const char* schema_text = R"({"type": "object", "additionalProperties": false, "required": ["name", "size", "ok"],
      "properties": {"name": {"type": "string", "maxLength": 8}, "size": {"type": "integer", "minimum": -5,
      "maximum": 500}, "ok": {"type": "boolean"}, "kind": {"enum": ["x", "y"]},
      "list": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1}, "maxItems": 2}}})";
  const auto grammar = compile_schema(schema_text);
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    Session session(*model->transformer);
    Conversation conversation(session, *model->tokenizer);
    GenerationSettings settings;
    settings.sampling.seed = seed;
    settings.sampling.temperature = seed % 3 == 0 ? 1.5f : 1.0f;
    settings.stop.stop_token_ids = {model->eos_id};
    settings.stop.max_tokens = 200;
    settings.output_grammar = grammar;
    settings.output_vocabulary = vocabulary;
    const TurnResult turn = conversation.ask("Describe a thing as JSON.", settings, {});
    ASSERT_EQ(turn.generation.reason, StopReason::StopToken) << "seed " << seed << ": " << turn.generation.content;
    const std::string& text = turn.generation.content;
    ASSERT_TRUE(Json::accept(text)) << "seed " << seed << ": " << text;
    const Json value = Json::parse(text);
    ASSERT_TRUE(value.is_object()) << text;
    EXPECT_TRUE(value["name"].is_string() && value["name"].get<std::string>().size() <= 8 * 4) << text;
    EXPECT_TRUE(value["size"].is_number_integer() && value["size"] >= -5 && value["size"] <= 500) << text;
    EXPECT_TRUE(value["ok"].is_boolean()) << text;
    for (const auto& [key, item] : value.items()) {
      EXPECT_TRUE(key == "name" || key == "size" || key == "ok" || key == "kind" || key == "list") << text;
    }
    if (value.contains("kind")) {
      EXPECT_TRUE(value["kind"] == "x" || value["kind"] == "y") << text;
    }
    if (value.contains("list")) {
      EXPECT_LE(value["list"].size(), 2u) << text;
      for (const Json& item : value["list"]) EXPECT_TRUE(item.is_number() && item >= 0 && item <= 1) << text;
    }
  }
}

TEST(StructuredGeneration, RunTakesASchemaFileAndRefusesWhatItCannotEnforce) {
  if (!have_lightseek_binary()) GTEST_SKIP() << "LIGHTSEEK_BIN is not set (run through ctest)";
  const auto dir = test_temp_dir("json_schema_flag");
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const auto unsupported = run_lightseek("run -p hi -n 5 --json-schema " +
                                         write("date.json", R"({"type": "string", "format": "date"})"));
  EXPECT_NE(unsupported.exit_code, 0);
  EXPECT_THAT(unsupported.output, ::testing::HasSubstr("date.json: schema: 'format' is not supported"));
  const auto broken = run_lightseek("run -p hi -n 5 --json-schema " + write("broken.json", "{"));
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_THAT(broken.output, ::testing::HasSubstr("broken.json: not valid JSON"));
  const auto both = run_lightseek("run -p hi -n 5 --json --json-schema " + write("ok.json", "{}"));
  EXPECT_THAT(both.output, ::testing::HasSubstr("give --json or --json-schema, not both"));
  const auto answer = run_lightseek("run -p 'Answer in JSON' -n 200 --seed 3 --json-schema " +
                                    write("flag.json", R"({"type": "object", "required": ["ok"],
                                        "additionalProperties": false, "properties": {"ok": {"type": "boolean"}}})"));
  ASSERT_EQ(answer.exit_code, 0) << answer.output;
  EXPECT_THAT(answer.output, ::testing::HasSubstr("stop: stop token"));
  // stdout (the answer) comes between the built-in model's banner and the summary line.
  const std::string banner_end = "real checkpoint.\n";
  const size_t begin = answer.output.find(banner_end);
  const size_t end = answer.output.rfind("prompt ");
  ASSERT_TRUE(begin != std::string::npos && end != std::string::npos && begin < end) << answer.output;
  const std::string text = answer.output.substr(begin + banner_end.size(), end - begin - banner_end.size());
  ASSERT_TRUE(Json::accept(text)) << text;
  const Json value = Json::parse(text);
  EXPECT_EQ(value.size(), 1u) << text;
  EXPECT_TRUE(value["ok"].is_boolean()) << text;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lightseek
