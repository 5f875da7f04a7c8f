#include "model/numerics.h"

namespace lightseek {

std::optional<Numerics> parse_numerics(std::string_view name) {
  if (name == "exact") return Numerics::Exact;
  if (name == "reference") return Numerics::Reference;
  if (name == "fast") return Numerics::Fast;
  return std::nullopt;
}

std::string numerics_label(const NumericsOptions& numerics) {
  switch (numerics.mode) {
    case Numerics::Exact: return numerics.kv_fp8 ? "exact --kv-cache fp8" : "exact";
    case Numerics::Fast: return numerics.kv_fp8 ? "fast --kv-cache fp8" : "fast";
    case Numerics::Reference: return numerics.activation_quant ? "reference" : "reference --no-act-quant";
  }
  return "?";
}

}  // namespace lightseek
