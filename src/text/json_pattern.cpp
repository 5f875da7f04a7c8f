// JSON Schema string patterns compiled into a position (Glushkov) automaton over code points:
// small enough to keep a string's match state in 64 bits of a matcher frame.
#include <algorithm>
#include <memory>
#include <optional>

#include "core/error.h"
#include "text/json_schema.h"

namespace lightseek {
namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;
using Pattern = JsonStringPattern;

struct CharClass {
  Ranges ranges;
  bool negated = false;
};

struct Ast {
  enum class Kind { Empty, Char, Concat, Alternation, Repeat };
  Kind kind = Kind::Empty;
  CharClass chars;                          // Char
  std::vector<std::unique_ptr<Ast>> parts;  // Concat, Alternation; Repeat: one
  uint32_t min = 0, max = 0;                // Repeat; max kUnbounded for none
};

constexpr uint32_t kUnbounded = 0xffffffffu;
constexpr size_t kMaxPositions = 63;

const Ranges kDigits = {{'0', '9'}};
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const Ranges kSpace = {{'\t', '\r'}, {' ', ' '},       {0xa0, 0xa0},     {0x1680, 0x1680}, {0x2000, 0x200a},
                       {0x2028, 0x2029}, {0x202f, 0x202f}, {0x205f, 0x205f}, {0x3000, 0x3000}, {0xfeff, 0xfeff}};
const Ranges kLineEnds = {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}};

class Parser {
 public:
  explicit Parser(const std::string& source) : source_(source) {}

  std::unique_ptr<Ast> parse_all(bool& anchored_start, bool& anchored_end) {
    anchored_start = at('^');
    if (anchored_start) ++pos_;
    auto ast = alternation();
    anchored_end = false;
    if (at('$')) {
      ++pos_;
      anchored_end = true;
    }
    if (pos_ != source_.size()) {
      if (at('$') || at('^')) fail("'^' and '$' are supported only at the ends of the pattern");
      if (at(')')) fail("unbalanced ')' at offset ", pos_);
      fail("unexpected '", source_[pos_], "' at offset ", pos_);
    }
    return ast;
  }

 private:
  bool at(char c) const { return pos_ < source_.size() && source_[pos_] == c; }
  bool done() const { return pos_ >= source_.size(); }

  std::unique_ptr<Ast> alternation() {
    auto first = concatenation();
    if (!at('|')) return first;
    auto node = std::make_unique<Ast>();
    node->kind = Ast::Kind::Alternation;
    node->parts.push_back(std::move(first));
    while (at('|')) {
      ++pos_;
      node->parts.push_back(concatenation());
    }
    return node;
  }

  std::unique_ptr<Ast> concatenation() {
    auto node = std::make_unique<Ast>();
    node->kind = Ast::Kind::Concat;
    while (!done() && !at('|') && !at(')') && !(at('$') && pos_ + 1 == source_.size())) {
      node->parts.push_back(repetition());
    }
    return node;
  }

  std::unique_ptr<Ast> repetition() {
    auto atom_node = atom();
    while (!done()) {
      uint32_t min = 0, max = 0;
      if (at('*')) {
        min = 0, max = kUnbounded;
        ++pos_;
      } else if (at('+')) {
        min = 1, max = kUnbounded;
        ++pos_;
      } else if (at('?')) {
        min = 0, max = 1;
        ++pos_;
      } else if (at('{') && counted(min, max)) {
      } else {
        break;
      }
      if (at('?')) ++pos_;  // lazy: the same strings match
      auto node = std::make_unique<Ast>();
      node->kind = Ast::Kind::Repeat;
      node->min = min;
      node->max = max;
      node->parts.push_back(std::move(atom_node));
      atom_node = std::move(node);
    }
    return atom_node;
  }

  // {n}, {n,}, {n,m}; false (nothing read) when the brace is not a quantifier.
  bool counted(uint32_t& min, uint32_t& max) {
    size_t p = pos_ + 1;
    auto number = [&](uint32_t& out) {
      const size_t start = p;
      uint64_t value = 0;
      while (p < source_.size() && source_[p] >= '0' && source_[p] <= '9') {
        value = value * 10 + static_cast<uint64_t>(source_[p] - '0');
        if (value > 1000) fail("repetition counts above 1000 are not supported");
        ++p;
      }
      out = static_cast<uint32_t>(value);
      return p > start;
    };
    if (!number(min)) return false;
    max = min;
    if (p < source_.size() && source_[p] == ',') {
      ++p;
      if (!number(max)) max = kUnbounded;
    }
    if (p >= source_.size() || source_[p] != '}') return false;
    if (max < min) fail("repetition {", min, ",", max, "} has its bounds the wrong way round");
    pos_ = p + 1;
    return true;
  }

