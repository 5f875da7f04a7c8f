#include "server/generation_route.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "server/http_responses.h"
#include "server/json_body.h"
#include "server/outcome_collector.h"
#include "server/peer_connection.h"
#include "server/protocol_dispatch.h"
#include "server/response_ids.h"

namespace lightseek::server {
namespace {

// How often a waiting writer looks at its connection while no events arrive.
constexpr std::chrono::milliseconds kPollInterval{250};

void record_usage(RequestRecord& record, const GenerationEvent& event) {
  if (const auto* finished = std::get_if<StreamFinished>(&event)) {
    record.generated_tokens = finished->usage.completion_tokens;
  }
}

// The non-streamed reply: every event folded into one outcome, then one body. Nothing is
// written before the end, so a client that hangs up is noticed by looking at its connection
// between events; its sequences are then cancelled at the next step.
void answer_whole(const GenerationRequest& request, RequestChannel& channel, const ResponseMeta& meta,
                  RequestRecord& record, const httplib::Request& req, httplib::Response& res) {
  GenerationOutcome outcome = empty_outcome(static_cast<std::size_t>(request.n));
  std::vector<GenerationEvent> events;
  bool open = true;
  bool cancelled = false;
  while (open) {
    events.clear();
    open = channel.wait_for_events(events, kPollInterval);
    if (open && !cancelled && client_has_hung_up(req.remote_addr, req.remote_port, req.local_port)) {
      channel.cancel();
      cancelled = true;
    }
    for (const GenerationEvent& event : events) {
      record_usage(record, event);
      apply_event(outcome, event);
    }
  }
  if (const auto error = channel.error()) {
    send_error(res, request.protocol(), *error);
    return;
  }
  send_json(res, 200, response_body(request, outcome, meta));
}

// The streamed reply: events are formatted and written as they come; a failed write means the
// client went away, which cancels its sequences at the next step.
void answer_streamed(const GenerationRequest& request, std::shared_ptr<RequestChannel> channel, ResponseMeta meta,
                     std::shared_ptr<RequestRecord> record, std::shared_ptr<void> open_response,
                     httplib::Response& res) {
  std::shared_ptr<StreamFormatter> formatter = make_stream_formatter(request, std::move(meta));
  const std::string content_type(formatter->content_type());
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      content_type,
      [channel, formatter, record, open_response](std::size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& bytes) { return bytes.empty() || sink.write(bytes.data(), bytes.size()); };
        std::vector<GenerationEvent> events;
        bool open = true;
        while (open) {
          events.clear();
          open = channel->wait_for_events(events, kPollInterval);
          for (const GenerationEvent& event : events) {
            record_usage(*record, event);
            if (!write(formatter->write(event))) {
              channel->cancel();
              return false;
            }
          }
          if (open && !sink.is_writable()) {
            channel->cancel();
            return false;
          }
        }
        if (const auto error = channel->error()) write(formatter->write_error(*error));
        sink.done();
        return true;
      },
      // The stream may end without the provider finishing (connection lost before or while
      // writing): whatever is still generating for it is wasted.
      [channel](bool success) {
        if (!success) channel->cancel();
      });
}

}  // namespace

void handle_generation(ServerContext& context, ApiEndpoint endpoint, const httplib::Request& req,
                       httplib::Response& res, const std::shared_ptr<RequestRecord>& record) {
  // A streamed response outlives this call: the hold goes with its writer.
  std::shared_ptr<void> open_response = context.responses.hold();
  const ApiProtocol protocol = protocol_of(endpoint);
  auto body = parse_json_body(req.body);
  if (!body) return send_error(res, protocol, body.error());
  RequestLimits limits;
  limits.context_tokens = context.options.context_tokens;
  auto parsed = parse_generation_request(endpoint, *body, limits);
  if (!parsed) return send_error(res, protocol, parsed.error());
  GenerationRequest& request = *parsed;
  if (!context.serves(request.model)) return send_error(res, protocol, model_not_found(request.model));

  std::vector<int32_t> prompt;
  try {
    prompt = context.model.tokenizer->encode(render_prompt(request));
  } catch (const Error& error) {
    return send_error(res, protocol, invalid_request("messages", error.what()));
  }
  record->prompt_tokens = static_cast<int64_t>(prompt.size());
  const ResponseMeta meta = new_response_meta(request);

  if (endpoint == ApiEndpoint::AnthropicCountTokens || request.load_only) {
    GenerationOutcome outcome = empty_outcome(static_cast<std::size_t>(request.n));
    outcome.usage.prompt_tokens = static_cast<int64_t>(prompt.size());
    return send_json(res, 200, response_body(request, outcome, meta));
  }
  const char* prompt_field = request.raw_prompt ? "prompt" : "messages";
  if (prompt.empty()) return send_error(res, protocol, invalid_request(prompt_field, "the prompt is empty"));
  const int64_t room = context.options.context_tokens - static_cast<int64_t>(prompt.size());
  if (room < 1) {
    return send_error(res, protocol,
                      invalid_request(prompt_field, "the prompt has " + std::to_string(prompt.size()) +
                                                        " tokens; the context holds " +
                                                        std::to_string(context.options.context_tokens)));
  }

  SchedulerJob job;
  // A budget past the context is cut to what fits; generation then ends with "length".
  job.max_tokens = std::min(request.max_tokens.value_or(room), room);
  job.prompt = std::move(prompt);
  job.request = request;
  auto submitted = context.scheduler.submit(std::move(job));
  if (!submitted) return send_error(res, protocol, submitted.error());
  std::shared_ptr<RequestChannel> channel = std::move(*submitted);

  if (request.stream) {
    answer_streamed(request, std::move(channel), meta, record, std::move(open_response), res);
  } else {
    answer_whole(request, *channel, meta, *record, req, res);
  }
}

}  // namespace lightseek::server
