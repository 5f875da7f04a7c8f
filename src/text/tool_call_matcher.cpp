#include "text/tool_call_matcher.h"

#include <array>
#include <cstring>

#include "text/token_mask.h"

namespace lightseek {
namespace {

// The tags, in matcher bytes (kDsmlByte stands for the ｜DSML｜ token). No tag that may be
// written at a point is a prefix of another that may be written there.
enum Tag : int { kBlockOpen, kInvoke, kBlockClose, kParameter, kInvokeClose, kNameEnd, kStringAttribute, kRawFlag,
                 kJsonFlag, kTagCount };
const std::string_view kTags[kTagCount] = {
    "<\xFF" "tool_calls>",         "<\xFF" "invoke name=\"", "</\xFF" "tool_calls>", "<\xFF" "parameter name=\"",
    "</\xFF" "invoke>",            ">",                      " string=\"",           "true\">",
    "false\">",
};
constexpr std::string_view kValueClose = "</\xFF" "parameter>";
// Where kValueClose reaches the ｜DSML｜ token: bytes pending from here on cannot be value text.
constexpr size_t kValueCloseMarker = 2;
constexpr uint8_t kMaxNewlines = 2;

uint16_t bit(int tag) { return static_cast<uint16_t>(1u << tag); }

// "｜DSML｜" as ordinary tokens spell it (kDsmlTokenText): refused wherever text is free, so the
// output parser never sees markup the matcher did not.

// Knuth-Morris-Pratt steps over kDsmlTokenText: the bytes matched after one more byte.
const std::array<std::array<uint8_t, 256>, kDsmlTokenText.size()>& dsml_text_steps() {
  static const auto table = [] {
    std::array<std::array<uint8_t, 256>, kDsmlTokenText.size()> steps{};
    for (size_t matched = 0; matched < kDsmlTokenText.size(); ++matched) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string seen(kDsmlTokenText.substr(0, matched));
        seen.push_back(static_cast<char>(byte));
        size_t length = std::min(seen.size(), kDsmlTokenText.size());
        while (length > 0 && seen.compare(seen.size() - length, length, kDsmlTokenText.substr(0, length)) != 0) --length;
        steps[matched][static_cast<size_t>(byte)] = static_cast<uint8_t>(length);
      }
    }
    return steps;
  }();
  return table;
}

// A raw value byte as the JSON string it denotes writes it.
std::string_view escaped(uint8_t byte, char (&buffer)[8]) {
  switch (byte) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
  }
  if (byte < 0x20) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::memcpy(buffer, "\\u00", 4);
    buffer[4] = kHex[byte >> 4];
    buffer[5] = kHex[byte & 15];
    return std::string_view(buffer, 6);
  }
  buffer[0] = static_cast<char>(byte);
  return std::string_view(buffer, 1);
}

bool feed_value(JsonMatcher& value, uint8_t byte, bool raw) {
  if (!raw) return value.advance(byte);
  char buffer[8];
  return value.advance(escaped(byte, buffer));
}

}  // namespace

ToolCallMatcher::ToolCallMatcher(const ToolCallGrammar& grammar, Start start) : grammar_(&grammar) {
  if (start == Start::Block || grammar.options().must_call) {
    state_.phase = kTag;
    state_.tags = bit(kBlockOpen);
    state_.lead = 1;
  }
}

bool ToolCallMatcher::advance(uint8_t byte) { return step(byte); }

