// Which SIMD instruction sets the kernels may use on this CPU, detected at run time so that one
// binary runs everywhere and uses what the machine has.
#pragma once

#include <string_view>
#include <vector>

namespace lightseek {

enum class Isa {
  Scalar,
  Avx2,    // AVX2 + FMA + F16C
  Avx512,      // AVX-512 F/BW/VL/DQ + VNNI
  Avx512Bf16,  // Avx512 plus AVX512-BF16 and AVX512-VBMI (Zen 4 and later, Sapphire Rapids and later)
  Amx,         // Avx512Bf16 plus AMX-TILE/AMX-BF16 (granted by the OS) for prefill
};

std::string_view isa_name(Isa isa);

// The best ISA this CPU supports, unless LIGHTSEEK_ISA asks for a lower one (scalar | avx2 |
// avx512 | avx512bf16 | amx); asking for one the CPU lacks is an error.
Isa active_isa();
bool cpu_supports(Isa isa);
// Every ISA this CPU supports, lowest first (tests run each against the scalar reference).
std::vector<Isa> supported_isas();

}  // namespace lightseek
