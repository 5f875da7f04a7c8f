#include "eval/verify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/checkpoint.h"
#include "formats/model_binding.h"
#include "model/transformer.h"

namespace lightseek {
namespace {

struct CaseSpec {
  std::string name;
  std::vector<int64_t> chunks;
};

// Python's json module writes NaN and Infinity, which JSON does not allow; read them as null.
std::string without_python_constants(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    for (const std::string_view constant : {"-Infinity", "Infinity", "NaN"}) {
      if (text.compare(i, constant.size(), constant) == 0) {
        out += "null";
        i += constant.size();
        break;
      }
    }
    if (i < text.size()) out += text[i];
  }
  return out;
}

std::vector<CaseSpec> read_case_specs(const std::filesystem::path& expected_file, const Checkpoint& expected) {
  const auto json_path = expected_file.parent_path() / "expected.json";
  std::vector<CaseSpec> specs;
  if (std::filesystem::exists(json_path)) {
    std::ifstream in(json_path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto json = nlohmann::json::parse(without_python_constants(text), nullptr, false);
    if (json.is_discarded() || !json.contains("cases") || !json["cases"].is_array()) {
      fail(json_path.string(), ": expected a JSON object with a \"cases\" array");
    }
    for (const auto& entry : json["cases"]) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
        fail(json_path.string(), ": every case needs a \"name\"");
      }
      CaseSpec spec{entry["name"].get<std::string>(), {}};
      if (entry.contains("chunks")) {
        for (const auto& chunk : entry["chunks"]) {
          if (!chunk.is_number_integer() || chunk.get<int64_t>() <= 0) {
            fail(json_path.string(), ": case ", spec.name, ": chunks must be positive integers");
          }
          spec.chunks.push_back(chunk.get<int64_t>());
        }
      }
      if (expected.find(spec.name + ".input_ids")) specs.push_back(std::move(spec));
    }
    return specs;
  }
  for (const auto& [name, tensor] : expected.tensors()) {
    if (name.ends_with(".input_ids")) specs.push_back({name.substr(0, name.size() - 10), {}});
  }
  return specs;
}

const TensorView& require(const Checkpoint& file, const std::string& name, DType dtype) {
  const TensorView* tensor = file.find(name);
  if (!tensor) fail("expectation file has no tensor '", name, "'");
  if (tensor->dtype != dtype) fail(name, ": expected ", dtype_name(dtype), ", found ", dtype_name(tensor->dtype));
  return *tensor;
}

// KL(softmax(p) ‖ softmax(q)) of two logit rows, in double.
double kl_divergence(const float* p_logits, const float* q_logits, int64_t vocab) {
  auto log_normalizer = [vocab](const float* logits) {
    double max = -INFINITY;
    for (int64_t v = 0; v < vocab; ++v) max = std::max(max, static_cast<double>(logits[v]));
    double sum = 0.0;
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(logits[v] - max);
    return max + std::log(sum);
  };
  const double p_norm = log_normalizer(p_logits), q_norm = log_normalizer(q_logits);
  double kl = 0.0;
  for (int64_t v = 0; v < vocab; ++v) {
    const double log_p = p_logits[v] - p_norm, log_q = q_logits[v] - q_norm;
    kl += std::exp(log_p) * (log_p - log_q);
  }
  return std::max(0.0, kl);
}

Comparison compare(const std::string& what, const TensorView& expected, const std::vector<float>& actual,
                   int64_t vocab, const VerifyOptions& options) {
  Comparison result;
  result.what = what;
  if (expected.rank() != 2 || expected.shape[1] != vocab ||
      expected.shape[0] * vocab != static_cast<int64_t>(actual.size())) {
    fail(expected.name, ": shape ", shape_string(expected.shape), " does not match ", actual.size() / vocab, " rows of ",
         vocab, " logits");
  }
  result.rows = expected.shape[0];
  double sum = 0.0;
  for (int64_t r = 0; r < result.rows; ++r) {
    const float* want = reinterpret_cast<const float*>(expected.data) + r * vocab;
    const float* got = actual.data() + r * vocab;
    int64_t want_best = 0, got_best = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      const double diff = std::fabs(static_cast<double>(want[v]) - got[v]);
      result.max_abs = std::max(result.max_abs, std::isnan(diff) ? INFINITY : diff);
      sum += diff;
      if (want[v] > want[want_best]) want_best = v;
      if (got[v] > got[got_best]) got_best = v;
    }
    result.argmax_agree += want_best == got_best;
    result.mean_kl += kl_divergence(want, got, vocab);
  }
  result.mean_abs = sum / static_cast<double>(result.rows * vocab);
  result.mean_kl /= static_cast<double>(std::max<int64_t>(1, result.rows));
  if (options.max_mean_kl >= 0.0) {
    result.passed = static_cast<double>(result.argmax_agree) >= options.min_top1 * static_cast<double>(result.rows) &&
                    result.mean_kl <= options.max_mean_kl;
  } else {
    result.passed = result.max_abs <= options.atol;
  }
  return result;
}

}  // namespace

bool CaseResult::passed() const {
  return std::all_of(comparisons.begin(), comparisons.end(), [](const Comparison& c) { return c.passed; });
}

