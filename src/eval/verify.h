// Runs the cases of an expectation file (the v4-oracle fixture format) through the model the
// way they were recorded (full sequence, prefill then one-token decode, or chunked prefill)
// and compares logits and MTP logits with the stored reference.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "model/numerics.h"

namespace lightseek {

struct VerifyOptions {
  NumericsOptions numerics;
  double atol = 1e-4;
  // Fast numerics are judged by the distributions, not the logits: a case passes when the
  // top-1 token agrees on at least min_top1 of the rows and the mean KL(expected ‖ actual) is
  // at most max_mean_kl. Off (negative) by default: every logit within atol.
  double min_top1 = -1.0;
  double max_mean_kl = -1.0;
  std::vector<std::string> only_cases;  // empty: every case
};

// The judgement `verify` applies to `numerics`: every logit within atol, or for fast numerics
// by distribution, top-1 ≥ 99% and mean KL ≤ 1e-3 per case. Fast with kv_fp8 (against the
// expectations of the official KV round trips) by the mean KL only: float32 sums in another
// order move a few values across an FP8/FP4 rounding boundary, and in a case of 37 rows one
// flipped near-tie is already 2.7% of the top-1 agreement.
VerifyOptions verify_options_for(const NumericsOptions& numerics);

struct Comparison {
  std::string what;       // "logits", "mtp_logits", "mtp_logits_zero_pos0"
  int64_t rows = 0;
  double max_abs = 0.0;
  double mean_abs = 0.0;
  int64_t argmax_agree = 0;
  double mean_kl = 0.0;  // mean over rows of KL(softmax(expected) ‖ softmax(actual)), in nats
  bool passed = false;
};

struct CaseResult {
  std::string name;
  int64_t tokens = 0;
  std::vector<int64_t> chunks;  // empty for a full-sequence case
  std::vector<Comparison> comparisons;
  bool passed() const;
};

// `expected_file` is e.g. DIR/expected.safetensors; case names and chunking come from the
// expected.json beside it when present (otherwise every "<case>.input_ids" is a full case).
// `report` is called after each case. Throws Error for malformed expectation files.
std::vector<CaseResult> verify_expectations(const std::filesystem::path& model_dir,
                                            const std::filesystem::path& expected_file, const VerifyOptions& options,
                                            const std::function<void(const CaseResult&)>& report = {});

std::string format_case_header();
std::string format_case_result(const CaseResult& result);

}  // namespace lightseek
