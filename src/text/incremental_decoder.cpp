#include "text/tokenizer.h"
#include "text/utf8.h"

namespace lightseek {

IncrementalDecoder::IncrementalDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special) {}

std::string IncrementalDecoder::push(int32_t id) {
  if (!(skip_special_ && tokenizer_.is_special(id))) pending_ += tokenizer_.token_bytes(id);
  // Everything before an unfinished character can go out now; invalid bytes cannot become
  // valid later, so they go out as U+FFFD rather than wait.
  const size_t tail = utf8::completable_tail_start(pending_);
  std::string ready = utf8::to_valid_lossy(std::string_view(pending_).substr(0, tail));
  pending_.erase(0, tail);
  return ready;
}

std::string IncrementalDecoder::flush() {
  std::string rest = utf8::to_valid_lossy(pending_);
  pending_.clear();
  return rest;
}

}  // namespace lightseek
