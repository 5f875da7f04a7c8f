// `lightseek bench` and its parts: the weight bytes a decoded token reads, the synthetic decode
// state and its measured size, the machine probes, the command end to end on the tiny fixture,
// and scripts/plot-bench.py on its JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"
#include "core/error.h"
#include "formats/checkpoint.h"
#include "model/kv_rows.h"
#include "model_fixture.h"
#include "runtime/bench_report.h"
#include "runtime/machine_probe.h"
#include "runtime/memory_estimate.h"
#include "runtime/state_bytes.h"
#include "runtime/synthetic_state.h"
#include "runtime/weight_traffic.h"
#include "test_paths.h"

namespace lightseek {
namespace {

using ::testing::HasSubstr;

// The rule of decode_weight_bytes_per_token, applied to the safetensors tensor list by name
// instead of the bound structure: everything but MTP and the routed experts, num_experts_per_tok
// experts (expert 0's tensors) per layer, one embedding row and one tid2eid row.
uint64_t expected_decode_bytes(const ModelConfig& config, const Checkpoint& checkpoint) {
  uint64_t total = 0, embed = 0;
  std::map<std::string, uint64_t> first_expert_bytes;  // by layer prefix
  for (const auto& [name, tensor] : checkpoint.tensors()) {
    if (name.starts_with("mtp.")) continue;
    if (const size_t at = name.find(".ffn.experts."); at != std::string::npos) {
      if (name.substr(at + 13).starts_with("0.")) first_expert_bytes[name.substr(0, at)] += tensor.nbytes;
      continue;
    }
    if (name.starts_with("embed.")) {
      embed += tensor.nbytes;
    } else if (name.ends_with(".ffn.gate.tid2eid")) {
      total += tensor.nbytes / static_cast<uint64_t>(tensor.shape[0]);
    } else {
      total += tensor.nbytes;
    }
  }
  total += embed / static_cast<uint64_t>(config.vocab_size);
  EXPECT_EQ(first_expert_bytes.size(), static_cast<size_t>(config.num_layers));
  for (const auto& [layer, bytes] : first_expert_bytes) total += static_cast<uint64_t>(config.num_experts_per_tok) * bytes;
  return total;
}

TEST(WeightTraffic, DecodeBytesAddUpFromTheCheckpointTensors) {
  for (const std::string preset : {"tiny_native", "tiny_bf16"}) {
    if (!std::filesystem::exists(oracle_dir(preset))) continue;
    auto model = LoadedModel::open(preset);
    const uint64_t bytes = decode_weight_bytes_per_token(model->config, model->weights);
    EXPECT_EQ(bytes, expected_decode_bytes(model->config, model->checkpoint)) << preset;
    // Far less than the whole checkpoint: most experts and the MTP block are not read.
    EXPECT_LT(bytes, model->checkpoint.total_bytes()) << preset;
  }
}

TEST(SyntheticState, CountsMatchTheLengthAndDecodeContinuesIt) {
  auto model = LoadedModel::open("tiny_native");
  const ModelConfig& config = model->config;
  SequenceState state = model->transformer->new_sequence();
  const int64_t length = 100;  // not a multiple of 16: the HCA layers have a partial window pending
  fill_synthetic_state(state, config, length, 7);
  EXPECT_EQ(state.length, length);
  const auto schedule = config.schedule();
  for (size_t l = 0; l < state.layers.size(); ++l) {
    const AttentionState& layer = state.layers[l];
    const int ratio = schedule[l].compress_ratio;
    for (int64_t slot = 0; slot < layer.window; ++slot) {  // the window is full: every slot written
      double norm = 0;
      for (int64_t d = 0; d < layer.head_dim; ++d) norm += std::abs(layer.ring[slot * layer.head_dim + d]);
      EXPECT_GT(norm, 0.0) << "layer " << l << " slot " << slot;
    }
    EXPECT_EQ(layer.entry_count(), ratio > 0 ? length / ratio : 0) << "layer " << l;
    const bool csa = schedule[l].attention == AttentionKind::CompressedSparse;
    EXPECT_EQ(layer.index_key_count(), csa ? length / ratio : 0) << "layer " << l;
  }

  // Four decode steps complete a CSA window (positions 100..103) and none of the HCA ones.
  std::vector<float> logits;
  int32_t token = 5;
  for (int step = 0; step < 4; ++step) {
    model->transformer->forward(state, std::span(&token, 1), logits);
    ASSERT_EQ(logits.size(), static_cast<size_t>(config.vocab_size));
    for (float logit : logits) ASSERT_TRUE(std::isfinite(logit));
    token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  EXPECT_EQ(state.length, length + 4);
  for (size_t l = 0; l < state.layers.size(); ++l) {
    const int ratio = schedule[l].compress_ratio;
    EXPECT_EQ(state.layers[l].entry_count(), ratio > 0 ? (length + 4) / ratio : 0) << "layer " << l;
  }
}

// The slots a compressor will still read (a CSA's previous window, the current window's tokens so
// far) are filled exactly where a real prefill of the same length leaves them filled; the
// previous window of a CSA before its first completion stays at the reset z = −∞.
TEST(SyntheticState, PendingWindowsAreWhereARealPrefillLeavesThem) {
  auto model = LoadedModel::open("tiny_native");
  for (const int64_t length : {2, 6, 21, 100}) {
    SequenceState real = model->transformer->new_sequence();
    std::vector<int32_t> tokens(static_cast<size_t>(length));
    for (int64_t i = 0; i < length; ++i) tokens[static_cast<size_t>(i)] = static_cast<int32_t>((i * 37 + 11) % 1280);
    std::vector<float> logits;
    model->transformer->forward(real, tokens, logits);
    SequenceState synthetic = model->transformer->new_sequence();
    fill_synthetic_state(synthetic, model->config, length, 3);
    for (size_t l = 0; l < real.layers.size(); ++l) {
      EXPECT_EQ(synthetic.layers[l].entry_count(), real.layers[l].entry_count()) << length << " layer " << l;
      EXPECT_EQ(synthetic.layers[l].index_key_count(), real.layers[l].index_key_count()) << length << " layer " << l;
      for (const auto member : {&AttentionState::compressor, &AttentionState::index_compressor}) {
        const CompressorState& a = synthetic.layers[l].*member;
        const CompressorState& b = real.layers[l].*member;
        if (a.ratio == 0) continue;
        const int64_t width = a.vector_width();
        std::vector<int64_t> live;
        if (a.overlapping) {
          for (int64_t s = 0; s < a.ratio; ++s) live.push_back(s);
        }
        for (int64_t s = 0; s < length % a.ratio; ++s) live.push_back((a.overlapping ? a.ratio : 0) + s);
        for (int64_t s : live) {
          EXPECT_EQ(std::isfinite(a.z[s * width]), std::isfinite(b.z[s * width])) << length << " layer " << l << " slot " << s;
        }
      }
    }
  }
}

TEST(SyntheticState, RejectsUsedStatesAndLengthsWithoutRoom) {
  auto model = LoadedModel::open("tiny_native");
  SequenceState state = model->transformer->new_sequence();
  EXPECT_THROW(fill_synthetic_state(state, model->config, -1, 1), Error);
  EXPECT_THROW(fill_synthetic_state(state, model->config, model->config.max_position_embeddings, 1), Error);
  fill_synthetic_state(state, model->config, 10, 1);
  EXPECT_THROW(fill_synthetic_state(state, model->config, 10, 1), Error);
}

// Growth of the float32 state per token of context, from the config alone: a compressing layer adds
// head_dim floats every `ratio` tokens, a CSA layer also index_head_dim floats of indexer key; the
// window ring and the pending windows do not grow. Main layers only: the state has no MTP block.
double expected_state_growth_per_token(const ModelConfig& config) {
  double bytes = 0;
  for (const LayerSpec& layer : config.schedule()) {
    if (layer.is_mtp || layer.compress_ratio == 0) continue;
    bytes += static_cast<double>(config.head_dim * sizeof(float)) / layer.compress_ratio;
    if (layer.attention == AttentionKind::CompressedSparse) {
      bytes += static_cast<double>(config.index_head_dim * sizeof(float)) / layer.compress_ratio;
    }
  }
  return bytes;
}

// The fixed part counted by hand from make_sequence_state's shapes, and the growing part from the
// entry and key counts a synthetic fill leaves.
TEST(StateBytes, CountsEveryBufferOfTheState) {
  auto model = LoadedModel::open("tiny_native");
  const ModelConfig& config = model->config;
  SequenceState state = model->transformer->new_sequence();
  uint64_t fixed_floats = 0;
  for (const LayerSpec& layer : config.schedule()) {
    if (layer.is_mtp) continue;
    fixed_floats += static_cast<uint64_t>(config.sliding_window * config.head_dim);
    const uint64_t ratio = static_cast<uint64_t>(layer.compress_ratio);
    const uint64_t head = static_cast<uint64_t>(config.head_dim), index = static_cast<uint64_t>(config.index_head_dim);
    if (layer.attention == AttentionKind::CompressedSparse) {
      // u and z; 2·ratio slots of 2·width (the previous and current overlapping windows).
      fixed_floats += 2 * (2 * ratio) * (2 * head) + 2 * (2 * ratio) * (2 * index);
    } else if (layer.attention == AttentionKind::HeavilyCompressed) {
      fixed_floats += 2 * ratio * head;
    }
  }
  EXPECT_EQ(sequence_state_bytes(state), fixed_floats * sizeof(float));

  const int64_t length = 128;  // a multiple of every ratio: the growth is exactly length × rate
  fill_synthetic_state(state, config, length, 5);
  EXPECT_DOUBLE_EQ(static_cast<double>(sequence_state_bytes(state) - fixed_floats * sizeof(float)),
                   expected_state_growth_per_token(config) * length);
}

// Every access pattern must read each byte once: the probe checks its sums and throws if one
// skipped or repeated some. Sizes that leave remainders after the parts, the lines and the threads.
TEST(MachineProbe, EveryPatternReadsTheWholeBufferOnce) {
  for (size_t bytes : {size_t{4} << 20, (size_t{4} << 20) + 96, size_t{100000} * 32 + 32 * 7, size_t{32} * 5}) {
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(testing::Message() << bytes << " bytes, " << threads << " threads");
      EXPECT_NO_THROW(measure_read_bandwidth_gbps(threads, bytes));
    }
  }
}

TEST(MachineProbe, SmallBufferBandwidthAndFlopsArePositive) {
  EXPECT_GT(measure_read_bandwidth_gbps(1, size_t{4} << 20), 0.0);
  EXPECT_GT(measure_peak_gflops(1), 0.0);
  EXPECT_THAT(std::string(peak_flops_isa()), ::testing::AnyOf("avx512f", "avx2+fma", "scalar"));
  EXPECT_THROW(measure_read_bandwidth_gbps(0, 1 << 20), Error);
}

// Figures timed while pages came from disk are named under the tables, and only those.
TEST(BenchReportText, NamesTheMeasurementsThatReadFromDisk) {
  BenchReport report;
  report.model = "m";
  report.numerics = "fast";
  report.prefill.push_back({.prompt_tokens = 512, .seconds = 1, .tok_s = 512});
  report.decode.push_back({.context = 2048, .tokens = 4, .seconds = 1, .tok_s = 4});
  report.decode.push_back({.context = 8192, .tokens = 4, .seconds = 1, .tok_s = 4});
  EXPECT_THAT(format_bench_report(report), ::testing::Not(HasSubstr("read from disk")));

  report.decode[1].major_faults = 1234;
  report.prefill[0].major_faults = 7;
  const std::string text = format_bench_report(report);
  EXPECT_THAT(text, HasSubstr("warning: pages were read from disk while timing prefill of 512 tokens (7), "
                              "decode at context 8192 (1234)"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("context 2048 (")));
  const nlohmann::json json = bench_report_json(report);
  EXPECT_EQ(json["decode"][1]["major_faults"], 1234);
  EXPECT_EQ(json["decode"][0]["major_faults"], 0);
  EXPECT_EQ(json["prefill"][0]["major_faults"], 7);
}

// A run whose probes before and after differ by more than 10% says so under the tables.
TEST(BenchReportText, WarnsWhenTheBandwidthMovedBetweenTheProbes) {
  BenchReport report;
  report.model = "m";
  report.numerics = "fast";
  report.decode.push_back({.context = 2048, .tokens = 4, .seconds = 1, .tok_s = 4});
  report.machine.bandwidth_probes_gbps = {42.0, 38.5};  // within 10%
  report.machine.bandwidth_gbps = 42.0;
  EXPECT_THAT(format_bench_report(report), ::testing::Not(HasSubstr("bandwidth moved")));
  report.machine.bandwidth_probes_gbps = {41.8, 37.0};
  EXPECT_THAT(format_bench_report(report),
              HasSubstr("warning: the read bandwidth moved between the probes (41.8 and 37.0 GB/s)"));
  report.machine.bandwidth_probes_gbps = {33.3, 42.0};
  EXPECT_THAT(format_bench_report(report), HasSubstr("(33.3 and 42.0 GB/s)"));
  report.machine.bandwidth_probes_gbps = {42.0};  // one probe: nothing to compare
  EXPECT_THAT(format_bench_report(report), ::testing::Not(HasSubstr("bandwidth moved")));
}

// The tables end with "other": the time no stage accounts for (never negative).
TEST(BenchReportText, TheLastColumnIsTheTimeNoStageAccountsFor) {
  BenchReport report;
  report.model = "m";
  report.numerics = "fast";
  report.prefill.push_back({.prompt_tokens = 512, .seconds = 10, .tok_s = 51.2});
  report.prefill[0].stage_seconds = {1.0, 0.5, 2.0, 3.0, 0.25};
  report.decode.push_back({.context = 2048, .tokens = 4, .seconds = 0.4, .tok_s = 10});
  report.decode[0].ms_per_token = 100.0;
  report.decode[0].stage_ms = {10.0, 1.0, 2.0, 30.0, 40.0};
  report.decode.push_back({.context = 8192, .tokens = 4, .seconds = 0.4, .tok_s = 10});
  report.decode[1].ms_per_token = 50.0;
  report.decode[1].stage_ms = {10.0, 1.0, 2.0, 30.0, 40.0};  // more than the total: clock reads apart
  const std::string text = format_bench_report(report);
  EXPECT_THAT(text, HasSubstr("head        other\n"));
  EXPECT_THAT(text, HasSubstr("0.250        3.250\n"));
  EXPECT_THAT(text, HasSubstr("40.00        17.00\n"));
  EXPECT_THAT(text, HasSubstr("40.00         0.00\n"));
}

// With several threads, the time a token ran on one thread alone is a line under the decode
// table and a JSON field; on one thread there is neither (null in the JSON).
TEST(BenchReportText, ShowsTheTimeOneThreadWorkedAlone) {
  BenchReport report;
  report.model = "m";
  report.numerics = "fast";
  report.decode.push_back({.context = 2048, .tokens = 4, .seconds = 0.1, .tok_s = 40});
  report.decode[0].ms_per_token = 25.0;
  EXPECT_THAT(format_bench_report(report), ::testing::Not(HasSubstr("alone")));
  EXPECT_TRUE(bench_report_json(report)["decode"][0]["serial_ms_per_token"].is_null());

  report.decode[0].serial_ms_per_token = 1.25;
  report.decode.push_back({.context = 65536, .tokens = 4, .seconds = 0.2, .tok_s = 20});
  report.decode[1].ms_per_token = 50.0;
  report.decode[1].serial_ms_per_token = 2.0;
  EXPECT_THAT(format_bench_report(report),
              HasSubstr("one thread alone per token (outside the parallel regions) at context 2048: 1.25 ms (5.0%), "
                        "65536: 2.00 ms (4.0%)\n"));
  EXPECT_DOUBLE_EQ(bench_report_json(report)["decode"][1]["serial_ms_per_token"].get<double>(), 2.0);
}

class CliBench : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_lightseek_binary()) GTEST_SKIP() << "LIGHTSEEK_BIN is not set (run through ctest)";
  }
  std::string fixture() const { return "-m " + oracle_dir("tiny_native").string(); }
};

