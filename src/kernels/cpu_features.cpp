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
// AMX-TILE and AMX-BF16 in CPUID, and Linux's permission to use tile data.
bool amx_granted() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
  if (!(edx & (1u << 22)) || !(edx & (1u << 24))) return false;
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
    case Isa::Avx512Bf16: return "avx512bf16";
    case Isa::Amx: return "amx";
  }
  return "?";
}

#if defined(__x86_64__)
namespace {
struct X86Features {
  bool avx2 = false, avx512 = false, avx512bf16 = false;
};

// CPUID for the instructions and XGETBV for the operating system saving their registers.
X86Features read_x86_features() {
  X86Features features;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return features;
  const bool fma = ecx & (1u << 12), osxsave = ecx & (1u << 27), avx = ecx & (1u << 28), f16c = ecx & (1u << 29);
  if (!osxsave || !avx) return features;
  unsigned xcr0_low, xcr0_high;
  __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  const bool ymm_state = (xcr0_low & 0x6) == 0x6, zmm_state = (xcr0_low & 0xE6) == 0xE6;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return features;
  const bool avx2 = ebx & (1u << 5), avx512f = ebx & (1u << 16), avx512dq = ebx & (1u << 17);
  const bool avx512bw = ebx & (1u << 30), avx512vl = ebx & (1u << 31), avx512vnni = ecx & (1u << 11);
  features.avx2 = ymm_state && avx2 && fma && f16c;
  features.avx512 = features.avx2 && zmm_state && avx512f && avx512dq && avx512bw && avx512vl && avx512vnni;
  const bool avx512vbmi = ecx & (1u << 1);
  if (!__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) return features;
  const bool avx512bf16 = eax & (1u << 5);
  features.avx512bf16 = features.avx512 && avx512bf16 && avx512vbmi;
  return features;
}
}  // namespace
#endif

bool cpu_supports(Isa isa) {
#if defined(__x86_64__)
  static const X86Features features = read_x86_features();
  switch (isa) {
    case Isa::Scalar: return true;
    case Isa::Avx2: return features.avx2;
    case Isa::Avx512: return features.avx512;
    case Isa::Avx512Bf16: return features.avx512bf16;
    case Isa::Amx: {
      static const bool amx = features.avx512bf16 && amx_granted();
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
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16, Isa::Amx}) {
    if (cpu_supports(isa)) isas.push_back(isa);
  }
  return isas;
}

namespace {
Isa detect() {
  Isa best = supported_isas().back();
  const char* requested = std::getenv("LIGHTSEEK_ISA");
  if (requested == nullptr || *requested == '\0') return best;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Bf16, Isa::Amx}) {
    if (isa_name(isa) == requested) {
      if (!cpu_supports(isa)) fail("LIGHTSEEK_ISA=", requested, ": this CPU does not support it");
      return isa;
    }
  }
  fail("LIGHTSEEK_ISA must be scalar, avx2, avx512, avx512bf16 or amx, got '", requested, "'");
}
}  // namespace

Isa active_isa() {
  static const Isa isa = detect();
  return isa;
}

}  // namespace lightseek
