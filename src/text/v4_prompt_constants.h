// The fixed strings of the DeepSeek-V4 prompt format (spec §12.2), byte for byte as DeepSeek's
// encoding_dsv4.py emits them. The model was trained on exactly these bytes. They were copied
// once from tests/fixtures/v4-encoding/constants.json, and a unit test compares every entry of
// kAllPromptConstants with that file, so the two cannot drift apart.
//
// Templates keep Python str.format fields ("{content}"); fill_prompt_template (chat_encoder.cpp)
// substitutes them in a single pass, as str.format does. The templates contain no literal braces.
#pragma once

#include <string_view>

namespace lightseek::v4_prompt {

// One source line per line of text, so the strings read like constants.json.
// clang-format off

// Tokens written as text.
inline constexpr std::string_view kBosToken = "<｜begin▁of▁sentence｜>";
inline constexpr std::string_view kEosToken = "<｜end▁of▁sentence｜>";
inline constexpr std::string_view kUserToken = "<｜User｜>";
inline constexpr std::string_view kAssistantToken = "<｜Assistant｜>";
inline constexpr std::string_view kLatestReminderToken = "<｜latest_reminder｜>";
inline constexpr std::string_view kThinkingStartToken = "<think>";
inline constexpr std::string_view kThinkingEndToken = "</think>";
inline constexpr std::string_view kDsmlToken = "｜DSML｜";

// Quick-instruction task tokens, by the task name a message carries in "task".
struct TaskToken {
  std::string_view task;
  std::string_view token;
};
inline constexpr TaskToken kTaskTokens[] = {
    {"action", "<｜action｜>"}, {"query", "<｜query｜>"}, {"authority", "<｜authority｜>"},
    {"domain", "<｜domain｜>"}, {"title", "<｜title｜>"},  {"read_url", "<｜read_url｜>"},
};
// The task whose token follows the assistant token and the thinking token instead of the message.
inline constexpr std::string_view kActionTask = "action";

// Message templates.
inline constexpr std::string_view kAssistantMessageTemplate = "{reasoning}{content}{tool_calls}<｜end▁of▁sentence｜>";
inline constexpr std::string_view kAssistantMessageWithoutEosTemplate = "{reasoning}{content}{tool_calls}";
inline constexpr std::string_view kThinkingTemplate = "{reasoning_content}";
inline constexpr std::string_view kSystemMessageTemplate = "{content}";
inline constexpr std::string_view kUserMessageTemplate = "{content}";
inline constexpr std::string_view kLatestReminderMessageTemplate = "{content}";

inline constexpr std::string_view kReasoningEffortMax =
    "Reasoning Effort: Absolute maximum with no shortcuts permitted.\n"
    "You MUST be very thorough in your thinking and comprehensively decompose the problem to resolve the root cause, rigorously stress-testing your logic against all potential paths, edge cases, and adversarial scenarios.\n"
    "Explicitly write out your entire deliberation process, documenting every intermediate step, considered alternative, and rejected hypothesis to ensure absolutely no assumption is left unchecked.\n"
    "\n";

// Tools section: fields {dsml_token}, {thinking_start_token}, {thinking_end_token}, {tool_schemas}.
inline constexpr std::string_view kToolsTemplate =
    "## Tools\n"
    "\n"
    "You have access to a set of tools to help answer the user's question. You can invoke tools by writing a \"<{dsml_token}tool_calls>\" block like the following:\n"
    "\n"
    "<{dsml_token}tool_calls>\n"
    "<{dsml_token}invoke name=\"$TOOL_NAME\">\n"
    "<{dsml_token}parameter name=\"$PARAMETER_NAME\" string=\"true|false\">$PARAMETER_VALUE</{dsml_token}parameter>\n"
    "...\n"
    "</{dsml_token}invoke>\n"
    "<{dsml_token}invoke name=\"$TOOL_NAME2\">\n"
    "...\n"
    "</{dsml_token}invoke>\n"
    "</{dsml_token}tool_calls>\n"
    "\n"
    "String parameters should be specified as is and set `string=\"true\"`. For all other types (numbers, booleans, arrays, objects), pass the value in JSON format and set `string=\"false\"`.\n"
    "\n"
    "If thinking_mode is enabled (triggered by {thinking_start_token}), you MUST output your complete reasoning inside {thinking_start_token}...{thinking_end_token} BEFORE any tool calls or final response.\n"
    "\n"
    "Otherwise, output directly after {thinking_end_token} with tool calls or final response.\n"
    "\n"
    "### Available Tool Schemas\n"
    "\n"
    "{tool_schemas}\n"
    "\n"
    "You MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.\n";

// kToolsTemplate with the token fields filled in; only {tool_schemas} is left. The encoder fills
// kToolsTemplate itself; this copy exists so a test can check that filling gives this text.
inline constexpr std::string_view kToolsTemplateFilled =
    "## Tools\n"
    "\n"
    "You have access to a set of tools to help answer the user's question. You can invoke tools by writing a \"<｜DSML｜tool_calls>\" block like the following:\n"
    "\n"
    "<｜DSML｜tool_calls>\n"
    "<｜DSML｜invoke name=\"$TOOL_NAME\">\n"
    "<｜DSML｜parameter name=\"$PARAMETER_NAME\" string=\"true|false\">$PARAMETER_VALUE</｜DSML｜parameter>\n"
    "...\n"
    "</｜DSML｜invoke>\n"
    "<｜DSML｜invoke name=\"$TOOL_NAME2\">\n"
    "...\n"
    "</｜DSML｜invoke>\n"
    "</｜DSML｜tool_calls>\n"
    "\n"
    "String parameters should be specified as is and set `string=\"true\"`. For all other types (numbers, booleans, arrays, objects), pass the value in JSON format and set `string=\"false\"`.\n"
    "\n"
    "If thinking_mode is enabled (triggered by <think>), you MUST output your complete reasoning inside <think>...</think> BEFORE any tool calls or final response.\n"
    "\n"
    "Otherwise, output directly after </think> with tool calls or final response.\n"
    "\n"
    "### Available Tool Schemas\n"
    "\n"
    "{tool_schemas}\n"
    "\n"
    "You MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.\n";

inline constexpr std::string_view kResponseFormatTemplate =
    "## Response Format:\n"
    "\n"
    "You MUST strictly adhere to the following schema to reply:\n"
    "{schema}";

// DSML tool calls.
inline constexpr std::string_view kToolCallsTemplate = "<{dsml_token}{tc_block_name}>\n{tool_calls}\n</{dsml_token}{tc_block_name}>";
inline constexpr std::string_view kToolCallsBlockName = "tool_calls";
inline constexpr std::string_view kToolCallTemplate = "<{dsml_token}invoke name=\"{name}\">\n{arguments}\n</{dsml_token}invoke>";
inline constexpr std::string_view kToolParameterTemplate =
    "<{dsml_token}parameter name=\"{key}\" string=\"{is_str}\">{value}</{dsml_token}parameter>";
inline constexpr std::string_view kToolOutputTemplate = "<tool_result>{content}</tool_result>";

// Separators used when assembling the pieces.
inline constexpr std::string_view kSystemToToolsJoiner = "\n\n";
inline constexpr std::string_view kSystemToResponseFormatJoiner = "\n\n";
inline constexpr std::string_view kContentToToolCallsJoiner = "\n\n";
inline constexpr std::string_view kBetweenInvokesJoiner = "\n";
inline constexpr std::string_view kBetweenParametersJoiner = "\n";
inline constexpr std::string_view kBetweenUserContentBlocksJoiner = "\n\n";
inline constexpr std::string_view kBetweenToolSchemasJoiner = "\n";
inline constexpr std::string_view kBetweenToolResultTextPartsJoiner = "\n\n";

// Written for a content block whose type is neither text nor tool_result; field {type}.
inline constexpr std::string_view kUnsupportedBlockPlaceholder = "[Unsupported {type}]";

// Where, in a completion, the content ends and the tool-calls block starts (output parsing).
inline constexpr std::string_view kToolCallsStartMarker = "\n\n<｜DSML｜tool_calls";

// Every constant above under its constants.json name ("group.key" for grouped values).
struct NamedPromptConstant {
  std::string_view name;
  std::string_view value;
};
inline constexpr NamedPromptConstant kAllPromptConstants[] = {
    {"bos_token", kBosToken},
    {"eos_token", kEosToken},
    {"user_token", kUserToken},
    {"assistant_token", kAssistantToken},
    {"latest_reminder_token", kLatestReminderToken},
    {"thinking_start_token", kThinkingStartToken},
    {"thinking_end_token", kThinkingEndToken},
    {"dsml_token", kDsmlToken},
    {"task_tokens.action", kTaskTokens[0].token},
    {"task_tokens.query", kTaskTokens[1].token},
    {"task_tokens.authority", kTaskTokens[2].token},
    {"task_tokens.domain", kTaskTokens[3].token},
    {"task_tokens.title", kTaskTokens[4].token},
    {"task_tokens.read_url", kTaskTokens[5].token},
    {"assistant_msg_template", kAssistantMessageTemplate},
    {"assistant_msg_wo_eos_template", kAssistantMessageWithoutEosTemplate},
    {"thinking_template", kThinkingTemplate},
    {"system_msg_template", kSystemMessageTemplate},
    {"user_msg_template", kUserMessageTemplate},
    {"latest_reminder_msg_template", kLatestReminderMessageTemplate},
    {"reasoning_effort_max", kReasoningEffortMax},
    {"tools_template", kToolsTemplate},
    {"tools_template_filled", kToolsTemplateFilled},
    {"response_format_template", kResponseFormatTemplate},
    {"tool_calls_template", kToolCallsTemplate},
    {"tool_calls_block_name", kToolCallsBlockName},
    {"tool_call_template", kToolCallTemplate},
    {"tool_parameter_template", kToolParameterTemplate},
    {"tool_output_template", kToolOutputTemplate},
    {"joiners.system_to_tools", kSystemToToolsJoiner},
    {"joiners.system_to_response_format", kSystemToResponseFormatJoiner},
    {"joiners.content_to_tool_calls", kContentToToolCallsJoiner},
    {"joiners.between_invokes", kBetweenInvokesJoiner},
    {"joiners.between_parameters", kBetweenParametersJoiner},
    {"joiners.between_user_content_blocks", kBetweenUserContentBlocksJoiner},
    {"joiners.between_tool_schemas", kBetweenToolSchemasJoiner},
    {"joiners.between_tool_result_text_parts", kBetweenToolResultTextPartsJoiner},
    {"unsupported_block_placeholder", kUnsupportedBlockPlaceholder},
    {"tool_calls_start_marker", kToolCallsStartMarker},
};

// clang-format on

}  // namespace lightseek::v4_prompt
