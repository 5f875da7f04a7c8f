// Loads a fixture model (config, mapped checkpoint, bound weights) for tests.
#pragma once

#include <memory>
#include <string>

#include "formats/checkpoint.h"
#include "formats/model_binding.h"
#include "model/transformer.h"
#include "test_paths.h"

namespace lightseek {

struct LoadedModel {
  ModelConfig config;
  Checkpoint checkpoint;
  ModelWeights weights;
  std::unique_ptr<Transformer> transformer;

  static std::unique_ptr<LoadedModel> open(const std::string& preset, NumericsOptions numerics = {}) {
    auto model = std::make_unique<LoadedModel>();
    const auto dir = oracle_dir(preset);
    model->config = load_model_config(dir);
    model->checkpoint = Checkpoint::open(dir);
    model->weights = bind_model(model->config, model->checkpoint);
    model->transformer = std::make_unique<Transformer>(model->config, model->weights, numerics);
    return model;
  }
};

}  // namespace lightseek
