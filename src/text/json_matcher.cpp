#include "text/json_matcher.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lightseek {
namespace {

using Node = JsonSchemaNode;
using Frame = JsonMatcher::Frame;

static_assert(sizeof(Frame) == 56, "Frame must have no padding: it is compared and hashed as bytes");

enum Kind : uint8_t { kRoot, kObject, kArray, kString, kNumber, kLiteral };

enum Phase : uint8_t {
  // root
  kRootStart = 0, kRootInValue, kRootDone,
  // object
  kObjectOpen = 0, kObjectKey, kObjectAfterKey, kObjectAfterColon, kObjectInValue, kObjectAfterValue,
  kObjectAfterComma,
  // array
  kArrayOpen = 0, kArrayInValue, kArrayAfterValue, kArrayAfterComma,
  // number
  kNumberMinus = 0, kNumberZero, kNumberInt, kNumberDot, kNumberFraction, kNumberE, kNumberExponentSign,
  kNumberExponent,
};

constexpr uint32_t kAdditional = 0xffffffffu;

// String lexer states (Frame::lexer).
enum Lexer : uint8_t {
  kNormal = 0, kEscape, kHex4, kHex3, kHex3Low, kHex2, kHex1,
  kUtf8Need1 = 10, kUtf8Need2, kUtf8Need3, kUtf8E0, kUtf8ED, kUtf8F0, kUtf8F4,
};


bool is_hex(uint8_t byte) {
  return (byte >= '0' && byte <= '9') || (byte >= 'a' && byte <= 'f') || (byte >= 'A' && byte <= 'F');
}
bool is_continuation(uint8_t byte, uint8_t low = 0x80, uint8_t high = 0xbf) { return byte >= low && byte <= high; }

}  // namespace

StringByte lex_string_byte(uint8_t& state, uint8_t byte, bool key) {
  using Lex = StringByte;
  switch (state) {
    case kNormal:
      if (byte == '"') return Lex::Close;
      if (byte == '\\') {
        state = kEscape;
        return Lex::CharStart;
      }
      if (byte < 0x20) return Lex::Reject;
      if (byte < 0x80) return Lex::CharStart;
      if (byte >= 0xc2 && byte <= 0xdf) state = kUtf8Need1;
      else if (byte == 0xe0) state = kUtf8E0;
      else if (byte == 0xed) state = kUtf8ED;
      else if (byte >= 0xe1 && byte <= 0xef) state = kUtf8Need2;
      else if (byte == 0xf0) state = kUtf8F0;
      else if (byte >= 0xf1 && byte <= 0xf3) state = kUtf8Need3;
      else if (byte == 0xf4) state = kUtf8F4;
      else return Lex::Reject;
      return Lex::CharStart;
    case kEscape:
      if (byte == 'u' && !key) {
        state = kHex4;
        return Lex::Inside;
      }
      if (byte == '"' || byte == '\\' || byte == 'b' || byte == 'f' || byte == 'n' || byte == 'r' || byte == 't' ||
          (byte == '/' && !key)) {
        state = kNormal;
        return Lex::Inside;
      }
      return Lex::Reject;
    case kHex4:
      if (!is_hex(byte)) return Lex::Reject;
      state = (byte == 'd' || byte == 'D') ? kHex3Low : kHex3;  // no UTF-16 surrogates
      return Lex::Inside;
    case kHex3:
      if (!is_hex(byte)) return Lex::Reject;
      state = kHex2;
      return Lex::Inside;
    case kHex3Low:
      if (byte < '0' || byte > '7') return Lex::Reject;
      state = kHex2;
      return Lex::Inside;
    case kHex2:
      if (!is_hex(byte)) return Lex::Reject;
      state = kHex1;
      return Lex::Inside;
    case kHex1:
      if (!is_hex(byte)) return Lex::Reject;
      state = kNormal;
      return Lex::Inside;
    case kUtf8Need1:
      if (!is_continuation(byte)) return Lex::Reject;
      state = kNormal;
      return Lex::Inside;
    case kUtf8Need2:
      if (!is_continuation(byte)) return Lex::Reject;
      state = kUtf8Need1;
      return Lex::Inside;
    case kUtf8Need3:
      if (!is_continuation(byte)) return Lex::Reject;
      state = kUtf8Need2;
      return Lex::Inside;
    case kUtf8E0:
      if (!is_continuation(byte, 0xa0)) return Lex::Reject;
      state = kUtf8Need1;
      return Lex::Inside;
    case kUtf8ED:
      if (!is_continuation(byte, 0x80, 0x9f)) return Lex::Reject;
      state = kUtf8Need1;
      return Lex::Inside;
    case kUtf8F0:
      if (!is_continuation(byte, 0x90)) return Lex::Reject;
      state = kUtf8Need2;
      return Lex::Inside;
    case kUtf8F4:
      if (!is_continuation(byte, 0x80, 0x8f)) return Lex::Reject;
      state = kUtf8Need2;
      return Lex::Inside;
  }
  return Lex::Reject;
}