bool ToolCallMatcher::advance(std::string_view bytes) {
  for (char c : bytes) {
    if (!step(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

bool ToolCallMatcher::can_end() const { return state_.phase == kContent || state_.phase == kDone; }

bool ToolCallMatcher::step(uint8_t byte) {
  switch (state_.phase) {
    case kContent: return content_byte(byte);
    case kTag: return tag_byte(byte);
    case kToolName: return name_byte(byte, false);
    case kParameterName: return name_byte(byte, true);
    case kValue: return value_byte(byte);
    default: return false;  // kDone
  }
}

bool ToolCallMatcher::content_byte(uint8_t byte) {
  if (byte == kDsmlByte) {
    if (!state_.after_open) return false;
    state_.phase = kTag;
    state_.tags = bit(kBlockOpen);
    state_.tag_position = 2;
    state_.lead = 0;
    state_.after_open = 0;
    return true;
  }
  state_.dsml_text = dsml_text_steps()[state_.dsml_text][byte];
  state_.after_open = byte == '<';
  return state_.dsml_text < kDsmlTokenText.size();
}

bool ToolCallMatcher::tag_byte(uint8_t byte) {
  if (state_.tag_position == 0 && state_.lead && byte == '\n') {
    if (state_.newlines >= kMaxNewlines) return false;
    ++state_.newlines;
    return true;
  }
  // Before the block the output parser takes two newlines as the joiner, one as content.
  if (state_.tag_position == 0 && (state_.tags & bit(kBlockOpen)) && state_.newlines == 1) return false;
  uint16_t next = 0;
  int complete = -1;
  for (int tag = 0; tag < kTagCount; ++tag) {
    if (!(state_.tags & bit(tag))) continue;
    const std::string_view text = kTags[tag];
    if (text.size() <= state_.tag_position || static_cast<uint8_t>(text[state_.tag_position]) != byte) continue;
    next |= bit(tag);
    if (text.size() == state_.tag_position + 1u) complete = tag;
  }
  if (!next) return false;
  state_.tags = next;
  ++state_.tag_position;
  if (complete >= 0) complete_tag(complete);
  return true;
}

void ToolCallMatcher::between_invokes() {
  state_.phase = kTag;
  state_.tag_position = 0;
  state_.newlines = 0;
  state_.lead = 1;
  if (state_.invokes == 0) {
    state_.tags = bit(kInvoke);
  } else {
    state_.tags = bit(kBlockClose);
    if (grammar_->options().parallel_calls) state_.tags |= bit(kInvoke);
  }
}

void ToolCallMatcher::inside_invoke() {
  state_.phase = kTag;
  state_.tag_position = 0;
  state_.newlines = 0;
  state_.lead = 1;
  state_.tags = 0;
  const ToolCallGrammar::Tool& current = tool();
  const uint64_t all = current.parameters.size() >= 64 ? ~uint64_t{0} : (uint64_t{1} << current.parameters.size()) - 1;
  if (!current.schema || current.additional || (all & ~state_.done) != 0) state_.tags |= bit(kParameter);
  if ((state_.done & current.required) == current.required) state_.tags |= bit(kInvokeClose);
}

void ToolCallMatcher::complete_tag(int tag) {
  auto start_name = [&](uint8_t phase, size_t names) {
    state_.phase = phase;
    state_.low = 0;
    state_.high = static_cast<uint32_t>(names);
    state_.name_bytes = 0;
  };
  auto next_tags = [&](uint16_t tags) {
    state_.phase = kTag;
    state_.tags = tags;
    state_.tag_position = 0;
    state_.newlines = 0;
    state_.lead = 0;
  };
  switch (tag) {
    case kBlockOpen:
      between_invokes();
      return;
    case kInvoke:
      start_name(kToolName, grammar_->tools().size());
      return;
    case kBlockClose:
      state_.phase = kDone;
      return;
    case kParameter:
      start_name(kParameterName, tool().parameters.size());
      return;
    case kInvokeClose:
      ++state_.invokes;
      between_invokes();
      return;
    case kNameEnd:
      state_.done = 0;
      inside_invoke();
      return;
    case kStringAttribute: {
      const ToolCallGrammar::Parameter* current = parameter();
      next_tags(static_cast<uint16_t>((!current || current->raw ? bit(kRawFlag) : 0) |
                                      (!current || current->json ? bit(kJsonFlag) : 0)));
      return;
    }
    default: {  // kRawFlag, kJsonFlag: the value begins
      state_.phase = kValue;
      state_.raw = tag == kRawFlag;
      state_.close = 0;
      state_.dsml_text = 0;
      const ToolCallGrammar::Parameter* current = parameter();
      value_live_ = current != nullptr;
      if (!current) return;
      if (value_) {
        *value_ = JsonMatcher(*tool().schema, current->value);
      } else {
        value_.emplace(*tool().schema, current->value);
      }
      // A raw value is the content of a JSON string; the flag was offered only if one fits.
      if (state_.raw) value_->advance(static_cast<uint8_t>('"'));
      return;
    }
  }
}

const ToolCallGrammar::Parameter* ToolCallMatcher::parameter() const {
  const ToolCallGrammar::Tool& current = tool();
  if (!current.schema) return nullptr;
  if (state_.parameter == kOtherName) return &*current.additional;
  return &current.parameters[static_cast<size_t>(state_.parameter)];
}

bool ToolCallMatcher::name_byte(uint8_t byte, bool is_parameter) {
  const bool free_names_allowed = is_parameter && (!tool().schema || tool().additional);
  auto name_at = [&](uint32_t i) -> const std::string& {
    return is_parameter ? tool().parameters[i].name : grammar_->tools()[i].name;
  };
  auto written = [&](uint32_t i) { return is_parameter && (state_.done & (uint64_t{1} << i)); };
  const bool exact = state_.low < state_.high && name_at(state_.low).size() == state_.name_bytes;
  if (byte == '"') {
    if (!is_parameter) {
      if (!exact) return false;
      state_.tool = static_cast<int32_t>(state_.low);
      state_.phase = kTag;
      state_.tags = bit(kNameEnd);
      state_.tag_position = 0;
      state_.lead = 0;
      return true;
    }
    if (exact) {
      if (written(state_.low)) return false;  // a name is one parameter, written once
      state_.parameter = static_cast<int32_t>(state_.low);
    } else if (free_names_allowed) {
      state_.parameter = kOtherName;
    } else {
      return false;
    }
    state_.phase = kTag;
    state_.tags = bit(kStringAttribute);
    state_.tag_position = 0;
    state_.lead = 0;
    return true;
  }
  if (byte == '<' || byte == '>' || byte == '\n' || byte >= 0xFE) return false;
  // The names sharing the prefix so far are a run of the sorted list; keep those that go on
  // with this byte.
  uint32_t low = state_.low, high = state_.low;
  while (low < state_.high && (name_at(low).size() <= state_.name_bytes ||
                               static_cast<uint8_t>(name_at(low)[state_.name_bytes]) != byte)) {
    ++low;
  }
  high = low;
  while (high < state_.high && name_at(high).size() > state_.name_bytes &&
         static_cast<uint8_t>(name_at(high)[state_.name_bytes]) == byte) {
    ++high;
  }
  // Some name not yet written must still be reachable, or a free name.
  bool reachable = false;
  for (uint32_t i = low; i < high && !reachable; ++i) reachable = !written(i);
  if (!reachable && !(free_names_allowed && state_.name_bytes < ToolCallGrammar::kMaxFreeNameBytes)) return false;
  state_.low = low;
  state_.high = high;
  ++state_.name_bytes;
  return true;
}

bool ToolCallMatcher::value_complete() const {
  if (!value_live_) return true;
  if (!state_.raw) return value_->can_finish();
  JsonMatcher closed(*value_);
  return closed.advance(static_cast<uint8_t>('"')) && closed.can_finish();
}

bool ToolCallMatcher::value_accepts_pending(size_t count) const {
  if (!value_live_) return true;
  JsonMatcher probe(*value_);
  for (size_t i = 0; i < count; ++i) {
    if (!feed_value(probe, static_cast<uint8_t>(kValueClose[i]), state_.raw)) return false;
  }
  return true;
}

bool ToolCallMatcher::value_byte(uint8_t byte) {
  if (byte == static_cast<uint8_t>(kValueClose[state_.close])) {
    // The parser ends the value at the first closing tag, so a byte that continues one is never
    // value text: either the tag completes (the value must be whole) or, before the ｜DSML｜
    // token, the bytes so far may still turn out to be text.
    const size_t pending = state_.close + 1u;
    if (pending == kValueClose.size()) {
      if (!value_complete()) return false;
      if (state_.parameter >= 0) state_.done |= uint64_t{1} << state_.parameter;
      value_live_ = false;
      state_.close = 0;
      inside_invoke();
      return true;
    }
    // Approximation, on the safe side: pending text is assumed able to go on as text whenever
    // the value takes it (only a schema that demands "<" or "</" itself could be misjudged).
    if (!value_complete() && (pending > kValueCloseMarker || !value_accepts_pending(pending))) return false;
    state_.close = static_cast<uint8_t>(pending);
    return true;
  }
  if (byte == kDsmlByte) return false;
  for (size_t i = 0; i < state_.close; ++i) {  // the pending bytes were text after all
    state_.dsml_text = dsml_text_steps()[state_.dsml_text][static_cast<uint8_t>(kValueClose[i])];
    if (value_live_ && !feed_value(*value_, static_cast<uint8_t>(kValueClose[i]), state_.raw)) return false;
  }
  state_.close = 0;
  if (byte == '<') return value_byte(byte);
  state_.dsml_text = dsml_text_steps()[state_.dsml_text][byte];
  if (state_.dsml_text == kDsmlTokenText.size()) return false;
  return !value_live_ || feed_value(*value_, byte, state_.raw);
}

bool ToolCallMatcher::free_content(uint8_t& key) const {
  if (state_.phase != kContent) return false;
  key = static_cast<uint8_t>(state_.dsml_text * 2 + state_.after_open);
  return true;
}

bool ToolCallMatcher::free_value() const {
  return state_.phase == kValue && !value_live_ && state_.close == 0 && state_.dsml_text == 0;
}

bool ToolCallMatcher::raw_string(JsonMatcher::OpenString& out) const {
  if (!strict_value() || !state_.raw || state_.close != 0 || state_.dsml_text != 0) return false;
  return value_->open_string(out);
}

bool ToolCallMatcher::open_string(JsonMatcher::OpenString& out) const {
  if (!strict_value() || state_.raw || state_.close != 0 || state_.dsml_text != 0) return false;
  return value_->open_string(out);
}

bool ToolCallMatcher::close_string() { return strict_value() && value_->close_string(); }

std::string ToolCallMatcher::state_key() const {
  std::string key(reinterpret_cast<const char*>(&state_), sizeof(State));
  if (strict_value()) key += value_->state_key();
  return key;
}

}  // namespace lightseek
