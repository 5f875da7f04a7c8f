// The FP4 kernels of fast_linear for CPUs with AVX512-VBMI as well (Isa::Avx512Bf16 and up):
// fp4_vnni_rows.h's kernels with vpermb unpacking. Compiled for that ISA level alone.
#include "kernels/fast_linear_kernels.h"

#if defined(__x86_64__) && defined(__AVX512VBMI__)
#include "kernels/fp4_vnni_rows.h"

namespace lightseek::fast_kernels {
RowsKernel avx512_vbmi_fp4_kernel() { return fp4_rows_vnni<true>; }
}  // namespace lightseek::fast_kernels

#else
namespace lightseek::fast_kernels {
RowsKernel avx512_vbmi_fp4_kernel() { return nullptr; }
}  // namespace lightseek::fast_kernels
#endif
