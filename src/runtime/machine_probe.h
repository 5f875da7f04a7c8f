// What this machine can do at best, so that `lightseek bench` can say how close decoding comes
// to it: decode is bound by reading weights, so the memory read bandwidth is its roofline, and
// the FMA throughput bounds prefill. Both probes run on kernel_pool(), the pool the model uses.
#pragma once

#include <cstddef>
#include <string_view>

namespace lightseek {

// Best of several passes of `threads` threads summing one buffer, in GB/s (1e9 bytes): two
// passes of each of eight access patterns (1, 2 or 4 parts of each thread's slice side by side,
// prefetched 1–8 KiB ahead). The buffer is `buffer_bytes` (0: 1 GiB, less when available memory
// is short), allocated and touched once, so page faults are not measured. The 16 passes over
// 1 GiB take ~0.4 s at 40 GB/s and ~2 s at 8.
double measure_read_bandwidth_gbps(int threads, size_t buffer_bytes = 0);

// FP32 FMA throughput of `threads` threads in GFLOP/s (an FMA counts as two), with the widest
// vector ISA this CPU supports (see peak_flops_isa()). Takes about half a second.
double measure_peak_gflops(int threads);

// The ISA measure_peak_gflops uses here: "avx512f", "avx2+fma" or "scalar".
std::string_view peak_flops_isa();

}  // namespace lightseek