  uint32_t code_point() {
    const auto lead = static_cast<unsigned char>(source_[pos_]);
    int length = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    uint32_t value = length == 1 ? lead : length == 2 ? lead & 0x1f : length == 3 ? lead & 0x0f : lead & 0x07;
    ++pos_;
    for (int i = 1; i < length; ++i) {
      if (done()) fail("the pattern is not valid UTF-8");
      value = (value << 6) | (static_cast<unsigned char>(source_[pos_++]) & 0x3f);
    }
    return value;
  }

  std::unique_ptr<Ast> char_node(CharClass chars) {
    auto node = std::make_unique<Ast>();
    node->kind = Ast::Kind::Char;
    node->chars = std::move(chars);
    return node;
  }

  // An escape after the backslash: a class (\d...) or one code point.
  CharClass escape(bool in_class) {
    if (done()) fail("the pattern ends with a lone backslash");
    const char c = source_[pos_++];
    switch (c) {
      case 'd': return {kDigits, false};
      case 'D': return {kDigits, true};
      case 'w': return {kWord, false};
      case 'W': return {kWord, true};
      case 's': return {kSpace, false};
      case 'S': return {kSpace, true};
      case 'n': return {{{'\n', '\n'}}, false};
      case 't': return {{{'\t', '\t'}}, false};
      case 'r': return {{{'\r', '\r'}}, false};
      case 'f': return {{{'\f', '\f'}}, false};
      case 'v': return {{{'\v', '\v'}}, false};
      case 'u': {
        uint32_t value = 0;
        for (int i = 0; i < 4; ++i, ++pos_) {
          const char h = done() ? 0 : source_[pos_];
          const int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
          if (digit < 0) fail("\\u needs four hex digits");
          value = value * 16 + static_cast<uint32_t>(digit);
        }
        return {{{value, value}}, false};
      }
      case 'b':
        if (in_class) return {{{'\b', '\b'}}, false};
        fail("'\\b' (word boundary) is not supported");
      default:
        if ((c >= '0' && c <= '9') || c == 'B' || c == 'p' || c == 'P' || c == 'k' || c == 'c' || c == 'x') {
          fail("'\\", c, "' is not supported");
        }
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) fail("'\\", c, "' is not supported");
        return {{{static_cast<unsigned char>(c), static_cast<unsigned char>(c)}}, false};
    }
  }

  CharClass bracket() {
    CharClass chars;
    if (at('^')) {
      chars.negated = true;
      ++pos_;
    }
    bool first = true;
    while (!done() && (!at(']') || first)) {
      first = false;
      CharClass item;
      if (at('\\')) {
        ++pos_;
        item = escape(true);
      } else {
        const uint32_t c = code_point();
        item = {{{c, c}}, false};
      }
      if (item.negated) fail("negated classes (\\D, \\W, \\S) inside [...] are not supported");
      if (item.ranges.size() == 1 && item.ranges[0].first == item.ranges[0].second && at('-') &&
          pos_ + 1 < source_.size() && source_[pos_ + 1] != ']') {
        ++pos_;
        uint32_t high;
        if (at('\\')) {
          ++pos_;
          CharClass end = escape(true);
          if (end.negated || end.ranges.size() != 1 || end.ranges[0].first != end.ranges[0].second) {
            fail("a range in [...] must end with one character");
          }
          high = end.ranges[0].first;
        } else {
          high = code_point();
        }
        if (high < item.ranges[0].first) fail("a range in [...] goes backwards");
        item.ranges[0].second = high;
      }
      chars.ranges.insert(chars.ranges.end(), item.ranges.begin(), item.ranges.end());
    }
    if (!at(']')) fail("unterminated '['");
    ++pos_;
    if (chars.ranges.empty() && !chars.negated) fail("the empty class [] matches nothing");
    return chars;
  }

  std::unique_ptr<Ast> atom() {
    if (at('(')) {
      ++pos_;
      if (at('?')) {
        if (pos_ + 1 < source_.size() && source_[pos_ + 1] == ':') {
          pos_ += 2;
        } else {
          fail("lookaround and named groups '(?' are not supported");
        }
      }
      auto inner = alternation();
      if (!at(')')) fail("unbalanced '(' in the pattern");
      ++pos_;
      return inner;
    }
    if (at('[')) {
      ++pos_;
      return char_node(bracket());
    }
    if (at('.')) {
      ++pos_;
      return char_node({kLineEnds, true});
    }
    if (at('\\')) {
      ++pos_;
      return char_node(escape(false));
    }
    if (at('*') || at('+') || at('?') || at('{')) {
      if (at('{')) {
        ++pos_;
        return char_node({{{'{', '{'}}, false});
      }
      fail("a quantifier at offset ", pos_, " has nothing to repeat");
    }
    if (at('^') || at('$')) fail("'^' and '$' are supported only at the ends of the pattern");
    const uint32_t c = code_point();
    return char_node({{{c, c}}, false});
  }

  const std::string& source_;
  size_t pos_ = 0;
};

