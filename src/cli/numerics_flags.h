// The flags that choose the arithmetic (--numerics, --kv-cache, --no-act-quant), shared by every
// command that runs the model, and their checked translation into NumericsOptions.
#pragma once

#include <string>

#include "model/numerics.h"

namespace CLI {
class App;
}

namespace lightseek::cli {

struct NumericsFlags {
  std::string numerics = "fast";
  std::string kv_cache;  // empty: f32 under exact and fast, fp8 under reference
  bool no_act_quant = false;
};

// For the commands that check the model rather than run it (verify, logits).
inline NumericsFlags exact_by_default() {
  NumericsFlags flags;
  flags.numerics = "exact";
  return flags;
}

// --numerics and --kv-cache; --no-act-quant too where the command offers it.
void add_numerics_flags(CLI::App* command, NumericsFlags& flags, bool with_act_quant_flag);

// Throws Error naming the flag for unknown values and contradictions.
NumericsOptions numerics_options(const NumericsFlags& flags);

}  // namespace lightseek::cli
