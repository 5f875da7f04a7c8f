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

ModelStepBackend::ModelStepBackend(Transformer& model, const Tokenizer& tokenizer, int64_t prefill_chunk)
    : model_(model), prefill_chunk_(std::max<int64_t>(1, prefill_chunk)) {
  for (int32_t id = 0; id < static_cast<int32_t>(model.config().vocab_size); ++id) {
    if (!tokenizer.has_token(id)) unusable_ids_.push_back(id);
  }
}

std::unique_ptr<StepSequence> ModelStepBackend::start(std::span<const int32_t> prompt, const SamplingParams& sampling) {
  return std::make_unique<ModelSequence>(model_, prompt, sampling);
}

void ModelStepBackend::step(std::span<StepSequence* const> sequences) {
  std::vector<SequenceInput> batch;
  batch.reserve(sequences.size());
  for (StepSequence* base : sequences) {
    auto& sequence = static_cast<ModelSequence&>(*base);
    SequenceInput input;
    input.state = &sequence.state;
    input.logits = &sequence.logits;
    input.last_logits_only = true;
    if (sequence.reading_prompt()) {
      const int64_t count = std::min(prefill_chunk_, sequence.prompt_size - sequence.prompt_done);
      input.tokens = std::span<const int32_t>(sequence.prompt).subspan(sequence.prompt_done, count);
    } else {
      input.tokens = std::span<const int32_t>(&sequence.generated.back(), 1);
    }
    batch.push_back(input);
  }
  model_.forward(batch);

  const int64_t vocab = model_.config().vocab_size;
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    auto& sequence = static_cast<ModelSequence&>(*sequences[i]);
    sequence.last_step_tokens = static_cast<int64_t>(batch[i].tokens.size());
    sequence.next_token.reset();
    sequence.next_logprob.reset();
    if (sequence.reading_prompt()) {
      sequence.prompt_done += sequence.last_step_tokens;
      if (sequence.reading_prompt()) continue;
    }
    std::span<float> row(sequence.logits.data() + sequence.logits.size() - vocab, vocab);
    for (int32_t id : unusable_ids_) row[id] = -std::numeric_limits<float>::infinity();
    const int32_t token = sequence.sampler.sample(row, sequence.generated);
    // OpenAI reports the model's own distribution, not the sampling transforms, so this is the
    // row the sampler read at temperature 1 (no penalties, top-k or top-p), with only the ids
    // the tokenizer cannot produce masked out.
    if (sequence.logprobs_top >= 0) sequence.next_logprob = token_logprobs(row, token, sequence.logprobs_top);
    sequence.generated.push_back(token);
    sequence.next_token = token;
  }
}

}  // namespace lightseek::server