// Progress goes to stderr, which the runner merges: the JSON object is the text from the first
// line that opens it.
nlohmann::json json_in(const std::string& output) {
  const size_t start = output.starts_with("{") ? 0 : output.find("\n{");
  if (start == std::string::npos) return nullptr;
  return nlohmann::json::parse(output.substr(start), nullptr, false);
}

// Small enough to run in well under a second; 1048570 leaves no room for the 8-token chunk
// before the tiny model's maximum position, so it is skipped.
constexpr const char* kTinyBenchArguments =
    " --prompt 8 --prefill-contexts 32 64 1048570 --prefill-chunk 8 --contexts 64 128 --decode-tokens 2"
    " --probe-mib 8 --json";

TEST_F(CliBench, TinyFixtureJsonHasTheMeasurements) {
  const auto result = run_lightseek("bench " + fixture() + kTinyBenchArguments);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json json = json_in(result.output);
  ASSERT_TRUE(json.is_object()) << result.output;
  for (const char* key : {"threads", "bandwidth_gbps", "peak_gflops", "isa", "prefill", "decode", "synthetic_state",
                          "peak_rss_bytes", "load_seconds", "model", "bytes_per_token", "prefill_sweep",
                          "skipped_prefill_contexts", "kv_bytes_per_token_measured", "kv_bytes_per_token_estimates"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json["numerics"], "fast");
  EXPECT_EQ(json["kv_cache"], "f32");
  EXPECT_EQ(json["repetitions"], 1);
  EXPECT_GE(json["threads"].get<int>(), 1);
  EXPECT_GT(json["bandwidth_gbps"].get<double>(), 0.0);
  // Probed before and after the measurements; the roofline uses the better of the two.
  ASSERT_EQ(json["bandwidth_probes_gbps"].size(), 2u);
  EXPECT_DOUBLE_EQ(json["bandwidth_gbps"].get<double>(),
                   std::max(json["bandwidth_probes_gbps"][0].get<double>(), json["bandwidth_probes_gbps"][1].get<double>()));
  for (const auto& decode : json["decode"]) {
    EXPECT_NEAR(decode["roofline_fraction"].get<double>(),
                decode["bytes_per_token"].get<double>() * decode["tok_s"].get<double>() /
                    (json["bandwidth_gbps"].get<double>() * 1e9),
                1e-9);
  }
  EXPECT_GT(json["peak_gflops"].get<double>(), 0.0);
  EXPECT_TRUE(json["synthetic_state"].get<bool>());
  EXPECT_GT(json["peak_rss_bytes"].get<uint64_t>(), 0u);

  ASSERT_EQ(json["prefill"].size(), 1u);
  EXPECT_EQ(json["prefill"][0]["prompt_tokens"], 8);
  EXPECT_GT(json["prefill"][0]["tok_s"].get<double>(), 0.0);
  // Stage seconds of the prompt: every stage, none negative, together no more than the prompt.
  const nlohmann::json& stages = json["prefill"][0]["stage_seconds"];
  ASSERT_EQ(stages.size(), 5u);
  double staged = 0.0;
  for (const char* stage : {"projections", "indexer", "attention", "experts", "head"}) {
    ASSERT_TRUE(stages.contains(stage)) << stage;
    EXPECT_GE(stages[stage].get<double>(), 0.0);
    staged += stages[stage].get<double>();
  }
  EXPECT_GT(staged, 0.0);
  EXPECT_LE(staged, json["prefill"][0]["seconds"].get<double>() * 1.01);

  ASSERT_EQ(json["prefill_sweep"].size(), 2u);
  EXPECT_EQ(json["prefill_sweep"][0]["context"], 32);
  EXPECT_EQ(json["prefill_sweep"][1]["context"], 64);
  for (const auto& prefill : json["prefill_sweep"]) {
    EXPECT_EQ(prefill["tokens"], 8);
    EXPECT_GT(prefill["tok_s"].get<double>(), 0.0);
    EXPECT_GT(prefill["seconds"].get<double>(), 0.0);
    EXPECT_TRUE(prefill["major_faults"].is_number_unsigned());
  }
  EXPECT_EQ(json["skipped_prefill_contexts"], nlohmann::json::array({1048570}));

  const ModelConfig config = load_model_config(oracle_dir("tiny_native"));
  // 64 tokens apart, a multiple of both ratios (4, 16): the measured growth is exact.
  EXPECT_DOUBLE_EQ(json["kv_bytes_per_token_measured"].get<double>(), expected_state_growth_per_token(config));
  // What inspect reports as stored is what was measured.
  EXPECT_DOUBLE_EQ(stored_kv_bytes_per_token(config, /*coded_kv=*/false), expected_state_growth_per_token(config));
  for (KvStorage storage : {KvStorage::Bf16, KvStorage::Fp8, KvStorage::Fp8Fp4Index}) {
    const std::string name(kv_storage_name(storage));
    ASSERT_TRUE(json["kv_bytes_per_token_estimates"].contains(name)) << name;
    EXPECT_DOUBLE_EQ(json["kv_bytes_per_token_estimates"][name].get<double>(), kv_bytes_per_token(config, storage));
  }
  const Checkpoint checkpoint = Checkpoint::open(oracle_dir("tiny_native"));
  const uint64_t expected_bytes = expected_decode_bytes(config, checkpoint);
  ASSERT_EQ(json["decode"].size(), 2u);
  EXPECT_EQ(json["decode"][0]["context"], 64);
  EXPECT_EQ(json["decode"][1]["context"], 128);
  for (const auto& decode : json["decode"]) {
    EXPECT_GT(decode["tok_s"].get<double>(), 0.0);
    EXPECT_GT(decode["ms_per_token"].get<double>(), 0.0);
    EXPECT_GT(decode["roofline_fraction"].get<double>(), 0.0);
    EXPECT_EQ(decode["bytes_per_token"].get<uint64_t>(), expected_bytes);
    EXPECT_GT(decode["state_bytes"].get<uint64_t>(), 0u);
    EXPECT_TRUE(decode["major_faults"].is_number_unsigned());
    EXPECT_EQ(decode["runs_tok_s"], nlohmann::json::array({decode["tok_s"]}));
    for (const char* stage : {"projections", "indexer", "attention", "experts", "head"}) {
      EXPECT_TRUE(decode["stages"].contains(stage)) << stage;
    }
  }
}

// The serial time is measured on two threads, part of each token, and absent on one.
TEST_F(CliBench, DecodeOnTwoThreadsReportsTheTimeOneThreadWorkedAlone) {
  for (int threads : {1, 2}) {
    const auto result = run_lightseek("bench " + fixture() + " --no-prefill --contexts 64 --decode-tokens 2" +
                                      " --probe-mib 8 --json --threads " + std::to_string(threads));
    ASSERT_EQ(result.exit_code, 0) << result.output;
    const nlohmann::json json = json_in(result.output);
    ASSERT_TRUE(json.is_object()) << result.output;
    ASSERT_EQ(json["decode"].size(), 1u);
    const nlohmann::json& decode = json["decode"][0];
    if (threads == 1) {
      EXPECT_TRUE(decode["serial_ms_per_token"].is_null()) << decode;
    } else {
      ASSERT_TRUE(decode["serial_ms_per_token"].is_number()) << decode;
      EXPECT_GT(decode["serial_ms_per_token"].get<double>(), 0.0);
      EXPECT_LE(decode["serial_ms_per_token"].get<double>(), decode["ms_per_token"].get<double>());
    }
  }
}

TEST_F(CliBench, TextOutputHasTheTables) {
  const auto result = run_lightseek("bench " + fixture() +
                                    " --prompt 4 --prefill-contexts 16 --prefill-chunk 4 --contexts 32 64"
                                    " --decode-tokens 1 --probe-mib 8");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("machine: "));
  EXPECT_THAT(result.output, HasSubstr("(best of the probes before and after: "));
  EXPECT_THAT(result.output, HasSubstr("prefill"));
  EXPECT_THAT(result.output, HasSubstr("prefill at context (synthetic state; stages in seconds)"));
  EXPECT_THAT(result.output, HasSubstr("prefill (stages in seconds)"));
  EXPECT_THAT(result.output, HasSubstr("roofline"));
  EXPECT_THAT(result.output, HasSubstr("context filled synthetically"));
  EXPECT_THAT(result.output, HasSubstr("KV growth per token: measured 224.0 B"));
}

