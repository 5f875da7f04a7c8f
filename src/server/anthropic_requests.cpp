// Anthropic request bodies → GenerationRequest.
#include <limits>
#include <string>

#include "server/anthropic_protocol.h"
#include "server/request_common.h"
#include "text/v4_prompt_constants.h"

namespace lightseek::server::anthropic {

namespace {

using nlohmann::ordered_json;
using namespace fields;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Refuses block types the model cannot read, naming them.
[[noreturn]] void unsupported_block(const ObjectReader& block, const std::string& type) {
  reject(block.path_of("type"), str_cat("is \"", type, "\", which is not supported here (the model reads text)"));
}

std::string text_block(ObjectReader& block) {
  std::string text = block.required_string("text");
  block.ignore({"cache_control", "citations"});
  block.reject_unknown();
  return text;
}

// A tool_result's content: a string, or text blocks kept as blocks.
ordered_json tool_result_content(const ordered_json* content, const std::string& path) {
  if (!content) return "";
  if (content->is_string()) return checked_string(*content, path);
  if (!content->is_array()) reject(path, str_cat("must be a string or an array of content blocks, got ", json_kind(*content)));
  ordered_json blocks = ordered_json::array();
  for (std::size_t i = 0; i < content->size(); ++i) {
    ObjectReader block((*content)[i], element_path(path, i));
    const std::string type = block.required_string("type");
    if (type != "text") unsupported_block(block, type);
    blocks.push_back({{"type", "text"}, {"text", text_block(block)}});
  }
  return blocks;
}

ChatMessage user_message(const ordered_json& content, const std::string& path) {
  ChatMessage message;
  message.role = "user";
  if (content.is_string()) {
    message.content = checked_string(content, path);
    return message;
  }
  message.content = ordered_json::array();
  for (std::size_t i = 0; i < content.size(); ++i) {
    ObjectReader block(content[i], element_path(path, i));
    const std::string type = block.required_string("type");
    if (type == "text") {
      message.content.push_back({{"type", "text"}, {"text", text_block(block)}});
    } else if (type == "tool_result") {
      const std::string id = block.required_string("tool_use_id");
      ordered_json result = tool_result_content(block.find("content"), block.path_of("content"));
      block.boolean("is_error");  // the result text says what went wrong; V4 has no error flag
      block.ignore({"cache_control"});
      block.reject_unknown();
      message.content.push_back({{"type", "tool_result"}, {"tool_use_id", id}, {"content", std::move(result)}});
    } else {
      unsupported_block(block, type);
    }
  }
  return message;
}

ChatMessage assistant_message(const ordered_json& content, const std::string& path) {
  ChatMessage message;
  message.role = "assistant";
  if (content.is_string()) {
    message.content = checked_string(content, path);
    return message;
  }
  std::string text;
  for (std::size_t i = 0; i < content.size(); ++i) {
    ObjectReader block(content[i], element_path(path, i));
    const std::string type = block.required_string("type");
    if (type == "text") {
      text += text_block(block);
    } else if (type == "thinking") {
      message.reasoning_content += block.required_string("thinking");
      block.string("signature");  // lightseek signs nothing; whatever comes back is accepted
      block.ignore({"cache_control"});
      block.reject_unknown();
    } else if (type == "redacted_thinking") {
      block.ignore({"data", "cache_control"});
      block.reject_unknown();
    } else if (type == "tool_use") {
      ToolCall call;
      call.id = block.required_string("id");
      call.name = block.required_string("name");
      if (call.name.empty()) reject(block.path_of("name"), "must not be empty");
      const ordered_json& input = block.require("input");
      if (!input.is_object()) reject(block.path_of("input"), str_cat("must be an object, got ", json_kind(input)));
      call.arguments = input;
      block.ignore({"cache_control"});
      block.reject_unknown();
      message.tool_calls.push_back(std::move(call));
    } else {
      unsupported_block(block, type);
    }
  }
  message.content = text;
  return message;
}

std::string system_text(const ordered_json& system) {
  if (system.is_string()) return checked_string(system, "system");
  if (!system.is_array()) reject("system", str_cat("must be a string or an array of text blocks, got ", json_kind(system)));
  std::string text;
  for (std::size_t i = 0; i < system.size(); ++i) {
    ObjectReader block(system[i], element_path("system", i));
    const std::string type = block.required_string("type");
    if (type != "text") unsupported_block(block, type);
    if (i > 0) text += v4_prompt::kBetweenUserContentBlocksJoiner;
    text += text_block(block);
  }
  return text;
}

ordered_json tools(const ordered_json& list, std::vector<bool>& strict) {
  if (!list.is_array()) reject("tools", str_cat("must be an array, got ", json_kind(list)));
  ordered_json normalised = ordered_json::array();
  for (std::size_t i = 0; i < list.size(); ++i) {
    ObjectReader tool(list[i], element_path("tools", i));
    if (const auto type = tool.string("type"); type && *type != "custom") {
      reject(tool.path_of("type"), str_cat("is \"", *type, "\"; only client tools (\"custom\") are supported"));
    }
    const std::string name = tool.required_string("name");
    if (name.empty()) reject(tool.path_of("name"), "must not be empty");
    const std::optional<std::string> description = tool.string("description");
    const ordered_json& schema = tool.require("input_schema");
    if (!schema.is_object()) reject(tool.path_of("input_schema"), str_cat("must be an object, got ", json_kind(schema)));
    strict.push_back(tool.boolean("strict").value_or(false));
    tool.ignore({"cache_control"});
    tool.reject_unknown();
    normalised.push_back(function_tool(name, description ? &*description : nullptr, &schema));
  }
  return normalised.empty() ? ordered_json() : normalised;
}

ToolChoice tool_choice(const ordered_json& value) {
  ObjectReader reader(value, "tool_choice");
  ToolChoice choice;
  const std::string type = reader.required_string("type");
  if (type == "auto") {
    choice.mode = ToolChoice::Mode::Auto;
  } else if (type == "any") {
    choice.mode = ToolChoice::Mode::Required;
  } else if (type == "none") {
    choice.mode = ToolChoice::Mode::None;
  } else if (type == "tool") {
    choice.mode = ToolChoice::Mode::Named;
    choice.name = reader.required_string("name");
  } else {
    reject(reader.path_of("type"), "must be \"auto\", \"any\", \"tool\" or \"none\"");
  }
  if (const auto disable = reader.boolean("disable_parallel_tool_use")) choice.parallel_calls = !*disable;
  reader.reject_unknown();
  return choice;
}

void parse_thinking(ObjectReader& body, GenerationRequest& request, const RequestLimits& limits) {
  request.thinking = limits.default_thinking;
  const ordered_json* thinking = body.find("thinking");
  if (!thinking) return;
  ObjectReader reader(*thinking, "thinking");
  const std::string type = reader.required_string("type");
  if (type == "enabled") {
    request.thinking = ThinkingMode::Thinking;
    const auto budget = reader.integer("budget_tokens", 1024, kInt64Max);
    if (!budget) reject("thinking.budget_tokens", "is required when thinking is enabled");
    if (request.max_tokens && *budget >= *request.max_tokens) {
      reject("thinking.budget_tokens", str_cat("must be less than max_tokens (", *request.max_tokens, ")"));
    }
    request.thinking_budget_tokens = budget;
  } else if (type == "adaptive") {
    request.thinking = ThinkingMode::Thinking;
  } else if (type == "disabled") {
    request.thinking = ThinkingMode::Chat;
  } else {
    reject(reader.path_of("type"), "must be \"enabled\", \"disabled\" or \"adaptive\"");
  }
  reader.reject_unknown();
}

GenerationRequest parse(const ordered_json& json, const RequestLimits& limits, bool count_only) {
  ObjectReader body(json, "");
  GenerationRequest request;
  request.endpoint = count_only ? ApiEndpoint::AnthropicCountTokens : ApiEndpoint::AnthropicMessages;
  request.model = body.required_string("model");
  if (!count_only) {
    const auto max_tokens = body.integer("max_tokens", 1, kInt64Max);
    if (!max_tokens) reject("max_tokens", "is required");
    check_output_budget(*max_tokens, "max_tokens", limits);
    request.max_tokens = max_tokens;
  }

  if (const ordered_json* system = body.find("system")) {
    ChatMessage message;
    message.role = "system";
    message.content = system_text(*system);
    request.messages.push_back(std::move(message));
  }
  const ordered_json* messages = body.array("messages");
  if (!messages) reject("messages", "is required");
  if (messages->empty()) reject("messages", "must contain at least one message");
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const std::string path = element_path("messages", i);
    ObjectReader message(messages->at(i), path);
    const std::string role = message.required_string("role");
    const ordered_json& content = message.require("content");
    const std::string content_path = message.path_of("content");
    if (!content.is_string() && !content.is_array()) {
      reject(content_path, str_cat("must be a string or an array of content blocks, got ", json_kind(content)));
    }
    if (role == "user") {
      request.messages.push_back(user_message(content, content_path));
    } else if (role == "assistant") {
      request.messages.push_back(assistant_message(content, content_path));
    } else {
      reject(message.path_of("role"), str_cat("is \"", role, "\"; expected user or assistant"));
    }
    message.reject_unknown();
  }
  continue_final_assistant(request.messages);

