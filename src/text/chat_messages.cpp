// Parsing OpenAI-style JSON into ChatMessage, and the checks every message passes before it is
// encoded.
#include "text/chat_messages.h"

#include <string>

#include "core/error.h"
#include "text/utf8.h"
#include "text/v4_prompt_constants.h"

namespace lightseek {

using nlohmann::ordered_json;

namespace chat_detail {

std::optional<std::string_view> task_token(std::string_view task) {
  for (const auto& entry : v4_prompt::kTaskTokens) {
    if (entry.task == task) return entry.token;
  }
  return std::nullopt;
}

const char* json_kind(const ordered_json& value) {
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number()) return "a number";
  if (value.is_binary()) return "binary data";
  return "null";
}

bool python_truthy(const ordered_json& value) {
  switch (value.type()) {
    case ordered_json::value_t::null:
      return false;
    case ordered_json::value_t::boolean:
      return value.get<bool>();
    case ordered_json::value_t::number_integer:
    case ordered_json::value_t::number_unsigned:
    case ordered_json::value_t::number_float:
      return value.get<double>() != 0.0;
    default:
      return !value.empty();  // strings, arrays, objects
  }
}

namespace {

std::string valid_task_names() {
  std::string names;
  for (const auto& entry : v4_prompt::kTaskTokens) names += (names.empty() ? "" : ", ") + std::string(entry.task);
  return names;
}

class MessageChecker {
 public:
  MessageChecker(const ChatMessage& message, std::size_t index) : message_(message), index_(index) {}

  void check() const {
    const std::string& role = message_.role;
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" && role != "developer" &&
        role != "latest_reminder") {
      check_utf8(role, "role");
      fail("message ", index_, ": unknown role \"", role,
           "\" (expected system, user, assistant, tool, developer or latest_reminder)");
    }
    check_content();
    check_utf8(message_.reasoning_content, "reasoning_content");
    check_utf8(message_.tool_call_id, "tool_call_id");
    check_tool_calls();
    if (message_.task) {
      check_utf8(*message_.task, "task");
      if (!task_token(*message_.task)) {
        error("task \"", *message_.task, "\" is not a V4 task (expected one of ", valid_task_names(), ")");
      }
    }
    check_tools();
    check_json_strings(message_.response_format, "response_format");
  }

 private:
  template <typename... Parts>
  [[noreturn]] void error(Parts&&... parts) const {
    fail("message ", index_, " (", message_.role, "): ", std::forward<Parts>(parts)...);
  }

  void check_utf8(std::string_view text, std::string_view field) const {
    if (const auto bad = utf8::first_invalid_offset(text)) {
      fail("message ", index_, ": ", field, " is not valid UTF-8 (byte ", *bad, ")");
    }
  }

