#include "kernels/cpu_features.h"

#include <cstdlib>
#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <string>

#include "core/error.h"

namespace lightseek {

#if defined(__x86_64__)
namespace {
// AMX-TILE, AMX-BF16 and AVX512-BF16 in CPUID, and Linux's permission to use tile data.
bool amx_granted() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  if (!(edx & (1u << 22)) || !(edx & (1u << 24))) return false;
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) || !(eax & (1u << 5))) return false;
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureTileData = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureTileData) == 0;
}
}  // namespace
#endif

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Amx: return "amx";
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
    case Isa::Amx: {
      static const bool amx = cpu_supports(Isa::Avx512) && amx_granted();
      return amx;
    }
  }
  return false;
#else
  return isa == Isa::Scalar;
#endif
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Amx}) {
    if (cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

namespace {
Isa detect() {
  Isa best = supported_isas().back();
  const char* requested = std::getenv("LIGHTSEEK_ISA");
  if (requested == nullptr || *requested == '\0') return best;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Amx}) {
    if (isa_name(isa) == requested) {
      if (!cpu_supports(isa)) fail("LIGHTSEEK_ISA=", requested, ": this CPU does not support it");
      return isa;
    }
  }
  fail("LIGHTSEEK_ISA must be scalar, avx2, avx512 or amx, got '", requested, "'");
}
}  // namespace

Isa active_isa() {
  static const Isa isa = detect();
  return isa;
}

}  // namespace lightseek
