// Rendering of the V4 prompt (spec §12.2). The steps follow encoding_dsv4.py so that every
// conversation it accepts gives the same bytes:
//   1. tool messages become tool_result blocks of user turns (merge_turns);
//   2. several results in one turn are put in the order of the assistant's tool calls;
//   3. in thinking mode with drop_thinking in effect, earlier reasoning and developer turns go;
//   4. each turn is written, followed by its transition to the next (TurnRenderer).
#include "text/chat_encoder.h"

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "text/chat_messages.h"
#include "text/python_json.h"
#include "text/v4_prompt_constants.h"

namespace lightseek {

namespace {

using nlohmann::ordered_json;
namespace v4 = v4_prompt;

struct TemplateField {
  std::string_view name;
  std::string_view value;
};

// Python's str.format for the constant templates: every {name} is replaced once; values are not
// scanned again, so braces inside user text stay as they are.
std::string fill_prompt_template(std::string_view prompt_template, std::initializer_list<TemplateField> fields) {
  std::string out;
  std::size_t position = 0;
  while (position < prompt_template.size()) {
    const std::size_t open = prompt_template.find('{', position);
    if (open == std::string_view::npos) {
      out += prompt_template.substr(position);
      break;
    }
    const std::size_t close = prompt_template.find('}', open);
    if (close == std::string_view::npos) throw std::logic_error("unclosed field in a V4 prompt template");
    out += prompt_template.substr(position, open - position);
    const std::string_view name = prompt_template.substr(open + 1, close - open - 1);
    const auto field =
        std::find_if(fields.begin(), fields.end(), [&](const TemplateField& f) { return f.name == name; });
    if (field == fields.end())
      throw std::logic_error("V4 prompt template field {" + std::string(name) + "} has no value");
    out += field->value;
    position = close + 1;
  }
  return out;
}

template <typename Range, typename Render>
std::string join(const Range& items, std::string_view separator, Render render) {
  std::string out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out += separator;
    first = false;
    out += render(item);
  }
  return out;
}

std::string_view text_or_empty(const ordered_json& content) {
  return content.is_string() ? std::string_view(content.get_ref<const std::string&>()) : std::string_view();
}

// One piece of a user turn.
struct UserBlock {
  enum class Kind { Text, ToolResult, Unsupported } kind = Kind::Text;
  std::string text;          // Text: the text; ToolResult: the result text; Unsupported: the type
  std::string tool_call_id;  // ToolResult: which call it answers ("" when not given)
  std::size_t source_message = 0;
};

// A message after tool results are merged into user turns.
struct Turn {
  std::string_view role;
  std::size_t source_message = 0;        // index in the caller's list, for error messages
  const ChatMessage* message = nullptr;  // the message itself (user turns: the first one)
  std::vector<UserBlock> blocks;         // user turns only
  std::optional<std::string> task;
  bool keep_reasoning = true;  // false once drop_thinking removed it

