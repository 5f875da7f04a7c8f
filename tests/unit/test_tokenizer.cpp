// The byte-level BPE tokenizer (spec §12.1) against the ids the HF tokenizers library (Rust)
// produces for DeepSeek-V3's tokenizer.json (tests/fixtures/tokenizer/deepseek-v3/README.md),
// plus its decoders, its errors, and the `tokenize`/`detokenize` subcommands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include "core/error.h"
#include "test_paths.h"
#include "text/byte_level.h"
#include "text/onig_syntax.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace lightseek {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::filesystem::path deepseek_dir() { return fixture_dir() / "tokenizer" / "deepseek-v3"; }

// Loading the 7.8 MB file takes a while under the sanitizers: load it once for all tests.
const Tokenizer& deepseek() {
  static const Tokenizer tokenizer = Tokenizer::load_from_model_dir(deepseek_dir());
  return tokenizer;
}

std::string read_binary(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::vector<json> read_jsonl(const std::filesystem::path& path) {
  std::vector<json> lines;
  std::ifstream in(path, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(json::parse(line));
  }
  return lines;
}

struct LlamaCppCase {
  std::string text;
  std::vector<int32_t> ids;
};

// The llama.cpp format: strings separated by "\n__ggml_vocab_test__\n" (the last piece is
// empty), and one line of " id id ..." per string.
std::vector<LlamaCppCase> read_llamacpp(const std::string& stem) {
  const std::string inputs = read_binary(deepseek_dir() / (stem + ".inp"));
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t start = 0;
  for (size_t found; (found = inputs.find(separator, start)) != std::string::npos; start = found + separator.size()) {
    texts.push_back(inputs.substr(start, found - start));
  }
  EXPECT_EQ(start, inputs.size()) << "the last piece after the final separator should be empty";
  std::ifstream out(deepseek_dir() / (stem + ".out"), std::ios::binary);
  std::vector<LlamaCppCase> cases;
  std::string line;
  for (const auto& text : texts) {
    if (!std::getline(out, line)) break;
    LlamaCppCase entry{text, {}};
    std::istringstream ids(line);
    for (int32_t id; ids >> id;) entry.ids.push_back(id);
    cases.push_back(std::move(entry));
  }
  EXPECT_EQ(cases.size(), texts.size()) << stem << ".out has fewer lines than " << stem << ".inp has strings";
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Expected ids from the Rust reference.

TEST(TokenizerFixtures, CasesJsonlMatchTheReferenceIdsTokensAndDecoding) {
  const auto cases = read_jsonl(deepseek_dir() / "cases.jsonl");
  ASSERT_EQ(cases.size(), 83u);
  for (const auto& entry : cases) {
    const auto text = entry["text"].get<std::string>();
    const auto ids = deepseek().encode(text);
    EXPECT_EQ(ids, entry["ids"].get<std::vector<int32_t>>()) << "text: " << entry["text"].dump();
    // The token strings name the same ids (the vocabulary is read in the byte-level alphabet).
    const auto tokens = entry["tokens"].get<std::vector<std::string>>();
    ASSERT_EQ(tokens.size(), ids.size()) << entry["text"].dump();
    for (size_t i = 0; i < tokens.size(); ++i) EXPECT_EQ(deepseek().token_id(tokens[i]), ids[i]) << tokens[i];
    EXPECT_EQ(deepseek().decode(ids), entry["decoded"].get<std::string>());
  }
}

TEST(TokenizerFixtures, ChatPromptsMatchTheReferenceIds) {
  const auto cases = read_jsonl(deepseek_dir() / "chat.jsonl");
  ASSERT_EQ(cases.size(), 8u);
  for (const auto& entry : cases) {
    const auto text = entry["text"].get<std::string>();
    const auto ids = deepseek().encode(text);
    EXPECT_EQ(ids, entry["ids"].get<std::vector<int32_t>>()) << "text: " << entry["text"].dump();
    EXPECT_EQ(deepseek().decode(ids), text);
  }
}

TEST(TokenizerFixtures, LlamaCppVocabTestMatchesTheReferenceIds) {
  const auto cases = read_llamacpp("llamacpp-vocab-test");
  EXPECT_EQ(cases.size(), 46u);
  for (const auto& entry : cases) EXPECT_EQ(deepseek().encode(entry.text), entry.ids) << json(entry.text).dump();
}

TEST(TokenizerFixtures, ExtraStringsMatchTheReferenceIds) {
  const auto cases = read_llamacpp("extra");
  EXPECT_EQ(cases.size(), 37u);
  for (const auto& entry : cases) EXPECT_EQ(deepseek().encode(entry.text), entry.ids) << json(entry.text).dump();
}

// U+0085 is white space for the Rust reference's \s (and for lightseek), not for JavaScript's.
TEST(TokenizerFixtures, NextLineIsWhiteSpaceAsInTheRustReference) {
  int found = 0;
  for (const auto& entry : read_jsonl(deepseek_dir() / "cases.jsonl")) {
    const auto text = entry["text"].get<std::string>();
    if (text.find("\xC2\x85") == std::string::npos) continue;
    ++found;
    EXPECT_EQ(deepseek().encode(text), entry["ids"].get<std::vector<int32_t>>());
  }
  EXPECT_EQ(found, 2);
}

// ---------------------------------------------------------------------------------------------
// Round trips, special tokens, errors.

TEST(TokenizerRoundTrip, DecodeOfEncodeGivesTheTextBack) {
  std::vector<std::string> texts = {
      "",
      "Hello, world! It's a test: don't we'll they've",
      "  leading spaces\tand\ttabs\r\n\r\nCRLF runs\n\n\n",
      "数字 1234567890 and ١٢٣ and 3.14159",
      "日本語のテキストと한국어 텍스트, ภาษาไทย, العربية, हिन्दी",
      "emoji 👨‍👩‍👧‍👦 👍🏽 🏳️‍🌈 and e\u0301 combining",
      "next\xC2\x85line, no\xC2\xA0" "break, ideographic\xE3\x80\x80space",
      "<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜></think>",
      "def f(x):\n    return {'a': [1, 2]}  # comment\n",
  };
  for (const auto& entry : read_jsonl(deepseek_dir() / "cases.jsonl")) texts.push_back(entry["text"].get<std::string>());
  for (const auto& text : texts) EXPECT_EQ(deepseek().decode(deepseek().encode(text)), text) << json(text).dump();
}

TEST(TokenizerSpecial, IdsComeFromTheFile) {
  const Tokenizer& tokenizer = deepseek();
  EXPECT_EQ(tokenizer.vocab_size(), 128815);
  EXPECT_EQ(tokenizer.bos_id(), 0);
  EXPECT_EQ(tokenizer.eos_id(), 1);
  EXPECT_EQ(tokenizer.token_id("<｜begin▁of▁sentence｜>"), 0);
  EXPECT_EQ(tokenizer.token_id("<｜User｜>"), 128803);
  EXPECT_EQ(tokenizer.token_id("<｜Assistant｜>"), 128804);
  EXPECT_EQ(tokenizer.token_id("<｜tool▁sep｜>"), 128814);
  EXPECT_EQ(tokenizer.token_id("Ġthe"), 270);  // a vocabulary entry, in the byte-level alphabet
  EXPECT_EQ(tokenizer.token_id("no such token"), std::nullopt);
  // "special" is as the file says: BOS/EOS/pad and <|EOT|> are, the turn markers are not.
  EXPECT_TRUE(tokenizer.is_special(0));
  EXPECT_TRUE(tokenizer.is_special(1));
  EXPECT_TRUE(tokenizer.is_special(128805));
  EXPECT_FALSE(tokenizer.is_special(128803));
  EXPECT_FALSE(tokenizer.is_special(270));
}

TEST(TokenizerSpecial, TokensWrittenInTheTextAreMatchedAsWholeStrings) {
  const Tokenizer& tokenizer = deepseek();
  const auto ids = tokenizer.encode("<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>");
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids.front(), 0);
  EXPECT_EQ(ids[1], 128803);
  EXPECT_EQ(ids.back(), 128804);
  // A token cut short is plain text.
  const auto partial = tokenizer.encode("<｜User");
  EXPECT_THAT(partial, ::testing::Not(::testing::Contains(128803)));
  // skip_special drops the special ones only.
  EXPECT_EQ(tokenizer.decode(ids, /*skip_special=*/true), "<｜User｜>Hi<｜Assistant｜>");
  EXPECT_EQ(tokenizer.decode(ids), "<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>");
}

TEST(TokenizerErrors, InvalidUtf8NamesTheByteOffset) {
  const std::vector<std::pair<std::string, size_t>> cases = {
      {"ab\xFF" "cd", 2},               // never a UTF-8 byte
      {"abc\x80", 3},                   // lone continuation byte
      {"x\xC0\x80", 1},                 // overlong NUL
      {"xy\xED\xA0\x80", 2},            // a surrogate
      {"\xF4\x90\x80\x80", 0},          // above U+10FFFF
      {"ok \xE2\x82", 3},               // cut off at the end
      {"0123456789\xE2\x28\xA1", 10},   // bad second byte, after the ASCII fast path
  };
  for (const auto& [text, offset] : cases) {
    try {
      deepseek().encode(text);
      ADD_FAILURE() << "no error for the case with offset " << offset;
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr("invalid UTF-8"));
      EXPECT_THAT(error.what(), HasSubstr("byte offset " + std::to_string(offset)));
    }
  }
}

