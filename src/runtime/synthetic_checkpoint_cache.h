// Synthetic V4-Flash slices for `lightseek bench --synthetic flash-slice`, generated once into
// the cache folder and reused: a 4-layer slice with all 256 experts is about 16 GB and takes a
// minute to write.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace lightseek {

struct SyntheticCheckpointProgress {
  std::function<void(const std::string&)> status;             // one-line messages
  std::function<void(uint64_t written, uint64_t total)> bytes;  // while the weights are written
};

// cache_directory()/synthetic/flash-slice-L{layers}-E{experts}: flash_slice_config(layers,
// experts, no MTP) in the release's FP8/FP4 precision. Generated on first use into a scratch
// folder that is renamed into place, so an interrupted run leaves nothing half written. Throws
// Error for invalid sizes, too little disk space, or a folder that cannot be written.
std::filesystem::path ensure_synthetic_flash_slice(int layers, int experts,
                                                   const SyntheticCheckpointProgress& progress = {});

}  // namespace lightseek