namespace {

using Lex = StringByte;

// The whitespace a constrained reply may write between tokens: a space or a newline.
bool is_generated_whitespace(uint8_t byte) { return byte == ' ' || byte == '\n'; }

int hex_value(uint8_t byte) {
  return byte <= '9' ? byte - '0' : (byte | 0x20) - 'a' + 10;
}

// Follows the code point a string's bytes spell (for patterns) in frame.current: true with the
// code point when `byte` (read from lexer state `before`, the lexer already advanced) ends one.
bool decoded_code_point(Frame& frame, uint8_t before, uint8_t byte, uint32_t& code_point) {
  switch (before) {
    case kNormal:
      if (byte == '\\') {
        frame.current = 0;
        return false;
      }
      if (byte < 0x80) {
        code_point = byte;
        return true;
      }
      frame.current = byte & (byte >= 0xf0 ? 0x07 : byte >= 0xe0 ? 0x0f : 0x1f);
      return false;
    case kEscape:
      if (byte == 'u') {
        frame.current = 0;
        return false;
      }
      code_point = byte == 'b' ? '\b' : byte == 'f' ? '\f' : byte == 'n' ? '\n' : byte == 'r' ? '\r' : byte == 't' ? '\t' : byte;
      return true;
    case kHex4:
    case kHex3:
    case kHex3Low:
    case kHex2:
    case kHex1:
      frame.current = frame.current * 16 + static_cast<uint32_t>(hex_value(byte));
      break;
    default:  // a UTF-8 continuation byte
      frame.current = (frame.current << 6) | (byte & 0x3f);
      break;
  }
  if (frame.lexer != kNormal) return false;
  code_point = frame.current;
  return true;
}

// The code points a character being written may still become (frame.current holds what its
// bytes so far give; the lexer state says how much is missing).
void partial_code_points(const Frame& frame, uint32_t& low, uint32_t& high) {
  int missing_bits = 0;
  switch (frame.lexer) {
    case kEscape: case kHex4: low = 0; high = 0xffff; return;
    case kHex3: case kHex3Low: missing_bits = 12; break;
    case kHex2: missing_bits = 8; break;
    case kHex1: missing_bits = 4; break;
    case kUtf8Need1: missing_bits = 6; break;
    case kUtf8Need2: case kUtf8E0: case kUtf8ED: missing_bits = 12; break;
    default: missing_bits = 18; break;  // four-byte sequences
  }
  low = frame.current << missing_bits;
  high = ((frame.current + 1) << missing_bits) - 1;
  // The lead bytes whose next byte the lexer narrows: no overlong forms, no surrogates, nothing
  // past U+10FFFF.
  switch (frame.lexer) {
    case kUtf8E0: low = 0x800; break;
    case kUtf8F0: low = 0x10000; break;
    case kUtf8ED: case kHex3Low: high = std::min<uint32_t>(high, 0xd7ff); break;
    case kUtf8F4: high = 0x10ffff; break;
    default: break;
  }
}

// Whether the pattern can still end within minLength..maxLength after `count` code points.
bool pattern_fits_length(const Node& node, uint64_t state, uint32_t count) {
  const JsonStringPattern& pattern = *node.pattern;
  const uint64_t fewest = static_cast<uint64_t>(count) + pattern.fewest_more(state);
  const uint64_t most = static_cast<uint64_t>(count) + pattern.most_more(state);
  return fewest <= node.max_length && most >= node.min_length;
}

bool has_bounds(const Node& node) { return node.minimum || node.maximum; }

// Whether some value in the interval from `low` to `high` (each end open or closed) meets the
// node's bounds (and is whole, for integers).
bool interval_meets_bounds(const Node& node, double low, bool low_closed, double high, bool high_closed) {
  if (node.minimum) {
    if (*node.minimum > low) {
      low = *node.minimum;
      low_closed = !node.exclusive_minimum;
    } else if (*node.minimum == low) {
      low_closed = low_closed && !node.exclusive_minimum;
    }
  }
  if (node.maximum) {
    if (*node.maximum < high) {
      high = *node.maximum;
      high_closed = !node.exclusive_maximum;
    } else if (*node.maximum == high) {
      high_closed = high_closed && !node.exclusive_maximum;
    }
  }
  if (node.integer) {
    const double first = low_closed ? std::ceil(low) : std::floor(low) + 1;
    const double last = high_closed ? std::floor(high) : std::ceil(high) - 1;
    return first <= last;
  }
  return low < high || (low == high && low_closed && high_closed);
}

// Magnitudes from `low` (closed) to `high` (open unless high_closed), signed by the frame.
bool magnitudes_meet_bounds(const Node& node, const Frame& frame, double low, double high, bool high_closed) {
  if (frame.negative) return interval_meets_bounds(node, -high, high_closed, -low, true);
  return interval_meets_bounds(node, low, true, high, high_closed);
}

double pow10(int exponent) { return std::pow(10.0, exponent); }

// The number written so far, exactly as a parser rounds it (one division of exact integers).
double number_value(const Frame& frame) {
  const double scale = pow10(frame.fraction_digits);
  const double value = (frame.whole * scale + frame.fraction) / scale;
  return frame.negative ? -value : value;
}

// Whether the number written so far can still be completed within the node's bounds.
bool number_reachable(const Node& node, const Frame& frame) {
  if (!has_bounds(node)) return true;
  const int digits_left = static_cast<int>(JsonMatcher::kMaxNumberDigits) - frame.digits;
  switch (frame.phase) {
    case kNumberMinus:
      return magnitudes_meet_bounds(node, frame, 0, INFINITY, false);
    case kNumberZero:
      return node.integer ? magnitudes_meet_bounds(node, frame, 0, 0, true)
                          : magnitudes_meet_bounds(node, frame, 0, 1, false);
    case kNumberInt: {
      if (node.integer ? magnitudes_meet_bounds(node, frame, frame.whole, frame.whole, true)
                       : magnitudes_meet_bounds(node, frame, frame.whole, frame.whole + 1, false)) {
        return true;
      }
      for (int more = 1; more <= digits_left; ++more) {
        const double scale = pow10(more);
        if (magnitudes_meet_bounds(node, frame, frame.whole * scale, (frame.whole + 1) * scale, false)) return true;
      }
      return false;
    }
    case kNumberDot:
      return magnitudes_meet_bounds(node, frame, frame.whole, frame.whole + 1, false);
    case kNumberFraction: {
      const double value = std::fabs(number_value(frame));
      if (digits_left == 0) return magnitudes_meet_bounds(node, frame, value, value, true);
      return magnitudes_meet_bounds(node, frame, value, value + pow10(-frame.fraction_digits), false);
    }
    default:
      return true;  // exponents are allowed only without bounds
  }
}

bool number_in_bounds(const Node& node, const Frame& frame) {
  if (!has_bounds(node)) return true;
  const double value = number_value(frame);
  return interval_meets_bounds(node, value, true, value, true);
}

bool number_terminal(const Frame& frame) {
  return frame.phase == kNumberZero || frame.phase == kNumberInt || frame.phase == kNumberFraction ||
         frame.phase == kNumberExponent;
}

// Literals (bit i: literals[i]) that continue with `byte` at `position`.
uint64_t literals_continuing(const Node& node, uint64_t candidates, uint32_t position, uint8_t byte) {
  uint64_t next = 0;
  for (uint64_t rest = candidates; rest; rest &= rest - 1) {
    const int i = __builtin_ctzll(rest);
    const std::string& literal = node.literals[static_cast<size_t>(i)];
    if (literal.size() > position && static_cast<uint8_t>(literal[position]) == byte) next |= uint64_t{1} << i;
  }
  return next;
}

bool literal_complete(const Node& node, uint64_t candidates, uint32_t position) {
  for (uint64_t rest = candidates; rest; rest &= rest - 1) {
    if (node.literals[static_cast<size_t>(__builtin_ctzll(rest))].size() == position) return true;
  }
  return false;
}

uint64_t all_properties(const Node& node) {
  return node.properties.size() >= 64 ? ~uint64_t{0} : (uint64_t{1} << node.properties.size()) - 1;
}

uint64_t required_properties(const Node& node) {
  uint64_t required = 0;
  for (size_t i = 0; i < node.properties.size(); ++i) {
    if (node.properties[i].required) required |= uint64_t{1} << i;
  }
  return required;
}

bool may_close_object(const Node& node, const Frame& frame) {
  const uint64_t required = required_properties(node);
  return (frame.bits & required) == required;
}

bool may_start_key(const Node& node, const Frame& frame) {
  return node.additional || (all_properties(node) & ~frame.bits) != 0;
}

}  // namespace