  bool carries_tools() const {
    // encoding_dsv4 keeps tools only on the messages it does not rebuild into user turns.
    return role != "user" && message && chat_detail::python_truthy(message->tools);
  }
};

// A tool result's content: a string, or text parts joined by a blank line.
std::string tool_result_text(const ordered_json& content) {
  if (!content.is_array()) return std::string(text_or_empty(content));
  return join(content, v4::kBetweenToolResultTextPartsJoiner, [](const ordered_json& part) {
    const std::string& type = part["type"].get_ref<const std::string&>();
    if (type == "text") return part.contains("text") ? part["text"].get<std::string>() : std::string();
    return fill_prompt_template(v4::kUnsupportedBlockPlaceholder, {{"type", type}});
  });
}

std::vector<UserBlock> user_blocks(const ChatMessage& message, std::size_t index) {
  std::vector<UserBlock> blocks;
  if (!message.content.is_array()) {
    blocks.push_back({UserBlock::Kind::Text, std::string(text_or_empty(message.content)), {}, index});
    return blocks;
  }
  for (const ordered_json& block : message.content) {
    const std::string& type = block["type"].get_ref<const std::string&>();
    if (type == "text") {
      blocks.push_back(
          {UserBlock::Kind::Text, block.contains("text") ? block["text"].get<std::string>() : "", {}, index});
    } else if (type == "tool_result") {
      const auto id = block.find("tool_use_id");
      blocks.push_back({UserBlock::Kind::ToolResult, tool_result_text(block.value("content", ordered_json())),
                        id != block.end() && id->is_string() ? id->get<std::string>() : "", index});
    } else {
      blocks.push_back({UserBlock::Kind::Unsupported, type, {}, index});
    }
  }
  return blocks;
}

// Step 1 for messages [begin, end). Context and new messages are merged separately, as
// encoding_dsv4 does, so a result never joins a turn that was already encoded.
std::vector<Turn> merge_turns(const std::vector<ChatMessage>& messages, std::size_t begin, std::size_t end,
                              bool& seen_tool_calls) {
  std::vector<Turn> turns;
  for (std::size_t i = begin; i < end; ++i) {
    const ChatMessage& message = messages[i];
    const bool previous_is_user = !turns.empty() && turns.back().role == "user";
    if (message.role == "tool") {
      if (!seen_tool_calls)
        fail("message ", i, " (tool): a tool result must follow an assistant message with tool_calls");
      UserBlock block{UserBlock::Kind::ToolResult, tool_result_text(message.content), message.tool_call_id, i};
      if (previous_is_user) {
        turns.back().blocks.push_back(std::move(block));
      } else {
        turns.push_back(Turn{"user", i, nullptr, {std::move(block)}, std::nullopt});
      }
    } else if (message.role == "user") {
      auto blocks = user_blocks(message, i);
      if (previous_is_user && !turns.back().task) {
        // A user message right after a user turn joins it, and (as in encoding_dsv4) its own
        // task, if any, is not kept.
        auto& joined = turns.back().blocks;
        joined.insert(joined.end(), std::make_move_iterator(blocks.begin()), std::make_move_iterator(blocks.end()));
      } else {
        turns.push_back(Turn{"user", i, &message, std::move(blocks), message.task});
      }
    } else {
      turns.push_back(Turn{message.role, i, &message, {}, message.task});
    }
    if (message.role == "assistant" && !message.tool_calls.empty()) seen_tool_calls = true;
  }
  return turns;
}

// Step 2: the model saw tool results in the order it made the calls. Results in a user turn
// are stably sorted by the position of their call in the last assistant message with tool
// calls; other blocks keep their places.
class ToolResultOrder {
 public:
  void apply(Turn& turn) {
    if (turn.role == "assistant" && !turn.message->tool_calls.empty()) {
      position_of_id_.clear();
      assistant_message_ = turn.source_message;
      const auto& calls = turn.message->tool_calls;
      for (std::size_t k = 0; k < calls.size(); ++k) {
        if (!calls[k].id.empty()) position_of_id_[calls[k].id] = k;
      }
      return;
    }
    if (turn.role != "user") return;
    std::vector<std::size_t> slots;
    for (std::size_t b = 0; b < turn.blocks.size(); ++b) {
      if (turn.blocks[b].kind == UserBlock::Kind::ToolResult) slots.push_back(b);
    }
    if (slots.size() < 2 || position_of_id_.empty()) return;
    std::vector<std::pair<std::size_t, UserBlock>> results;
    for (const std::size_t slot : slots) {
      UserBlock& block = turn.blocks[slot];
      if (block.tool_call_id.empty()) {
        fail("message ", block.source_message, ": this tool result has no tool_call_id, which it needs: ",
             "several results answer the tool calls of assistant message ", assistant_message_,
             " and are written in the order of those calls");
      }
      const auto position = position_of_id_.find(block.tool_call_id);
      if (position == position_of_id_.end()) {
        fail("message ", block.source_message, ": tool_call_id \"", block.tool_call_id,
             "\" matches none of the tool call ids of assistant message ", assistant_message_);
      }
      results.emplace_back(position->second, std::move(block));
    }
    std::stable_sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t k = 0; k < slots.size(); ++k) turn.blocks[slots[k]] = std::move(results[k].second);
  }

 private:
  std::map<std::string, std::size_t> position_of_id_;
  std::size_t assistant_message_ = 0;
};