VerifyOptions verify_options_for(const NumericsOptions& numerics) {
  VerifyOptions options;
  options.numerics = numerics;
  if (numerics.mode == Numerics::Fast) {
    options.min_top1 = numerics.kv_fp8 ? -1.0 : 0.99;
    options.max_mean_kl = 1e-3;
  }
  return options;
}

std::vector<CaseResult> verify_expectations(const std::filesystem::path& model_dir,
                                            const std::filesystem::path& expected_file, const VerifyOptions& options,
                                            const std::function<void(const CaseResult&)>& report) {
  const ModelConfig config = load_model_config(model_dir);
  const Checkpoint checkpoint = Checkpoint::open(model_dir);
  const ModelWeights weights = bind_model(config, checkpoint);
  Transformer model(config, weights, options.numerics);
  const Checkpoint expected = Checkpoint::open(expected_file);
  const int64_t vocab = config.vocab_size;

  const std::vector<CaseSpec> specs = read_case_specs(expected_file, expected);
  for (const std::string& wanted : options.only_cases) {
    if (std::none_of(specs.begin(), specs.end(), [&](const CaseSpec& spec) { return spec.name == wanted; })) {
      fail(expected_file.string(), ": no case named '", wanted, "'");
    }
  }
  std::vector<CaseResult> results;
  for (const CaseSpec& spec : specs) {
    if (!options.only_cases.empty() &&
        std::find(options.only_cases.begin(), options.only_cases.end(), spec.name) == options.only_cases.end()) {
      continue;
    }
    const TensorView& ids_tensor = require(expected, spec.name + ".input_ids", DType::I64);
    std::vector<int32_t> ids(static_cast<size_t>(ids_tensor.numel()));
    for (size_t i = 0; i < ids.size(); ++i) {
      int64_t id;
      std::memcpy(&id, ids_tensor.data + 8 * i, 8);
      if (id < 0 || id >= vocab) fail(spec.name, ".input_ids: id ", id, " is outside the vocabulary");
      ids[i] = static_cast<int32_t>(id);
    }
    CaseResult result;
    result.name = spec.name;
    result.tokens = static_cast<int64_t>(ids.size());
    result.chunks = spec.chunks;
    std::vector<int64_t> chunks = spec.chunks;
    if (chunks.empty()) chunks.push_back(result.tokens);
    int64_t covered = 0;
    for (int64_t chunk : chunks) covered += chunk;
    if (covered != result.tokens) fail("case ", spec.name, ": chunks add up to ", covered, ", not ", result.tokens);

    SequenceState state = model.new_sequence();
    std::vector<float> logits, streams, chunk_logits, chunk_streams;
    int64_t offset = 0;
    for (int64_t chunk : chunks) {
      model.forward(state, std::span<const int32_t>(ids).subspan(offset, chunk), chunk_logits, &chunk_streams);
      logits.insert(logits.end(), chunk_logits.begin(), chunk_logits.end());
      streams.insert(streams.end(), chunk_streams.begin(), chunk_streams.end());
      offset += chunk;
    }
    result.comparisons.push_back(
        compare("logits", require(expected, spec.name + ".logits", DType::F32), logits, vocab, options));

    for (const bool zero_first : {false, true}) {
      const std::string key = spec.name + (zero_first ? ".mtp_logits_zero_pos0" : ".mtp_logits");
      if (!expected.find(key) || !model.has_mtp() || result.tokens < 2) continue;
      SequenceState mtp_state = model.new_mtp_sequence();
      std::vector<float> mtp_logits;
      model.forward_mtp(mtp_state, streams.data(), std::span<const int32_t>(ids).subspan(1), mtp_logits, zero_first);
      result.comparisons.push_back(compare(key.substr(spec.name.size() + 1), require(expected, key, DType::F32),
                                           mtp_logits, vocab, options));
    }
    if (report) report(result);
    results.push_back(std::move(result));
  }
  return results;
}

std::string format_case_header() {
  char line[160];
  std::snprintf(line, sizeof line, "%-10s %6s  %-22s %-22s %10s %10s %9s %9s  %s", "case", "tokens", "run",
                "compared", "max|d|", "mean|d|", "argmax", "mean KL", "result");
  return line;
}

std::string format_case_result(const CaseResult& result) {
  std::string run = "full";
  if (!result.chunks.empty()) {
    const bool decode = std::all_of(result.chunks.begin() + 1, result.chunks.end(), [](int64_t c) { return c == 1; });
    if (decode) {
      run = str_cat("prefill ", result.chunks[0], " + ", result.chunks.size() - 1, " steps");
    } else {
      run = "chunks ";
      for (size_t i = 0; i < result.chunks.size(); ++i) run += (i ? "," : "") + std::to_string(result.chunks[i]);
    }
  }
  std::string out;
  for (size_t i = 0; i < result.comparisons.size(); ++i) {
    const Comparison& c = result.comparisons[i];
    char line[220];
    std::snprintf(line, sizeof line, "%-10s %6s  %-22s %-22s %10.2e %10.2e %4lld/%-4lld %9.2e  %s\n",
                  i == 0 ? result.name.c_str() : "", i == 0 ? std::to_string(result.tokens).c_str() : "",
                  i == 0 ? run.c_str() : "", c.what.c_str(), c.max_abs, c.mean_abs, (long long)c.argmax_agree,
                  (long long)c.rows, c.mean_kl, c.passed ? "pass" : "FAIL");
    out += line;
  }
  return out;
}

}  // namespace lightseek
