// Flags shared by `run` and `chat`: which model, how to sample, how to stop, and the printing of
// streamed output.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/numerics_flags.h"
#include "runtime/generator.h"
#include "runtime/loaded_model.h"
#include "text/chat_encoder.h"

namespace CLI {
class App;
}

namespace lightseek::cli {

struct GenerationFlags {
  std::string model_dir;  // empty: the built-in model
  std::string tokenizer_file;
  NumericsFlags numerics;
  int threads = 0;  // 0: every CPU this process may use
  std::string system;
  bool thinking = false;
  std::string effort = "default";
  float temperature = 1.0f;
  int32_t top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::vector<std::string> logit_bias;  // "ID=BIAS"
  int64_t seed = -1;                    // -1: from the clock
  bool gumbel = false;
  int64_t max_tokens = 256;
  std::vector<std::string> stop;
  std::string json_schema_file;  // structured output: the answer is JSON matching this schema
  bool json = false;             // structured output: the answer is some JSON object
};

void add_generation_flags(CLI::App* command, GenerationFlags& flags);

// Loads the model (printing the built-in model's banner on stderr).
std::unique_ptr<LoadedTextModel> load_model_for_text(const GenerationFlags& flags);
GenerationSettings generation_settings(const GenerationFlags& flags, const LoadedTextModel& model);
EncodeOptions encode_options(const GenerationFlags& flags);

// Prints streamed deltas: reasoning dimmed (on a terminal) or under a "thinking:" label,
// content after an "answer:" label when reasoning came first, tool calls as JSON lines.
class DeltaPrinter {
 public:
  void print(const ParsedDelta& delta);
  void end();  // finishes the line

 private:
  enum class Section { None, Reasoning, Content };
  Section section_ = Section::None;
  bool tty_ = false;
  bool started_ = false;
};

// "prompt 25 tokens (0 reused), prefill 812.3 tok/s | generated 64 tokens, decode 45.1 tok/s | stop: max tokens"
std::string summary_line(int64_t prompt_tokens, const PrefillStats& prefill, const GenerationResult& generation);

}  // namespace lightseek::cli