  std::vector<bool> strict;
  if (const ordered_json* list = body.find("tools")) request.tools = tools(*list, strict);
  if (const ordered_json* choice = body.find("tool_choice")) request.tool_choice = tool_choice(*choice);
  check_tool_choice(request.tool_choice, request.tools, "tool_choice");
  std::vector<std::string> schema_paths;
  for (std::size_t i = 0; i < strict.size(); ++i) schema_paths.push_back(element_path("tools", i) + ".input_schema");
  request.tool_grammar = tool_call_grammar(request.tools, strict, schema_paths, request.tool_choice);
  parse_thinking(body, request, limits);

  if (!count_only) {
    SamplingParams& sampling = request.sampling;
    if (const auto temperature = body.number("temperature", 0.0, 1.0)) sampling.temperature = static_cast<float>(*temperature);
    if (const auto top_p = body.number("top_p", 0.0, 1.0)) {
      if (*top_p == 0.0) {
        sampling.temperature = 0.0f;  // only the most likely token remains
      } else {
        sampling.top_p = static_cast<float>(*top_p);
      }
    }
    if (const auto top_k = body.integer("top_k", 0, std::numeric_limits<int32_t>::max())) {
      sampling.top_k = static_cast<int32_t>(*top_k);
    }
    if (const ordered_json* stops = body.array("stop_sequences")) {
      request.stop = stop_strings(*stops, "stop_sequences", limits.max_stop_strings);
    }
    request.stream = body.boolean("stream").value_or(false);
    body.ignore({"metadata", "service_tier"});
  }
  body.reject_unknown();
  finish_request(request, "messages");
  return request;
}

}  // namespace

ProtocolResult<GenerationRequest> parse_messages_request(const ordered_json& body, const RequestLimits& limits) {
  return guarded([&] { return parse(body, limits, /*count_only=*/false); });
}

ProtocolResult<GenerationRequest> parse_count_tokens_request(const ordered_json& body, const RequestLimits& limits) {
  return guarded([&] { return parse(body, limits, /*count_only=*/true); });
}

}  // namespace lightseek::server::anthropic
