#include "runtime/bench_report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace lightseek {

namespace {

constexpr int kStages = static_cast<int>(Stage::Count);

std::string format(const char* pattern, auto... values) {
  char line[512];
  std::snprintf(line, sizeof line, pattern, values...);
  return line;
}

}  // namespace

nlohmann::json bench_report_json(const BenchReport& report) {
  nlohmann::json json;
  json["model"] = report.model;
  json["numerics"] = report.numerics;
  json["threads"] = report.machine.threads;
  json["bandwidth_gbps"] = report.machine.bandwidth_gbps;
  json["peak_gflops"] = report.machine.peak_gflops;
  json["isa"] = report.machine.isa;
  json["load_seconds"] = report.load_seconds;
  json["peak_rss_bytes"] = report.peak_rss_bytes;
  json["bytes_per_token"] = report.bytes_per_token;
  json["synthetic_state"] = report.synthetic_state;
  json["prefill"] = nlohmann::json::array();
  for (const PrefillReport& prefill : report.prefill) {
    json["prefill"].push_back(
        {{"prompt_tokens", prefill.prompt_tokens}, {"tok_s", prefill.tok_s}, {"seconds", prefill.seconds}});
  }
  json["decode"] = nlohmann::json::array();
  for (const DecodeReport& decode : report.decode) {
    nlohmann::json stages = nlohmann::json::object();
    for (int s = 0; s < kStages; ++s) stages[std::string(stage_name(static_cast<Stage>(s)))] = decode.stage_ms[s];
    json["decode"].push_back({{"context", decode.context},
                              {"tokens", decode.tokens},
                              {"tok_s", decode.tok_s},
                              {"ms_per_token", decode.ms_per_token},
                              {"bytes_per_token", decode.bytes_per_token},
                              {"roofline_fraction", decode.roofline_fraction},
                              {"stages", stages}});
  }
  json["skipped_contexts"] = report.skipped_contexts;
  return json;
}

std::string format_bench_report(const BenchReport& report) {
  const MachineReport& machine = report.machine;
  std::string text;
  text += format("model %s, numerics %s, loaded in %.2f s, peak RSS %.2f GB\n", report.model.c_str(),
                 report.numerics.c_str(), report.load_seconds, report.peak_rss_bytes / 1e9);
  text += format("machine: %d thread%s, read bandwidth %.1f GB/s, peak %.1f GFLOP/s (%s)\n", machine.threads,
                 machine.threads == 1 ? "" : "s", machine.bandwidth_gbps, machine.peak_gflops, machine.isa.c_str());
  if (!report.prefill.empty()) {
    text += "\nprefill\n";
    text += format("  %8s  %10s  %9s\n", "prompt", "tok/s", "seconds");
    for (const PrefillReport& prefill : report.prefill) {
      text += format("  %8lld  %10.2f  %9.3f\n", static_cast<long long>(prefill.prompt_tokens), prefill.tok_s,
                     prefill.seconds);
    }
  }
  if (!report.decode.empty()) {
    text += format("\ndecode (%s; %.3f GB of weights per token; stages in ms per token)\n",
                   report.synthetic_state ? "context filled synthetically" : "context from a prefill",
                   report.bytes_per_token / 1e9);
    text += format("  %8s  %9s  %9s  %8s  %8s", "context", "tok/s", "ms/token", "GB/token", "roofline");
    for (int s = 0; s < kStages; ++s) text += format("  %11s", std::string(stage_name(static_cast<Stage>(s))).c_str());
    text += "\n";
    for (const DecodeReport& decode : report.decode) {
      text += format("  %8lld  %9.2f  %9.2f  %8.3f  %7.1f%%", static_cast<long long>(decode.context), decode.tok_s,
                     decode.ms_per_token, decode.bytes_per_token / 1e9, 100.0 * decode.roofline_fraction);
      for (int s = 0; s < kStages; ++s) text += format("  %11.2f", decode.stage_ms[s]);
      text += "\n";
    }
  }
  if (!report.skipped_contexts.empty()) {
    text += "skipped (past the model's maximum position):";
    for (int64_t context : report.skipped_contexts) text += format(" %lld", static_cast<long long>(context));
    text += "\n";
  }
  return text;
}

}  // namespace lightseek
