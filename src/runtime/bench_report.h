// How `lightseek bench` shows its results: one JSON object for scripts, or a table for people.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "runtime/benchmark.h"

namespace lightseek {

// Keys: model, numerics, kv_cache ("f32" or "fp8"), threads, bandwidth_gbps, peak_gflops, isa, load_seconds,
// peak_rss_bytes, bytes_per_token, synthetic_state, prefill [{prompt_tokens, tok_s, seconds}],
// prefill_sweep [{context, tokens, tok_s, seconds}], skipped_prefill_contexts,
// decode [{context, tokens, tok_s, ms_per_token, bytes_per_token, roofline_fraction, state_bytes,
// stages {projections, indexer, attention, experts, head} in ms per token, serial_ms_per_token (null on
// one thread)}], skipped_contexts,
// kv_bytes_per_token_measured (null with fewer than two decode contexts),
// kv_bytes_per_token_estimates {bf16, fp8, fp8+fp4-index}.
nlohmann::json bench_report_json(const BenchReport& report);

// A machine line, a prefill table, a prefill-at-context table, a decode table (context | tok/s |
// ms/token | GB/token | roofline % | state MB | ms per token of each stage), on several threads a
// line of the time per token one thread worked alone, and a line of KV growth per token
// (measured and estimated), ending with a newline.
std::string format_bench_report(const BenchReport& report);

}  // namespace lightseek
