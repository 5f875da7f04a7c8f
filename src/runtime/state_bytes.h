// What a sequence state actually occupies, counted from its buffers rather than estimated from
// the config (memory_estimate.h): `lightseek bench` reports it next to the estimate, so a change
// in how the state stores KV shows up as a measured number.
#pragma once

#include <cstdint>

#include "model/sequence_state.h"

namespace lightseek {

// Bytes of every layer's ring, compressed entries and indexer keys (float32, or FP8/FP4 codes
// under the reference numerics) and the (u, z) pending windows of both compressors: sizes, not
// capacities, so the result depends on the tokens held and not on how the vectors grew.
uint64_t sequence_state_bytes(const SequenceState& state);

}  // namespace lightseek