// Each measurement runs --repetitions times and reports its median run with every run's speed;
// the decode runs continue one state, so the measured KV growth stays exact, and the runs'
// steps must fit before the model's maximum position.
TEST_F(CliBench, RepetitionsReportTheMedianRun) {
  const auto result = run_lightseek("bench " + fixture() +
                                    " --prompt 8 --prefill-contexts 32 --prefill-chunk 8 --contexts 64 128 1048570"
                                    " --decode-tokens 2 --repetitions 3 --probe-mib 8 --json");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json json = json_in(result.output);
  ASSERT_TRUE(json.is_object()) << result.output;
  EXPECT_EQ(json["repetitions"], 3);
  std::vector<const nlohmann::json*> entries;
  for (const char* table : {"prefill", "prefill_sweep", "decode"}) {
    ASSERT_FALSE(json[table].empty()) << table;
    for (const auto& entry : json[table]) entries.push_back(&entry);
  }
  for (const nlohmann::json* entry : entries) {
    std::vector<double> runs = (*entry)["runs_tok_s"].get<std::vector<double>>();
    ASSERT_EQ(runs.size(), 3u) << *entry;
    std::sort(runs.begin(), runs.end());
    EXPECT_EQ((*entry)["tok_s"].get<double>(), runs[1]) << *entry;
    EXPECT_GT(runs[0], 0.0);
  }
  ASSERT_EQ(json["decode"].size(), 2u);
  EXPECT_EQ(json["decode"][0]["context"], 64);
  EXPECT_EQ(json["decode"][0]["tokens"], 2);
  const ModelConfig config = load_model_config(oracle_dir("tiny_native"));
  EXPECT_DOUBLE_EQ(json["kv_bytes_per_token_measured"].get<double>(), expected_state_growth_per_token(config));
  // 1048570 + the warm-up step + 3 runs of 2 steps passes 1048576; one run of 2 would fit.
  EXPECT_EQ(json["skipped_contexts"], nlohmann::json::array({1048570}));

  const auto text = run_lightseek("bench " + fixture() +
                                  " --no-prefill --contexts 64 --decode-tokens 1 --repetitions 2 --probe-mib 8");
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_THAT(text.output, HasSubstr("stages in ms per token; median of 2 runs)"));
  EXPECT_THAT(text.output, HasSubstr("tok/s range"));
  EXPECT_THAT(text.output, HasSubstr("(median of "));  // the progress line lists the runs
}