struct Fragment {
  bool nullable = true;
  uint64_t first = 0, last = 0;
};

class Builder {
 public:
  explicit Builder(Pattern& pattern) : pattern_(pattern) {}

  Fragment build(const Ast& ast) {
    switch (ast.kind) {
      case Ast::Kind::Empty:
        return {};
      case Ast::Kind::Char: {
        if (pattern_.positions.size() >= kMaxPositions) {
          fail("the pattern is too large (more than ", kMaxPositions, " character positions once repetitions are spelled out)");
        }
        const uint64_t bit = uint64_t{1} << pattern_.positions.size();
        pattern_.positions.push_back({ast.chars.ranges, ast.chars.negated, 0});
        return {false, bit, bit};
      }
      case Ast::Kind::Concat: {
        Fragment result;
        for (const auto& part : ast.parts) result = concat(result, build(*part));
        return result;
      }
      case Ast::Kind::Alternation: {
        Fragment result{false, 0, 0};
        for (const auto& part : ast.parts) {
          const Fragment alternative = build(*part);
          result.nullable = result.nullable || alternative.nullable;
          result.first |= alternative.first;
          result.last |= alternative.last;
        }
        return result;
      }
      case Ast::Kind::Repeat: {
        Fragment result;
        for (uint32_t i = 0; i < ast.min; ++i) result = concat(result, build(*ast.parts[0]));
        if (ast.max == kUnbounded) {
          Fragment loop = build(*ast.parts[0]);
          link(loop.last, loop.first);
          loop.nullable = true;
          return concat(result, loop);
        }
        // Optional copies nest: a{0,2} = (a(a)?)?
        std::vector<Fragment> optional;
        for (uint32_t i = ast.min; i < ast.max; ++i) optional.push_back(build(*ast.parts[0]));
        Fragment tail;
        for (auto it = optional.rbegin(); it != optional.rend(); ++it) {
          tail = concat(*it, tail);
          tail.nullable = true;
        }
        return concat(result, tail);
      }
    }
    return {};
  }

 private:
  void link(uint64_t from, uint64_t to) {
    for (uint64_t rest = from; rest; rest &= rest - 1) pattern_.positions[static_cast<size_t>(__builtin_ctzll(rest))].follow |= to;
  }

  Fragment concat(const Fragment& a, const Fragment& b) {
    link(a.last, b.first);
    return {a.nullable && b.nullable, a.first | (a.nullable ? b.first : 0), b.last | (b.nullable ? a.last : 0)};
  }

  Pattern& pattern_;
};

std::unique_ptr<Ast> any_string() {
  auto any = std::make_unique<Ast>();
  any->kind = Ast::Kind::Char;
  any->chars.negated = true;  // nothing excluded
  auto loop = std::make_unique<Ast>();
  loop->kind = Ast::Kind::Repeat;
  loop->min = 0;
  loop->max = kUnbounded;
  loop->parts.push_back(std::move(any));
  return loop;
}

}  // namespace

bool JsonStringPattern::matches(size_t position, uint32_t code_point) const {
  const Position& p = positions[position];
  bool inside = false;
  for (const auto& [low, high] : p.ranges) inside = inside || (code_point >= low && code_point <= high);
  return inside != p.negated;
}

uint64_t JsonStringPattern::step(uint64_t state, uint32_t code_point) const {
  uint64_t candidates = (state & kStart) ? first : 0;
  for (uint64_t rest = state & ~kStart; rest; rest &= rest - 1) candidates |= positions[static_cast<size_t>(__builtin_ctzll(rest))].follow;
  candidates &= live;
  uint64_t next = 0;
  for (uint64_t rest = candidates; rest; rest &= rest - 1) {
    const size_t position = static_cast<size_t>(__builtin_ctzll(rest));
    if (matches(position, code_point)) next |= uint64_t{1} << position;
  }
  return next;
}

uint32_t JsonStringPattern::fewest_more(uint64_t state) const {
  uint32_t fewest = kLong;
  if (state & kStart) {
    if (nullable) return 0;
    for (uint64_t rest = first & live; rest; rest &= rest - 1) {
      fewest = std::min(fewest, fewest_after[static_cast<size_t>(__builtin_ctzll(rest))] + 1);
    }
  }
  for (uint64_t rest = state & ~kStart; rest; rest &= rest - 1) {
    fewest = std::min(fewest, fewest_after[static_cast<size_t>(__builtin_ctzll(rest))]);
  }
  return fewest;
}

