// `lightseek bench` and its parts: the weight bytes a decoded token reads, the synthetic decode
// state, the machine probes, and the command end to end on the tiny fixture.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"
#include "core/error.h"
#include "formats/checkpoint.h"
#include "model_fixture.h"
#include "runtime/machine_probe.h"
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

TEST(MachineProbe, SmallBufferBandwidthAndFlopsArePositive) {
  EXPECT_GT(measure_read_bandwidth_gbps(1, size_t{4} << 20), 0.0);
  EXPECT_GT(measure_peak_gflops(1), 0.0);
  EXPECT_THAT(std::string(peak_flops_isa()), ::testing::AnyOf("avx512f", "avx2+fma", "scalar"));
  EXPECT_THROW(measure_read_bandwidth_gbps(0, 1 << 20), Error);
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

TEST_F(CliBench, TinyFixtureJsonHasTheMeasurements) {
  const auto result =
      run_lightseek("bench " + fixture() + " --prompt 8 --contexts 64 128 --decode-tokens 2 --json --probe-mib 16");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const nlohmann::json json = json_in(result.output);
  ASSERT_TRUE(json.is_object()) << result.output;
  for (const char* key : {"threads", "bandwidth_gbps", "peak_gflops", "isa", "prefill", "decode", "synthetic_state",
                          "peak_rss_bytes", "load_seconds", "model", "bytes_per_token"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_GE(json["threads"].get<int>(), 1);
  EXPECT_GT(json["bandwidth_gbps"].get<double>(), 0.0);
  EXPECT_GT(json["peak_gflops"].get<double>(), 0.0);
  EXPECT_TRUE(json["synthetic_state"].get<bool>());
  EXPECT_GT(json["peak_rss_bytes"].get<uint64_t>(), 0u);

  ASSERT_EQ(json["prefill"].size(), 1u);
  EXPECT_EQ(json["prefill"][0]["prompt_tokens"], 8);
  EXPECT_GT(json["prefill"][0]["tok_s"].get<double>(), 0.0);

  const ModelConfig config = load_model_config(oracle_dir("tiny_native"));
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
    for (const char* stage : {"projections", "indexer", "attention", "experts", "head"}) {
      EXPECT_TRUE(decode["stages"].contains(stage)) << stage;
    }
  }
}

TEST_F(CliBench, TextOutputHasTheTables) {
  const auto result = run_lightseek("bench " + fixture() + " --prompt 4 --contexts 32 --decode-tokens 1 --probe-mib 16");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("machine: "));
  EXPECT_THAT(result.output, HasSubstr("prefill"));
  EXPECT_THAT(result.output, HasSubstr("roofline"));
  EXPECT_THAT(result.output, HasSubstr("context filled synthetically"));
}

TEST_F(CliBench, BadFlagsAreClearErrors) {
  const auto cache = test_temp_dir("bench_cache");
  const std::string environment = "LIGHTSEEK_CACHE=" + cache.string();
  const std::pair<std::string, std::string> cases[] = {
      {fixture() + " --threads 0", "--threads must be at least 1"},
      {fixture() + " --contexts -5", "--contexts must be at least 1"},
      {fixture() + " --prompt 0", "--prompt lengths must be at least 1"},
      {fixture() + " --decode-tokens 0", "--decode-tokens must be at least 1"},
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
