// Synthetic V4 checkpoints in the official layout and dtypes, with deterministic random
// weights, for tests and benchmarks of any geometry (gen-model).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "formats/model_config.h"
#include "formats/tensor_inventory.h"

namespace lightseek {

struct SyntheticModelOptions {
  WeightPrecision precision = WeightPrecision::Native;
  uint64_t seed = 1234;
  // Split into model-0000k-of-0000n.safetensors shards of at most this many bytes (plus an
  // index); 0 writes a single model.safetensors.
  uint64_t max_shard_bytes = 0;
  // Called after each tensor with the bytes written so far and the total.
  std::function<void(uint64_t written, uint64_t total)> progress;
};

// Writes DIR/config.json and the weights. The same config, precision and seed always give
// byte-identical files. Throws Error when the directory cannot be written or the config cannot
// be stored in the requested precision (FP4 needs input widths divisible by 32).
void write_synthetic_model(const std::filesystem::path& dir, const ModelConfig& config,
                           const SyntheticModelOptions& options);

// The "tiny" preset: the geometry of the v4-oracle tiny fixtures (hidden 64, 5 layers with
// ratios 0,4,16,4,16 and one MTP block, 8 experts). With real_vocab the vocabulary is
// DeepSeek's 129280 tokens instead of 1280.
ModelConfig tiny_model_config(bool real_vocab);

// V4-Flash dimensions with the first `layers` layers of its schedule, `experts` routed experts
// and the MTP block unless `with_mtp` is false. `vocab` > 0 replaces the 129280-token vocabulary
// (embed, head and tid2eid are 2 GB at the real size; tests use a small one).
ModelConfig flash_slice_config(int layers, int experts, bool with_mtp, int64_t vocab = 0);

}  // namespace lightseek