uint32_t JsonStringPattern::most_more(uint64_t state) const {
  uint32_t most = 0;
  if (state & kStart) {
    for (uint64_t rest = first & live; rest; rest &= rest - 1) {
      most = std::max(most, std::min(kLong, most_after[static_cast<size_t>(__builtin_ctzll(rest))] + 1));
    }
  }
  for (uint64_t rest = state & ~kStart; rest; rest &= rest - 1) {
    most = std::max(most, most_after[static_cast<size_t>(__builtin_ctzll(rest))]);
  }
  return most;
}

uint64_t JsonStringPattern::step_range(uint64_t state, uint32_t low, uint32_t high) const {
  uint64_t candidates = (state & kStart) ? first : 0;
  for (uint64_t rest = state & ~kStart; rest; rest &= rest - 1) candidates |= positions[static_cast<size_t>(__builtin_ctzll(rest))].follow;
  candidates &= live;
  uint64_t next = 0;
  for (uint64_t rest = candidates; rest; rest &= rest - 1) {
    const size_t position = static_cast<size_t>(__builtin_ctzll(rest));
    const Position& p = positions[position];
    bool overlaps = false;
    if (!p.negated) {
      for (const auto& [from, to] : p.ranges) overlaps = overlaps || (from <= high && to >= low);
    } else {
      // Some code point of [low, high] outside every range (ranges are sorted by start).
      uint32_t next_free = low;
      for (const auto& [from, to] : p.ranges) {
        if (from > next_free) break;
        if (to >= next_free) next_free = to == 0xffffffffu ? to : to + 1;
        if (next_free > high) break;
      }
      overlaps = next_free <= high;
    }
    if (overlaps) next |= uint64_t{1} << position;
  }
  return next;
}

JsonStringPattern JsonStringPattern::compile(const std::string& source) {
  bool anchored_start = false, anchored_end = false;
  Parser parser(source);
  auto ast = parser.parse_all(anchored_start, anchored_end);
  // JSON Schema patterns search: an unanchored end may be surrounded by anything.
  auto whole = std::make_unique<Ast>();
  whole->kind = Ast::Kind::Concat;
  if (!anchored_start) whole->parts.push_back(any_string());
  whole->parts.push_back(std::move(ast));
  if (!anchored_end) whole->parts.push_back(any_string());
  JsonStringPattern pattern;
  Builder builder(pattern);
  const Fragment fragment = builder.build(*whole);
  for (Position& position : pattern.positions) std::sort(position.ranges.begin(), position.ranges.end());
  pattern.first = fragment.first;
  pattern.last = fragment.last;
  pattern.nullable = fragment.nullable;
  // Positions from which a match can still end: the matcher never enters a dead one, so a
  // string it lets through can always be finished.
  uint64_t live = pattern.last;
  for (bool grew = true; grew;) {
    grew = false;
    for (size_t i = 0; i < pattern.positions.size(); ++i) {
      const uint64_t bit = uint64_t{1} << i;
      if (!(live & bit) && (pattern.positions[i].follow & live)) {
        live |= bit;
        grew = true;
      }
    }
  }
  pattern.live = live;
  // Shortest and longest ways to the end from each position, by relaxation over at most 63
  // positions; a longest way still growing after that many rounds goes round a loop.
  const size_t count = pattern.positions.size();
  pattern.fewest_after.assign(count, kLong);
  pattern.most_after.assign(count, 0);
  for (size_t round = 0; round <= count + 1; ++round) {
    for (size_t i = 0; i < count; ++i) {
      uint32_t fewest = (pattern.last >> i) & 1 ? 0 : kLong;
      uint32_t most = 0;
      for (uint64_t rest = pattern.positions[i].follow & live; rest; rest &= rest - 1) {
        const size_t next = static_cast<size_t>(__builtin_ctzll(rest));
        fewest = std::min(fewest, pattern.fewest_after[next] + 1);
        most = std::max(most, std::min(kLong, pattern.most_after[next] + 1));
      }
      pattern.fewest_after[i] = std::min(fewest, kLong);
      pattern.most_after[i] = most;
    }
  }
  for (size_t i = 0; i < count; ++i) {
    if (pattern.most_after[i] > count) pattern.most_after[i] = kLong;
  }
  if (!pattern.nullable && !(pattern.first & live)) fail("the pattern matches no string");
  return pattern;
}

}  // namespace lightseek
