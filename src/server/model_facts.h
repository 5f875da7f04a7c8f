// The facts about a served model that listing endpoints report (OpenAI /v1/models, Ollama
// /api/tags, /api/show, /api/ps). The server gathers them once from the checkpoint.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace lightseek::server {

struct ModelFacts {
  std::string name;              // as clients address it, e.g. "deepseek-v4-flash"
  int64_t size_bytes = 0;        // weights on disk
  int64_t parameter_count = 0;
  int64_t context_length = 0;    // tokens the server gives one sequence
  std::string quantization;      // e.g. "FP4+FP8"
  std::string format = "safetensors";
  std::string family = "deepseek_v4";
  std::string digest;            // hex digest identifying the weights; may be empty
  std::chrono::system_clock::time_point modified;  // when the checkpoint was written
  bool supports_thinking = true;
  bool supports_tools = true;
};

}  // namespace lightseek::server
