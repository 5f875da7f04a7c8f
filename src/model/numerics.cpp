#include "model/numerics.h"

namespace lightseek {

std::optional<Numerics> parse_numerics(std::string_view name) {
  if (name == "exact") return Numerics::Exact;
  if (name == "reference") return Numerics::Reference;
  return std::nullopt;
}

}  // namespace lightseek
