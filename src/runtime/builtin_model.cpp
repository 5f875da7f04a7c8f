#include "runtime/builtin_model.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/synthetic_model.h"
#include "runtime/generated_directory.h"

namespace lightseek {
namespace {

// Bump when the built-in model's geometry, weights or tokenizer change.
constexpr const char* kBuiltinName = "builtin-tiny-v4-r1";

// V4 writes these markers as special tokens (spec §12.1). The V3 tokenizer we ship has none of
// them; an official V4 tokenizer.json was not available, so the ids follow third-party V4
// tables where they exist (<think> 128821, </think> 128822, ｜DSML｜ 128825) and take free ids
// past V3's last token for the rest. Real checkpoints bring their own tokenizer.json.
struct V4MarkerToken {
  int id;
  const char* text;
};
constexpr V4MarkerToken kV4Tokens[] = {
    {128821, "<think>"},          {128822, "</think>"},      {128823, "<｜latest_reminder｜>"},
    {128825, "｜DSML｜"},          {128826, "<｜action｜>"},   {128827, "<｜query｜>"},
    {128828, "<｜authority｜>"},   {128829, "<｜domain｜>"},   {128830, "<｜title｜>"},
    {128831, "<｜read_url｜>"},
};

std::filesystem::path base_tokenizer_dir() {
  if (const char* dir = std::getenv("LIGHTSEEK_BASE_TOKENIZER")) return dir;
  return LIGHTSEEK_BASE_TOKENIZER_DIR;
}

// nlohmann::json (ordered by key) rather than ordered_json: the vocabulary has 128k keys, and
// ordered_json inserts with a linear search. Key order carries no meaning in tokenizer.json.
nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) fail(path.string(), ": cannot read (the built-in model needs DeepSeek's tokenizer files)");
  auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded()) fail(path.string(), ": invalid JSON");
  return json;
}

void write_json(const std::filesystem::path& path, const nlohmann::json& json) {
  std::ofstream out(path, std::ios::trunc);
  out << json.dump() << "\n";
  if (!out) fail(path.string(), ": cannot write");
}

void write_v4_tokenizer(const std::filesystem::path& dir) {
  const auto base = base_tokenizer_dir();
  nlohmann::json tokenizer = read_json(base / "tokenizer.json");
  for (const V4MarkerToken& token : kV4Tokens) {
    tokenizer["added_tokens"].push_back({{"id", token.id},
                                         {"content", token.text},
                                         {"single_word", false},
                                         {"lstrip", false},
                                         {"rstrip", false},
                                         {"normalized", false},
                                         {"special", true}});
  }
  write_json(dir / "tokenizer.json", tokenizer);
  nlohmann::json config = read_json(base / "tokenizer_config.json");
  config.erase("chat_template");  // V4 has no Jinja template: the encoder writes prompts
  config["add_bos_token"] = false;
  config["add_eos_token"] = false;
  write_json(dir / "tokenizer_config.json", config);
}

}  // namespace

std::filesystem::path cache_directory() {
  if (const char* dir = std::getenv("LIGHTSEEK_CACHE"); dir && *dir) return dir;
  if (const char* dir = std::getenv("XDG_CACHE_HOME"); dir && *dir) return std::filesystem::path(dir) / "lightseek";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache/lightseek";
  return std::filesystem::temp_directory_path() / "lightseek-cache";
}

std::filesystem::path ensure_builtin_model(const std::function<void(const std::string&)>& status) {
  const auto dir = cache_directory() / kBuiltinName;
  return generate_directory_once(
      dir,
      [&](const std::filesystem::path& scratch) {
        if (status) status("generating the built-in model in " + dir.string() + " (once)");
        SyntheticModelOptions options;
        options.seed = 20261128;
        write_synthetic_model(scratch, tiny_model_config(/*real_vocab=*/true), options);
        write_v4_tokenizer(scratch);
      },
      [&] {
        if (status) status("waiting for another run that is generating the built-in model in " + dir.string());
      });
}

}  // namespace lightseek
