#include "formats/quoted_text.h"

#include <cstdint>

namespace lightseek {

// nlohmann echoes the token it choked on, which for an unterminated string is the rest of the
// file; messages are meant for a terminal.
std::string shortened(std::string text) {
  constexpr size_t kMaxQuotedChars = 160;
  if (text.size() <= kMaxQuotedChars) return text;
  size_t cut = kMaxQuotedChars;
  while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  text.resize(cut);
  return text + "...";
}

std::string json_reason(const std::exception& error) {
  std::string text = error.what();
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find("] ");
    if (close != std::string::npos) text.erase(0, close + 2);
  }
  return shortened(std::move(text));
}

}  // namespace lightseek
