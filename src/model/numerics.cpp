#include "model/numerics.h"

namespace lightseek {

std::optional<Numerics> parse_numerics(std::string_view name) {
  if (name == "exact") return Numerics::Exact;
  if (name == "reference") return Numerics::Reference;
  if (name == "fast") return Numerics::Fast;
  return std::nullopt;
}

}  // namespace lightseek
