#include "runtime/state_bytes.h"

namespace lightseek {

uint64_t sequence_state_bytes(const SequenceState& state) {
  uint64_t floats = 0;
  for (const AttentionState& layer : state.layers) {
    floats += layer.ring.size() + layer.entries.size() + layer.index_keys.size();
    for (const CompressorState* compressor : {&layer.compressor, &layer.index_compressor}) {
      floats += compressor->u.size() + compressor->z.size();
    }
  }
  return floats * sizeof(float);
}

}  // namespace lightseek
