// How many weight bytes one decoded token reads: the numerator of decode's memory roofline.
// Decode of a single sequence reads each weight it uses once per token, so its speed limit is
// memory bandwidth ÷ these bytes.
#pragma once

#include <cstdint>

#include "formats/model_binding.h"
#include "formats/model_config.h"

namespace lightseek {

// Weight bytes (in their stored format, scales included) read for one token of plain decode:
// every non-expert weight of every backbone layer (attention projections, compressor, indexer,
// norms, hyper-connection parameters, router gate and bias, shared expert), num_experts_per_tok
// routed experts per layer, the final hyper-connection head, norm and LM head, and the rows that
// are looked up rather than multiplied: one embedding row and one tid2eid row per hash layer.
// The MTP block is not used by plain decode and is left out.
uint64_t decode_weight_bytes_per_token(const ModelConfig& config, const ModelWeights& weights);

}  // namespace lightseek