// Index of the last user or developer turn, or -1 (encoding_dsv4's find_last_user_index).
std::ptrdiff_t last_user_index(const std::vector<Turn>& turns) {
  for (std::size_t i = turns.size(); i-- > 0;) {
    if (turns[i].role == "user" || turns[i].role == "developer") return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

// Step 3: before the last user turn, assistants lose their reasoning and developer turns go.
std::vector<Turn> drop_earlier_thinking(const std::vector<Turn>& turns) {
  const std::ptrdiff_t last_user = last_user_index(turns);
  std::vector<Turn> kept;
  for (std::size_t i = 0; i < turns.size(); ++i) {
    const Turn& turn = turns[i];
    if (turn.role == "user" || turn.role == "system" || turn.role == "latest_reminder" ||
        static_cast<std::ptrdiff_t>(i) >= last_user) {
      kept.push_back(turn);
    } else if (turn.role == "assistant") {
      kept.push_back(turn);
      kept.back().keep_reasoning = false;
    }
  }
  return kept;
}

std::string render_tools(const ordered_json& tools) {
  const std::string schemas = join(tools, v4::kBetweenToolSchemasJoiner,
                                   [](const ordered_json& tool) { return to_python_json(tool["function"]); });
  return fill_prompt_template(v4::kToolsTemplate, {{"dsml_token", v4::kDsmlToken},
                                                   {"thinking_start_token", v4::kThinkingStartToken},
                                                   {"thinking_end_token", v4::kThinkingEndToken},
                                                   {"tool_schemas", schemas}});
}

// The tools section and the response-format block that system and developer turns append.
std::string tools_and_response_format(const ChatMessage& message) {
  std::string out;
  if (chat_detail::python_truthy(message.tools))
    out += std::string(v4::kSystemToToolsJoiner) + render_tools(message.tools);
  if (chat_detail::python_truthy(message.response_format)) {
    out += v4::kSystemToResponseFormatJoiner;
    out += fill_prompt_template(v4::kResponseFormatTemplate, {{"schema", to_python_json(message.response_format)}});
  }
  return out;
}

std::string render_tool_call(const ToolCall& call) {
  std::vector<std::string> parameters;
  for (auto argument = call.arguments.begin(); argument != call.arguments.end(); ++argument) {
    const ordered_json& value = argument.value();
    // Strings go in raw with string="true"; anything else as JSON with string="false".
    const std::string text = value.is_string() ? value.get<std::string>() : to_python_json(value);
    parameters.push_back(
        fill_prompt_template(v4::kToolParameterTemplate, {{"dsml_token", v4::kDsmlToken},
                                                          {"key", argument.key()},
                                                          {"is_str", value.is_string() ? "true" : "false"},
                                                          {"value", text}}));
  }
  const std::string arguments = join(parameters, v4::kBetweenParametersJoiner, [](const std::string& p) { return p; });
  return fill_prompt_template(v4::kToolCallTemplate,
                              {{"dsml_token", v4::kDsmlToken}, {"name", call.name}, {"arguments", arguments}});
}

std::string render_user_block(const UserBlock& block) {
  switch (block.kind) {
    case UserBlock::Kind::Text:
      return block.text;
    case UserBlock::Kind::ToolResult:
      return fill_prompt_template(v4::kToolOutputTemplate, {{"content", block.text}});
    case UserBlock::Kind::Unsupported:
      return fill_prompt_template(v4::kUnsupportedBlockPlaceholder, {{"type", block.text}});
  }
  return {};
}

class TurnRenderer {
 public:
  TurnRenderer(const std::vector<Turn>& turns, const EncodeOptions& options, bool drop_thinking)
      : turns_(turns),
        thinking_(options.thinking == ThinkingMode::Thinking),
        effort_(options.effort),
        drop_thinking_(drop_thinking),
        last_user_(last_user_index(turns)) {}

  std::string render(std::size_t index) const {
    const Turn& turn = turns_[index];
    std::string prompt;
    if (index == 0 && thinking_ && effort_ == ReasoningEffort::Max) prompt += v4::kReasoningEffortMax;

    if (turn.role == "system") {
      prompt += fill_prompt_template(v4::kSystemMessageTemplate, {{"content", text_or_empty(turn.message->content)}});
      prompt += tools_and_response_format(*turn.message);
    } else if (turn.role == "developer") {
      // A developer message is a user turn carrying the search agent's instructions.
      const std::string content = std::string(v4::kUserToken) + std::string(text_or_empty(turn.message->content)) +
                                  tools_and_response_format(*turn.message);
      prompt += fill_prompt_template(v4::kUserMessageTemplate, {{"content", content}});
    } else if (turn.role == "user") {
      prompt += v4::kUserToken;
      prompt += join(turn.blocks, v4::kBetweenUserContentBlocksJoiner, render_user_block);
    } else if (turn.role == "latest_reminder") {
      prompt += v4::kLatestReminderToken;
      prompt +=
          fill_prompt_template(v4::kLatestReminderMessageTemplate, {{"content", text_or_empty(turn.message->content)}});
    } else {  // assistant (validation admits no other role; tool messages were merged)
      prompt += render_assistant(index);
    }
    prompt += transition_after(index);
    return prompt;
  }

 private:
  std::string render_assistant(std::size_t index) const {
    const ChatMessage& message = *turns_[index].message;
    std::string tool_calls;
    if (!message.tool_calls.empty()) {
      const std::string invokes = join(message.tool_calls, v4::kBetweenInvokesJoiner, render_tool_call);
      tool_calls = std::string(v4::kContentToToolCallsJoiner) +
                   fill_prompt_template(v4::kToolCallsTemplate, {{"dsml_token", v4::kDsmlToken},
                                                                 {"tc_block_name", v4::kToolCallsBlockName},
                                                                 {"tool_calls", invokes}});
    }
    // After a task message the assistant writes the task's answer, never reasoning.
    const bool previous_has_task = index > 0 && turns_[index - 1].task.has_value();
    std::string reasoning;
    if (thinking_ && !previous_has_task && (!drop_thinking_ || static_cast<std::ptrdiff_t>(index) > last_user_)) {
      const std::string_view text = turns_[index].keep_reasoning ? message.reasoning_content : std::string_view();
      reasoning = fill_prompt_template(v4::kThinkingTemplate, {{"reasoning_content", text}}) +
                  std::string(v4::kThinkingEndToken);
    }
    return fill_prompt_template(
        message.without_eos ? v4::kAssistantMessageWithoutEosTemplate : v4::kAssistantMessageTemplate,
        {{"reasoning", reasoning}, {"content", text_or_empty(message.content)}, {"tool_calls", tool_calls}});
  }

  // What follows turn `index` when the assistant speaks next (or the prompt ends there).
  std::string transition_after(std::size_t index) const {
    if (index + 1 < turns_.size() && turns_[index + 1].role != "assistant" &&
        turns_[index + 1].role != "latest_reminder") {
      return {};
    }
    const Turn& turn = turns_[index];
    std::string out;
    if (turn.task) {
      const std::string_view token = *chat_detail::task_token(*turn.task);  // validated
      if (*turn.task != v4::kActionTask) return std::string(token);
      out += v4::kAssistantToken;
      out += thinking_ ? v4::kThinkingStartToken : v4::kThinkingEndToken;
      out += token;
    } else if (turn.role == "user" || turn.role == "developer") {
      out += v4::kAssistantToken;
      // Thinking opens only where reasoning would be kept; elsewhere the turn starts closed.
      const bool open_thinking = thinking_ && (!drop_thinking_ || static_cast<std::ptrdiff_t>(index) >= last_user_);
      out += open_thinking ? v4::kThinkingStartToken : v4::kThinkingEndToken;
    }
    return out;
  }

  const std::vector<Turn>& turns_;
  bool thinking_;
  ReasoningEffort effort_;
  bool drop_thinking_;
  std::ptrdiff_t last_user_;
};

}  // namespace

std::string encode_chat(const std::vector<ChatMessage>& messages, const EncodeOptions& options) {
  if (options.context_size > messages.size()) {
    fail("encode options: context_size ", options.context_size, " is larger than the ", messages.size(), " messages");
  }
  for (std::size_t i = 0; i < messages.size(); ++i) chat_detail::validate_chat_message(messages[i], i);

  bool seen_tool_calls = false;
  std::vector<Turn> context = merge_turns(messages, 0, options.context_size, seen_tool_calls);
  std::vector<Turn> fresh = merge_turns(messages, options.context_size, messages.size(), seen_tool_calls);
  ToolResultOrder order;
  for (Turn& turn : context) order.apply(turn);
  for (Turn& turn : fresh) order.apply(turn);

  std::vector<Turn> turns = context;
  turns.insert(turns.end(), fresh.begin(), fresh.end());
  const bool drop_thinking = options.drop_thinking && std::none_of(turns.begin(), turns.end(), [](const Turn& turn) {
                               return turn.carries_tools();
                             });
  std::size_t first_to_render = context.size();
  if (options.thinking == ThinkingMode::Thinking && drop_thinking) {
    turns = drop_earlier_thinking(turns);
    // As in encoding_dsv4: what is written is the tail of the thinned list that is longer than
    // the thinned context alone.
    first_to_render = std::min(turns.size(), drop_earlier_thinking(context).size());
  }

  std::string prompt;
  if (options.add_bos && options.context_size == 0) prompt += v4::kBosToken;
  const TurnRenderer renderer(turns, options, drop_thinking);
  for (std::size_t i = first_to_render; i < turns.size(); ++i) prompt += renderer.render(i);
  return prompt;
}

}  // namespace lightseek
