// Which arithmetic the forward pass reproduces.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lightseek {

enum class Numerics {
  // float32 on exactly dequantised weights, no quantisation round trips (the HF reference).
  Exact,
  // DeepSeek's official numerics: FP8 round trip of the KV, Hadamard + FP4 round trip of the
  // indexer's queries and keys (spec §9.4), and, unless disabled, FP8 quantisation of the
  // activations entering FP8/FP4 linears (spec §9.3). Everything else float32.
  Reference,
  // Speed first (the default for generation): Exact's model with the SIMD kernels on the native
  // weights, float32 accumulation and FP4 products on int16 activations with per-32 scales.
  // Measured against Exact by `verify --numerics fast` (top-1 agreement, mean KL).
  Fast,
};

struct NumericsOptions {
  Numerics mode = Numerics::Exact;
  bool activation_quant = true;  // Reference mode only
  // Exact and Fast: adopt the official KV round trips of spec §9.4 (FP8 for the raw and
  // compressed KV, Hadamard + FP4 for the indexer's queries and keys), so that the compressed KV
  // and the index keys are stored as codes, ~3× smaller, without further loss. Reference always
  // does this.
  bool kv_fp8 = false;

  bool kv_roundtrip() const { return mode == Numerics::Reference || kv_fp8; }
  bool fast_kernels() const { return mode == Numerics::Fast; }
  bool quantize_activations() const { return mode == Numerics::Reference && activation_quant; }
};

std::optional<Numerics> parse_numerics(std::string_view name);

// The setting as the command line spells it ("fast", "fast --kv-cache fp8",
// "reference --no-act-quant"): distinct for every setting that changes the computation.
std::string numerics_label(const NumericsOptions& numerics);

}  // namespace lightseek