TEST(TokenizerErrors, UnknownIdsAreErrors) {
  EXPECT_THROW(deepseek().decode({5, 128815}), Error);
  EXPECT_THROW(deepseek().token_bytes(-1), Error);
  EXPECT_FALSE(deepseek().is_special(-1));
}

TEST(TokenizerThreads, ConcurrentEncodesAgreeWithTheReference) {
  // Each thread borrows its own matchers and word cache; results must not depend on sharing.
  const auto cases = read_jsonl(deepseek_dir() / "cases.jsonl");
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (const auto& entry : cases) {
          if (deepseek().encode(entry["text"].get<std::string>()) != entry["ids"].get<std::vector<int32_t>>()) ++failures[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// ---------------------------------------------------------------------------------------------
// Incremental decoding.

bool is_valid_utf8(const std::string& text) { return !utf8::first_invalid_offset(text); }

TEST(TokenizerIncremental, NeverEmitsBrokenUtf8AndReassemblesTheText) {
  const std::vector<std::string> texts = {
      "👨‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 thumbs",
      "中文分词测试：深度求索的模型。生僻字：龘靐齉爩𠀀。日本語もテストします。",
      "한국어 텍스트와 ภาษาไทย and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀𓀁",
      "mixed ascii é ü ß and € £ ¥ ₹ signs",
  };
  for (const auto& text : texts) {
    const auto ids = deepseek().encode(text);
    bool some_token_is_a_partial_character = false;
    for (const int32_t id : ids) some_token_is_a_partial_character |= !is_valid_utf8(deepseek().token_bytes(id));
    IncrementalDecoder decoder(deepseek());
    std::string assembled;
    for (const int32_t id : ids) {
      const std::string piece = decoder.push(id);
      EXPECT_TRUE(is_valid_utf8(piece)) << "token " << id << " in " << text;
      assembled += piece;
    }
    assembled += decoder.flush();
    EXPECT_EQ(assembled, text);
    if (text.find("👨") != std::string::npos || text.find("中文") != std::string::npos) {
      EXPECT_TRUE(some_token_is_a_partial_character) << "the test should cut characters: " << text;
    }
  }
}

TEST(TokenizerIncremental, HoldsBackAtEverySplitOfACharacter) {
  // Feed "😀" (F0 9F 98 80) and "€" (E2 82 AC) byte by byte through single-byte tokens.
  const std::string text = "a😀€b";
  std::vector<int32_t> byte_tokens;
  for (const char c : text) {
    const auto id = deepseek().token_id(byte_level::encode_byte(static_cast<unsigned char>(c)));
    ASSERT_TRUE(id.has_value());
    byte_tokens.push_back(*id);
  }
  IncrementalDecoder decoder(deepseek());
  std::vector<std::string> pieces;
  for (const int32_t id : byte_tokens) pieces.push_back(decoder.push(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"a", "", "", "", "😀", "", "", "€", "b"}));
  EXPECT_EQ(decoder.flush(), "");
}

TEST(TokenizerIncremental, InvalidBytesBecomeReplacementCharacters) {
  auto byte_token = [](unsigned char byte) { return *deepseek().token_id(byte_level::encode_byte(byte)); };
  IncrementalDecoder decoder(deepseek());
  EXPECT_EQ(decoder.push(byte_token(0x80)), "\xEF\xBF\xBD");  // a lone continuation byte
  EXPECT_EQ(decoder.push(byte_token(0xE2)), "");
  EXPECT_EQ(decoder.push(byte_token('x')), "\xEF\xBF\xBDx");  // the E2 can no longer complete
  EXPECT_EQ(decoder.push(byte_token(0xF0)), "");
  EXPECT_EQ(decoder.push(byte_token(0x9F)), "");
  EXPECT_EQ(decoder.flush(), "\xEF\xBF\xBD");  // an unfinished character at the end
  EXPECT_EQ(decoder.flush(), "");
}

TEST(TokenizerIncremental, SkipSpecialLeavesSpecialTokensOut) {
  const auto ids = deepseek().encode("<｜begin▁of▁sentence｜>Hi<｜end▁of▁sentence｜>");
  IncrementalDecoder decoder(deepseek(), /*skip_special=*/true);
  std::string text;
  for (const int32_t id : ids) text += decoder.push(id);
  text += decoder.flush();
  EXPECT_EQ(text, "Hi");
}

TEST(TokenizerUtf8, LossyRepairReplacesMaximalSubparts) {
  EXPECT_EQ(utf8::to_valid_lossy("a\xF0\x9F" "b"), "a\xEF\xBF\xBD" "b");          // one U+FFFD for a cut sequence
  EXPECT_EQ(utf8::to_valid_lossy("\xE0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");     // E0 80 is two subparts
  EXPECT_EQ(utf8::to_valid_lossy("ok €"), "ok €");
}

// ---------------------------------------------------------------------------------------------
// Small tokenizers written by the tests: loading rules and behaviour the fixture does not reach.

// A byte-level BPE with one id per byte (id = byte) and the given merges appended.
json tiny_tokenizer(const std::vector<std::string>& merges) {
  json vocab = json::object();
  for (int byte = 0; byte < 256; ++byte) vocab[byte_level::encode_byte(static_cast<unsigned char>(byte))] = byte;
  int next_id = 256;
  for (const auto& merge : merges) {
    const size_t space = merge.find(' ');
    const std::string merged = merge.substr(0, space) + merge.substr(space + 1);
    if (!vocab.contains(merged)) vocab[merged] = next_id++;
  }
  return json{
      {"version", "1.0"},
      {"added_tokens", json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Split"}, {"pattern", {{"Regex", R"(\s+|[^\s]+)"}}}, {"behavior", "Isolated"}, {"invert", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
  };
}

class TokenizerFiles : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test_temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name()); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  Tokenizer load(const json& tokenizer) { return Tokenizer::load(write("tokenizer.json", tokenizer.dump())); }
  std::string load_error(const std::string& content) {
    try {
      Tokenizer::load(write("tokenizer.json", content));
    } catch (const Error& error) {
      return error.what();
    }
    return "(no error)";
  }
  int32_t id_of(const Tokenizer& tokenizer, const std::string& token) { return tokenizer.token_id(token).value_or(-1); }

  std::filesystem::path dir_;
};

TEST_F(TokenizerFiles, MalformedFilesAreClearErrors) {
  const json good = tiny_tokenizer({"a b"});
  EXPECT_THAT(load_error("{not json"), HasSubstr("not valid JSON"));
  EXPECT_THAT(load_error("{not json"), HasSubstr("tokenizer.json"));
  EXPECT_THAT(load_error("[1, 2]"), HasSubstr("not a JSON object"));

  json no_model = good;
  no_model.erase("model");
  EXPECT_THAT(load_error(no_model.dump()), HasSubstr("has no \"model\""));

  json word_piece = good;
  word_piece["model"]["type"] = "WordPiece";
  EXPECT_THAT(load_error(word_piece.dump()), HasSubstr("model type \"WordPiece\" is not supported"));

  json merge_not_in_vocab = good;
  merge_not_in_vocab["model"]["merges"] = {"a zz"};
  EXPECT_THAT(load_error(merge_not_in_vocab.dump()), HasSubstr("model.merges[0]"));
  EXPECT_THAT(load_error(merge_not_in_vocab.dump()), HasSubstr("zz is not in the vocabulary"));

  json merge_result_missing = good;
  merge_result_missing["model"]["merges"] = {"a b", "b c"};
  EXPECT_THAT(load_error(merge_result_missing.dump()), HasSubstr("merged token \"bc\" is not in the vocabulary"));

  json merge_not_a_pair = good;
  merge_not_a_pair["model"]["merges"] = {"abc"};
  EXPECT_THAT(load_error(merge_not_a_pair.dump()), HasSubstr("not two tokens separated by one space"));
  merge_not_a_pair["model"]["merges"] = json::array({json::array({"a"})});
  EXPECT_THAT(load_error(merge_not_a_pair.dump()), HasSubstr("must be a string \"a b\" or a pair"));

  json bad_vocab = good;
  bad_vocab["model"]["vocab"]["x"] = "one";
  EXPECT_THAT(load_error(bad_vocab.dump()), HasSubstr("model.vocab[\"x\"] must be a non-negative integer id"));

  json nfc = good;
  nfc["normalizer"] = {{"type", "NFC"}};
  EXPECT_THAT(load_error(nfc.dump()), HasSubstr("normalizer type \"NFC\" is not supported"));

  json whitespace = good;
  whitespace["pre_tokenizer"]["pretokenizers"][0] = {{"type", "Whitespace"}};
  EXPECT_THAT(load_error(whitespace.dump()), HasSubstr("pre-tokenizer type \"Whitespace\" is not supported"));

  json removed = good;
  removed["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Removed";
  EXPECT_THAT(load_error(removed.dump()), HasSubstr("Split behavior \"Removed\" is not supported"));

  json inverted = good;
  inverted["pre_tokenizer"]["pretokenizers"][0]["invert"] = true;
  EXPECT_THAT(load_error(inverted.dump()), HasSubstr("invert true is not supported"));

  json prefix_space = good;
  prefix_space["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true;
  EXPECT_THAT(load_error(prefix_space.dump()), HasSubstr("add_prefix_space true is not supported"));

  json no_byte_level = good;
  no_byte_level["pre_tokenizer"] = no_byte_level["pre_tokenizer"]["pretokenizers"][0];
  EXPECT_THAT(load_error(no_byte_level.dump()), HasSubstr("no ByteLevel step"));

  json bad_regex = good;
  bad_regex["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  EXPECT_THAT(load_error(bad_regex.dump()), HasSubstr("does not compile"));

  json other_decoder = good;
  other_decoder["decoder"] = {{"type", "WordPiece"}};
  EXPECT_THAT(load_error(other_decoder.dump()), HasSubstr("is not supported (only ByteLevel)"));

  json dropout = good;
  dropout["model"]["dropout"] = 0.1;
  EXPECT_THAT(load_error(dropout.dump()), HasSubstr("dropout is not supported"));

  json duplicate_added = good;
  duplicate_added["added_tokens"] = json::array({{{"id", 300}, {"content", "<x>"}}, {{"id", 301}, {"content", "<x>"}}});
  EXPECT_THAT(load_error(duplicate_added.dump()), HasSubstr("appears twice"));

  EXPECT_THROW(Tokenizer::load(dir_ / "missing.json"), Error);
}

TEST_F(TokenizerFiles, TokenizerConfigGivesBosAndEos) {
  json tokenizer = tiny_tokenizer({});
  tokenizer["added_tokens"] = json::array({{{"id", 256}, {"content", "<s>"}, {"special", true}},
                                           {{"id", 257}, {"content", "</s>"}, {"special", true}}});
  write("tokenizer.json", tokenizer.dump());
  EXPECT_EQ(Tokenizer::load_from_model_dir(dir_).bos_id(), std::nullopt);  // no config: unknown
  write("tokenizer_config.json", R"({"bos_token": "<s>", "eos_token": {"content": "</s>", "lstrip": false}})");
  const Tokenizer loaded = Tokenizer::load_from_model_dir(dir_);
  EXPECT_EQ(loaded.bos_id(), 256);
  EXPECT_EQ(loaded.eos_id(), 257);
  write("tokenizer_config.json", R"({"bos_token": null, "eos_token": "<nope>"})");
  try {
    Tokenizer::load_from_model_dir(dir_);
    ADD_FAILURE() << "an eos_token that is no token should be an error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("tokenizer_config.json"));
    EXPECT_THAT(error.what(), HasSubstr("<nope>"));
  }
}

TEST_F(TokenizerFiles, MergesApplyByRankAlsoInLongWords) {
  // Merges in either file format; "ab ab" only after "a b". Words up to 24 bytes and longer
  // ones take different merge loops, which must agree.
  json tokenizer = tiny_tokenizer({"a b", "ab ab", "b c"});
  tokenizer["model"]["merges"][1] = json::array({"ab", "ab"});
  const Tokenizer loaded = load(tokenizer);
  const int32_t ab = id_of(loaded, "ab");
  const int32_t abab = id_of(loaded, "abab");
  const int32_t a = 'a';
  for (const size_t pairs : {1, 2, 5, 12, 13, 30, 301}) {
    std::string word;
    for (size_t i = 0; i < pairs; ++i) word += "ab";
    std::vector<int32_t> expected(pairs / 2, abab);
    if (pairs % 2) expected.push_back(ab);
    EXPECT_EQ(loaded.encode(word), expected) << pairs << " pairs";
    EXPECT_EQ(loaded.decode(loaded.encode(word)), word);
  }
  // "abc": "a b" has the lower rank, so "b c" never applies.
  EXPECT_EQ(loaded.encode("abc"), (std::vector<int32_t>{ab, 'c'}));
  const std::string long_word = std::string(40, 'x') + "abc";
  std::vector<int32_t> expected(40, 'x');
  expected.insert(expected.end(), {ab, 'c'});
  EXPECT_EQ(loaded.encode(long_word), expected);
  EXPECT_EQ(loaded.encode("a b"), (std::vector<int32_t>{a, ' ', 'b'}));
}

TEST_F(TokenizerFiles, AddedTokenFlagsFollowTheHfRules) {
  json tokenizer = tiny_tokenizer({});
  tokenizer["added_tokens"] = json::array({
      {{"id", 300}, {"content", "<l>"}, {"lstrip", true}, {"special", true}},
      {{"id", 301}, {"content", "<r>"}, {"rstrip", true}, {"special", true}},
      {{"id", 302}, {"content", "word"}, {"single_word", true}},
      {{"id", 303}, {"content", "<long>"}, {"special", true}},
      {{"id", 304}, {"content", "<lo"}, {"special", true}},
      {{"id", 305}, {"content", "xy"}, {"normalized", true}},
      {{"id", 306}, {"content", "y"}, {"normalized", false}},
  });
  const Tokenizer loaded = load(tokenizer);
  EXPECT_EQ(loaded.encode("a  <l>"), (std::vector<int32_t>{'a', 300}));       // spaces go into <l>
  EXPECT_EQ(loaded.encode("<r>  a"), (std::vector<int32_t>{301, 'a'}));       // and into <r>
  EXPECT_EQ(loaded.encode("a word."), (std::vector<int32_t>{'a', ' ', 302, '.'}));
  EXPECT_EQ(loaded.encode("swordfish"), (std::vector<int32_t>{'s', 'w', 'o', 'r', 'd', 'f', 'i', 's', 'h'}));
  EXPECT_EQ(loaded.encode("<long><lo"), (std::vector<int32_t>{303, 304}));  // longest match first
  // Tokens with normalized=false are found first, so "y" wins over the normalized "xy".
  EXPECT_EQ(loaded.encode("xy"), (std::vector<int32_t>{'x', 306}));
  EXPECT_EQ(loaded.decode({300, 301, 302}), "<l><r>word");
}

TEST_F(TokenizerFiles, ByteLevelUseRegexSplitsLikeGpt2) {
  json tokenizer = tiny_tokenizer({"Ġ w", "Ġw o", "' s"});
  tokenizer["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  const Tokenizer loaded = load(tokenizer);
  const int32_t space_wo = id_of(loaded, "Ġwo");
  const int32_t apostrophe_s = id_of(loaded, "'s");
  // " wo" is one GPT-2 pre-token; "it's" splits before "'s".
  EXPECT_EQ(loaded.encode(" wo it's"), (std::vector<int32_t>{space_wo, ' ', 'i', 't', apostrophe_s}));
}

TEST(TokenizerRegex, OnigurumaEscapesAreTranslated) {
  EXPECT_EQ(translate_oniguruma_pattern(R"(\s+(?!\S))"), R"(\p{White_Space}+(?!\P{White_Space}))");
  EXPECT_EQ(translate_oniguruma_pattern(R"([^\s\p{L}])"), R"([^\p{White_Space}\p{L}])");
  EXPECT_EQ(translate_oniguruma_pattern(R"(\h\w)"), R"([0-9a-fA-F][\p{L}\p{M}\p{Nd}\p{Pc}])");
  EXPECT_EQ(translate_oniguruma_pattern(R"(\u00e9[\]\\])"), R"(\x{00e9}[\]\\])");
  EXPECT_EQ(translate_oniguruma_pattern(R"([]a][[:alpha:]])"), R"([]a][[:alpha:]])");
  EXPECT_THROW(translate_oniguruma_pattern("[a[b]]"), Error);
  EXPECT_THROW(translate_oniguruma_pattern("[a&&b]"), Error);
  EXPECT_THROW(translate_oniguruma_pattern("(?m:.)"), Error);
  EXPECT_THROW(translate_oniguruma_pattern("[abc"), Error);
}

TEST_F(TokenizerFiles, WhiteSpaceIsUnicodeWhiteSpace) {
  // The Split pattern \s+|[^\s]+ keeps a word whole unless \s matches inside it; merges over
  // the whole word then show whether it was split. U+0085 is white space (as for Oniguruma);
  // U+180E (a format character since Unicode 6.3) is not, although PCRE2's own \s takes it.
  json tokenizer = tiny_tokenizer({});
  auto& vocab = tokenizer["model"]["vocab"];
  auto& merges = tokenizer["model"]["merges"];
  auto merge_word = [&](const std::string& word) {
    std::string left = byte_level::encode_byte(static_cast<unsigned char>(word[0]));
    for (size_t i = 1; i < word.size(); ++i) {
      const std::string right = byte_level::encode_byte(static_cast<unsigned char>(word[i]));
      if (!vocab.contains(left + right)) vocab[left + right] = static_cast<int>(vocab.size());
      merges.push_back(left + " " + right);
      left += right;
    }
  };
  merge_word("a\xE1\xA0\x8E" "b");
  merge_word("a\xC2\x85" "b");
  const Tokenizer loaded = load(tokenizer);
  EXPECT_EQ(loaded.encode("a\xE1\xA0\x8E" "b").size(), 1u) << "U+180E must not split the word";
  EXPECT_EQ(loaded.encode("a\xC2\x85" "b").size(), 4u) << "U+0085 must split the word";
}

// ---------------------------------------------------------------------------------------------
// The subcommands.

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult run_with_stdin(const std::string& arguments, const std::string& input) {
  const auto dir = test_temp_dir("tokenize-cli");
  const auto input_path = dir / "stdin.txt";
  std::ofstream(input_path, std::ios::binary) << input;
  const std::string command =
      std::string(std::getenv("LIGHTSEEK_BIN")) + " " + arguments + " < " + input_path.string() + " 2>&1";
  CommandResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::filesystem::remove_all(dir);
  return result;
}

class TokenizerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("LIGHTSEEK_BIN")) GTEST_SKIP() << "LIGHTSEEK_BIN is not set (run through ctest)";
  }
  std::string model_flag() const { return "-m " + deepseek_dir().string(); }
};

TEST_F(TokenizerCli, TokenizePlainLinesAndJsonl) {
  const auto plain = run_with_stdin("tokenize " + model_flag(), "Hello world\n\n<｜User｜>hi");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  EXPECT_EQ(plain.output, "[19923,2058]\n[]\n[128803,6366]\n");
  const auto jsonl = run_with_stdin("tokenize --jsonl --tokenizer " + (deepseek_dir() / "tokenizer.json").string(),
                                    "\"Hello world\"\n\"\\n\\n\"\n");
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.output;
  EXPECT_EQ(jsonl.output, "[19923,2058]\n[271]\n");
}

TEST_F(TokenizerCli, DetokenizePrintsJsonStrings) {
  const auto result = run_with_stdin("detokenize " + model_flag(), "[19923,2058]\n[0,271]\n[]\n");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output, "\"Hello world\"\n\"<｜begin▁of▁sentence｜>\\n\\n\"\n\"\"\n");
  const auto skipped = run_with_stdin("detokenize --skip-special " + model_flag(), "[0,19923]\n");
  EXPECT_EQ(skipped.output, "\"Hello\"\n");
}

TEST_F(TokenizerCli, BadInputNamesTheLine) {
  // A small tokenizer keeps these runs quick (each is a process that loads it).
  const auto dir = test_temp_dir("tokenize-cli-errors");
  std::ofstream(dir / "tokenizer.json") << tiny_tokenizer({"a b"}).dump();
  const std::string model = "-m " + dir.string();
  const auto not_json = run_with_stdin("tokenize --jsonl " + model, "\"ok\"\n{bad\n");
  EXPECT_EQ(not_json.exit_code, 1);
  EXPECT_THAT(not_json.output, HasSubstr("stdin line 2: not valid JSON"));
  const auto not_string = run_with_stdin("tokenize --jsonl " + model, "[1]\n");
  EXPECT_EQ(not_string.exit_code, 1);
  EXPECT_THAT(not_string.output, HasSubstr("stdin line 1: expected a JSON string"));
  const auto bad_utf8 = run_with_stdin("tokenize " + model, "fine\nbroken \xFF here\n");
  EXPECT_EQ(bad_utf8.exit_code, 1);
  EXPECT_THAT(bad_utf8.output, HasSubstr("stdin line 2: invalid UTF-8"));
  EXPECT_THAT(bad_utf8.output, HasSubstr("byte offset 7"));
  const auto out_of_range = run_with_stdin("detokenize " + model, "[1]\n[3, 257]\n");
  EXPECT_EQ(out_of_range.exit_code, 1);
  EXPECT_THAT(out_of_range.output, HasSubstr("stdin line 2: id 257 is not a token id (0 to 256)"));
  const auto not_ids = run_with_stdin("detokenize " + model, "[\"a\"]\n");
  EXPECT_EQ(not_ids.exit_code, 1);
  EXPECT_THAT(not_ids.output, HasSubstr("stdin line 1"));
  const auto no_source = run_with_stdin("tokenize", "x\n");
  EXPECT_NE(no_source.exit_code, 0);
  EXPECT_THAT(no_source.output, HasSubstr("-m DIR or --tokenizer FILE"));
  const auto broken_file = run_with_stdin("tokenize --tokenizer " + (dir / "missing.json").string(), "x\n");
  EXPECT_EQ(broken_file.exit_code, 1);
  EXPECT_THAT(broken_file.output, HasSubstr("missing.json: cannot open"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lightseek
