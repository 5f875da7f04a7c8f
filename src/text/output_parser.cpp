#include "text/output_parser.h"

#include <algorithm>
#include <utility>

namespace lightseek {
namespace {

// Protocol strings, as DeepSeek's encoder writes them (fixtures/v4-encoding/constants.json).
constexpr std::string_view kThinkStart = "<think>";
constexpr std::string_view kThinkEnd = "</think>";
constexpr std::string_view kEndOfSentence = "<｜end▁of▁sentence｜>";
constexpr std::string_view kBlockJoiner = "\n\n";
constexpr std::string_view kBlockMarker = "<｜DSML｜tool_calls";
constexpr std::string_view kBlockMarkerWithJoiner = "\n\n<｜DSML｜tool_calls";  // tool_calls_start_marker
constexpr std::string_view kBlockOpenText = "<｜DSML｜tool_calls>";
constexpr std::string_view kBlockCloseText = "</｜DSML｜tool_calls>";
constexpr std::string_view kInvokeOpen = "<｜DSML｜invoke name=\"";
constexpr std::string_view kInvokeCloseText = "</｜DSML｜invoke>";
constexpr std::string_view kParameterOpen = "<｜DSML｜parameter name=\"";
constexpr std::string_view kParameterStringAttribute = "\" string=\"";
constexpr std::string_view kParameterClose = "</｜DSML｜parameter>";

// Length of the longest end of `text` that is a proper beginning of `marker`: the part that
// must wait for more text before it is known whether the marker follows.
std::size_t undecided_suffix_length(std::string_view text, std::string_view marker) {
  for (std::size_t length = std::min(text.size(), marker.size() - 1); length > 0; --length) {
    if (text.ends_with(marker.substr(0, length))) return length;
  }
  return 0;
}

enum class Match { Full, Partial, None };

// Whether `literal` is at `at`; Partial when the text ends inside a beginning of it.
Match match_at(std::string_view text, std::size_t at, std::string_view literal) {
  const std::string_view rest = text.substr(at);
  if (rest.starts_with(literal)) return Match::Full;
  if (rest.size() < literal.size() && literal.starts_with(rest)) return Match::Partial;
  return Match::None;
}

bool is_whitespace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

bool all_whitespace(std::string_view text) { return std::all_of(text.begin(), text.end(), is_whitespace); }

std::size_t skip_whitespace(std::string_view text, std::size_t at) {
  while (at < text.size() && is_whitespace(text[at])) ++at;
  return at;
}

// Tool and parameter names are identifiers, never markup or lines; checking the text seen so
// far the same way as the finished name keeps the verdict independent of split points.
bool plausible_name(std::string_view text) { return text.find_first_of("<>\n") == std::string_view::npos; }

nlohmann::ordered_json parameter_value(std::string_view raw, bool is_string) {
  if (is_string) return nlohmann::ordered_json(std::string(raw));
  nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(raw, nullptr, /*allow_exceptions=*/false);
  // The model promised JSON but wrote something else: keep its text rather than lose it.
  if (parsed.is_discarded()) return nlohmann::ordered_json(std::string(raw));
  return parsed;
}

}  // namespace

OutputParser::OutputParser(ThinkingMode mode) : mode_(mode) {}

ParsedDelta OutputParser::push(std::string_view text) {
  ParsedDelta out;
  buffer_ += strip_end_of_sentence(text, /*at_end=*/false);
  process(out, /*at_end=*/false);
  return out;
}

ParsedDelta OutputParser::finish() {
  ParsedDelta out;
  buffer_ += strip_end_of_sentence({}, /*at_end=*/true);
  process(out, /*at_end=*/true);
  return out;
}

std::string OutputParser::strip_end_of_sentence(std::string_view text, bool at_end) {
  eos_pending_.append(text);
  const std::string_view pending = eos_pending_;
  std::string passed;
  std::size_t from = 0;
  for (std::size_t found; (found = pending.find(kEndOfSentence, from)) != std::string_view::npos;) {
    passed.append(pending.substr(from, found - from));
    from = found + kEndOfSentence.size();
  }
  const std::string_view rest = pending.substr(from);
  const std::size_t held = at_end ? 0 : undecided_suffix_length(rest, kEndOfSentence);
  passed.append(rest.substr(0, rest.size() - held));
  eos_pending_ = std::string(rest.substr(rest.size() - held));
  return passed;
}

void OutputParser::process(ParsedDelta& out, bool at_end) {
  for (;;) {
    Progress progress = Progress::NeedMoreText;
    switch (phase_) {
      case Phase::Start: progress = process_start(at_end); break;
      case Phase::Reasoning: progress = process_reasoning(out, at_end); break;
      case Phase::Content: progress = process_content(out, at_end); break;
      case Phase::ToolBlock: progress = process_tool_block(out, at_end); break;
    }
    if (progress == Progress::NeedMoreText) return;
  }
}

OutputParser::Progress OutputParser::process_start(bool at_end) {
  if (buffer_.starts_with(kThinkStart)) {
    buffer_.erase(0, kThinkStart.size());
    phase_ = Phase::Reasoning;
    return Progress::Continue;
  }
  if (!at_end && kThinkStart.starts_with(buffer_)) return Progress::NeedMoreText;
  phase_ = mode_ == ThinkingMode::Thinking ? Phase::Reasoning : Phase::Content;
  return Progress::Continue;
}

OutputParser::Progress OutputParser::process_reasoning(ParsedDelta& out, bool at_end) {
  const std::size_t end = buffer_.find(kThinkEnd);
  if (end != std::string::npos) {
    out.reasoning.append(buffer_, 0, end);
    buffer_.erase(0, end + kThinkEnd.size());
    phase_ = Phase::Content;
    return Progress::Continue;
  }
  const std::size_t held = at_end ? 0 : undecided_suffix_length(buffer_, kThinkEnd);
  out.reasoning.append(buffer_, 0, buffer_.size() - held);
  buffer_.erase(0, buffer_.size() - held);
  return Progress::NeedMoreText;
}

OutputParser::Progress OutputParser::process_content(ParsedDelta& out, bool at_end) {
  const std::size_t marker = buffer_.find(kBlockMarker);
  if (marker != std::string::npos) {
    // The blank line before the block is the encoder's joiner, part of the markup.
    const bool joined = marker >= kBlockJoiner.size() &&
                        std::string_view(buffer_).substr(marker - kBlockJoiner.size(), kBlockJoiner.size()) ==
                            kBlockJoiner;
    const std::size_t block_start = joined ? marker - kBlockJoiner.size() : marker;
    release_content(std::string_view(buffer_).substr(0, block_start), out);
    buffer_.erase(0, block_start);
    phase_ = Phase::ToolBlock;
    block_part_ = BlockPart::Opening;
    block_cursor_ = marker - block_start;
    block_emitted_call_ = false;
    value_search_from_ = 0;
    return Progress::Continue;
  }
  const std::size_t held =
      at_end ? 0
             : std::max(undecided_suffix_length(buffer_, kBlockMarkerWithJoiner),
                        undecided_suffix_length(buffer_, kBlockMarker));
  const std::string_view decided = std::string_view(buffer_).substr(0, buffer_.size() - held);
  // Whitespace after a tool block is dropped only if nothing but whitespace follows, which is
  // not known until more text (or the end) arrives.
  if (!at_end && after_tool_block_ && all_whitespace(decided)) return Progress::NeedMoreText;
  release_content(decided, out);
  buffer_.erase(0, decided.size());
  return Progress::NeedMoreText;
}

void OutputParser::release_content(std::string_view text, ParsedDelta& out) {
  if (after_tool_block_) {
    if (all_whitespace(text)) return;
    after_tool_block_ = false;
  }
  out.content.append(text);
}

OutputParser::Progress OutputParser::process_tool_block(ParsedDelta& out, bool at_end) {
  for (;;) {
    Progress progress = Progress::Continue;
    if (!parse_block_step(out, progress)) {
      abandon_tool_block(out);
      return Progress::Continue;
    }
    if (phase_ != Phase::ToolBlock) return Progress::Continue;  // the block closed
    if (progress == Progress::NeedMoreText) break;
  }
  if (!at_end) return Progress::NeedMoreText;

  // Generation ended inside the block. When every call is complete and only (part of) the
  // closing tag is missing, the block said all it had to say; otherwise the unfinished call is
  // kept as text.
  const std::size_t at = skip_whitespace(buffer_, 0);
  const bool only_closing_tag_missing =
      block_emitted_call_ && block_part_ == BlockPart::BetweenInvokes &&
      (at == buffer_.size() || match_at(buffer_, at, kBlockCloseText) == Match::Partial);
  if (!only_closing_tag_missing) out.content += buffer_;
  buffer_.clear();
  phase_ = Phase::Content;
  return Progress::NeedMoreText;
}

void OutputParser::abandon_tool_block(ParsedDelta& out) {
  // Not DSML after all: the text of the calls not yet emitted is content, verbatim, up to and
  // including the "<" of the element that broke the grammar. The rest is scanned as content
  // again (it may hold a real block); cutting at a point fixed by the text alone, not by how
  // much of it has arrived, keeps the result independent of split points.
  out.content.append(buffer_, 0, malformed_at_ + 1);
  buffer_.erase(0, malformed_at_ + 1);
  after_tool_block_ = false;
  phase_ = Phase::Content;
}

bool OutputParser::broken_at(std::size_t element_start) {
  malformed_at_ = element_start;
  return false;
}

bool OutputParser::parse_block_step(ParsedDelta& out, Progress& progress) {
  const std::string_view text = buffer_;
  switch (block_part_) {
    case BlockPart::Opening: {
      const Match open = match_at(text, block_cursor_, kBlockOpenText);
      if (open == Match::None) return broken_at(block_cursor_);
      if (open == Match::Partial) {
        progress = Progress::NeedMoreText;
        return true;
      }
      block_cursor_ += kBlockOpenText.size();
      block_part_ = BlockPart::BetweenInvokes;
      return true;
    }
    case BlockPart::BetweenInvokes: {
      const std::size_t at = skip_whitespace(text, block_cursor_);
      if (at == text.size()) {
        progress = Progress::NeedMoreText;
        return true;
      }
      const Match close = match_at(text, at, kBlockCloseText);
      if (close == Match::Full) {
        buffer_.erase(0, at + kBlockCloseText.size());  // what follows the block is content again
        phase_ = Phase::Content;
        after_tool_block_ = true;
        return true;
      }
      const Match invoke = match_at(text, at, kInvokeOpen);
      if (invoke == Match::Full) {
        const std::size_t name_start = at + kInvokeOpen.size();
        const std::size_t name_end = text.find('"', name_start);
        const std::string_view name = text.substr(
            name_start, name_end == std::string_view::npos ? std::string_view::npos : name_end - name_start);
        if (!plausible_name(name)) return broken_at(at);
        if (name_end == std::string_view::npos || name_end + 1 == text.size()) {
          progress = Progress::NeedMoreText;
          return true;
        }
        if (text[name_end + 1] != '>') return broken_at(at);
        current_call_ = ToolCall{};
        current_call_.name = std::string(text.substr(name_start, name_end - name_start));
        block_cursor_ = name_end + 2;
        block_part_ = BlockPart::InsideInvoke;
        return true;
      }
      if (close == Match::Partial || invoke == Match::Partial) {
        progress = Progress::NeedMoreText;
        return true;
      }
      return broken_at(at);
    }
    case BlockPart::InsideInvoke: {
      const std::size_t at = skip_whitespace(text, block_cursor_);
      if (at == text.size()) {
        progress = Progress::NeedMoreText;
        return true;
      }
      const Match close = match_at(text, at, kInvokeCloseText);
      if (close == Match::Full) {
        out.tool_calls.push_back(std::move(current_call_));
        current_call_ = ToolCall{};
        // The emitted call's text is no longer needed for a verbatim fallback.
        buffer_.erase(0, at + kInvokeCloseText.size());
        block_cursor_ = 0;
        block_part_ = BlockPart::BetweenInvokes;
        block_emitted_call_ = true;
        value_search_from_ = 0;
        return true;
      }
      const Match parameter = match_at(text, at, kParameterOpen);
      if (parameter == Match::Full) return parse_parameter(at, progress);
      if (close == Match::Partial || parameter == Match::Partial) {
        progress = Progress::NeedMoreText;
        return true;
      }
      return broken_at(at);
    }
  }
  return broken_at(block_cursor_);  // not reached: every part is handled above
}

bool OutputParser::parse_parameter(std::size_t at, Progress& progress) {
  const std::string_view text = buffer_;
  const auto need_more = [&progress] {
    progress = Progress::NeedMoreText;
    return true;
  };

  const std::size_t key_start = at + kParameterOpen.size();
  const std::size_t key_end = text.find('"', key_start);
  const std::string_view key =
      text.substr(key_start, key_end == std::string_view::npos ? std::string_view::npos : key_end - key_start);
  if (!plausible_name(key)) return broken_at(at);
  if (key_end == std::string_view::npos) return need_more();
  const Match attribute = match_at(text, key_end, kParameterStringAttribute);
  if (attribute == Match::None) return broken_at(at);
  if (attribute == Match::Partial) return need_more();

  const std::size_t kind_start = key_end + kParameterStringAttribute.size();
  const std::size_t kind_end = text.find('"', kind_start);
  const std::string_view kind = text.substr(kind_start, kind_end == std::string_view::npos ? std::string_view::npos
                                                                                           : kind_end - kind_start);
  if (kind_end == std::string_view::npos) {
    const bool could_be_kind =
        std::string_view("true").starts_with(kind) || std::string_view("false").starts_with(kind);
    return could_be_kind ? need_more() : broken_at(at);
  }
  if (kind != "true" && kind != "false") return broken_at(at);
  if (kind_end + 1 == text.size()) return need_more();
  if (text[kind_end + 1] != '>') return broken_at(at);

  // The value is raw text up to the closing tag; it may hold anything, markup-like text too.
  const std::size_t value_start = kind_end + 2;
  const std::size_t value_end = text.find(kParameterClose, std::max(value_start, value_search_from_));
  if (value_end == std::string_view::npos) {
    const std::size_t undecided = kParameterClose.size() - 1;
    value_search_from_ = std::max(value_start, text.size() > undecided ? text.size() - undecided : 0);
    return need_more();
  }
  const std::string_view value = text.substr(value_start, value_end - value_start);
  current_call_.arguments[std::string(key)] = parameter_value(value, kind == "true");
  block_cursor_ = value_end + kParameterClose.size();
  value_search_from_ = 0;
  return true;
}

}  // namespace lightseek
