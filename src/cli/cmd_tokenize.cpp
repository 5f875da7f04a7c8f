// `lightseek tokenize` and `lightseek detokenize`: line-oriented filters over stdin, one input
// per line and one JSON result per line, so scripts (the differential test among them) can
// drive the tokenizer without writing C++.
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace lightseek::cli {

namespace {

struct TokenizerSource {
  std::string model_dir;
  std::string tokenizer_file;
};

void add_source_options(CLI::App* command, TokenizerSource& source) {
  auto* model = command->add_option("-m,--model", source.model_dir, "model directory (reads DIR/tokenizer.json)");
  auto* file = command->add_option("--tokenizer", source.tokenizer_file, "a tokenizer.json file");
  model->excludes(file);
  file->excludes(model);
}

Tokenizer load_tokenizer(const TokenizerSource& source) {
  if (!source.tokenizer_file.empty()) return Tokenizer::load(source.tokenizer_file);
  if (!source.model_dir.empty()) return Tokenizer::load_from_model_dir(source.model_dir);
  fail("give the tokenizer with -m DIR or --tokenizer FILE");
}

// Calls on_line(line, number) for every line of stdin without its '\n'; a last line without
// '\n' still counts, and an empty stdin has no lines.
template <typename OnLine>
void for_each_stdin_line(OnLine&& on_line) {
  char* buffer = nullptr;
  size_t capacity = 0;
  size_t number = 0;
  ssize_t length;
  struct BufferOwner {
    char*& buffer;
    ~BufferOwner() { std::free(buffer); }
  } owner{buffer};
  while ((length = ::getline(&buffer, &capacity, stdin)) >= 0) {
    ++number;
    std::string_view line(buffer, static_cast<size_t>(length));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    on_line(line, number);
  }
}

void print_ids(const std::vector<int32_t>& ids, std::string& out) {
  out.clear();
  out += '[';
  char digits[16];
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    const auto end = std::to_chars(digits, digits + sizeof digits, ids[i]).ptr;
    out.append(digits, end);
  }
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

struct TokenizeOptions {
  TokenizerSource source;
  bool jsonl = false;
};

struct DetokenizeOptions {
  TokenizerSource source;
  bool skip_special = false;
};

}  // namespace

void register_tokenize(CLI::App& app) {
  auto options = std::make_shared<TokenizeOptions>();
  CLI::App* command = app.add_subcommand(
      "tokenize", "Encode each line of stdin (plain text, or a JSON string with --jsonl) to a JSON array of ids");
  add_source_options(command, options->source);
  command->add_flag("--jsonl", options->jsonl, "each input line is a JSON string (so it can hold newlines)");
  command->callback([options] {
    const Tokenizer tokenizer = load_tokenizer(options->source);
    std::string out;
    for_each_stdin_line([&](std::string_view line, size_t number) {
      try {
        if (options->jsonl) {
          nlohmann::json value;
          try {
            value = nlohmann::json::parse(line);
          } catch (const nlohmann::json::exception& error) {
            fail("not valid JSON: ", error.what());
          }
          if (!value.is_string()) fail("expected a JSON string, got ", value.type_name());
          print_ids(tokenizer.encode(value.get_ref<const std::string&>()), out);
        } else {
          print_ids(tokenizer.encode(line), out);
        }
      } catch (const Error& error) {
        fail("stdin line ", number, ": ", error.what());
      }
    });
  });
}

void register_detokenize(CLI::App& app) {
  auto options = std::make_shared<DetokenizeOptions>();
  CLI::App* command = app.add_subcommand(
      "detokenize", "Decode each line of stdin (a JSON array of ids) and print the text as a JSON string");
  add_source_options(command, options->source);
  command->add_flag("--skip-special", options->skip_special, "leave special tokens out of the text");
  command->callback([options] {
    const Tokenizer tokenizer = load_tokenizer(options->source);
    for_each_stdin_line([&](std::string_view line, size_t number) {
      try {
        nlohmann::json value;
        try {
          value = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& error) {
          fail("not valid JSON: ", error.what());
        }
        if (!value.is_array()) fail("expected a JSON array of token ids, got ", value.type_name());
        std::vector<int32_t> ids;
        ids.reserve(value.size());
        for (const auto& item : value) {
          if (!item.is_number_integer() || item.get<int64_t>() < 0 || item.get<int64_t>() >= tokenizer.vocab_size()) {
            fail("id ", item.dump(), " is not a token id (0 to ", tokenizer.vocab_size() - 1, ")");
          }
          ids.push_back(item.get<int32_t>());
        }
        // Token bytes need not be whole UTF-8 (a cut emoji); show them as HF's decode does,
        // with U+FFFD for what is not.
        const std::string text = utf8::to_valid_lossy(tokenizer.decode(ids, options->skip_special));
        std::printf("%s\n", nlohmann::json(text).dump().c_str());
      } catch (const Error& error) {
        fail("stdin line ", number, ": ", error.what());
      }
    });
  });
}

}  // namespace lightseek::cli
