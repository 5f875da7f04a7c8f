// OpenAI request bodies → GenerationRequest.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "server/openai_protocol.h"
#include "server/request_common.h"
#include "text/v4_prompt_constants.h"

namespace lightseek::server::openai {

namespace {

using nlohmann::ordered_json;
using namespace fields;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Text parts ([{"type": "text", "text": ...}]) as ChatMessage content blocks; anything else is
// refused by name, since the model reads text only.
ordered_json text_parts(const ordered_json& parts, const std::string& path) {
  ordered_json blocks = ordered_json::array();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    ObjectReader part(parts[i], element_path(path, i));
    const std::string type = part.required_string("type");
    if (type != "text") {
      reject(part.path_of("type"), str_cat("is \"", type, "\"; only text content is supported (the model reads text)"));
    }
    blocks.push_back({{"type", "text"}, {"text", checked_string(part.require("text"), part.path_of("text"))}});
    part.ignore({"cache_control"});
    part.reject_unknown();
  }
  return blocks;
}

// A string, null, or text parts joined with `joiner` (for roles whose content must be a string).
std::string joined_text(const ordered_json* content, const std::string& path, std::string_view joiner) {
  if (!content) return {};
  if (content->is_string()) return checked_string(*content, path);
  if (!content->is_array()) reject(path, str_cat("must be a string or an array of content parts, got ", json_kind(*content)));
  std::string text;
  const ordered_json blocks = text_parts(*content, path);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (i > 0) text += joiner;
    text += blocks[i]["text"].get<std::string>();
  }
  return text;
}

// A string, null or text parts kept as blocks (user and tool messages, which V4 writes block
// by block).
ordered_json text_or_blocks(const ordered_json* content, const std::string& path) {
  if (!content) return "";
  if (content->is_string()) return checked_string(*content, path);
  if (!content->is_array()) reject(path, str_cat("must be a string or an array of content parts, got ", json_kind(*content)));
  return text_parts(*content, path);
}

ChatMessage parse_message(const ordered_json& json, const std::string& path) {
  ObjectReader reader(json, path);
  ChatMessage message;
  const std::string role = reader.required_string("role");
  const ordered_json* content = reader.find("content");
  const std::string content_path = reader.path_of("content");
  reader.ignore({"name"});
  if (role == "system" || role == "developer") {
    // OpenAI's developer role is its new name for system; V4's own developer role is a
    // search-agent turn that OpenAI clients do not mean.
    message.role = "system";
    message.content = joined_text(content, content_path, v4_prompt::kBetweenUserContentBlocksJoiner);
  } else if (role == "user") {
    message.role = "user";
    message.content = text_or_blocks(content, content_path);
  } else if (role == "assistant") {
    message.role = "assistant";
    message.content = joined_text(content, content_path, "");
    message.reasoning_content = reader.string("reasoning_content").value_or("");
    if (const ordered_json* calls = reader.array("tool_calls")) {
      // Clients that accumulate stream deltas echo each call's "index" back.
      message.tool_calls = read_tool_calls(*calls, reader.path_of("tool_calls"), {true, {"index"}, {}});
    }
    reader.boolean("prefix");  // DeepSeek's prefix completion: a final assistant message is always continued
    reader.ignore({"refusal"});
  } else if (role == "tool") {
    message.role = "tool";
    message.content = text_or_blocks(content, content_path);
    message.tool_call_id = reader.required_string("tool_call_id");
  } else {
    reject(reader.path_of("role"), str_cat("is \"", role, "\"; expected system, developer, user, assistant or tool"));
  }
  reader.reject_unknown();
  return message;
}

