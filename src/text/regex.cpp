#include "text/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <utility>

#include "core/error.h"

namespace lightseek {

namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

// Long runs of one class (a megabyte of spaces) backtrack deeper than the JIT's default 32 KB
// machine-stack allowance; the stack grows on demand up to this size.
constexpr size_t kJitStackStart = 32 * 1024;
constexpr size_t kJitStackMax = 64 * 1024 * 1024;

}  // namespace

Regex::Regex(const std::string& pattern, bool literal) : pattern_(pattern) {
  // MULTILINE: Ruby's ^ and $ are line anchors, and the patterns were written for Ruby syntax.
  const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | (literal ? PCRE2_LITERAL : 0u);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &error_code,
                        &error_offset, nullptr);
  if (!code_) {
    fail("regex pattern '", pattern, "' does not compile: ", pcre2_message(error_code), " at offset ",
         error_offset);
  }
  jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
}

Regex::Regex(Regex&& other) noexcept
    : pattern_(std::move(other.pattern_)), code_(std::exchange(other.code_, nullptr)), jit_(other.jit_) {}

Regex& Regex::operator=(Regex&& other) noexcept {
  if (this != &other) {
    if (code_) pcre2_code_free(code_);
    pattern_ = std::move(other.pattern_);
    code_ = std::exchange(other.code_, nullptr);
    jit_ = other.jit_;
  }
  return *this;
}

Regex::~Regex() {
  if (code_) pcre2_code_free(code_);
}

Regex::Matcher::Matcher(const Regex& regex) : regex_(&regex) {
  match_data_ = pcre2_match_data_create_from_pattern(regex.code_, nullptr);
  context_ = pcre2_match_context_create(nullptr);
  if (!match_data_ || !context_) throw std::bad_alloc();
  if (regex.jit_) {
    jit_stack_ = pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr);
    if (!jit_stack_) throw std::bad_alloc();
    pcre2_jit_stack_assign(context_, nullptr, jit_stack_);
  }
}

Regex::Matcher::Matcher(Matcher&& other) noexcept
    : regex_(other.regex_),
      match_data_(std::exchange(other.match_data_, nullptr)),
      context_(std::exchange(other.context_, nullptr)),
      jit_stack_(std::exchange(other.jit_stack_, nullptr)) {}

Regex::Matcher& Regex::Matcher::operator=(Matcher&& other) noexcept {
  if (this != &other) {
    release();
    regex_ = other.regex_;
    match_data_ = std::exchange(other.match_data_, nullptr);
    context_ = std::exchange(other.context_, nullptr);
    jit_stack_ = std::exchange(other.jit_stack_, nullptr);
  }
  return *this;
}

Regex::Matcher::~Matcher() { release(); }

void Regex::Matcher::release() {
  if (match_data_) pcre2_match_data_free(match_data_);
  if (context_) pcre2_match_context_free(context_);
  if (jit_stack_) pcre2_jit_stack_free(jit_stack_);
  match_data_ = nullptr;
  context_ = nullptr;
  jit_stack_ = nullptr;
}

bool Regex::Matcher::find(std::string_view subject, size_t from, MatchRange& match) {
  // PCRE2 rejects a null subject even when it is empty.
  const auto* data = reinterpret_cast<PCRE2_SPTR>(subject.data() ? subject.data() : "");
  const int result = regex_->jit_
                         ? pcre2_jit_match(regex_->code_, data, subject.size(), from, 0, match_data_, context_)
                         : pcre2_match(regex_->code_, data, subject.size(), from, PCRE2_NO_UTF_CHECK,
                                       match_data_, context_);
  if (result == PCRE2_ERROR_NOMATCH) return false;
  // 0 means the ovector was too small for the capture groups; the whole match is still there.
  if (result < 0) fail("regex pattern '", regex_->pattern_, "' failed to match: ", pcre2_message(result));
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_data_);
  match = {ovector[0], ovector[1]};
  return true;
}

}  // namespace lightseek
