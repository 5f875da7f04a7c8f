#include "text/onig_syntax.h"

#include <cctype>

#include "core/error.h"

namespace lightseek {

namespace {

constexpr std::string_view kWhiteSpace = "\\p{White_Space}";
constexpr std::string_view kNotWhiteSpace = "\\P{White_Space}";
constexpr std::string_view kWordMembers = "\\p{L}\\p{M}\\p{Nd}\\p{Pc}";
constexpr std::string_view kHexMembers = "0-9a-fA-F";

[[noreturn]] void reject(std::string_view pattern, size_t offset, std::string_view what) {
  fail("regex pattern '", pattern, "': ", what, " at offset ", offset,
       " is not supported (Oniguruma and PCRE2 read it differently)");
}

}  // namespace

std::string translate_oniguruma_pattern(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size() + 32);
  bool in_class = false;
  size_t class_start = 0;  // offset just after '[' or '[^', where a ']' is still literal
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 >= pattern.size()) fail("regex pattern '", pattern, "' ends with a lone backslash");
      const char escaped = pattern[++i];
      switch (escaped) {
        case 's':
          out += kWhiteSpace;
          break;
        case 'S':
          out += kNotWhiteSpace;
          break;
        case 'w':
          if (in_class) {
            out += kWordMembers;
          } else {
            out += '[';
            out += kWordMembers;
            out += ']';
          }
          break;
        case 'W':
          if (in_class) reject(pattern, i - 1, "\\W inside a character class");
          out += "[^";
          out += kWordMembers;
          out += ']';
          break;
        case 'h':
          if (in_class) {
            out += kHexMembers;
          } else {
            out += '[';
            out += kHexMembers;
            out += ']';
          }
          break;
        case 'H':
          if (in_class) reject(pattern, i - 1, "\\H inside a character class");
          out += "[^";
          out += kHexMembers;
          out += ']';
          break;
        case 'u': {
          size_t digits = 0;
          while (digits < 4 && i + 1 + digits < pattern.size() &&
                 std::isxdigit(static_cast<unsigned char>(pattern[i + 1 + digits]))) {
            ++digits;
          }
          if (digits != 4) reject(pattern, i - 1, "\\u without four hex digits");
          out += "\\x{";
          out += pattern.substr(i + 1, 4);
          out += '}';
          i += 4;
          break;
        }
        default:
          out += '\\';
          out += escaped;
      }
      continue;
    }
    if (in_class) {
      if (c == ']' && i != class_start) {
        in_class = false;
      } else if (c == '[') {
        if (i + 1 < pattern.size() && pattern[i + 1] == ':') {
          // A POSIX class such as [:alpha:]: copy it whole; both engines read it as Unicode.
          const size_t end = pattern.find(":]", i + 2);
          if (end == std::string_view::npos) reject(pattern, i, "an unterminated POSIX class");
          out += pattern.substr(i, end + 2 - i);
          i = end + 1;
          continue;
        }
        reject(pattern, i, "a nested character class");
      } else if (c == '&' && i + 1 < pattern.size() && pattern[i + 1] == '&') {
        reject(pattern, i, "character class intersection (&&)");
      }
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      class_start = i + 1;
      if (class_start < pattern.size() && pattern[class_start] == '^') ++class_start;
      out += c;
      continue;
    }
    if (c == '(' && i + 2 < pattern.size() && pattern[i + 1] == '?') {
      // Inline options: letters up to ':' or ')'. (?i) and (?x) mean the same in both syntaxes.
      size_t j = i + 2;
      while (j < pattern.size() && (std::isalpha(static_cast<unsigned char>(pattern[j])) || pattern[j] == '-')) {
        if (pattern[j] == 'm' || pattern[j] == 's') reject(pattern, i, "the inline option (?m)/(?s)");
        ++j;
      }
    }
    out += c;
  }
  if (in_class) fail("regex pattern '", pattern, "' has an unterminated character class");
  return out;
}

}  // namespace lightseek
