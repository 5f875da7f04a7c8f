#include "server/scheduler.h"

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

#include "server/choice_decoder.h"

namespace lightseek::server {

using Clock = std::chrono::steady_clock;

namespace {

int64_t nanoseconds(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

}  // namespace

struct Scheduler::Running {
  struct Choice {
    std::unique_ptr<StepSequence> sequence;
    ChoiceDecoder decoder;
    bool reading_prompt = true;  // before the current step
  };
  SchedulerJob job;
  std::shared_ptr<RequestChannel> channel;
  std::vector<std::unique_ptr<Choice>> choices;
  Usage usage;

  bool finished() const {
    return std::all_of(choices.begin(), choices.end(), [](const auto& choice) { return choice->decoder.finished(); });
  }
};

Scheduler::Scheduler(StepBackend& backend, const Tokenizer& tokenizer, int32_t eos_id, SchedulerOptions options,
                     std::function<void(const StepReport&)> on_step)
    : backend_(backend),
      tokenizer_(tokenizer),
      eos_id_(eos_id),
      options_(options),
      on_step_(std::move(on_step)),
      thread_([this] { run(); }) {}

Scheduler::~Scheduler() {
  shutdown(std::chrono::milliseconds(0));
  if (thread_.joinable()) thread_.join();
}

ProtocolResult<std::shared_ptr<RequestChannel>> Scheduler::submit(SchedulerJob job) {
  auto channel = std::make_shared<RequestChannel>();
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) return overloaded("the server is shutting down");
    if (static_cast<int64_t>(waiting_.size()) >= options_.queue) {
      return rate_limited("the server is busy: " + std::to_string(options_.parallel) + " sequences running and " +
                          std::to_string(waiting_.size()) + " requests waiting; retry later");
    }
    waiting_.push_back({std::move(job), channel});
  }
  wake_.notify_all();
  return channel;
}

void Scheduler::shutdown(std::chrono::milliseconds grace) {
  std::deque<Waiting> refused;
  {
    std::lock_guard lock(mutex_);
    const auto deadline = Clock::now() + grace;
    if (!cancel_after_ || deadline < *cancel_after_) cancel_after_ = deadline;
    shutting_down_ = true;
    refused.swap(waiting_);
  }
  for (Waiting& waiting : refused) waiting.channel->fail(overloaded("the server is shutting down"));
  wake_.notify_all();
}

SchedulerLoad Scheduler::load() const {
  std::lock_guard lock(mutex_);
  return {static_cast<int64_t>(waiting_.size()), running_sequences_};
}

void Scheduler::run() {
  std::vector<std::unique_ptr<Running>> running;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return shutting_down_ || !waiting_.empty() || !running.empty(); });
      if (shutting_down_ && waiting_.empty() && running.empty()) break;
    }
    if (!admit(running) && running.empty()) continue;
    step(running);
  }
}

// Moves waiting jobs into the running set while their choices fit (a job with more choices
// than `parallel` runs alone rather than never). Returns whether any joined.
bool Scheduler::admit(std::vector<std::unique_ptr<Running>>& running) {
  bool joined = false;
  while (true) {
    Waiting next;
    {
      std::lock_guard lock(mutex_);
      while (!waiting_.empty() && waiting_.front().channel->cancelled()) waiting_.pop_front();
      if (waiting_.empty()) break;
      const int64_t wanted = waiting_.front().job.request.n;
      if (running_sequences_ > 0 && running_sequences_ + wanted > options_.parallel) break;
      next = std::move(waiting_.front());
      waiting_.pop_front();
      running_sequences_ += wanted;
    }
    auto entry = std::make_unique<Running>();
    entry->job = std::move(next.job);
    entry->channel = std::move(next.channel);
    const GenerationRequest& request = entry->job.request;
    try {
      for (int i = 0; i < request.n; ++i) {
        SamplingParams sampling = request.sampling;
        sampling.seed += static_cast<uint64_t>(i);
        SequenceRules rules;
        rules.output_grammar = request.output_grammar;
        rules.tool_grammar = request.tool_grammar;
        rules.starts_in_reasoning = request.parses_output() && request.output_mode() == ThinkingMode::Thinking;
        auto sequence = backend_.start(entry->job.prompt, sampling, rules);
        if (request.logprobs.enabled) sequence->logprobs_top = std::clamp(request.logprobs.top, 0, 20);
        entry->choices.push_back(std::make_unique<Running::Choice>(Running::Choice{
            std::move(sequence),
            ChoiceDecoder(static_cast<std::size_t>(i), request, tokenizer_, eos_id_, entry->job.max_tokens), true}));
      }
    } catch (const std::exception& error) {
      entry->channel->fail(server_error(std::string("cannot start the sequence: ") + error.what()));
      std::lock_guard lock(mutex_);
      running_sequences_ -= request.n;
      continue;
    }
    entry->usage.prompt_tokens = static_cast<int64_t>(entry->job.prompt.size());
    // Choices of one request share the prompt; the first one's reuse is the request's.
    entry->usage.cached_prompt_tokens = entry->choices.empty() ? 0 : entry->choices.front()->sequence->cached_tokens;
    entry->usage.load_ns = nanoseconds(Clock::now() - entry->job.arrived);
    entry->channel->push(StreamStarted{entry->usage.prompt_tokens, entry->usage.cached_prompt_tokens});
    running.push_back(std::move(entry));
    joined = true;
  }
  return joined;
}

