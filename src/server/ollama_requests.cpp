// Ollama request bodies → GenerationRequest.
#include <limits>
#include <string>

#include "server/ollama_protocol.h"
#include "server/request_common.h"

namespace lightseek::server::ollama {

namespace {

using nlohmann::ordered_json;
using namespace fields;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

void refuse_images(ObjectReader& reader) {
  if (const ordered_json* images = reader.array("images"); images && !images->empty()) {
    reject(reader.path_of("images"), "are not supported (the model reads text)");
  }
}

ChatMessage parse_message(const ordered_json& json, const std::string& path) {
  ObjectReader reader(json, path);
  ChatMessage message;
  const std::string role = reader.required_string("role");
  if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
    reject(reader.path_of("role"), str_cat("is \"", role, "\"; expected system, user, assistant or tool"));
  }
  message.role = role;
  message.content = reader.string("content").value_or("");
  refuse_images(reader);
  if (role == "assistant") {
    message.reasoning_content = reader.string("thinking").value_or("");
    if (const ordered_json* calls = reader.array("tool_calls")) {
      message.tool_calls = read_tool_calls(*calls, reader.path_of("tool_calls"), {false, {"type"}, {"index", "description"}});
    }
  }
  if (role == "tool") {
    message.tool_call_id = reader.string("tool_call_id").value_or("");
    reader.string("tool_name");  // results are matched by position; V4 writes no tool names
  }
  reader.reject_unknown();
  return message;
}

// Ollama's format → OpenAI's response_format, so equal requests render equal prompts.
ordered_json response_format(const ordered_json& format) {
  if (format.is_string()) {
    const std::string text = checked_string(format, "format");
    if (text.empty()) return ordered_json();
    if (text == "json") return ordered_json{{"type", "json_object"}};
    reject("format", "must be \"json\" or a JSON schema object");
  }
  if (!format.is_object()) reject("format", str_cat("must be \"json\" or a JSON schema object, got ", json_kind(format)));
  return ordered_json{{"type", "json_schema"}, {"json_schema", {{"name", "response"}, {"schema", format}}}};
}

void parse_think(ObjectReader& body, GenerationRequest& request, const RequestLimits& limits) {
  request.thinking = limits.default_thinking;
  const ordered_json* think = body.find("think");
  if (!think) return;
  if (think->is_boolean()) {
    request.thinking = think->get<bool>() ? ThinkingMode::Thinking : ThinkingMode::Chat;
    return;
  }
  const std::string level = think->is_string() ? checked_string(*think, "think") : std::string();
  if (level != "low" && level != "medium" && level != "high") {
    reject("think", "must be a boolean or one of \"low\", \"medium\", \"high\"");
  }
  request.thinking = ThinkingMode::Thinking;
  request.effort = ReasoningEffort::High;
}

void parse_options(ObjectReader& body, GenerationRequest& request, const RequestLimits& limits) {
  const ordered_json* options = body.object("options");
  if (!options) return;
  ObjectReader reader(*options, "options");
  SamplingParams& sampling = request.sampling;
  if (const auto temperature = reader.number("temperature", 0.0, 10.0)) sampling.temperature = static_cast<float>(*temperature);
  if (const auto top_p = reader.number("top_p", 0.0, 1.0)) {
    if (*top_p == 0.0) {
      sampling.temperature = 0.0f;  // only the most likely token remains
    } else {
      sampling.top_p = static_cast<float>(*top_p);
    }
  }
  if (const auto top_k = reader.integer("top_k", 0, std::numeric_limits<int32_t>::max())) {
    sampling.top_k = static_cast<int32_t>(*top_k);
  }
  if (const auto min_p = reader.number("min_p", 0.0, 1.0)) sampling.min_p = static_cast<float>(*min_p);
  if (const auto penalty = reader.number("repeat_penalty", 0.0, 10.0)) {
    if (*penalty == 0.0) reject("options.repeat_penalty", "must be greater than 0");
    sampling.repetition_penalty = static_cast<float>(*penalty);
  }
  if (const auto penalty = reader.number("presence_penalty", -2.0, 2.0)) sampling.presence_penalty = static_cast<float>(*penalty);
  if (const auto penalty = reader.number("frequency_penalty", -2.0, 2.0)) sampling.frequency_penalty = static_cast<float>(*penalty);
  // Ollama's seed -1 (or any negative) means "pick one".
  if (const auto seed = reader.integer("seed", kInt64Min, kInt64Max); seed && *seed >= 0) {
    sampling.seed = static_cast<uint64_t>(*seed);
    request.seed_from_client = true;
  }
  if (const auto predict = reader.integer("num_predict", -2, kInt64Max)) {
    if (*predict == 0) reject("options.num_predict", "must be positive, or -1 / -2 for no limit");
    if (*predict > 0) {
      check_output_budget(*predict, "options.num_predict", limits);
      request.max_tokens = *predict;
    }
  }
  if (const ordered_json* stop = reader.array("stop")) {
    request.stop = stop_strings(*stop, "options.stop", limits.max_stop_strings);
  }
  // The runner's own settings: lightseek sizes and places the model itself.
  reader.ignore({"numa", "num_ctx", "num_batch", "num_gpu", "main_gpu", "low_vram", "vocab_only", "use_mmap",
                 "use_mlock", "num_thread", "num_keep", "typical_p", "repeat_last_n", "penalize_newline",
                 "mirostat", "mirostat_tau", "mirostat_eta", "tfs_z"});
  reader.reject_unknown();
}

// Fields /api/chat and /api/generate share.
void parse_common(ObjectReader& body, GenerationRequest& request, const RequestLimits& limits) {
  parse_think(body, request, limits);
  parse_options(body, request, limits);
  if (const ordered_json* format = body.find("format")) {
    request.response_format = response_format(*format);
    request.output_grammar = output_grammar(request.response_format, "format");
  }
  request.stream = body.boolean("stream").value_or(true);
  request.logprobs.enabled = body.boolean("logprobs").value_or(false);
  if (const auto top = body.integer("top_logprobs", 0, limits.max_top_logprobs)) {
    if (!request.logprobs.enabled) reject("top_logprobs", "requires logprobs to be true");
    request.logprobs.top = static_cast<int>(*top);
  }
  body.ignore({"keep_alive"});
}

GenerationRequest chat_request(const ordered_json& json, const RequestLimits& limits) {
  ObjectReader body(json, "");
  GenerationRequest request;
  request.endpoint = ApiEndpoint::OllamaChat;
  request.model = body.required_string("model");
  if (const ordered_json* messages = body.array("messages")) {
    for (std::size_t i = 0; i < messages->size(); ++i) {
      request.messages.push_back(parse_message((*messages)[i], element_path("messages", i)));
    }
  }
  request.load_only = request.messages.empty();
  // Ollama matches results to calls by position; ids, where a client sends some, would make
  // the encoder demand them on every result.
  for (ChatMessage& message : request.messages) {
    message.tool_call_id.clear();
    for (ToolCall& call : message.tool_calls) call.id.clear();
  }
  continue_final_assistant(request.messages);
  if (const ordered_json* tools = body.find("tools")) request.tools = function_tools(*tools, "tools");
  parse_common(body, request, limits);
  body.reject_unknown();
  finish_request(request, "messages");
  return request;
}

GenerationRequest generate_request(const ordered_json& json, const RequestLimits& limits) {
  ObjectReader body(json, "");
  GenerationRequest request;
  request.endpoint = ApiEndpoint::OllamaGenerate;
  request.model = body.required_string("model");
  const std::string prompt = body.string("prompt").value_or("");
  const std::optional<std::string> system = body.string("system");
  if (const auto suffix = body.string("suffix"); suffix && !suffix->empty()) reject("suffix", "is not supported (no insertion)");
  if (const auto text = body.string("template"); text && !text->empty()) {
    reject("template", "is not supported: the DeepSeek-V4 prompt format is fixed (use raw for a prompt of your own)");
  }
  if (const ordered_json* context = body.array("context"); context && !context->empty()) {
    reject("context", "is not supported; send the conversation to /api/chat instead");
  }
  refuse_images(body);
  const bool raw = body.boolean("raw").value_or(false);
  parse_common(body, request, limits);
  body.reject_unknown();
  request.load_only = prompt.empty();
  if (raw) {
    if (system) reject("system", "cannot be combined with raw: a raw prompt is used as is");
    request.raw_prompt = prompt;
  } else if (!request.load_only) {
    if (system) {
      ChatMessage message;
      message.role = "system";
      message.content = *system;
      request.messages.push_back(std::move(message));
    }
    ChatMessage user;
    user.role = "user";
    user.content = prompt;
    request.messages.push_back(std::move(user));
  }
  finish_request(request, "prompt");
  return request;
}

std::string show_request(const ordered_json& json) {
  ObjectReader body(json, "");
  std::optional<std::string> model = body.string("model");
  const std::optional<std::string> name = body.string("name");
  if (!model) model = name;
  if (!model || model->empty()) reject("model", "is required");
  body.ignore({"verbose"});
  body.reject_unknown();
  return *model;
}

}  // namespace

ProtocolResult<GenerationRequest> parse_chat_request(const ordered_json& body, const RequestLimits& limits) {
  return guarded([&] { return chat_request(body, limits); });
}

ProtocolResult<GenerationRequest> parse_generate_request(const ordered_json& body, const RequestLimits& limits) {
  return guarded([&] { return generate_request(body, limits); });
}

ProtocolResult<std::string> parse_show_request(const ordered_json& body) {
  return guarded([&] { return show_request(body); });
}

}  // namespace lightseek::server::ollama
