// HF tokenizers compile Split patterns with Oniguruma (Ruby syntax); lightseek compiles them
// with PCRE2 (UTF + UCP). The two agree on almost everything these patterns use; this rewrites
// the escapes whose meaning differs and rejects the constructs PCRE2 would read differently.
#pragma once

#include <string>
#include <string_view>

namespace lightseek {

// Returns the PCRE2 pattern with the same meaning as the Oniguruma `pattern`, or throws Error
// naming the construct it does not translate.
//   \s \S  Unicode White_Space (PCRE2's \s also takes U+180E, which Unicode and Oniguruma do not)
//   \w \W  letters, marks, decimal digits, connector punctuation (Oniguruma's Unicode \w)
//   \h \H  Ruby's hexadecimal digit (PCRE2's \h is horizontal space)
//   \uXXXX the code point (PCRE2 spells it \x{XXXX})
// Rejected: nested classes and class intersection (&&), \W and \H inside a class, and the
// inline options (?m) and (?s), whose letters mean different things in Ruby and Perl syntax.
std::string translate_oniguruma_pattern(std::string_view pattern);

}  // namespace lightseek
