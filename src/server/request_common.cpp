#include "server/request_common.h"

#include <algorithm>

#include "runtime/sampler.h"
#include "server/response_ids.h"

namespace lightseek::server::fields {

ordered_json function_tool(const std::string& name, const std::string* description, const ordered_json* parameters) {
  ordered_json function = ordered_json::object();
  function["name"] = name;
  if (description) function["description"] = *description;
  if (parameters) function["parameters"] = *parameters;
  return ordered_json{{"type", "function"}, {"function", std::move(function)}};
}

ordered_json function_tools(const ordered_json& tools, const std::string& path, std::vector<bool>* strict) {
  if (!tools.is_array()) reject(path, str_cat("must be an array of tools, got ", json_kind(tools)));
  ordered_json normalised = ordered_json::array();
  for (std::size_t i = 0; i < tools.size(); ++i) {
    ObjectReader tool(tools[i], element_path(path, i));
    const std::string type = tool.required_string("type");
    if (type != "function") reject(tool.path_of("type"), "must be \"function\" (the only tool type supported)");
    ObjectReader function(tool.require("function"), tool.path_of("function"));
    const std::string name = function.required_string("name");
    if (name.empty()) reject(function.path_of("name"), "must not be empty");
    const std::optional<std::string> description = function.string("description");
    const ordered_json* parameters = function.object("parameters");
    const bool is_strict = function.boolean("strict").value_or(false);
    if (strict) strict->push_back(is_strict);
    function.reject_unknown();
    tool.reject_unknown();
    normalised.push_back(function_tool(name, description ? &*description : nullptr, parameters));
  }
  return normalised.empty() ? ordered_json() : normalised;
}

std::vector<std::string> stop_strings(const ordered_json& value, const std::string& path, std::size_t max) {
  std::vector<std::string> stops;
  if (value.is_string()) {
    stops.push_back(checked_string(value, path));
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) stops.push_back(checked_string(value[i], element_path(path, i)));
  } else {
    reject(path, str_cat("must be a string or an array of strings, got ", json_kind(value)));
  }
  if (stops.size() > max) reject(path, str_cat("has ", stops.size(), " stop sequences; at most ", max, " are allowed"));
  for (std::size_t i = 0; i < stops.size(); ++i) {
    if (stops[i].empty()) reject(value.is_array() ? element_path(path, i) : path, "must not be an empty string");
  }
  return stops;
}

ordered_json openai_response_format(const ordered_json& value, const std::string& path) {
  ObjectReader format(value, path);
  const std::string type = format.required_string("type");
  if (type == "text") {
    format.reject_unknown();
    return ordered_json();
  }
  if (type == "json_schema") {
    ObjectReader schema(format.require("json_schema"), format.path_of("json_schema"));
    if (schema.required_string("name").empty()) reject(schema.path_of("name"), "must not be empty");
    schema.string("description");
    schema.object("schema");
    schema.boolean("strict");
    schema.reject_unknown();
  } else if (type != "json_object") {
    reject(format.path_of("type"), "must be \"text\", \"json_object\" or \"json_schema\"");
  }
  format.reject_unknown();
  return value;
}

std::shared_ptr<const JsonSchemaGrammar> output_grammar(const ordered_json& response_format,
                                                        const std::string& schema_path) {
  if (response_format.is_null()) return nullptr;
  if (response_format.value("type", "") == "json_object") return JsonSchemaGrammar::any_object();
  const ordered_json& description = response_format["json_schema"];
  const ordered_json schema = description.contains("schema") ? description["schema"] : ordered_json(true);
  try {
    return JsonSchemaGrammar::compile(schema, schema_path);
  } catch (const Error& error) {
    throw ProtocolFailure(invalid_request(schema_path, error.what()));
  }
}

std::vector<ToolCall> read_tool_calls(const ordered_json& calls, const std::string& path, const ToolCallListShape& shape) {
  std::vector<ToolCall> parsed;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    ObjectReader call(calls[i], element_path(path, i));
    ToolCall tool_call;
    tool_call.id = call.string("id").value_or("");
    if (shape.type_must_be_function) {
      if (const auto type = call.string("type"); type && *type != "function") {
        reject(call.path_of("type"), "must be \"function\"");
      }
    }
    ObjectReader function(call.require("function"), call.path_of("function"));
    tool_call.name = function.required_string("name");
    if (tool_call.name.empty()) reject(function.path_of("name"), "must not be empty");
    tool_call.arguments = tool_call_arguments(function.require("arguments"), function.path_of("arguments"));
    function.ignore(shape.ignored_function_keys);
    function.reject_unknown();
    call.ignore(shape.ignored_call_keys);
    call.reject_unknown();
    parsed.push_back(std::move(tool_call));
  }
  return parsed;
}