enum class JsonMatcher::Outcome : uint8_t {
  Reject,
  Consumed,    // the frame took the byte
  Completed,   // the frame took the byte and its value is whole (closing quote, brace, bracket)
  PassUp,      // the frame's value ended before this byte, which belongs to the frame below
  StartValue,  // the byte starts a child value of node `child`
};

JsonMatcher::JsonMatcher(const JsonSchemaGrammar& grammar) : JsonMatcher(grammar, grammar.root()) {}

JsonMatcher::JsonMatcher(const JsonSchemaGrammar& grammar, uint32_t start) : grammar_(&grammar) {
  Frame root;
  root.kind = kRoot;
  root.node = start;
  frames_.push_back(root);
  ends_.push_back(1);
  work_.reserve(kMaxDepth + 2);
}

JsonMatcher::JsonMatcher(const JsonMatcher& other)
    : grammar_(other.grammar_), frames_(other.frames_), ends_(other.ends_) {
  work_.reserve(kMaxDepth + 2);
}

JsonMatcher& JsonMatcher::operator=(const JsonMatcher& other) {
  grammar_ = other.grammar_;
  frames_ = other.frames_;
  ends_ = other.ends_;
  if (work_.capacity() < kMaxDepth + 2) work_.reserve(kMaxDepth + 2);
  return *this;
}

