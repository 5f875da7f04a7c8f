// How `lightseek bench` shows its results: one JSON object for scripts, or a table for people.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "runtime/benchmark.h"

namespace lightseek {

// Keys: model, numerics, threads, bandwidth_gbps, peak_gflops, isa, load_seconds,
// peak_rss_bytes, bytes_per_token, synthetic_state, prefill [{prompt_tokens, tok_s, seconds}],
// decode [{context, tokens, tok_s, ms_per_token, bytes_per_token, roofline_fraction,
// stages {projections, indexer, attention, experts, head} in ms per token}], skipped_contexts.
nlohmann::json bench_report_json(const BenchReport& report);

// A machine line, a prefill table and a decode table (context | tok/s | ms/token | GB/token |
// roofline % | ms per token of each stage), ending with a newline.
std::string format_bench_report(const BenchReport& report);

}  // namespace lightseek