// --kv-cache fp8: the state grows by the coded rows (FP8 entries with float32 RoPE channels, FP4
// index keys): here, where a quarter of each entry is RoPE channels, 0.35 of the float32 growth
// (Flash, with an eighth: 0.31).
TEST_F(CliBench, Fp8KvCacheGrowsByTheCodedRows) {
  const auto result = run_lightseek("bench " + fixture() +
                                    " --no-prefill --contexts 64 128 --decode-tokens 1 --probe-mib 8 --kv-cache fp8");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const ModelConfig config = load_model_config(oracle_dir("tiny_native"));
  const int64_t entry = KvRows::fp8(config.head_dim, config.head_dim - config.rope_head_dim).row_bytes();
  const int64_t key = KvRows::fp4(config.index_head_dim).row_bytes();
  double growth = 0;
  for (const LayerSpec& layer : config.schedule()) {
    if (layer.is_mtp || layer.compress_ratio == 0) continue;
    growth += static_cast<double>(entry) / layer.compress_ratio;
    if (layer.attention == AttentionKind::CompressedSparse) growth += static_cast<double>(key) / layer.compress_ratio;
  }
  EXPECT_LT(growth, expected_state_growth_per_token(config) * 0.36);
  EXPECT_DOUBLE_EQ(stored_kv_bytes_per_token(config, /*coded_kv=*/true), growth);
  char expected[96];
  std::snprintf(expected, sizeof expected, "KV growth per token: measured %.1f B (FP8 KV, FP4 index keys)", growth);
  EXPECT_THAT(result.output, HasSubstr(expected));
  EXPECT_THAT(result.output, HasSubstr("numerics fast --kv-cache fp8"));
  const auto json = json_in(run_lightseek("bench " + fixture() +
                                          " --no-prefill --contexts 64 --decode-tokens 1 --probe-mib 8 --kv-cache fp8"
                                          " --json").output);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["kv_cache"], "fp8");
  EXPECT_EQ(json["numerics"], "fast --kv-cache fp8");
}

