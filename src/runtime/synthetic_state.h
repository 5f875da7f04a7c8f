// A sequence state that looks as if `length` tokens had been processed, without running them:
// decode speed at a 64K context is measured without a 64K-token prefill first. The values are
// random; only the shapes, counts and magnitudes are realistic, so the logits mean nothing.
#pragma once

#include <cstdint>

#include "formats/model_config.h"
#include "model/sequence_state.h"

namespace lightseek {

// `state` must be fresh (Transformer::new_sequence()). Sets its length and fills, per layer, the
// ring (every slot once length reaches the window), the compressed entries and the indexer keys
// (length / ratio of each), and the compressors' pending windows as the compressor leaves them
// after `length` tokens (spec §11.1), with N(0, 1)-like values, the scale of normalised keys.
// Throws Error when length is negative or leaves no room for a next position.
void fill_synthetic_state(SequenceState& state, const ModelConfig& config, int64_t length, uint64_t seed);

}  // namespace lightseek
