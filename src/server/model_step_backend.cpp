#include "server/model_step_backend.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace lightseek::server {
namespace {

class ModelSequence : public StepSequence {
 public:
  ModelSequence(Transformer& model, std::span<const int32_t> prompt_tokens, const SamplingParams& sampling)
      : state(model.new_sequence()), prompt(prompt_tokens.begin(), prompt_tokens.end()), sampler(sampling) {
    prompt_size = static_cast<int64_t>(prompt.size());
  }

  SequenceState state;
  std::vector<int32_t> prompt;
  Sampler sampler;
  std::vector<int32_t> generated;  // what the penalties count, as OpenAI defines them
  std::vector<float> logits;
  std::vector<int64_t> checkpoints;  // prompt lengths after which the state is saved, ascending
  std::optional<OutputConstraint> constraint;

  // A prompt chunk ends at the next checkpoint, so the state there can be saved.
  int64_t next_chunk(int64_t most) const {
    int64_t end = std::min(prompt_size, prompt_done + most);
    const auto checkpoint = std::upper_bound(checkpoints.begin(), checkpoints.end(), prompt_done);
    if (checkpoint != checkpoints.end()) end = std::min(end, *checkpoint);
    return end - prompt_done;
  }
  bool at_checkpoint() const { return std::binary_search(checkpoints.begin(), checkpoints.end(), prompt_done); }
};

}  // namespace

StepLogprob token_logprobs(std::span<const float> row, int32_t chosen, int top) {
  // Max-subtraction keeps exp() in range; the sum in double keeps 129K small terms accurate.
  float max = -std::numeric_limits<float>::infinity();
  for (float value : row) max = std::max(max, value);
  double sum = 0.0;
  for (float value : row) sum += std::exp(static_cast<double>(value) - max);
  const double log_norm = static_cast<double>(max) + std::log(sum);
  StepLogprob out;
  out.logprob = static_cast<double>(row[chosen]) - log_norm;
  const auto count = static_cast<std::size_t>(std::clamp<int64_t>(top, 0, static_cast<int64_t>(row.size())));
  if (count == 0) return out;
  // Only the top few of the whole vocabulary are wanted, so a partial sort, not a full one.
  std::vector<int32_t> ids(row.size());
  std::iota(ids.begin(), ids.end(), 0);
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(count), ids.end(),
                    [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
  out.top.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    out.top.emplace_back(ids[i], static_cast<double>(row[ids[i]]) - log_norm);
  }
  return out;
}

ModelStepBackend::ModelStepBackend(Transformer& model, const Tokenizer& tokenizer, int32_t eos_id,
                                   int64_t prefill_chunk, PrefixCache* cache)
    : model_(model),
      prefill_chunk_(std::max<int64_t>(1, prefill_chunk)),
      cache_(cache),
      checkpoint_markers_{tokenizer.token_id("<｜Assistant｜>"), tokenizer.token_id("<｜User｜>")},
      eos_id_(eos_id),
      end_of_thinking_id_(tokenizer.token_id("</think>")),
      constraint_vocabulary_(tokenizer) {
  for (int32_t id = 0; id < static_cast<int32_t>(model.config().vocab_size); ++id) {
    if (!tokenizer.has_token(id)) unusable_ids_.push_back(id);
  }
}

std::unique_ptr<StepSequence> ModelStepBackend::start(std::span<const int32_t> prompt, const SamplingParams& sampling,
                                                      const SequenceRules& rules) {
  auto sequence = std::make_unique<ModelSequence>(model_, prompt, sampling);
  sequence->constraint = constraint_vocabulary_.constraint(rules.output_grammar, rules.tool_grammar, eos_id_,
                                                           rules.starts_in_reasoning ? end_of_thinking_id_ : std::nullopt);
  if (!cache_) return sequence;
  sequence->checkpoints = prefix_checkpoints(prompt, checkpoint_markers_);
  if (std::optional<CachedPrefix> hit = cache_->lookup(prompt, sequence->prompt_size)) {
    sequence->state = std::move(hit->state);
    sequence->prompt_done = hit->length;
    sequence->cached_tokens = hit->length;
    // A whole prompt from the cache: its last token's logits come with it and the first step
    // samples from them without running the model.
    if (hit->length == sequence->prompt_size) sequence->logits = std::move(hit->last_logits);
  }
  return sequence;
}