// --no-prefill drops the prefill sweep as well as the plain prefill.
TEST_F(CliBench, NoPrefillSkipsThePrefillSweep) {
  const auto result =
      run_lightseek("bench " + fixture() + " --no-prefill --contexts 32 --decode-tokens 1 --probe-mib 8 --json");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json json = json_in(result.output);
  ASSERT_TRUE(json.is_object()) << result.output;
  EXPECT_TRUE(json["prefill"].empty());
  EXPECT_TRUE(json["prefill_sweep"].empty());
  EXPECT_TRUE(json["kv_bytes_per_token_measured"].is_null());  // one decode context: no growth
}

// The plot script on a real bench JSON, presented as a 1-thread and a 2-thread run: one line per
// run in each panel, the legend, and the markdown tables.
TEST_F(CliBench, PlotScriptDrawsTheJson) {
  if (std::system("command -v python3 > /dev/null 2>&1") != 0) GTEST_SKIP() << "python3 is not installed";
  const auto result = run_lightseek("bench " + fixture() + kTinyBenchArguments);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  nlohmann::json json = json_in(result.output);
  ASSERT_TRUE(json.is_object()) << result.output;
  const auto dir = test_temp_dir("plot_bench");
  for (int threads : {1, 2}) {
    json["threads"] = threads;
    if (threads == 2) {  // as from --repetitions 3: each decode point gets a whisker over its runs
      for (auto& decode : json["decode"]) {
        const double median = decode["tok_s"].get<double>();
        decode["runs_tok_s"] = {median * 0.75, median, median * 1.25};
      }
    }
    std::ofstream(dir / (std::to_string(threads) + ".json")) << json.dump();
  }
  const std::string command = "python3 " + (source_dir() / "scripts" / "plot-bench.py").string() + " " +
                              (dir / "1.json").string() + " " + (dir / "2.json").string() + " -o " +
                              (dir / "out.svg").string() + " --markdown";
  const auto plot = run_command(command);
  ASSERT_EQ(plot.exit_code, 0) << plot.output;
  EXPECT_THAT(plot.output, HasSubstr("| context | 1 thread | 2 threads |"));
  EXPECT_THAT(plot.output, HasSubstr("| 128 |"));  // a decode context
  EXPECT_THAT(plot.output, HasSubstr("| 32 |"));   // a prefill context
  char range[64];
  std::snprintf(range, sizeof range, " [%.2f–%.2f] |", json["decode"][0]["tok_s"].get<double>() * 0.75,
                json["decode"][0]["tok_s"].get<double>() * 1.25);
  EXPECT_THAT(plot.output, HasSubstr(range));

  std::ifstream file(dir / "out.svg");
  const std::string svg((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(svg.starts_with("<svg")) << svg.substr(0, 200);
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
  EXPECT_EQ(lines, 4u);  // two runs × (decode, prefill at context)
  size_t whiskers = 0;
  for (size_t at = svg.find("class=\"range\""); at != std::string::npos; at = svg.find("class=\"range\"", at + 1)) {
    ++whiskers;
  }
  EXPECT_EQ(whiskers, json["decode"].size());  // the 2-thread run's decode points only
  for (const char* text : {"1 thread", "2 threads", "tiny_native", "numerics fast", ">128<" /* an x tick */}) {
    EXPECT_THAT(svg, HasSubstr(text));
  }
  std::filesystem::remove_all(dir);
}

TEST_F(CliBench, BadFlagsAreClearErrors) {
  const auto cache = test_temp_dir("bench_cache");
  const std::string environment = "LIGHTSEEK_CACHE=" + cache.string();
  const std::pair<std::string, std::string> cases[] = {
      {fixture() + " --threads 0", "--threads must be at least 1"},
      {fixture() + " --contexts -5", "--contexts must be at least 1"},
      {fixture() + " --prompt 0", "--prompt lengths must be at least 1"},
      {fixture() + " --decode-tokens 0", "--decode-tokens must be at least 1"},
      {fixture() + " --repetitions 0", "--repetitions must be at least 1"},
      {fixture() + " --prefill-chunk 0", "--prefill-chunk must be at least 1"},
      {fixture() + " --prefill-contexts 64 -5", "--prefill-contexts must be at least 1"},
      {fixture() + " --no-prefill --prefill-contexts 64", "--no-prefill and --prefill-contexts contradict"},
      {fixture() + " --numerics fastest", "--numerics must be fast, exact or reference"},
      {fixture() + " --synthetic flash-slice", "exactly one of -m DIR or --synthetic"},
      {"", "exactly one of -m DIR or --synthetic"},
      {fixture() + " --layers 2", "--layers and --experts go with --synthetic"},
      {"--synthetic flash-slice --layers 0", "--layers must be between"},
      {"--synthetic other", "--synthetic knows only flash-slice"},
  };
  for (const auto& [arguments, message] : cases) {
    const auto result = run_lightseek("bench " + arguments, environment);
    EXPECT_EQ(result.exit_code, 1) << arguments << "\n" << result.output;
    EXPECT_THAT(result.output, HasSubstr(message)) << arguments;
  }
  // Nothing was generated for the rejected synthetic requests.
  EXPECT_FALSE(std::filesystem::exists(cache / "synthetic"));
  std::filesystem::remove_all(cache);
}

}  // namespace
}  // namespace lightseek
