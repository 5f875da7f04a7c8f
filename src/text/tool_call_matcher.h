// Incremental byte-level matcher for DSML tool-call blocks (spec §12.2), the text V4 writes to
// call tools:
//
//   <｜DSML｜tool_calls>
//   <｜DSML｜invoke name="NAME">
//   <｜DSML｜parameter name="KEY" string="true|false">VALUE</｜DSML｜parameter>
//   </｜DSML｜invoke>
//   </｜DSML｜tool_calls>
//
// It reads tokens as matcher bytes (token_mask.h): the ｜DSML｜ special token is the single
// byte kDsmlByte. What it accepts, for a ToolCallGrammar:
// * Before the block (unless the grammar or the caller says the reply starts with it) content
//   is free text; "<" followed by the ｜DSML｜ token starts the block. The ｜DSML｜ token
//   anywhere else, and the text "｜DSML｜" spelled by ordinary tokens anywhere (which the output
//   parser could not tell from markup), are refused.
// * Markup exactly as the encoder writes it, with up to two newlines before each tag where the
//   parser skips whitespace (none or two before the block, which the parser reads as markup); invoke names among the grammar's tools; at least one invoke, at
//   most one without parallel calls.
// * Strict tools: parameter names from the schema (or any, under additionalProperties), each
//   at most once, every required one before </｜DSML｜invoke>; string="true" only where the
//   value may be a JSON string, string="false" only where it may be something else. A
//   string="false" value is JSON matched by a JsonMatcher on the parameter's part of the schema
//   and must be whole where its closing tag begins; a string="true" value is raw text, matched
//   as the JSON string it denotes (the matcher is fed its bytes JSON-escaped). The parser ends a
//   value at the first "</｜DSML｜parameter>", so that is where the matcher ends it too.
// * After </｜DSML｜tool_calls> nothing but the end of sentence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "text/json_matcher.h"
#include "text/tool_call_grammar.h"

namespace lightseek {

class ToolCallMatcher {
 public:
  enum class Start {
    Content,  // free content first; the block may follow (tool_choice auto)
    Block,    // the block right away (tool_choice required or named, or beside a JSON answer)
  };
  ToolCallMatcher(const ToolCallGrammar& grammar, Start start);

  // Feeds one matcher byte; false when no accepted reply continues this way, and the matcher
  // is then spent (callers that try a byte advance a copy, as the mask does).
  bool advance(uint8_t byte);
  bool advance(std::string_view bytes);
  // The end of sentence may come now: in free content before any block, or after the block.
  bool can_end() const;
  // Nothing may follow but the end of sentence.
  bool finished() const { return state_.phase == kDone; }
  // A block has begun.
  bool in_block() const { return state_.phase != kContent; }

  // What the vocabulary mask can shortcut (tool_call_mask.h).
  // Free content; `key` identifies what the next bytes may be (the partial markers).
  bool free_content(uint8_t& key) const;
  // A value with no pending markup whose bytes are free (a non-strict tool's argument).
  bool free_value() const;
  // A raw (string="true") value of a string without pattern, nothing pending: where it stands
  // (its lexer state is a UTF-8 state, as the JSON escapes it is fed are whole).
  bool raw_string(JsonMatcher::OpenString& out) const;
  // Inside a string of a string="false" JSON value, nothing pending (JsonMatcher's string
  // shortcut applies), and closing that string as JsonMatcher::close_string does.
  bool open_string(JsonMatcher::OpenString& out) const;
  bool close_string();

  // The state as bytes: equal keys, equal futures.
  std::string state_key() const;

 private:
  enum Phase : uint8_t { kContent, kTag, kToolName, kParameterName, kValue, kDone };
  static constexpr int32_t kOtherName = -2;  // a parameter under additionalProperties, or of a free tool

  // Plain bytes, compared as such: no padding.
  struct State {
    uint64_t done = 0;       // parameters of the current invoke already written
    uint32_t low = 0;        // names [low, high) still match the name being written
    uint32_t high = 0;
    uint32_t name_bytes = 0;
    int32_t tool = -1;
    int32_t parameter = -1;
    uint32_t invokes = 0;
    uint16_t tags = 0;       // the tags that may still be the one being written
    uint8_t phase = kContent;
    uint8_t tag_position = 0;
    uint8_t newlines = 0;    // written before the tag
    uint8_t lead = 0;        // newlines may come before the tag
    uint8_t raw = 0;         // string="true" value
    uint8_t close = 0;       // bytes of </｜DSML｜parameter> pending at the end of a value
    uint8_t dsml_text = 0;   // bytes of "｜DSML｜" spelled by ordinary tokens just written
    uint8_t after_open = 0;  // content: the last byte was "<"
    uint8_t unused[6] = {};
  };
  static_assert(sizeof(State) == 48, "State must have no padding: it is compared as bytes");

  bool step(uint8_t byte);
  bool tag_byte(uint8_t byte);
  void complete_tag(int tag);
  void between_invokes();
  void inside_invoke();
  bool name_byte(uint8_t byte, bool parameter);
  bool value_byte(uint8_t byte);
  bool content_byte(uint8_t byte);
  bool value_complete() const;
  bool value_accepts_pending(size_t count) const;
  const ToolCallGrammar::Tool& tool() const { return grammar_->tools()[static_cast<size_t>(state_.tool)]; }
  const ToolCallGrammar::Parameter* parameter() const;
  bool strict_value() const { return value_live_ && state_.phase == kValue; }

  const ToolCallGrammar* grammar_;
  State state_;
  // The value being written, for strict tools; kept after it ends to reuse its memory.
  std::optional<JsonMatcher> value_;
  bool value_live_ = false;  // value_ is the current value's
};

}  // namespace lightseek
