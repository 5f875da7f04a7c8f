// Which arithmetic the forward pass reproduces.
#pragma once

#include <optional>
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
  // weights, float32 accumulation and FP4 products in int8 with per-32 activation scales.
  // Measured against Exact by `verify --numerics fast` (top-1 agreement, mean KL).
  Fast,
};

struct NumericsOptions {
  Numerics mode = Numerics::Exact;
  bool activation_quant = true;  // Reference mode only

  bool kv_roundtrip() const { return mode == Numerics::Reference; }
  bool fast_kernels() const { return mode == Numerics::Fast; }
  bool quantize_activations() const { return mode == Numerics::Reference && activation_quant; }
};

std::optional<Numerics> parse_numerics(std::string_view name);

}  // namespace lightseek
