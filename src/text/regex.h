// A compiled PCRE2 pattern (UTF + UCP, JIT-compiled when the library supports it) and the
// per-thread state a match needs. Subjects must already be valid UTF-8: the tokenizer checks
// its input once, so matches skip PCRE2's own check, which would otherwise rescan the subject
// on every call.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct pcre2_real_code_8;
struct pcre2_real_match_data_8;
struct pcre2_real_match_context_8;
struct pcre2_real_jit_stack_8;

namespace lightseek {

struct MatchRange {
  size_t start;
  size_t end;
};

class Regex {
 public:
  // `pattern` is PCRE2 syntax (see onig_syntax.h for patterns written for Oniguruma); `literal`
  // matches the text as is. Throws Error naming the pattern and PCRE2's message.
  Regex(const std::string& pattern, bool literal);
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();

  const std::string& pattern() const { return pattern_; }

  // Reusable match state; one per thread (PCRE2 match data is not shareable while matching).
  class Matcher {
   public:
    explicit Matcher(const Regex& regex);
    Matcher(Matcher&&) noexcept;
    Matcher& operator=(Matcher&&) noexcept;
    ~Matcher();
    // The first match in subject at or after `from`, or false. Empty matches are reported.
    bool find(std::string_view subject, size_t from, MatchRange& match);

   private:
    void release();
    const Regex* regex_;
    pcre2_real_match_data_8* match_data_ = nullptr;
    pcre2_real_match_context_8* context_ = nullptr;
    pcre2_real_jit_stack_8* jit_stack_ = nullptr;
  };

 private:
  std::string pattern_;
  pcre2_real_code_8* code_ = nullptr;
  bool jit_ = false;
};

}  // namespace lightseek
