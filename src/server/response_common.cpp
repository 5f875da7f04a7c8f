#include "server/response_common.h"

#include <cstdio>
#include <ctime>

#include "core/error.h"
#include "server/json_body.h"
#include "server/response_ids.h"
#include "text/utf8.h"

namespace lightseek::server::responses {

std::string sse_data(const ordered_json& value) { return "data: " + to_json_text(value) + "\n\n"; }

std::string sse_event(std::string_view name, const ordered_json& value) {
  return "event: " + std::string(name) + "\ndata: " + to_json_text(value) + "\n\n";
}

int64_t unix_seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

std::string rfc3339(std::chrono::system_clock::time_point time) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  int64_t seconds = since_epoch / 1'000'000'000;
  int64_t nanos = since_epoch % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --seconds;
  }
  const std::time_t whole = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&whole, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out = date;
  if (nanos != 0) {
    char fraction[16];
    std::snprintf(fraction, sizeof fraction, ".%09lld", static_cast<long long>(nanos));
    std::string digits = fraction;
    while (digits.back() == '0') digits.pop_back();
    out += digits;
  }
  return out + "Z";
}

namespace {

ordered_json byte_values(const std::string& token) {
  ordered_json bytes = ordered_json::array();
  for (const char c : token) bytes.push_back(static_cast<int>(static_cast<unsigned char>(c)));
  return bytes;
}

}  // namespace

ordered_json token_logprob_json(const TokenLogprob& logprob) {
  ordered_json top = ordered_json::array();
  for (const TokenAlternative& alternative : logprob.top) {
    top.push_back({{"token", utf8::to_valid_lossy(alternative.token)},
                   {"logprob", alternative.logprob},
                   {"bytes", byte_values(alternative.token)}});
  }
  return ordered_json{{"token", utf8::to_valid_lossy(logprob.token)},
                      {"logprob", logprob.logprob},
                      {"bytes", byte_values(logprob.token)},
                      {"top_logprobs", std::move(top)}};
}

ordered_json token_logprobs_json(const std::vector<TokenLogprob>& logprobs) {
  ordered_json out = ordered_json::array();
  for (const TokenLogprob& logprob : logprobs) out.push_back(token_logprob_json(logprob));
  return out;
}

ToolCall with_id(ToolCall call, ApiProtocol protocol) {
  if (call.id.empty()) call.id = new_tool_call_id(protocol);
  return call;
}

std::string arguments_text(const ToolCall& call) {
  return to_json_text(call.arguments.is_null() ? ordered_json::object() : call.arguments);
}

}  // namespace lightseek::server::responses