JsonMatcher::Outcome JsonMatcher::step(Frame& frame, uint8_t byte, uint32_t& child) const {
  const Node& node = grammar_->node(frame.node);
  auto whitespace = [&]() {
    if (!is_generated_whitespace(byte) || frame.whitespace >= kMaxWhitespace) return Outcome::Reject;
    ++frame.whitespace;
    return Outcome::Consumed;
  };
  auto structural = [&](uint8_t phase) {
    frame.phase = phase;
    frame.whitespace = 0;
    return Outcome::Consumed;
  };
  auto start_key = [&]() {
    frame.phase = kObjectKey;
    frame.whitespace = 0;
    frame.count = 0;
    frame.lexer = kNormal;
    frame.candidates = node.additional ? all_properties(node) : all_properties(node) & ~frame.bits;
    return Outcome::Consumed;
  };
  switch (frame.kind) {
    case kRoot:
      if (frame.phase != kRootStart) return Outcome::Reject;
      frame.phase = kRootInValue;
      child = frame.node;
      return Outcome::StartValue;

    case kObject:
      switch (frame.phase) {
        case kObjectOpen:
          if (byte == '"' && may_start_key(node, frame)) return start_key();
          if (byte == '}' && may_close_object(node, frame)) return Outcome::Completed;
          return whitespace();
        case kObjectKey: {
          if (frame.lexer == kNormal && byte == '"') {
            uint32_t exact = kAdditional;
            for (uint64_t rest = frame.candidates; rest; rest &= rest - 1) {
              const int i = __builtin_ctzll(rest);
              if (node.properties[static_cast<size_t>(i)].written_name.size() == frame.count) exact = static_cast<uint32_t>(i);
            }
            if (exact != kAdditional) {
              if (frame.bits & (uint64_t{1} << exact)) return Outcome::Reject;  // a key written twice
            } else if (!node.additional) {
              return Outcome::Reject;
            }
            frame.current = exact;
            return structural(kObjectAfterKey);
          }
          if (lex_string_byte(frame.lexer, byte, /*key=*/true) == Lex::Reject) return Outcome::Reject;
          uint64_t next = 0;
          for (uint64_t rest = frame.candidates; rest; rest &= rest - 1) {
            const int i = __builtin_ctzll(rest);
            const std::string& name = node.properties[static_cast<size_t>(i)].written_name;
            if (name.size() > frame.count && static_cast<uint8_t>(name[frame.count]) == byte) next |= uint64_t{1} << i;
          }
          if (!next && !node.additional) return Outcome::Reject;
          if (!next && frame.count >= kMaxFreeKeyBytes) return Outcome::Reject;
          frame.candidates = next;
          ++frame.count;
          return Outcome::Consumed;
        }
        case kObjectAfterKey:
          if (byte == ':') return structural(kObjectAfterColon);
          return whitespace();
        case kObjectAfterColon:
          if (is_generated_whitespace(byte)) return whitespace();
          frame.phase = kObjectInValue;
          frame.whitespace = 0;
          child = frame.current == kAdditional ? *node.additional : node.properties[frame.current].value;
          return Outcome::StartValue;
        case kObjectAfterValue:
          if (byte == ',' && may_start_key(node, frame)) return structural(kObjectAfterComma);
          if (byte == '}' && may_close_object(node, frame)) return Outcome::Completed;
          return whitespace();
        case kObjectAfterComma:
          if (byte == '"') return start_key();
          return whitespace();
        default:
          return Outcome::Reject;
      }

    case kArray:
      switch (frame.phase) {
        case kArrayOpen:
          if (byte == ']' && node.min_items == 0) return Outcome::Completed;
          if (is_generated_whitespace(byte)) return whitespace();
          if (node.max_items == 0) return Outcome::Reject;
          frame.phase = kArrayInValue;
          frame.whitespace = 0;
          child = node.items;
          return Outcome::StartValue;
        case kArrayAfterValue:
          if (byte == ',' && frame.count < node.max_items) return structural(kArrayAfterComma);
          if (byte == ']' && frame.count >= node.min_items) return Outcome::Completed;
          return whitespace();
        case kArrayAfterComma:
          if (is_generated_whitespace(byte)) return whitespace();
          frame.phase = kArrayInValue;
          frame.whitespace = 0;
          child = node.items;
          return Outcome::StartValue;
        default:
          return Outcome::Reject;
      }

    case kString: {
      const uint8_t before = frame.lexer;
      const Lex read = lex_string_byte(frame.lexer, byte, /*key=*/false);
      if (read == Lex::Reject) return Outcome::Reject;
      if (read == Lex::Close) {
        if (frame.count < node.min_length || (node.pattern && !node.pattern->accepting(frame.bits))) return Outcome::Reject;
        return Outcome::Completed;
      }
      if (read == Lex::CharStart) {
        if (frame.count >= node.max_length) return Outcome::Reject;
        ++frame.count;
      }
      if (node.pattern) {
        uint32_t code_point = 0;
        if (!decoded_code_point(frame, before, byte, code_point)) {
          // A character begun: some character it may still become must fit, or the string
          // could be left where no byte continues it.
          uint32_t low = 0, high = 0;
          partial_code_points(frame, low, high);
          const uint64_t reachable = node.pattern->step_range(frame.bits, low, high);
          if (!reachable || !pattern_fits_length(node, reachable, frame.count)) return Outcome::Reject;
          return Outcome::Consumed;
        }
        const uint64_t next = node.pattern->step(frame.bits, code_point);
        if (!next || !pattern_fits_length(node, next, frame.count)) return Outcome::Reject;
        frame.bits = next;
      }
      return Outcome::Consumed;
    }

    case kNumber: {
      const bool digit = byte >= '0' && byte <= '9';
      const double value = digit ? byte - '0' : 0;
      Frame next = frame;
      switch (frame.phase) {
        case kNumberMinus:
          if (!digit) return Outcome::Reject;
          next.phase = value == 0 ? kNumberZero : kNumberInt;
          next.whole = value;
          next.digits = 1;
          break;
        case kNumberZero:
        case kNumberInt:
          if (digit && frame.phase == kNumberInt && frame.digits < kMaxNumberDigits) {
            next.whole = frame.whole * 10 + value;
            ++next.digits;
          } else if (byte == '.' && !node.integer && frame.digits < kMaxNumberDigits) {
            next.phase = kNumberDot;
          } else if ((byte == 'e' || byte == 'E') && !node.integer && !has_bounds(node)) {
            next.phase = kNumberE;
          } else {
            return number_in_bounds(node, frame) ? Outcome::PassUp : Outcome::Reject;
          }
          break;
        case kNumberDot:
          if (!digit) return Outcome::Reject;
          next.phase = kNumberFraction;
          next.fraction = value;
          next.fraction_digits = 1;
          ++next.digits;
          break;
        case kNumberFraction:
          if (digit && frame.digits < kMaxNumberDigits) {
            next.fraction = frame.fraction * 10 + value;
            ++next.fraction_digits;
            ++next.digits;
          } else if ((byte == 'e' || byte == 'E') && !has_bounds(node)) {
            next.phase = kNumberE;
          } else {
            return number_in_bounds(node, frame) ? Outcome::PassUp : Outcome::Reject;
          }
          break;
        case kNumberE:
          if (byte == '+' || byte == '-') {
            next.phase = kNumberExponentSign;
            break;
          }
          [[fallthrough]];
        case kNumberExponentSign:
          if (!digit) return Outcome::Reject;
          next.phase = kNumberExponent;
          next.exponent_digits = 1;
          break;
        case kNumberExponent:
          if (digit && frame.exponent_digits < kMaxExponentDigits) {
            ++next.exponent_digits;
            break;
          }
          return Outcome::PassUp;
        default:
          return Outcome::Reject;
      }
      if (!number_reachable(node, next)) return Outcome::Reject;
      frame = next;
      return Outcome::Consumed;
    }

    case kLiteral: {
      const uint64_t next = literals_continuing(node, frame.bits, frame.count, byte);
      if (next) {
        frame.bits = next;
        ++frame.count;
        return Outcome::Consumed;
      }
      return literal_complete(node, frame.bits, frame.count) ? Outcome::PassUp : Outcome::Reject;
    }
  }
  return Outcome::Reject;
}