void ModelStepBackend::finished(StepSequence& base) {
  auto& sequence = static_cast<ModelSequence&>(base);
  if (!cache_ || sequence.generated.empty()) return;
  // The last generated token was sampled but never run through the model: the state holds
  // the prompt and every generated token before it.
  std::vector<int32_t> tokens = sequence.prompt;
  tokens.insert(tokens.end(), sequence.generated.begin(), sequence.generated.end() - 1);
  const int64_t vocab = model_.config().vocab_size;
  if (sequence.state.length != static_cast<int64_t>(tokens.size()) ||
      static_cast<int64_t>(sequence.logits.size()) < vocab) {
    return;
  }
  cache_->insert(tokens, sequence.state, std::span<const float>(sequence.logits).last(static_cast<size_t>(vocab)));
}

PrefixCacheStats ModelStepBackend::cache_stats() const { return cache_ ? cache_->stats() : PrefixCacheStats{}; }

void ModelStepBackend::step(std::span<StepSequence* const> sequences) {
  std::vector<SequenceInput> batch;
  batch.reserve(sequences.size());
  for (StepSequence* base : sequences) {
    auto& sequence = static_cast<ModelSequence&>(*base);
    sequence.last_step_tokens = 0;
    SequenceInput input;
    input.state = &sequence.state;
    input.logits = &sequence.logits;
    input.last_logits_only = true;
    if (sequence.reading_prompt()) {
      const int64_t count = sequence.next_chunk(prefill_chunk_);
      input.tokens = std::span<const int32_t>(sequence.prompt).subspan(sequence.prompt_done, count);
    } else if (!sequence.generated.empty()) {
      input.tokens = std::span<const int32_t>(&sequence.generated.back(), 1);
    } else {
      continue;  // the whole prompt came from the cache with its logits
    }
    sequence.last_step_tokens = static_cast<int64_t>(input.tokens.size());
    batch.push_back(input);
  }
  if (!batch.empty()) model_.forward(batch);

  const int64_t vocab = model_.config().vocab_size;
  for (StepSequence* base : sequences) {
    auto& sequence = static_cast<ModelSequence&>(*base);
    sequence.next_token.reset();
    sequence.next_logprob.reset();
    if (sequence.reading_prompt()) {
      sequence.prompt_done += sequence.last_step_tokens;
      if (cache_ && sequence.at_checkpoint()) {
        cache_->insert(std::span<const int32_t>(sequence.prompt).first(static_cast<size_t>(sequence.prompt_done)),
                       sequence.state, std::span<const float>(sequence.logits).last(static_cast<size_t>(vocab)));
      }
      if (sequence.reading_prompt()) continue;
    }
    std::span<float> row(sequence.logits.data() + sequence.logits.size() - vocab, vocab);
    for (int32_t id : unusable_ids_) row[id] = -std::numeric_limits<float>::infinity();
    // OpenAI reports the model's own distribution, not the sampling transforms, so logprobs
    // come from the row at temperature 1 (no penalties, top-k or top-p, no structured-output
    // mask), with only the ids the tokenizer cannot produce masked out.
    std::vector<float> unconstrained;
    if (sequence.constraint) {
      if (sequence.logprobs_top >= 0) unconstrained.assign(row.begin(), row.end());
      sequence.constraint->mask(row);
    }
    const int32_t token = sequence.sampler.sample(row, sequence.generated);
    if (sequence.constraint) sequence.constraint->accept(token);
    if (sequence.logprobs_top >= 0) {
      sequence.next_logprob = token_logprobs(unconstrained.empty() ? std::span<const float>(row) : std::span<const float>(unconstrained), token,
                                             sequence.logprobs_top);
    }
    sequence.generated.push_back(token);
    sequence.next_token = token;
  }
}

}  // namespace lightseek::server