void Scheduler::step(std::vector<std::unique_ptr<Running>>& running) {
  StepReport report;
  bool deadline_passed = false;
  {
    std::lock_guard lock(mutex_);
    deadline_passed = cancel_after_ && Clock::now() >= *cancel_after_;
  }
  for (auto& entry : running) {
    if (!deadline_passed && !entry->channel->cancelled()) continue;
    std::vector<GenerationEvent> events;
    for (auto& choice : entry->choices) {
      if (choice->decoder.finished()) continue;
      choice->decoder.finish(FinishReason::Cancelled, events);
      ++report.cancelled_sequences;
    }
    entry->channel->push(std::move(events));
  }

  std::vector<StepSequence*> sequences;
  for (auto& entry : running) {
    for (auto& choice : entry->choices) {
      if (choice->decoder.finished()) continue;
      choice->reading_prompt = choice->sequence->reading_prompt();
      sequences.push_back(choice->sequence.get());
    }
  }
  const auto start = Clock::now();
  std::string failure;
  if (!sequences.empty()) {
    try {
      backend_.step(sequences);
    } catch (const std::exception& error) {
      failure = error.what();
    }
  }
  const auto elapsed = Clock::now() - start;
  report.seconds = std::chrono::duration<double>(elapsed).count();

  for (auto& entry : running) {
    if (!failure.empty()) {
      entry->channel->fail(server_error("generation failed: " + failure));
      for (auto& choice : entry->choices) {
        std::vector<GenerationEvent> ignored;
        choice->decoder.finish(FinishReason::Cancelled, ignored);
      }
      continue;
    }
    std::vector<GenerationEvent> events;
    bool read_prompt = false;
    for (auto& choice : entry->choices) {
      if (choice->decoder.finished()) continue;
      StepSequence& sequence = *choice->sequence;
      // A step that ended the prompt also produced the first token; it counts as prefill.
      if (choice->reading_prompt) {
        read_prompt = true;
        report.prompt_tokens += sequence.last_step_tokens;
      }
      if (sequence.next_token) {
        ++report.generated_tokens;
        const StepLogprob* logprob = sequence.next_logprob ? &*sequence.next_logprob : nullptr;
        choice->decoder.push(*sequence.next_token, logprob, events);
        if (choice->decoder.finished()) backend_.finished(sequence);
      }
    }
    (read_prompt ? entry->usage.prefill_ns : entry->usage.decode_ns) += nanoseconds(elapsed);
    entry->channel->push(std::move(events));
  }

  // Requests whose choices all finished leave between steps.
  for (auto it = running.begin(); it != running.end();) {
    Running& entry = **it;
    if (!failure.empty() || entry.finished()) {
      if (failure.empty()) {
        for (const auto& choice : entry.choices) {
          entry.usage.completion_tokens += choice->decoder.tokens();
          entry.usage.reasoning_tokens += choice->decoder.reasoning_tokens();
        }
        entry.usage.total_ns = nanoseconds(Clock::now() - entry.job.arrived);
        entry.channel->push(StreamFinished{entry.usage});
      }
      {
        std::lock_guard lock(mutex_);
        running_sequences_ -= entry.job.request.n;
      }
      it = running.erase(it);
    } else {
      ++it;
    }
  }
  if (on_step_) on_step_(report);
}

}  // namespace lightseek::server