  // Every string and key inside a JSON value that will be written into the prompt.
  void check_json_strings(const ordered_json& value, const std::string& field) const {
    if (value.is_string()) {
      check_utf8(value.get_ref<const std::string&>(), field);
    } else if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i)
        check_json_strings(value[i], field + "[" + std::to_string(i) + "]");
    } else if (value.is_object()) {
      for (auto member = value.begin(); member != value.end(); ++member) {
        check_utf8(member.key(), field + " (a key)");
        check_json_strings(member.value(), field + "." + member.key());
      }
    } else if (value.is_binary()) {
      error(field, " holds binary data, which has no JSON text form");
    }
  }

  void check_content() const {
    const ordered_json& content = message_.content;
    const std::string& role = message_.role;
    if (role == "developer") {
      // encoding_dsv4 asserts that a developer message has content: it becomes a user turn.
      if (!content.is_string() || content.get_ref<const std::string&>().empty()) {
        error("content must be a non-empty string, got ", json_kind(content));
      }
    } else if (role == "latest_reminder") {
      if (!content.is_string()) error("content must be a string, got ", json_kind(content));
    } else if (role == "system" || role == "assistant") {
      if (!content.is_null() && !content.is_string()) error("content must be a string, got ", json_kind(content));
    } else if (!content.is_null() && !content.is_string() && !content.is_array()) {  // user, tool
      error("content must be a string or an array of content blocks, got ", json_kind(content));
    }
    if (content.is_array()) {
      for (std::size_t i = 0; i < content.size(); ++i) {
        check_block(content[i], "content[" + std::to_string(i) + "]", /*tool_results_allowed=*/role == "user");
      }
    }
    check_json_strings(content, "content");
  }

  void check_block(const ordered_json& block, const std::string& where, bool tool_results_allowed) const {
    if (!block.is_object()) error(where, " must be a content block object, got ", json_kind(block));
    const auto type = block.find("type");
    if (type == block.end() || !type->is_string()) error(where, " has no \"type\" string");
    const std::string& type_name = type->get_ref<const std::string&>();
    if (type_name == "text") {
      const auto text = block.find("text");
      if (text != block.end() && !text->is_string()) error(where, ".text must be a string, got ", json_kind(*text));
    } else if (type_name == "tool_result" && tool_results_allowed) {
      const auto id = block.find("tool_use_id");
      if (id != block.end() && !id->is_null() && !id->is_string()) {
        error(where, ".tool_use_id must be a string, got ", json_kind(*id));
      }
      const auto result = block.find("content");
      if (result == block.end() || result->is_null() || result->is_string()) return;
      if (!result->is_array())
        error(where, ".content must be a string or an array of content blocks, got ", json_kind(*result));
      for (std::size_t i = 0; i < result->size(); ++i) {
        check_block((*result)[i], where + ".content[" + std::to_string(i) + "]", false);
      }
    }
  }

  void check_tool_calls() const {
    if (message_.tool_calls.empty()) return;
    if (message_.role != "assistant") error("only assistant messages can have tool_calls");
    for (std::size_t i = 0; i < message_.tool_calls.size(); ++i) {
      const ToolCall& call = message_.tool_calls[i];
      const std::string where = "tool_calls[" + std::to_string(i) + "]";
      if (call.name.empty()) error(where, " has no function name");
      check_utf8(call.name, where + ".function.name");
      check_utf8(call.id, where + ".id");
      if (!call.arguments.is_object()) {
        error(where, ".function.arguments must be a JSON object, got ", json_kind(call.arguments));
      }
      check_json_strings(call.arguments, where + ".function.arguments");
    }
  }

  void check_tools() const {
    const ordered_json& tools = message_.tools;
    if (tools.is_null()) return;
    if (!tools.is_array()) error("tools must be an array of tools, got ", json_kind(tools));
    for (std::size_t i = 0; i < tools.size(); ++i) {
      const ordered_json& tool = tools[i];
      // V4 writes the OpenAI "function" object of each tool.
      if (!tool.is_object() || !tool.contains("function") || !tool["function"].is_object()) {
        error("tools[", i, "] must be an object with a \"function\" object (OpenAI tool format)");
      }
    }
    check_json_strings(tools, "tools");
  }

  const ChatMessage& message_;
  std::size_t index_;
};

}  // namespace

void validate_chat_message(const ChatMessage& message, std::size_t index) { MessageChecker(message, index).check(); }

}  // namespace chat_detail