ToolChoice parse_tool_choice(const ordered_json& value, const std::string& path) {
  ToolChoice choice;
  if (value.is_string()) {
    const std::string mode = checked_string(value, path);
    if (mode == "auto") {
      choice.mode = ToolChoice::Mode::Auto;
    } else if (mode == "none") {
      choice.mode = ToolChoice::Mode::None;
    } else if (mode == "required") {
      choice.mode = ToolChoice::Mode::Required;
    } else {
      reject(path, "must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
    return choice;
  }
  ObjectReader object(value, path);
  if (object.required_string("type") != "function") reject(object.path_of("type"), "must be \"function\"");
  ObjectReader function(object.require("function"), object.path_of("function"));
  choice.mode = ToolChoice::Mode::Named;
  choice.name = function.required_string("name");
  function.reject_unknown();
  object.reject_unknown();
  return choice;
}

std::optional<ReasoningEffort> effort_from_name(const std::string& name) {
  if (name == "minimal" || name == "low" || name == "medium" || name == "high") return ReasoningEffort::High;
  if (name == "xhigh" || name == "max") return ReasoningEffort::Max;
  return std::nullopt;
}

void parse_thinking(ObjectReader& body, GenerationRequest& request, const RequestLimits& limits) {
  std::optional<ThinkingMode> mode;
  if (const ordered_json* thinking = body.find("thinking")) {
    ObjectReader object(*thinking, body.path_of("thinking"));
    const std::string type = object.required_string("type");
    if (type == "enabled") {
      mode = ThinkingMode::Thinking;
    } else if (type == "disabled") {
      mode = ThinkingMode::Chat;
    } else {
      reject(object.path_of("type"), "must be \"enabled\" or \"disabled\"");
    }
    request.thinking_budget_tokens = object.integer("budget_tokens", 1, kInt64Max);
    object.reject_unknown();
  }
  if (const auto effort = body.string("reasoning_effort")) {
    if (*effort == "none") {
      if (mode == ThinkingMode::Thinking) reject("reasoning_effort", "is \"none\", but thinking is enabled");
      mode = ThinkingMode::Chat;
    } else if (const auto level = effort_from_name(*effort)) {
      request.effort = *level;
      if (!mode) mode = ThinkingMode::Thinking;
    } else {
      reject("reasoning_effort", "must be one of none, minimal, low, medium, high, xhigh, max");
    }
  }
  request.thinking = mode.value_or(limits.default_thinking);
}

void parse_sampling(ObjectReader& body, GenerationRequest& request, const RequestLimits& limits) {
  SamplingParams& sampling = request.sampling;
  if (const auto temperature = body.number("temperature", 0.0, 2.0)) sampling.temperature = static_cast<float>(*temperature);
  if (const auto top_p = body.number("top_p", 0.0, 1.0)) {
    // top_p 0 keeps only the most likely token; the sampler spells that as greedy.
    if (*top_p == 0.0) {
      sampling.temperature = 0.0f;
    } else {
      sampling.top_p = static_cast<float>(*top_p);
    }
  }
  if (const auto top_k = body.integer("top_k", -1, std::numeric_limits<int32_t>::max())) {
    sampling.top_k = *top_k < 0 ? 0 : static_cast<int32_t>(*top_k);  // vLLM spells "off" as -1
  }
  if (const auto min_p = body.number("min_p", 0.0, 1.0)) sampling.min_p = static_cast<float>(*min_p);
  if (const auto penalty = body.number("frequency_penalty", -2.0, 2.0)) sampling.frequency_penalty = static_cast<float>(*penalty);
  if (const auto penalty = body.number("presence_penalty", -2.0, 2.0)) sampling.presence_penalty = static_cast<float>(*penalty);
  if (const auto penalty = body.number("repetition_penalty", 0.0, 10.0)) {
    if (*penalty == 0.0) reject("repetition_penalty", "must be greater than 0");
    sampling.repetition_penalty = static_cast<float>(*penalty);
  }
  if (const ordered_json* bias = body.object("logit_bias")) {
    for (auto entry = bias->begin(); entry != bias->end(); ++entry) {
      const std::string path = member_path("logit_bias", entry.key());
      int32_t token = 0;
      try {
        std::size_t used = 0;
        const long value = std::stol(entry.key(), &used);
        if (used != entry.key().size() || value < 0 || value > std::numeric_limits<int32_t>::max()) throw std::exception();
        token = static_cast<int32_t>(value);
      } catch (const std::exception&) {
        reject("logit_bias", str_cat("has the key \"", entry.key(), "\", which is not a token id"));
      }
      if (!entry.value().is_number()) reject(path, str_cat("must be a number, got ", json_kind(entry.value())));
      const double value = entry.value().get<double>();
      if (!(value >= -100.0 && value <= 100.0)) reject(path, "must be between -100 and 100");
      sampling.logit_bias[token] = static_cast<float>(value);
    }
  }
  if (const auto seed = body.integer("seed", kInt64Min, kInt64Max)) {
    sampling.seed = static_cast<uint64_t>(*seed);
    request.seed_from_client = true;
  }
  if (const auto n = body.integer("n", 1, limits.max_choices)) request.n = static_cast<int>(*n);
  if (const ordered_json* stop = body.find("stop")) request.stop = stop_strings(*stop, "stop", limits.max_stop_strings);
}

void parse_streaming(ObjectReader& body, GenerationRequest& request) {
  request.stream = body.boolean("stream").value_or(false);
  if (const ordered_json* options = body.find("stream_options")) {
    if (!request.stream) reject("stream_options", "is only allowed when stream is true");
    ObjectReader reader(*options, "stream_options");
    request.include_usage = reader.boolean("include_usage").value_or(false);
    reader.ignore({"include_obfuscation"});
    reader.reject_unknown();
  }
}

// Fields OpenAI defines that change nothing here.
void ignore_bookkeeping_fields(ObjectReader& body) {
  body.ignore({"user", "metadata", "store", "service_tier", "prompt_cache_key", "safety_identifier"});
}

GenerationRequest chat_request(const ordered_json& json, const RequestLimits& limits) {
  ObjectReader body(json, "");
  GenerationRequest request;
  request.endpoint = ApiEndpoint::OpenAIChatCompletions;
  request.model = body.required_string("model");
  const ordered_json* messages = body.array("messages");
  if (!messages) reject("messages", "is required");
  if (messages->empty()) reject("messages", "must contain at least one message");
  for (std::size_t i = 0; i < messages->size(); ++i) {
    request.messages.push_back(parse_message((*messages)[i], element_path("messages", i)));
  }
  continue_final_assistant(request.messages);

  std::vector<bool> strict;
  if (const ordered_json* tools = body.find("tools")) request.tools = function_tools(*tools, "tools", &strict);
  if (const ordered_json* choice = body.find("tool_choice")) request.tool_choice = parse_tool_choice(*choice, "tool_choice");
  if (const auto parallel = body.boolean("parallel_tool_calls")) request.tool_choice.parallel_calls = *parallel;
  check_tool_choice(request.tool_choice, request.tools, "tool_choice");
  std::vector<std::string> parameters_paths;
  for (std::size_t i = 0; i < strict.size(); ++i) parameters_paths.push_back(element_path("tools", i) + ".function.parameters");
  request.tool_grammar = tool_call_grammar(request.tools, strict, parameters_paths, request.tool_choice);
  if (body.has("functions") || body.has("function_call")) {
    reject(body.has("functions") ? "functions" : "function_call", "is deprecated and not supported; use tools");
  }
  if (const ordered_json* format = body.find("response_format")) {
    request.response_format = openai_response_format(*format, "response_format");
    request.output_grammar = output_grammar(request.response_format, "response_format.json_schema.schema");
  }

  parse_thinking(body, request, limits);
  parse_sampling(body, request, limits);
  const auto max_tokens = body.integer("max_tokens", 1, kInt64Max);
  const auto max_completion_tokens = body.integer("max_completion_tokens", 1, kInt64Max);
  if (max_tokens && max_completion_tokens && *max_tokens != *max_completion_tokens) {
    reject("max_tokens", "and max_completion_tokens disagree; give one of them");
  }
  request.max_tokens = max_completion_tokens ? max_completion_tokens : max_tokens;
  if (request.max_tokens) {
    check_output_budget(*request.max_tokens, max_completion_tokens ? "max_completion_tokens" : "max_tokens", limits);
  }

  request.logprobs.enabled = body.boolean("logprobs").value_or(false);
  if (const auto top = body.integer("top_logprobs", 0, limits.max_top_logprobs)) {
    if (!request.logprobs.enabled) reject("top_logprobs", "requires logprobs to be true");
    request.logprobs.top = static_cast<int>(*top);
  }
  parse_streaming(body, request);
  ignore_bookkeeping_fields(body);
  body.reject_unknown();
  finish_request(request, "messages");
  return request;
}

GenerationRequest completion_request(const ordered_json& json, const RequestLimits& limits) {
  ObjectReader body(json, "");
  GenerationRequest request;
  request.endpoint = ApiEndpoint::OpenAICompletions;
  request.model = body.required_string("model");
  const ordered_json& prompt = body.require("prompt");
  if (prompt.is_array()) {
    if (prompt.size() != 1 || !prompt[0].is_string()) {
      reject("prompt", "must be a string or an array of one string (batches and token ids are not supported)");
    }
    request.raw_prompt = checked_string(prompt[0], "prompt[0]");
  } else {
    request.raw_prompt = checked_string(prompt, "prompt");
  }
  if (const auto suffix = body.string("suffix"); suffix && !suffix->empty()) {
    reject("suffix", "is not supported (no insertion)");
  }
  if (body.boolean("echo").value_or(false)) reject("echo", "is not supported");
  request.thinking = ThinkingMode::Chat;
  parse_sampling(body, request, limits);
  if (const auto best_of = body.integer("best_of", 1, limits.max_choices); best_of && *best_of != request.n) {
    reject("best_of", "must equal n (ranking several samples is not supported)");
  }
  request.max_tokens = body.integer("max_tokens", 1, kInt64Max).value_or(16);
  check_output_budget(*request.max_tokens, "max_tokens", limits);
  if (const auto logprobs = body.integer("logprobs", 0, 5)) {
    request.logprobs.enabled = true;
    request.logprobs.top = static_cast<int>(*logprobs);
  }
  parse_streaming(body, request);
  ignore_bookkeeping_fields(body);
  body.reject_unknown();
  finish_request(request, "prompt");
  return request;
}

}  // namespace

ProtocolResult<GenerationRequest> parse_chat_request(const ordered_json& body, const RequestLimits& limits) {
  return guarded([&] { return chat_request(body, limits); });
}

ProtocolResult<GenerationRequest> parse_completion_request(const ordered_json& body, const RequestLimits& limits) {
  return guarded([&] { return completion_request(body, limits); });
}

}  // namespace lightseek::server::openai
