// Request pieces that several APIs share (OpenAI-format tools, stop lists, response formats,
// tool call arguments) and the checks every parsed request ends with. Internal to src/server.
#pragma once

#include <cstddef>
#include <exception>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "server/generation_request.h"
#include "server/protocol_error.h"
#include "server/request_fields.h"

namespace lightseek::server::fields {

// OpenAI's tool list ([{"type": "function", "function": {"name", "description", "parameters",
// "strict"}}]), which Ollama uses too: checked and rebuilt with only what the prompt shows, in
// the order name, description, parameters, so equal tools render equal prompts whatever API
// they came through. Returns null for an empty list. `strict` (when given) receives each tool's
// "strict" flag, which the prompt does not show.
ordered_json function_tools(const ordered_json& tools, const std::string& path, std::vector<bool>* strict = nullptr);

// One tool in the normalised form above.
ordered_json function_tool(const std::string& name, const std::string* description, const ordered_json* parameters);

// A string or an array of strings; none empty, at most `max` of them.
std::vector<std::string> stop_strings(const ordered_json& value, const std::string& path, std::size_t max);

// OpenAI's response_format: null for {"type": "text"}, else the validated object as given.
ordered_json openai_response_format(const ordered_json& value, const std::string& path);

// The grammar structured output enforces for a response_format as openai_response_format
// returns it: null for none, any object for json_object, the compiled schema for json_schema
// (any value when it gives none). An unsupported schema is a 400 naming the keyword and its
// path under `schema_path`, the client's own name for the schema.
std::shared_ptr<const JsonSchemaGrammar> output_grammar(const ordered_json& response_format,
                                                        const std::string& schema_path);

// Tool call arguments as a JSON object: an object as is, or a string holding one (OpenAI sends
// the arguments as JSON text).
ordered_json tool_call_arguments(const ordered_json& value, const std::string& path);

// How an API writes the tool calls of an assistant message ([{id, type, function: {name,
// arguments}}] in both OpenAI and Ollama): the keys each level may carry beyond those, ignored.
struct ToolCallListShape {
  bool type_must_be_function = false;  // OpenAI: "type", when present, is "function"
  std::initializer_list<std::string_view> ignored_call_keys;
  std::initializer_list<std::string_view> ignored_function_keys;
};
std::vector<ToolCall> read_tool_calls(const ordered_json& calls, const std::string& path, const ToolCallListShape& shape);

// The tool a Named tool_choice names must be among the tools; Required needs some tool.
void check_tool_choice(const ToolChoice& choice, const ordered_json& tools, const std::string& path);

// What constrained decoding enforces for normalised `tools` (function_tools' form): strict
// tools' arguments follow their parameters schema, tool_choice required / named makes the
// reply a tool call (of that tool), parallel_calls false allows one. Null when nothing is
// enforced (tool_choice none, or auto without strict tools). A strict tool's schema the decoder
// cannot enforce is a 400 naming the keyword under parameters_paths[i], the client's name for
// tool i's schema.
std::shared_ptr<const ToolCallGrammar> tool_call_grammar(const ordered_json& tools, const std::vector<bool>& strict,
                                                         const std::vector<std::string>& parameters_paths,
                                                         const ToolChoice& choice);

// max_tokens (named `param` in the API) must fit in the context.
void check_output_budget(int64_t max_tokens, const std::string& param, const RequestLimits& limits);

// A conversation that ends with an assistant message asks for that message to be continued
// (Anthropic's prefill, DeepSeek's "prefix": true): it is written without its end of sentence.
void continue_final_assistant(std::vector<ChatMessage>& messages);

// The checks every request ends with: sampling values in range (Sampler's rules), a random
// seed when none was given, and a conversation the V4 format can express (reported at
// `messages_path`).
void finish_request(GenerationRequest& request, const std::string& messages_path);

// Runs a parser, turning every failure into a ProtocolError: ProtocolFailure as it is,
// lightseek::Error as a 400, anything else (a bug) as a 500, so no input ends the process.
template <typename Parse>
auto guarded(Parse&& parse) -> ProtocolResult<decltype(parse())> {
  try {
    return parse();
  } catch (const ProtocolFailure& failure) {
    return failure.error();
  } catch (const Error& error) {
    return invalid_request("", error.what());
  } catch (const std::exception& error) {
    return server_error(std::string("internal error while reading the request: ") + error.what());
  }
}

}  // namespace lightseek::server::fields
