#include "runtime/synthetic_checkpoint_cache.h"

#include "core/dtype.h"
#include "core/error.h"
#include "formats/synthetic_model.h"
#include "formats/tensor_inventory.h"
#include "runtime/builtin_model.h"
#include "runtime/generated_directory.h"

namespace lightseek {

namespace {

uint64_t stored_bytes(const ModelConfig& config, WeightPrecision precision) {
  uint64_t total = 0;
  for (const StoredTensor& tensor : stored_layout(config, precision)) {
    uint64_t count = 1;
    for (int64_t extent : tensor.shape) count *= static_cast<uint64_t>(extent);
    total += count * dtype_size(tensor.dtype);
  }
  return total;
}

}  // namespace

std::filesystem::path ensure_synthetic_flash_slice(int layers, int experts, const SyntheticCheckpointProgress& progress) {
  const ModelConfig config = flash_slice_config(layers, experts, /*with_mtp=*/false);  // validates the sizes
  const std::string name = "flash-slice-L" + std::to_string(layers) + "-E" + std::to_string(experts);
  const auto parent = cache_directory() / "synthetic";
  const auto dir = parent / name;
  return generate_directory_once(
      dir,
      [&](const std::filesystem::path& scratch) {
        SyntheticModelOptions options;
        options.precision = WeightPrecision::Native;
        options.progress = progress.bytes;
        const uint64_t needed = stored_bytes(config, options.precision);
        // Checked under the lock, only when this run generates: a finished slice needs no space.
        std::error_code error;
        const auto space = std::filesystem::space(parent, error);
        // A little headroom: the disk should not be left completely full.
        if (!error && space.available < needed + (uint64_t{256} << 20)) {
          fail(dir.string(), ": the synthetic checkpoint needs ", needed / 1e9, " GB but only ",
               space.available / 1e9, " GB are free (set LIGHTSEEK_CACHE to another disk, or use fewer --layers/--experts)");
        }
        if (progress.status) {
          progress.status(str_cat("generating a synthetic V4-Flash slice (", layers, " layers, ", experts,
                                  " experts, ", needed / 1e9, " GB) in ", dir.string(), " (once)"));
        }
        write_synthetic_model(scratch, config, options);
      },
      [&] {
        if (progress.status) progress.status("waiting for another run that is generating " + dir.string());
      });
}

}  // namespace lightseek