ordered_json tool_call_arguments(const ordered_json& value, const std::string& path) {
  if (value.is_object()) return value;
  if (!value.is_string()) reject(path, str_cat("must be a JSON object or a string holding one, got ", json_kind(value)));
  const std::string text = checked_string(value, path);
  ordered_json parsed;
  try {
    parsed = ordered_json::parse(text.empty() ? std::string("{}") : text);
  } catch (const ordered_json::parse_error& error) {
    reject(path, str_cat("is not valid JSON (byte ", error.byte, ")"));
  }
  if (!parsed.is_object()) reject(path, str_cat("must hold a JSON object, got ", json_kind(parsed)));
  return parsed;
}

void check_tool_choice(const ToolChoice& choice, const ordered_json& tools, const std::string& path) {
  if (choice.mode == ToolChoice::Mode::Required && !tools.is_array()) {
    reject(path, "requires a tool to be called, but the request has no tools");
  }
  if (choice.mode != ToolChoice::Mode::Named) return;
  if (tools.is_array()) {
    for (const ordered_json& tool : tools) {
      if (tool["function"]["name"] == choice.name) return;
    }
  }
  reject(path, str_cat("names the tool \"", choice.name, "\", which is not among the request's tools"));
}

std::shared_ptr<const ToolCallGrammar> tool_call_grammar(const ordered_json& tools, const std::vector<bool>& strict,
                                                         const std::vector<std::string>& parameters_paths,
                                                         const ToolChoice& choice) {
  if (!tools.is_array() || choice.mode == ToolChoice::Mode::None) return nullptr;
  const bool any_strict = std::find(strict.begin(), strict.end(), true) != strict.end();
  if (choice.mode == ToolChoice::Mode::Auto && !any_strict) return nullptr;
  // A strict tool without parameters takes no arguments.
  static const ordered_json kNoArguments = {{"type", "object"}, {"additionalProperties", false}};
  std::vector<ToolCallSpec> specs;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const ordered_json& function = tools[i]["function"];
    const std::string name = function["name"].get<std::string>();
    if (choice.mode == ToolChoice::Mode::Named && name != choice.name) continue;
    ToolCallSpec spec;
    spec.name = name;
    if (i < strict.size() && strict[i]) {
      spec.strict_parameters = function.contains("parameters") ? &function["parameters"] : &kNoArguments;
      spec.parameters_path = i < parameters_paths.size() ? parameters_paths[i] : element_path("tools", i);
    }
    specs.push_back(std::move(spec));
  }
  ToolCallGrammar::Options options;
  options.must_call = choice.mode == ToolChoice::Mode::Required || choice.mode == ToolChoice::Mode::Named;
  options.parallel_calls = choice.parallel_calls;
  try {
    return ToolCallGrammar::compile(specs, options);
  } catch (const Error& error) {
    // The message starts with the path of what it is about.
    const std::string message = error.what();
    const std::size_t colon = message.find(": ");
    throw ProtocolFailure(invalid_request(colon == std::string::npos ? "tools" : message.substr(0, colon), message));
  }
}

void check_output_budget(int64_t max_tokens, const std::string& param, const RequestLimits& limits) {
  if (limits.context_tokens > 0 && max_tokens > limits.context_tokens) {
    reject(param, str_cat("is ", max_tokens, ", more than the model's context of ", limits.context_tokens, " tokens"));
  }
}

void continue_final_assistant(std::vector<ChatMessage>& messages) {
  if (!messages.empty() && messages.back().role == "assistant") messages.back().without_eos = true;
}

void finish_request(GenerationRequest& request, const std::string& messages_path) {
  try {
    validate_sampling_params(request.sampling);
  } catch (const Error& error) {
    reject("", error.what());
  }
  if (!request.seed_from_client) request.sampling.seed = random_seed();
  if (request.load_only) return;
  try {
    (void)render_prompt(request);
  } catch (const Error& error) {
    reject(messages_path, str_cat("cannot be written as a DeepSeek-V4 prompt: ", error.what()));
  }
}

}  // namespace lightseek::server::fields
