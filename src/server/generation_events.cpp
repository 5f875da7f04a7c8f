#include "server/generation_events.h"

namespace lightseek::server {

FinishReason finish_reason_for(StopReason reason, bool has_tool_calls) {
  switch (reason) {
    case StopReason::StopToken:
      return has_tool_calls ? FinishReason::ToolCalls : FinishReason::Stop;
    case StopReason::StopString:
      return FinishReason::Stop;
    case StopReason::MaxTokens:
      return FinishReason::Length;
    case StopReason::None:
      return FinishReason::Cancelled;
  }
  return FinishReason::Stop;
}

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::Stop:
      return "stop";
    case FinishReason::Length:
      return "length";
    case FinishReason::ToolCalls:
      return "tool_calls";
    case FinishReason::Cancelled:
      return "cancelled";
  }
  return "stop";
}

}  // namespace lightseek::server
