// Streaming parser of generated V4 text (spec §12.2 "Output parsing"): splits it into reasoning
// and content, and turns DSML tool-call blocks into structured calls, while text arrives in
// arbitrary pieces. Markup is never leaked into content and no text is lost, whatever the
// split points, and for missing </think>, truncated or malformed tool blocks.
//
// Rules (the result never depends on how the text is split into pieces):
// * Thinking mode: the prompt ends with <think>, so text is reasoning up to the first </think>,
//   then content. With no </think> at all, everything is reasoning. A second </think> is
//   content text.
// * Chat mode: the prompt ends with </think>, so everything is content, except that a <think>
//   at the very start of the generation opens reasoning as in thinking mode (the model chose
//   to think). In either mode a <think> at the very start is markup and is dropped.
// * Content ends at the tool-calls block, "\n\n<｜DSML｜tool_calls" (also accepted without
//   the blank line: ｜DSML｜ is a special token, never ordinary text). Each invoke becomes a
//   ToolCall when its closing tag arrives. Parameters with string="true" keep the raw text;
//   string="false" values are parsed as JSON and kept as a string when they are not JSON.
//   Whitespace between tags is not significant.
// * A block that breaks the grammar (unknown tag, bad attribute) is content, verbatim, from the
//   point where the not yet emitted calls begin; text after the offending tag's "<" is scanned
//   as content again. A block truncated at finish() is content from the same point, except
//   that a block whose calls are all complete and which lacks only (part of) its closing
//   </｜DSML｜tool_calls> tag is accepted as is.
// * After the block, whitespace is dropped; any other text is content (a later block is parsed
//   again).
// * The EOS text <｜end▁of▁sentence｜> is dropped wherever it appears: generation stops on the
//   EOS id, and a detokenizer that renders special tokens must not turn it into content.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/chat_encoder.h"

namespace lightseek {

struct ParsedDelta {
  std::string reasoning;             // newly completed reasoning text
  std::string content;               // newly completed content text
  std::vector<ToolCall> tool_calls;  // calls completed by this piece (ids left empty)
};

class OutputParser {
 public:
  // In thinking mode generation starts inside reasoning (the prompt ends with <think>).
  explicit OutputParser(ThinkingMode mode);

  // Feed the next piece of generated text (whole UTF-8). Text that might be the start of
  // markup is held back until it is decided.
  ParsedDelta push(std::string_view text);
  // End of generation: releases held-back text; an unfinished tool block is returned as
  // content text verbatim if it cannot be parsed, never dropped. Call it once, last.
  ParsedDelta finish();

 private:
  enum class Phase { Start, Reasoning, Content, ToolBlock };
  enum class BlockPart { Opening, BetweenInvokes, InsideInvoke };
  enum class Progress { Continue, NeedMoreText };

  // Removes EOS text from the stream, holding back what may be its beginning.
  std::string strip_end_of_sentence(std::string_view text, bool at_end);
  void process(ParsedDelta& out, bool at_end);
  Progress process_start(bool at_end);
  Progress process_reasoning(ParsedDelta& out, bool at_end);
  Progress process_content(ParsedDelta& out, bool at_end);
  Progress process_tool_block(ParsedDelta& out, bool at_end);
  // One grammar step inside the block; returns false when the text breaks the grammar, with
  // malformed_at_ set to where the offending element starts.
  bool parse_block_step(ParsedDelta& out, Progress& progress);
  bool parse_parameter(std::size_t at, Progress& progress);
  bool broken_at(std::size_t element_start);
  void release_content(std::string_view text, ParsedDelta& out);
  void abandon_tool_block(ParsedDelta& out);

  ThinkingMode mode_;
  Phase phase_ = Phase::Start;
  std::string eos_pending_;  // a possible beginning of the EOS text
  std::string buffer_;       // text of the current phase not yet released or parsed
  // Content after a closed tool block: leading whitespace is dropped, not released.
  bool after_tool_block_ = false;

  // Tool block state. buffer_ holds the raw block text not yet turned into calls, so that it
  // can be returned verbatim; block_cursor_ is how much of it the grammar has accepted.
  BlockPart block_part_ = BlockPart::Opening;
  std::size_t block_cursor_ = 0;
  bool block_emitted_call_ = false;
  ToolCall current_call_;
  std::size_t malformed_at_ = 0;
  // Where the search for a parameter's closing tag resumes, so that a long value streamed in
  // small pieces is scanned once, not once per piece.
  std::size_t value_search_from_ = 0;
};

}  // namespace lightseek
