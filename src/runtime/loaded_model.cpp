#include "runtime/loaded_model.h"

#include "core/error.h"
#include "runtime/builtin_model.h"
#include "runtime/weight_residency.h"

namespace lightseek {

std::unique_ptr<LoadedTextModel> load_text_model(const std::filesystem::path& model_dir,
                                                 const std::filesystem::path& tokenizer_file,
                                                 NumericsOptions numerics,
                                                 const std::function<void(const std::string&)>& status) {
  auto model = std::make_unique<LoadedTextModel>();
  model->builtin = model_dir.empty();
  model->directory = model->builtin ? ensure_builtin_model(status) : model_dir;
  model->config = load_model_config(model->directory);
  model->checkpoint = Checkpoint::open(model->directory);
  populate_if_it_fits(model->checkpoint);
  model->weights = bind_model(model->config, model->checkpoint);
  model->transformer = std::make_unique<Transformer>(model->config, model->weights, numerics);
  const auto tokenizer_path = tokenizer_file.empty() ? model->directory / "tokenizer.json" : tokenizer_file;
  if (!std::filesystem::exists(tokenizer_path)) {
    fail(tokenizer_path.string(), ": no tokenizer (pass --tokenizer FILE for a checkpoint without tokenizer.json)");
  }
  model->tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(tokenizer_path));
  if (model->tokenizer->vocab_size() > model->config.vocab_size) {
    fail(tokenizer_path.string(), ": the tokenizer has ids up to ", model->tokenizer->vocab_size() - 1,
         " but the model's vocabulary has ", model->config.vocab_size, " entries");
  }
  model->eos_id = static_cast<int32_t>(model->tokenizer->eos_id().value_or(static_cast<int32_t>(model->config.eos_token_id)));
  return model;
}

}  // namespace lightseek
