// A model ready to generate text: config, mapped checkpoint, bound weights, the forward pass
// and the tokenizer, loaded from a directory (or the built-in model).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "formats/checkpoint.h"
#include "formats/model_binding.h"
#include "model/transformer.h"
#include "text/tokenizer.h"

namespace lightseek {

struct LoadedTextModel {
  std::filesystem::path directory;
  bool builtin = false;
  ModelConfig config;
  Checkpoint checkpoint;
  ModelWeights weights;
  std::unique_ptr<Transformer> transformer;
  std::unique_ptr<Tokenizer> tokenizer;
  int32_t eos_id = 1;
};

// `model_dir` empty: the built-in model (generated on first use). `tokenizer_file` empty:
// DIR/tokenizer.json. Checks that every token id the tokenizer can produce fits the model's
// vocabulary. Throws Error naming what is missing or inconsistent.
std::unique_ptr<LoadedTextModel> load_text_model(const std::filesystem::path& model_dir,
                                                 const std::filesystem::path& tokenizer_file,
                                                 NumericsOptions numerics,
                                                 const std::function<void(const std::string&)>& status = {});

}  // namespace lightseek
