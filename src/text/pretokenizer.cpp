#include "text/pretokenizer.h"

#include <string>

#include "core/error.h"
#include "text/onig_syntax.h"

namespace lightseek {

namespace {

// The split the ByteLevel pre-tokenizer applies when use_regex is true (GPT-2's pattern, as
// the HF library writes it).
constexpr std::string_view kByteLevelPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string type_of(const nlohmann::json& step, std::string_view where) {
  if (!step.is_object() || !step.contains("type") || !step["type"].is_string()) {
    fail(where, " is not an object with a string \"type\"");
  }
  return step["type"].get<std::string>();
}

bool bool_field(const nlohmann::json& step, const char* key, bool fallback, std::string_view where) {
  if (!step.contains(key) || step[key].is_null()) return fallback;
  if (!step[key].is_boolean()) fail(where, ": \"", key, "\" must be a boolean");
  return step[key].get<bool>();
}

void flatten(const nlohmann::json& step, std::vector<nlohmann::json>& steps, const std::string& where) {
  if (step.is_null()) return;
  if (type_of(step, where) == "Sequence") {
    if (!step.contains("pretokenizers") || !step["pretokenizers"].is_array()) {
      fail(where, ": Sequence needs a \"pretokenizers\" array");
    }
    size_t index = 0;
    for (const auto& inner : step["pretokenizers"]) {
      flatten(inner, steps, where + ".pretokenizers[" + std::to_string(index++) + "]");
    }
    return;
  }
  steps.push_back(step);
}

Regex split_regex(const nlohmann::json& step, const std::string& where) {
  const std::string behavior = step.value("behavior", std::string("Isolated"));
  if (behavior != "Isolated") fail(where, ": Split behavior \"", behavior, "\" is not supported (only Isolated)");
  if (bool_field(step, "invert", false, where)) fail(where, ": Split with invert true is not supported");
  if (!step.contains("pattern") || !step["pattern"].is_object()) fail(where, ": Split needs a \"pattern\" object");
  const auto& pattern = step["pattern"];
  if (pattern.contains("Regex") && pattern["Regex"].is_string()) {
    return Regex(translate_oniguruma_pattern(pattern["Regex"].get<std::string>()), false);
  }
  if (pattern.contains("String") && pattern["String"].is_string()) {
    const auto literal = pattern["String"].get<std::string>();
    if (literal.empty()) fail(where, ": Split with an empty String pattern is not supported");
    return Regex(literal, true);
  }
  fail(where, ": Split \"pattern\" must be {\"Regex\": string} or {\"String\": string}");
}

}  // namespace

PreTokenizer PreTokenizer::from_json(const nlohmann::json& config) {
  std::vector<nlohmann::json> flat;
  flatten(config, flat, "pre_tokenizer");
  PreTokenizer result;
  bool seen_byte_level = false;
  size_t index = 0;
  for (const auto& step : flat) {
    const std::string where = "pre_tokenizer step " + std::to_string(index++);
    const std::string type = type_of(step, where);
    if (seen_byte_level) {
      // Later steps would see the byte-level alphabet rather than the text.
      fail(where, ": a ", type, " step after ByteLevel is not supported");
    }
    if (type == "Split") {
      result.steps_.push_back(split_regex(step, where));
    } else if (type == "ByteLevel") {
      if (bool_field(step, "add_prefix_space", false, where)) {
        fail(where, ": ByteLevel with add_prefix_space true is not supported");
      }
      if (bool_field(step, "use_regex", true, where)) {
        result.steps_.emplace_back(translate_oniguruma_pattern(kByteLevelPattern), false);
      }
      seen_byte_level = true;
    } else {
      fail(where, ": pre-tokenizer type \"", type, "\" is not supported (only Split and ByteLevel)");
    }
  }
  if (!seen_byte_level) fail("pre_tokenizer has no ByteLevel step; only byte-level BPE tokenizers are supported");
  return result;
}

PreTokenizer::Scratch PreTokenizer::make_scratch() const {
  Scratch scratch;
  scratch.matchers.reserve(steps_.size());
  for (const auto& step : steps_) scratch.matchers.emplace_back(step);
  return scratch;
}

size_t PreTokenizer::next_character(std::string_view text, size_t offset) {
  ++offset;
  while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80) ++offset;
  return offset;
}

}  // namespace lightseek