void JsonMatcher::child_done(Frame& parent) const {
  switch (parent.kind) {
    case kRoot:
      parent.phase = kRootDone;
      break;
    case kObject:
      if (parent.current != kAdditional) parent.bits |= uint64_t{1} << parent.current;
      parent.phase = kObjectAfterValue;
      parent.whitespace = 0;
      break;
    case kArray:
      ++parent.count;
      parent.phase = kArrayAfterValue;
      parent.whitespace = 0;
      break;
    default:
      break;
  }
}

void JsonMatcher::emit() {
  // Two readings that reached the same state have the same future: keep one.
  const size_t size = work_.size();
  uint32_t begin = 0;
  for (uint32_t end : next_ends_) {
    if (end - begin == size && std::memcmp(&next_frames_[begin], work_.data(), size * sizeof(Frame)) == 0) return;
    begin = end;
  }
  next_frames_.insert(next_frames_.end(), work_.begin(), work_.end());
  next_ends_.push_back(static_cast<uint32_t>(next_frames_.size()));
}

void JsonMatcher::start_value(uint32_t node_id, uint8_t byte, int unions) {
  // A reference chain that loops without writing anything (a: {$ref: a}) ends here.
  if (unions > static_cast<int>(kMaxDepth) || work_.size() >= kMaxDepth) return;
  const Node& node = grammar_->node(node_id);
  Frame frame;
  frame.node = node_id;
  switch (node.kind) {
    case Node::Kind::Union:
      for (uint32_t alternative : node.alternatives) start_value(alternative, byte, unions + 1);
      return;
    case Node::Kind::Object:
      if (byte != '{') return;
      frame.kind = kObject;
      frame.phase = kObjectOpen;
      break;
    case Node::Kind::Array:
      if (byte != '[') return;
      frame.kind = kArray;
      frame.phase = kArrayOpen;
      break;
    case Node::Kind::String:
      if (byte != '"') return;
      frame.kind = kString;
      if (node.pattern) frame.bits = JsonStringPattern::kStart;
      if (node.pattern && !pattern_fits_length(node, frame.bits, 0)) return;
      break;
    case Node::Kind::Number:
      frame.kind = kNumber;
      if (byte == '-') {
        frame.phase = kNumberMinus;
        frame.negative = 1;
      } else if (byte >= '0' && byte <= '9') {
        frame.phase = byte == '0' ? kNumberZero : kNumberInt;
        frame.whole = byte - '0';
        frame.digits = 1;
      } else {
        return;
      }
      if (!number_reachable(node, frame)) return;
      break;
    case Node::Kind::Literal: {
      uint64_t candidates = 0;
      for (size_t i = 0; i < node.literals.size(); ++i) {
        if (static_cast<uint8_t>(node.literals[i][0]) == byte) candidates |= uint64_t{1} << i;
      }
      if (!candidates) return;
      frame.kind = kLiteral;
      frame.bits = candidates;
      frame.count = 1;
      break;
    }
  }
  work_.push_back(frame);
  emit();
  work_.pop_back();
}

