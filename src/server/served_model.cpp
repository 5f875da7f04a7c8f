#include "server/served_model.h"

#include <system_error>

#include "server/model_step_backend.h"
#include "server/scripted_backend.h"

namespace lightseek::server {

std::unique_ptr<StepBackend> make_step_backend(LoadedTextModel& model, const BackendChoice& choice) {
  if (!choice.scripted_file.empty()) {
    return std::make_unique<ScriptedStepBackend>(load_scripted_completions(choice.scripted_file), *model.tokenizer,
                                                 model.eos_id, choice.scripted_step_interval);
  }
  return std::make_unique<ModelStepBackend>(*model.transformer, *model.tokenizer, model.eos_id, choice.prefill_chunk,
                                            choice.prefix_cache);
}

ServedModel served_model(const LoadedTextModel& model, std::string name, int64_t context_tokens) {
  ServedModel served;
  served.tokenizer = model.tokenizer.get();
  served.eos_id = model.eos_id;
  ModelFacts& facts = served.facts;
  if (name.empty()) {
    name = model.builtin ? "lightseek-builtin" : model.directory.filename().string();
    if (name.empty()) name = model.directory.parent_path().filename().string();  // "dir/" spelled with a slash
  }
  facts.name = name;
  facts.size_bytes = static_cast<int64_t>(model.checkpoint.total_bytes());
  facts.context_length = context_tokens;
  facts.quantization = "FP4+FP8";
  std::error_code error;
  const auto written = std::filesystem::last_write_time(model.directory / "config.json", error);
  if (!error) {
    facts.modified =
        std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(written));
  }
  return served;
}

}  // namespace lightseek::server
