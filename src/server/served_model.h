// Putting a loaded model behind the server: the step backend that produces its tokens (the
// model itself, or the scripted completions of `serve --scripted`) and the facts the listing
// endpoints report.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "runtime/loaded_model.h"
#include "server/http_server.h"
#include "server/step_backend.h"

namespace lightseek::server {

struct BackendChoice {
  std::filesystem::path scripted_file;  // empty: sample the model
  std::chrono::milliseconds scripted_step_interval{0};
  int64_t prefill_chunk = 512;
  PrefixCache* prefix_cache = nullptr;  // the model backend's; must outlive it
};

// Throws lightseek::Error for a bad scripted file (see load_scripted_completions).
std::unique_ptr<StepBackend> make_step_backend(LoadedTextModel& model, const BackendChoice& choice);

// `name` empty: "lightseek-builtin" for the built-in model, else the directory's name.
ServedModel served_model(const LoadedTextModel& model, std::string name, int64_t context_tokens);

}  // namespace lightseek::server
