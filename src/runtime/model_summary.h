// What `lightseek inspect` reports about a model directory: its config, layer schedule, tensor
// bytes by dtype and module, whether the checkpoint binds, and memory needs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "formats/model_binding.h"
#include "formats/model_config.h"

namespace lightseek {

struct ByteCount {
  uint64_t tensors = 0;
  uint64_t bytes = 0;
};

struct ModelSummary {
  std::string path;
  ModelConfig config;
  size_t shard_count = 0;
  ByteCount all;
  std::map<std::string, ByteCount> by_dtype;   // dtype name -> count
  std::map<std::string, ByteCount> by_module;  // module kind name -> count (bound tensors only)
  BindingReport binding;
};

// Opens the config and checkpoint under `model_dir` and binds them. Throws Error when the config
// or a checkpoint file is malformed; binding problems are reported in the summary instead.
ModelSummary summarize_model(const std::filesystem::path& model_dir);

std::string summary_to_text(const ModelSummary& summary);
nlohmann::json summary_to_json(const ModelSummary& summary);

}  // namespace lightseek
