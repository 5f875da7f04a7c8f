#include "runtime/bench_report.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

namespace lightseek {

namespace {

constexpr int kStages = static_cast<int>(Stage::Count);

std::string format(const char* pattern, auto... values) {
  char line[512];
  std::snprintf(line, sizeof line, pattern, values...);
  return line;
}

// Measured state growth beside the estimates for the compact storages: the gap is what storing
// the state in them would save.
std::string kv_growth_line(const BenchReport& report) {
  if (report.kv_bytes_per_token_estimates.empty()) return "";
  std::string line = "KV growth per token: measured ";
  line += report.kv_bytes_per_token_measured ? format("%.1f B (%s)", *report.kv_bytes_per_token_measured,
                                                   report.coded_kv ? "FP8 KV, FP4 index keys" : "float32 state")
                                             : std::string("n/a (needs two decode contexts)");
  line += "; estimated";
  const char* separator = " ";
  for (const auto& [storage, bytes] : report.kv_bytes_per_token_estimates) {
    line += format("%s%.1f B %s", separator, bytes, storage.c_str());
    separator = ", ";
  }
  return line + "\n";
}

// Names every measurement during which pages came from disk: on a machine whose RAM barely
// holds the weights, the page cache can drop some between runs, and such figures say little about
// the engine.
std::string disk_read_warning(const BenchReport& report) {
  std::string parts;
  auto add = [&](const std::string& what, uint64_t faults) {
    if (faults == 0) return;
    parts += format("%s%s (%llu)", parts.empty() ? "" : ", ", what.c_str(), static_cast<unsigned long long>(faults));
  };
  for (const PrefillReport& prefill : report.prefill) {
    add(format("prefill of %lld tokens", static_cast<long long>(prefill.prompt_tokens)), prefill.major_faults);
  }
  for (const PrefillAtContextReport& prefill : report.prefill_sweep) {
    add(format("prefill at context %lld", static_cast<long long>(prefill.context)), prefill.major_faults);
  }
  for (const DecodeReport& decode : report.decode) {
    add(format("decode at context %lld", static_cast<long long>(decode.context)), decode.major_faults);
  }
  if (parts.empty()) return "";
  return "warning: pages were read from disk while timing " + parts +
         ": the weights did not all stay in the page cache, so those figures include disk reads\n";
}

// On a shared machine the bandwidth can change between the probe before the measurements and
// the one after (the Zen 5 VM of session 21 moved from 41.8 to 37.0 GB/s within one sweep). The
// roofline divides by the better probe, so measurements taken at the slower pace read lower:
// say so rather than let the fractions stand alone.
constexpr double kProbeSpreadWarning = 0.9;

std::string bandwidth_change_warning(const MachineReport& machine) {
  const std::vector<double>& probes = machine.bandwidth_probes_gbps;
  if (probes.size() < 2) return "";
  const auto [low, high] = std::minmax_element(probes.begin(), probes.end());
  if (*high <= 0 || *low >= kProbeSpreadWarning * *high) return "";
  return format("warning: the read bandwidth moved between the probes (%.1f and %.1f GB/s): the machine changed "
                "pace during the run; the roofline fractions divide by the better probe, so figures measured at "
                "the slower pace read lower (rerun, or compare runs with --repetitions)\n",
                probes.front(), probes.back());
}

nlohmann::json stages_json(const StageSeconds& seconds) {
  nlohmann::json json = nlohmann::json::object();
  for (int s = 0; s < kStages; ++s) json[std::string(stage_name(static_cast<Stage>(s)))] = seconds[static_cast<size_t>(s)];
  return json;
}

// The stages, then "other": the rest of the time (hyper-connections, norms, embedding, routing
// outside the experts' products). Shown because a large rest is work no stage names, as the
// page-faulted activations of session 15 were.
std::string stage_headers() {
  std::string text;
  for (int s = 0; s < kStages; ++s) text += format("  %11s", std::string(stage_name(static_cast<Stage>(s))).c_str());
  return text + format("  %11s\n", "other");
}

// `values` by stage and what `total` leaves beyond them, to `decimals` places.
template <typename Values>
std::string stage_cells(const Values& values, double total, int decimals) {
  std::string text;
  double staged = 0.0;
  for (int s = 0; s < kStages; ++s) {
    text += format("  %11.*f", decimals, values[static_cast<size_t>(s)]);
    staged += values[static_cast<size_t>(s)];
  }
  return text + format("  %11.*f\n", decimals, std::max(0.0, total - staged));
}

// With several runs, the range of their tok/s beside the median's: "11.90-14.02".
std::string range_header(const BenchReport& report) {
  return report.repetitions > 1 ? format("  %17s", "tok/s range") : "";
}

std::string range_cell(const BenchReport& report, const std::vector<double>& run_tok_s) {
  if (report.repetitions < 2) return "";
  if (run_tok_s.empty()) return format("  %17s", "");
  const auto [low, high] = std::minmax_element(run_tok_s.begin(), run_tok_s.end());
  return format("  %17s", format("%.2f-%.2f", *low, *high).c_str());
}

// A figure that may be absent, as JSON: null when it is.
nlohmann::json number_or_null(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

// With several threads, each context's time per token outside the parallel regions.
std::string serial_line(const std::vector<DecodeReport>& decodes) {
  std::string cells;
  for (const DecodeReport& decode : decodes) {
    if (!decode.serial_ms_per_token) continue;
    cells += format("%s %lld: %.2f ms (%.1f%%)", cells.empty() ? "" : ",", static_cast<long long>(decode.context),
                    *decode.serial_ms_per_token, 100.0 * *decode.serial_ms_per_token / decode.ms_per_token);
  }
  return cells.empty() ? "" : "one thread alone per token (outside the parallel regions) at context" + cells + "\n";
}

// "; median of 3 runs" in a table's title.
std::string runs_note(const BenchReport& report) {
  return report.repetitions > 1 ? format("; median of %d runs", report.repetitions) : "";
}

}  // namespace

nlohmann::json bench_report_json(const BenchReport& report) {
  nlohmann::json json;
  json["model"] = report.model;
  json["numerics"] = report.numerics;
  json["repetitions"] = report.repetitions;
  json["kv_cache"] = report.coded_kv ? "fp8" : "f32";
  json["threads"] = report.machine.threads;
  json["bandwidth_gbps"] = report.machine.bandwidth_gbps;
  json["bandwidth_probes_gbps"] = report.machine.bandwidth_probes_gbps;
  json["peak_gflops"] = report.machine.peak_gflops;
  json["isa"] = report.machine.isa;
  json["load_seconds"] = report.load_seconds;
  json["weights_populated"] = report.weights_populated;
  json["populate_seconds"] = report.populate_seconds;
  json["peak_rss_bytes"] = report.peak_rss_bytes;
  json["bytes_per_token"] = report.bytes_per_token;
  json["synthetic_state"] = report.synthetic_state;
  json["prefill"] = nlohmann::json::array();
  for (const PrefillReport& prefill : report.prefill) {
    json["prefill"].push_back({{"prompt_tokens", prefill.prompt_tokens},
                               {"tok_s", prefill.tok_s},
                               {"runs_tok_s", prefill.run_tok_s},
                               {"seconds", prefill.seconds},
                               {"major_faults", prefill.major_faults},
                               {"stage_seconds", stages_json(prefill.stage_seconds)}});
  }
  json["prefill_sweep"] = nlohmann::json::array();
  for (const PrefillAtContextReport& prefill : report.prefill_sweep) {
    json["prefill_sweep"].push_back({{"context", prefill.context},
                                     {"tokens", prefill.tokens},
                                     {"tok_s", prefill.tok_s},
                                     {"runs_tok_s", prefill.run_tok_s},
                                     {"seconds", prefill.seconds},
                                     {"major_faults", prefill.major_faults},
                                     {"stage_seconds", stages_json(prefill.stage_seconds)}});
  }
  json["skipped_prefill_contexts"] = report.skipped_prefill_contexts;
  json["decode"] = nlohmann::json::array();
  for (const DecodeReport& decode : report.decode) {
    nlohmann::json stages = nlohmann::json::object();
    for (int s = 0; s < kStages; ++s) stages[std::string(stage_name(static_cast<Stage>(s)))] = decode.stage_ms[s];
    json["decode"].push_back({{"context", decode.context},
                              {"tokens", decode.tokens},
                              {"tok_s", decode.tok_s},
                              {"runs_tok_s", decode.run_tok_s},
                              {"ms_per_token", decode.ms_per_token},
                              {"bytes_per_token", decode.bytes_per_token},
                              {"roofline_fraction", decode.roofline_fraction},
                              {"state_bytes", decode.state_bytes},
                              {"major_faults", decode.major_faults},
                              {"serial_ms_per_token", number_or_null(decode.serial_ms_per_token)},
                              {"stages", stages}});
  }
  json["skipped_contexts"] = report.skipped_contexts;
  json["kv_bytes_per_token_measured"] = number_or_null(report.kv_bytes_per_token_measured);
  json["kv_bytes_per_token_estimates"] = nlohmann::json::object();
  for (const auto& [storage, bytes] : report.kv_bytes_per_token_estimates) {
    json["kv_bytes_per_token_estimates"][storage] = bytes;
  }
  return json;
}

std::string format_bench_report(const BenchReport& report) {
  const MachineReport& machine = report.machine;
  std::string text;
  text += format("model %s, numerics %s, loaded in %.2f s (%s), peak RSS %.2f GB\n", report.model.c_str(),
                 report.numerics.c_str(), report.load_seconds,
                 report.weights_populated ? format("pages mapped in %.2f s more", report.populate_seconds).c_str()
                                          : "pages mapped on first use",
                 report.peak_rss_bytes / 1e9);
  std::string probes;
  for (double probe : machine.bandwidth_probes_gbps) probes += format(probes.empty() ? "%.1f" : ", %.1f", probe);
  text += format("machine: %d thread%s, read bandwidth %.1f GB/s (best of the probes before and after: %s), peak %.1f "
                 "GFLOP/s (%s)\n",
                 machine.threads, machine.threads == 1 ? "" : "s", machine.bandwidth_gbps, probes.c_str(),
                 machine.peak_gflops, machine.isa.c_str());
  if (!report.prefill.empty()) {
    text += "\nprefill (stages in seconds" + runs_note(report) + ")\n";
    text += format("  %8s  %10s", "prompt", "tok/s") + range_header(report) + format("  %9s", "seconds") +
            stage_headers();
    for (const PrefillReport& prefill : report.prefill) {
      text += format("  %8lld  %10.2f", static_cast<long long>(prefill.prompt_tokens), prefill.tok_s) +
              range_cell(report, prefill.run_tok_s) + format("  %9.3f", prefill.seconds) +
              stage_cells(prefill.stage_seconds, prefill.seconds, 3);
    }
  }
  if (!report.prefill_sweep.empty()) {
    text += "\nprefill at context (synthetic state; stages in seconds" + runs_note(report) + ")\n";
    text += format("  %8s  %8s  %10s", "context", "chunk", "tok/s") + range_header(report) +
            format("  %9s", "seconds") + stage_headers();
    for (const PrefillAtContextReport& prefill : report.prefill_sweep) {
      text += format("  %8lld  %8lld  %10.2f", static_cast<long long>(prefill.context),
                     static_cast<long long>(prefill.tokens), prefill.tok_s) +
              range_cell(report, prefill.run_tok_s) + format("  %9.3f", prefill.seconds) +
              stage_cells(prefill.stage_seconds, prefill.seconds, 3);
    }
  }
  if (!report.skipped_prefill_contexts.empty()) {
    text += "skipped prefill contexts (no room for the chunk before the model's maximum position):";
    for (int64_t context : report.skipped_prefill_contexts) text += format(" %lld", static_cast<long long>(context));
    text += "\n";
  }
  if (!report.decode.empty()) {
    text += format("\ndecode (%s; %.3f GB of weights per token; stages in ms per token%s)\n",
                   report.synthetic_state ? "context filled synthetically" : "context from a prefill",
                   report.bytes_per_token / 1e9, runs_note(report).c_str());
    text += format("  %8s  %9s", "context", "tok/s") + range_header(report) +
            format("  %9s  %8s  %8s  %9s", "ms/token", "GB/token", "roofline", "state MB") + stage_headers();
    for (const DecodeReport& decode : report.decode) {
      text += format("  %8lld  %9.2f", static_cast<long long>(decode.context), decode.tok_s) +
              range_cell(report, decode.run_tok_s) +
              format("  %9.2f  %8.3f  %7.1f%%  %9.2f", decode.ms_per_token, decode.bytes_per_token / 1e9,
                     100.0 * decode.roofline_fraction, decode.state_bytes / 1e6) +
              stage_cells(decode.stage_ms, decode.ms_per_token, 2);
    }
    text += serial_line(report.decode);
  }
  text += kv_growth_line(report);
  text += disk_read_warning(report);
  text += bandwidth_change_warning(machine);
  if (!report.skipped_contexts.empty()) {
    text += "skipped (past the model's maximum position):";
    for (int64_t context : report.skipped_contexts) text += format(" %lld", static_cast<long long>(context));
    text += "\n";
  }
  return text;
}

}  // namespace lightseek
