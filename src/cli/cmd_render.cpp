// `lightseek render`: prints the exact V4 prompt for a conversation file, to inspect what the
// model will see. The prompt is written as is, with no newline added; with --ids, the token ids
// the model's tokenizer makes of it are printed instead, as a JSON array.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/error.h"
#include "text/chat_encoder.h"
#include "text/tokenizer.h"

namespace lightseek::cli {

namespace {

struct RenderOptions {
  std::string model_dir;
  std::string messages_file;
  std::string tools_file;
  std::string response_format_file;
  std::string effort;
  bool thinking = false;
  bool no_drop_thinking = false;
  bool ids = false;
};

nlohmann::ordered_json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read ", path, ": ", std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail("cannot read ", path, ": ", std::strerror(errno));
  try {
    return nlohmann::ordered_json::parse(text.str());
  } catch (const nlohmann::ordered_json::parse_error& error) {
    // what() starts with "[json.exception.parse_error.101] "; the rest carries line and column.
    const std::string what = error.what();
    const size_t start = what.find("] ");
    fail(path, ": invalid JSON: ", start == std::string::npos ? what : what.substr(start + 2));
  }
}

ReasoningEffort parse_render_effort(const std::string& text) {
  if (text.empty()) return ReasoningEffort::Default;
  if (text == "high") return ReasoningEffort::High;
  if (text == "max") return ReasoningEffort::Max;
  fail("--effort must be high or max, got '", text, "'");
}

void print_token_ids(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  out += "]\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

void run_render(const RenderOptions& options) {
  if (options.ids && options.model_dir.empty()) fail("--ids needs -m DIR, the model whose tokenizer.json to use");
  EncodeOptions encode;
  encode.thinking = options.thinking ? ThinkingMode::Thinking : ThinkingMode::Chat;
  encode.effort = parse_render_effort(options.effort);
  encode.drop_thinking = !options.no_drop_thinking;

  const nlohmann::ordered_json messages_json = read_json_file(options.messages_file);
  std::vector<ChatMessage> messages;
  try {
    messages = parse_chat_messages(messages_json);
  } catch (const Error& error) {
    fail(options.messages_file, ": ", error.what());
  }
  const nlohmann::ordered_json tools =
      options.tools_file.empty() ? nlohmann::ordered_json() : read_json_file(options.tools_file);
  if (!options.tools_file.empty() && !tools.is_array()) fail(options.tools_file, ": expected an array of tools");
  const nlohmann::ordered_json response_format =
      options.response_format_file.empty() ? nlohmann::ordered_json() : read_json_file(options.response_format_file);
  attach_request_options(messages, tools, response_format);

  std::string prompt;
  try {
    prompt = encode_chat(messages, encode);
  } catch (const Error& error) {
    fail(options.messages_file, ": ", error.what());
  }
  if (options.ids) {
    print_token_ids(Tokenizer::load_from_model_dir(options.model_dir).encode(prompt));
  } else {
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  }
}

}  // namespace

void register_render(CLI::App& app) {
  auto options = std::make_shared<RenderOptions>();
  CLI::App* command = app.add_subcommand("render", "Print the exact V4 prompt for a conversation (spec §12.2)");
  command->add_option("-m,--model", options->model_dir, "model directory (its tokenizer.json, for --ids)");
  command
      ->add_option("--messages", options->messages_file,
                   "JSON file: a list of messages, or {\"messages\": [...], \"tools\": [...]}")
      ->required();
  command->add_flag("--thinking", options->thinking, "thinking mode (default: chat mode)");
  command->add_option("--effort", options->effort,
                      "reasoning effort: high | max (max adds a preamble in thinking mode)");
  command->add_option("--tools", options->tools_file, "JSON file: an array of OpenAI tools");
  command->add_flag("--no-drop-thinking", options->no_drop_thinking, "keep the reasoning of earlier turns");
  command->add_option("--response-format", options->response_format_file, "JSON file: the response format schema");
  command->add_flag("--ids", options->ids, "print the prompt's token ids (needs -m) instead of its text");
  command->callback([options] { run_render(*options); });
}

}  // namespace lightseek::cli
