#include "runtime/state_bytes.h"

namespace lightseek {

uint64_t sequence_state_bytes(const SequenceState& state) {
  uint64_t bytes = 0;
  for (const AttentionState& layer : state.layers) {
    bytes += layer.ring.size() * sizeof(float) + layer.entries.bytes() + layer.index_keys.bytes();
    for (const CompressorState* compressor : {&layer.compressor, &layer.index_compressor}) {
      bytes += (compressor->u.size() + compressor->z.size()) * sizeof(float);
    }
  }
  return bytes;
}

}  // namespace lightseek