void JsonMatcher::feed(uint8_t byte) {
  while (!work_.empty()) {
    uint32_t child = 0;
    switch (step(work_.back(), byte, child)) {
      case Outcome::Reject:
        return;
      case Outcome::Consumed:
        emit();
        return;
      case Outcome::Completed:
        work_.pop_back();
        child_done(work_.back());
        emit();
        return;
      case Outcome::PassUp:
        work_.pop_back();
        if (work_.empty()) return;
        child_done(work_.back());
        continue;
      case Outcome::StartValue:
        start_value(child, byte, 0);
        return;
    }
  }
}

bool JsonMatcher::advance(uint8_t byte) {
  next_frames_.clear();
  next_ends_.clear();
  uint32_t begin = 0;
  for (uint32_t end : ends_) {
    work_.assign(frames_.begin() + begin, frames_.begin() + end);
    feed(byte);
    begin = end;
  }
  if (next_ends_.empty()) return false;
  frames_.swap(next_frames_);
  ends_.swap(next_ends_);
  return true;
}

bool JsonMatcher::advance(std::string_view bytes) {
  for (char c : bytes) {
    if (!advance(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

bool JsonMatcher::frame_may_end(const Frame& frame) const {
  const Node& node = grammar_->node(frame.node);
  if (frame.kind == kNumber) return number_terminal(frame) && number_in_bounds(node, frame);
  if (frame.kind == kLiteral) return literal_complete(node, frame.bits, frame.count);
  return false;
}

bool JsonMatcher::can_finish() const {
  uint32_t begin = 0;
  for (uint32_t end : ends_) {
    const Frame& top = frames_[end - 1];
    if (top.kind == kRoot && top.phase == kRootDone) return true;
    if (end - begin == 2 && frame_may_end(top)) return true;
    begin = end;
  }
  return false;
}

bool JsonMatcher::can_continue() const {
  JsonMatcher probe(*this);
  for (int byte = 0; byte < 256; ++byte) {
    probe = *this;
    if (probe.advance(static_cast<uint8_t>(byte))) return true;
  }
  return false;
}

bool JsonMatcher::open_string(OpenString& out) const {
  if (ends_.size() != 1) return false;
  const Frame& top = frames_.back();
  const Node& node = grammar_->node(top.node);
  if (top.kind == kString && !node.pattern) {
    out = OpenString{top.lexer, false, top.count, node.min_length, node.max_length};
    return true;
  }
  if (top.kind == kObject && top.phase == kObjectKey && top.candidates == 0 && node.additional) {
    out = OpenString{top.lexer, true, top.count, 0, kMaxFreeKeyBytes};
    return true;
  }
  return false;
}

bool JsonMatcher::close_string() {
  OpenString open;
  if (!open_string(open)) return false;
  Frame& top = frames_.back();
  top.lexer = kNormal;
  if (!open.key) top.count = std::max(top.count, open.min_used);
  return advance(static_cast<uint8_t>('"'));
}

std::string JsonMatcher::state_key() const {
  std::string key(reinterpret_cast<const char*>(ends_.data()), ends_.size() * sizeof(uint32_t));
  key.append(reinterpret_cast<const char*>(frames_.data()), frames_.size() * sizeof(Frame));
  return key;
}

}  // namespace lightseek
