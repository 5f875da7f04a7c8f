#include "kernels/cpu_features.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

namespace lightseek {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

bool cpu_supports(Isa isa) {
#if defined(__x86_64__)
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case Isa::Avx512:
      return cpu_supports(Isa::Avx2) && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vnni");
  }
  return false;
#else
  return isa == Isa::Scalar;
#endif
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

namespace {
Isa detect() {
  Isa best = supported_isas().back();
  const char* requested = std::getenv("LIGHTSEEK_ISA");
  if (requested == nullptr || *requested == '\0') return best;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (isa_name(isa) == requested) {
      if (!cpu_supports(isa)) fail("LIGHTSEEK_ISA=", requested, ": this CPU does not support it");
      return isa;
    }
  }
  fail("LIGHTSEEK_ISA must be scalar, avx2 or avx512, got '", requested, "'");
}
}  // namespace

Isa active_isa() {
  static const Isa isa = detect();
  return isa;
}

}  // namespace lightseek