namespace {

using chat_detail::json_kind;

// The string at json[key], "" when absent or null.
std::string optional_string(const ordered_json& json, const char* key, std::size_t index) {
  const auto found = json.find(key);
  if (found == json.end() || found->is_null()) return {};
  if (!found->is_string()) fail("message ", index, ": ", key, " must be a string, got ", json_kind(*found));
  return found->get<std::string>();
}

ordered_json parse_tool_call_arguments(const ordered_json& arguments, std::size_t index, const std::string& where) {
  if (arguments.is_object()) return arguments;
  if (!arguments.is_string()) {
    fail("message ", index, ": ", where, " must be a JSON object or a string holding one, got ", json_kind(arguments));
  }
  ordered_json parsed;
  try {
    parsed = ordered_json::parse(arguments.get_ref<const std::string&>());
  } catch (const ordered_json::parse_error& error) {
    // what() starts with "[json.exception.parse_error.101] "; the rest carries the position.
    const std::string what = error.what();
    const std::size_t start = what.find("] ");
    fail("message ", index, ": ", where,
         " is not valid JSON: ", start == std::string::npos ? what : what.substr(start + 2));
  }
  if (!parsed.is_object()) {
    fail("message ", index, ": ", where, " must hold a JSON object, got ", json_kind(parsed));
  }
  return parsed;
}

std::vector<ToolCall> parse_tool_calls(const ordered_json& json, std::size_t index) {
  std::vector<ToolCall> calls;
  const auto found = json.find("tool_calls");
  if (found == json.end() || found->is_null()) return calls;
  if (!found->is_array()) fail("message ", index, ": tool_calls must be an array, got ", json_kind(*found));
  for (std::size_t i = 0; i < found->size(); ++i) {
    const ordered_json& entry = (*found)[i];
    const std::string where = "tool_calls[" + std::to_string(i) + "]";
    if (!entry.is_object()) fail("message ", index, ": ", where, " must be an object, got ", json_kind(entry));
    const auto function = entry.find("function");
    if (function == entry.end() || !function->is_object()) {
      fail("message ", index, ": ", where, " has no \"function\" object (so no function name)");
    }
    ToolCall call;
    const auto name = function->find("name");
    if (name == function->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
      fail("message ", index, ": ", where, " has no function name");
    }
    call.name = name->get<std::string>();
    // encoding_dsv4 looks for the id on the call and then on its function.
    call.id = optional_string(entry, "id", index);
    if (call.id.empty()) call.id = optional_string(*function, "id", index);
    const auto arguments = function->find("arguments");
    if (arguments == function->end()) fail("message ", index, ": ", where, ".function.arguments is missing");
    call.arguments = parse_tool_call_arguments(*arguments, index, where + ".function.arguments");
    calls.push_back(std::move(call));
  }
  return calls;
}

ChatMessage parse_chat_message(const ordered_json& json, std::size_t index) {
  if (!json.is_object()) fail("message ", index, ": must be a JSON object, got ", json_kind(json));
  ChatMessage message;
  const auto role = json.find("role");
  if (role == json.end()) fail("message ", index, ": has no \"role\"");
  if (!role->is_string()) fail("message ", index, ": role must be a string, got ", json_kind(*role));
  message.role = role->get<std::string>();
  if (const auto content = json.find("content"); content != json.end()) message.content = *content;
  message.reasoning_content = optional_string(json, "reasoning_content", index);
  message.tool_calls = parse_tool_calls(json, index);
  message.tool_call_id = optional_string(json, "tool_call_id", index);
  if (const auto task = json.find("task"); task != json.end() && !task->is_null()) {
    if (!task->is_string()) fail("message ", index, ": task must be a string, got ", json_kind(*task));
    message.task = task->get<std::string>();
  }
  if (const auto tools = json.find("tools"); tools != json.end()) message.tools = *tools;
  if (const auto format = json.find("response_format"); format != json.end()) message.response_format = *format;
  if (const auto wo_eos = json.find("wo_eos"); wo_eos != json.end() && !wo_eos->is_null()) {
    if (!wo_eos->is_boolean()) fail("message ", index, ": wo_eos must be a boolean, got ", json_kind(*wo_eos));
    message.without_eos = wo_eos->get<bool>();
  }
  chat_detail::validate_chat_message(message, index);
  return message;
}

}  // namespace

std::vector<ChatMessage> parse_chat_messages(const ordered_json& json) {
  const ordered_json* list = &json;
  if (json.is_object()) {
    const auto messages = json.find("messages");
    if (messages == json.end()) fail("chat messages: the object has no \"messages\" array");
    list = &*messages;
  }
  if (!list->is_array()) {
    fail("chat messages: expected an array of messages (or an object with a \"messages\" array), got ",
         json_kind(*list));
  }
  std::vector<ChatMessage> messages;
  messages.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) messages.push_back(parse_chat_message((*list)[i], i));
  if (json.is_object()) {
    attach_request_options(messages, json.value("tools", ordered_json()),
                           json.value("response_format", ordered_json()));
  }
  return messages;
}

void attach_request_options(std::vector<ChatMessage>& messages, const ordered_json& tools,
                            const ordered_json& response_format) {
  const bool has_tools = chat_detail::python_truthy(tools);
  const bool has_format = chat_detail::python_truthy(response_format);
  if (!has_tools && !has_format) return;
  const bool first_can_carry =
      !messages.empty() && (messages.front().role == "system" || messages.front().role == "developer");
  if (!first_can_carry) {
    ChatMessage system;
    system.role = "system";
    system.content = "";
    messages.insert(messages.begin(), std::move(system));
  }
  ChatMessage& target = messages.front();
  if (has_tools) {
    if (chat_detail::python_truthy(target.tools)) fail("tools are given twice: for the request and on message 0");
    target.tools = tools;
  }
  if (has_format) {
    if (chat_detail::python_truthy(target.response_format)) {
      fail("response_format is given twice: for the request and on message 0");
    }
    target.response_format = response_format;
  }
  chat_detail::validate_chat_message(target, 0);
}

}  // namespace lightseek
