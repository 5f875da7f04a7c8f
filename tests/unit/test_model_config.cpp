#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/model_config.h"

namespace lightseek {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// The tiny_native oracle preset, written out so the validation tests do not need the fixtures.
constexpr const char* kTinyNativeConfig = R"json({
  "architectures": ["DeepseekV4ForCausalLM"],
  "model_type": "deepseek_v4",
  "torch_dtype": "bfloat16",
  "vocab_size": 1280,
  "hidden_size": 64,
  "moe_intermediate_size": 32,
  "num_attention_heads": 4,
  "num_key_value_heads": 1,
  "head_dim": 64,
  "qk_rope_head_dim": 16,
  "q_lora_rank": 32,
  "o_groups": 2,
  "o_lora_rank": 16,
  "n_routed_experts": 8,
  "n_shared_experts": 1,
  "num_experts_per_tok": 2,
  "scoring_func": "sqrtsoftplus",
  "topk_method": "noaux_tc",
  "norm_topk_prob": true,
  "routed_scaling_factor": 1.5,
  "hidden_act": "silu",
  "index_n_heads": 16,
  "index_head_dim": 32,
  "hc_mult": 4,
  "hc_sinkhorn_iters": 20,
  "hc_eps": 1e-06,
  "rms_norm_eps": 1e-06,
  "rope_theta": 10000,
  "compress_rope_theta": 160000,
  "rope_scaling": {"type": "yarn", "factor": 16, "original_max_position_embeddings": 65536,
                   "beta_fast": 32, "beta_slow": 1},
  "max_position_embeddings": 1048576,
  "num_nextn_predict_layers": 1,
  "bos_token_id": 0,
  "eos_token_id": 1,
  "tie_word_embeddings": false,
  "attention_bias": false,
  "compress_ratios": [0, 4, 16, 4, 16, 0],
  "num_hash_layers": 2,
  "sliding_window": 16,
  "index_topk": 4,
  "swiglu_limit": 1.5,
  "num_hidden_layers": 5,
  "expert_dtype": "fp4",
  "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                          "scale_fmt": "ue8m0", "weight_block_size": [128, 128]}
})json";

// inference/config.json of V4-Flash: the official key names, no model_type, no MTP count.
constexpr const char* kOfficialFlashConfig = R"json({
  "vocab_size": 129280, "dim": 4096, "moe_inter_dim": 2048, "n_layers": 43, "n_hash_layers": 3,
  "n_heads": 64, "n_routed_experts": 256, "n_shared_experts": 1, "n_activated_experts": 6,
  "score_func": "sqrtsoftplus", "route_scale": 1.5, "swiglu_limit": 10.0, "q_lora_rank": 1024,
  "head_dim": 512, "rope_head_dim": 64, "o_groups": 8, "o_lora_rank": 1024, "window_size": 128,
  "original_seq_len": 65536, "rope_theta": 10000, "rope_factor": 16, "beta_fast": 32,
  "beta_slow": 1, "index_n_heads": 64, "index_head_dim": 128, "index_topk": 512, "hc_mult": 4,
  "hc_sinkhorn_iters": 20, "dtype": "fp8", "scale_fmt": "ue8m0", "expert_dtype": "fp4",
  "compress_rope_theta": 160000,
  "compress_ratios": [0, 0, 4, 128, 4, 128, 4, 128, 4, 128, 4, 128, 4, 128, 4, 128, 4, 128,
                      4, 128, 4, 128, 4, 128, 4, 128, 4, 128, 4, 128, 4, 128, 4, 128, 4, 128,
                      4, 128, 4, 128, 4, 128, 4, 0]
})json";

json tiny_native_json() { return json::parse(kTinyNativeConfig); }

std::string config_parse_error(const json& config_json) {
  try {
    parse_model_config(config_json, "config.json");
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "parse_model_config accepted the config";
  return {};
}

ModelConfig parse_text_round_trip(const ModelConfig& config) {
  return parse_model_config(json::parse(to_hf_config_json(config).dump(2)), "round trip");
}

std::vector<AttentionKind> attention_kinds(const std::vector<LayerSpec>& layers) {
  std::vector<AttentionKind> kinds;
  for (const auto& layer : layers) kinds.push_back(layer.attention);
  return kinds;
}

std::vector<int> hash_routed_indices(const std::vector<LayerSpec>& layers) {
  std::vector<int> indices;
  for (const auto& layer : layers) {
    if (layer.hash_routed) indices.push_back(layer.index);
  }
  return indices;
}

std::optional<std::filesystem::path> oracle_config_fixtures() {
  for (const std::filesystem::path& root : {std::filesystem::path(LIGHTSEEK_TEST_FIXTURES) / "v4-oracle",
                                            std::filesystem::path(LIGHTSEEK_SHARED_DIR) / "fixtures" / "v4-oracle"}) {
    if (std::filesystem::is_regular_file(root / "tiny" / "config.json")) return root;
  }
  return std::nullopt;
}

constexpr auto kSliding = AttentionKind::SlidingWindow;
constexpr auto kCsa = AttentionKind::CompressedSparse;
constexpr auto kHca = AttentionKind::HeavilyCompressed;

// ---------------------------------------------------------------------------------------------
// Oracle fixtures

class ModelConfigFixtures : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = oracle_config_fixtures();
    if (!root) GTEST_SKIP() << "v4-oracle fixtures not found";
    root_ = *root;
  }
  ModelConfig load(const std::string& preset) const { return load_model_config(root_ / preset); }

  std::filesystem::path root_;
};

TEST_F(ModelConfigFixtures, EveryFixtureConfigParsesAndRoundTrips) {
  int parsed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root_)) {
    if (!std::filesystem::is_regular_file(entry.path() / "config.json")) continue;
    SCOPED_TRACE(entry.path().string());
    const ModelConfig config = load_model_config(entry.path());
    EXPECT_EQ(config.num_layers, 5);
    EXPECT_EQ(config.hidden_size, 64);
    EXPECT_EQ(config.nope_head_dim(), 48);
    EXPECT_EQ(parse_text_round_trip(config), config);
    ++parsed;
  }
  EXPECT_GE(parsed, 6);
}

TEST_F(ModelConfigFixtures, TinyScheduleMixesAllThreeKinds) {
  const ModelConfig config = load("tiny");
  const auto layers = config.schedule();
  ASSERT_EQ(layers.size(), 5u);
  EXPECT_EQ(attention_kinds(layers), (std::vector{kSliding, kCsa, kHca, kCsa, kHca}));
  EXPECT_EQ(hash_routed_indices(layers), (std::vector{0, 1}));
  EXPECT_EQ(layers[2].compress_ratio, 16);
  for (const auto& layer : layers) EXPECT_FALSE(layer.is_mtp);
  EXPECT_EQ(config.num_mtp_layers, 0);
  EXPECT_EQ(config.weight_quant, "");
  EXPECT_EQ(config.expert_dtype, "");
  EXPECT_EQ(config.sliding_window, 16);
  EXPECT_DOUBLE_EQ(config.swiglu_limit, 1.5);
}

TEST_F(ModelConfigFixtures, TinyNativeEndsWithAnMtpBlock) {
  const ModelConfig config = load("tiny_native");
  const auto layers = config.schedule();
  ASSERT_EQ(layers.size(), 6u);
  EXPECT_EQ(attention_kinds(layers), (std::vector{kSliding, kCsa, kHca, kCsa, kHca, kSliding}));
  EXPECT_EQ(hash_routed_indices(layers), (std::vector{0, 1}));
  const LayerSpec& mtp = layers.back();
  EXPECT_TRUE(mtp.is_mtp);
  EXPECT_EQ(mtp.mtp_index, 0);
  EXPECT_EQ(mtp.index, 5);
  EXPECT_FALSE(mtp.hash_routed);
  EXPECT_EQ(layers[4].mtp_index, -1);
  EXPECT_EQ(config.weight_quant, "fp8");
  EXPECT_EQ(config.expert_dtype, "fp4");
  EXPECT_EQ(config, parse_model_config(tiny_native_json(), "literal"));
}

TEST_F(ModelConfigFixtures, FlashRatiosUse128ForHeavilyCompressed) {
  const auto layers = load("flash_ratios").schedule();
  EXPECT_EQ(attention_kinds(layers), (std::vector{kSliding, kCsa, kHca, kCsa, kHca}));
  EXPECT_EQ(layers[4].compress_ratio, 128);
}

// ---------------------------------------------------------------------------------------------
// Released geometries

TEST(ModelConfigReleases, FlashValuesMatchTheSpec) {
  const ModelConfig flash = v4_flash_config();
  EXPECT_EQ(flash.vocab_size, 129280);
  EXPECT_EQ(flash.hidden_size, 4096);
  EXPECT_EQ(flash.num_layers, 43);
  EXPECT_EQ(flash.num_heads, 64);
  EXPECT_EQ(flash.head_dim, 512);
  EXPECT_EQ(flash.rope_head_dim, 64);
  EXPECT_EQ(flash.nope_head_dim(), 448);
  EXPECT_EQ(flash.q_lora_rank, 1024);
  EXPECT_EQ(flash.o_groups, 8);
  EXPECT_EQ(flash.o_lora_rank, 1024);
  EXPECT_EQ(flash.sliding_window, 128);
  EXPECT_EQ(flash.compress_ratios.size(), 44u);
  EXPECT_EQ(flash.index_topk, 512);
  EXPECT_EQ(flash.n_routed_experts, 256);
  EXPECT_EQ(flash.num_experts_per_tok, 6);
  EXPECT_EQ(flash.moe_intermediate_size, 2048);
  EXPECT_EQ(flash.num_hash_layers, 3);
  EXPECT_DOUBLE_EQ(flash.routed_scaling_factor, 1.5);
  EXPECT_DOUBLE_EQ(flash.swiglu_limit, 10.0);
  EXPECT_DOUBLE_EQ(flash.yarn.factor, 16.0);
  EXPECT_EQ(flash.yarn.original_max_position, 65536);
  EXPECT_EQ(flash.max_position_embeddings, 1048576);
  EXPECT_EQ(flash.num_mtp_layers, 1);
  EXPECT_EQ(flash.bos_token_id, 0);
  EXPECT_EQ(flash.eos_token_id, 1);
  EXPECT_EQ(flash.weight_quant, "fp8");
  EXPECT_EQ(flash.expert_dtype, "fp4");
}

TEST(ModelConfigReleases, ProValuesMatchTheSpec) {
  const ModelConfig pro = v4_pro_config();
  EXPECT_EQ(pro.vocab_size, 129280);
  EXPECT_EQ(pro.hidden_size, 7168);
  EXPECT_EQ(pro.num_layers, 61);
  EXPECT_EQ(pro.num_heads, 128);
  EXPECT_EQ(pro.q_lora_rank, 1536);
  EXPECT_EQ(pro.o_groups, 16);
  EXPECT_EQ(pro.o_lora_rank, 1024);
  EXPECT_EQ(pro.compress_ratios.size(), 62u);
  EXPECT_EQ(pro.index_topk, 1024);
  EXPECT_EQ(pro.n_routed_experts, 384);
  EXPECT_EQ(pro.moe_intermediate_size, 3072);
  EXPECT_DOUBLE_EQ(pro.routed_scaling_factor, 2.5);
  EXPECT_EQ(pro.num_mtp_layers, 1);
  EXPECT_EQ(pro.max_position_embeddings, 1048576);
  EXPECT_EQ(pro.weight_quant, "fp8");
  EXPECT_EQ(pro.expert_dtype, "fp4");
}

TEST(ModelConfigSchedule, FlashLayers) {
  const auto layers = v4_flash_config().schedule();
  ASSERT_EQ(layers.size(), 44u);
  int csa = 0;
  int hca = 0;
  for (int i = 0; i < 43; ++i) {
    SCOPED_TRACE(i);
    const LayerSpec& layer = layers[i];
    EXPECT_EQ(layer.index, i);
    EXPECT_FALSE(layer.is_mtp);
    EXPECT_EQ(layer.mtp_index, -1);
    EXPECT_EQ(layer.hash_routed, i < 3);
    if (i < 2) {
      EXPECT_EQ(layer.attention, kSliding);
      EXPECT_EQ(layer.compress_ratio, 0);
    } else if (i % 2 == 0) {
      EXPECT_EQ(layer.attention, kCsa);
      EXPECT_EQ(layer.compress_ratio, 4);
      ++csa;
    } else {
      EXPECT_EQ(layer.attention, kHca);
      EXPECT_EQ(layer.compress_ratio, 128);
      ++hca;
    }
  }
  EXPECT_EQ(csa, 21);
  EXPECT_EQ(hca, 20);
  EXPECT_EQ(layers[42].attention, kCsa);
  const LayerSpec& mtp = layers[43];
  EXPECT_TRUE(mtp.is_mtp);
  EXPECT_EQ(mtp.index, 43);
  EXPECT_EQ(mtp.mtp_index, 0);
  EXPECT_EQ(mtp.attention, kSliding);
  EXPECT_FALSE(mtp.hash_routed);
}

TEST(ModelConfigSchedule, ProLayers) {
  const auto layers = v4_pro_config().schedule();
  ASSERT_EQ(layers.size(), 62u);
  int csa = 0;
  int hca = 0;
  for (int i = 0; i < 61; ++i) {
    SCOPED_TRACE(i);
    const bool compressed_sparse = i >= 2 && i % 2 == 0;
    EXPECT_EQ(layers[i].attention, compressed_sparse ? kCsa : kHca);
    EXPECT_EQ(layers[i].compress_ratio, compressed_sparse ? 4 : 128);
    EXPECT_EQ(layers[i].hash_routed, i < 3);
    (compressed_sparse ? csa : hca)++;
  }
  EXPECT_EQ(csa, 30);
  EXPECT_EQ(hca, 31);
  EXPECT_TRUE(layers[61].is_mtp);
  EXPECT_EQ(layers[61].index, 61);
  EXPECT_EQ(layers[61].mtp_index, 0);
  EXPECT_EQ(layers[61].attention, kSliding);
}

TEST(ModelConfigSchedule, KindNames) {
  EXPECT_EQ(attention_kind_name(kSliding), "sliding");
  EXPECT_EQ(attention_kind_name(kCsa), "csa");
  EXPECT_EQ(attention_kind_name(kHca), "hca");
}

// ---------------------------------------------------------------------------------------------
// Key styles and round trips

TEST(ModelConfigParse, OfficialFlashEqualsHfFlash) {
  const ModelConfig official = parse_model_config(json::parse(kOfficialFlashConfig), "inference/config.json");
  EXPECT_EQ(official, v4_flash_config());
  EXPECT_EQ(official, parse_model_config(to_hf_config_json(v4_flash_config()), "config.json"));
}

TEST(ModelConfigParse, OfficialDefaultsAndOverrides) {
  json official = json::parse(kOfficialFlashConfig);
  official["norm_eps"] = 1e-5;
  official["hc_eps"] = 1e-4;
  official["dtype"] = "bf16";
  const ModelConfig config = parse_model_config(official, "inference/config.json");
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(config.hc_eps, 1e-4);
  EXPECT_EQ(config.weight_quant, "");

  official["n_mtp_layers"] = 0;
  official["compress_ratios"].erase(official["compress_ratios"].size() - 1);
  EXPECT_EQ(parse_model_config(official, "inference/config.json").num_mtp_layers, 0);
}

TEST(ModelConfigRoundTrip, Flash) { EXPECT_EQ(parse_text_round_trip(v4_flash_config()), v4_flash_config()); }

TEST(ModelConfigRoundTrip, Pro) { EXPECT_EQ(parse_text_round_trip(v4_pro_config()), v4_pro_config()); }

TEST(ModelConfigRoundTrip, HfJsonCarriesTheConstantKeys) {
  const json written = to_hf_config_json(v4_flash_config());
  EXPECT_EQ(written["architectures"], json::array({"DeepseekV4ForCausalLM"}));
  EXPECT_EQ(written["model_type"], "deepseek_v4");
  EXPECT_EQ(written["num_key_value_heads"], 1);
  EXPECT_EQ(written["norm_topk_prob"], true);
  EXPECT_EQ(written["hidden_act"], "silu");
  EXPECT_EQ(written["tie_word_embeddings"], false);
  EXPECT_EQ(written["attention_bias"], false);
  EXPECT_EQ(written["torch_dtype"], "bfloat16");
  EXPECT_EQ(written["rope_scaling"]["type"], "yarn");
  EXPECT_EQ(written["quantization_config"],
            json::parse(R"({"activation_scheme":"dynamic","fmt":"e4m3","quant_method":"fp8",
                            "scale_fmt":"ue8m0","weight_block_size":[128,128]})"));
  EXPECT_EQ(written["expert_dtype"], "fp4");
}

TEST(ModelConfigRoundTrip, UnquantisedConfigWithoutYarn) {
  json config_json = tiny_native_json();
  config_json.erase("rope_scaling");
  config_json.erase("quantization_config");
  config_json.erase("expert_dtype");
  const ModelConfig config = parse_model_config(config_json, "config.json");
  EXPECT_EQ(config.yarn, YarnConfig{});
  EXPECT_EQ(config.weight_quant, "");
  const json written = to_hf_config_json(config);
  EXPECT_FALSE(written.contains("rope_scaling"));
  EXPECT_FALSE(written.contains("quantization_config"));
  EXPECT_FALSE(written.contains("expert_dtype"));
  EXPECT_EQ(parse_text_round_trip(config), config);
}

TEST(ModelConfigParse, AcceptsWholeFloatsForIntegersAndIntegersForReals) {
  json config_json = tiny_native_json();
  config_json["hidden_size"] = 64.0;
  config_json["routed_scaling_factor"] = 2;
  const ModelConfig config = parse_model_config(config_json, "config.json");
  EXPECT_EQ(config.hidden_size, 64);
  EXPECT_DOUBLE_EQ(config.routed_scaling_factor, 2.0);
}

TEST(ModelConfigParse, IgnoresRedundantTransformersKeys) {
  json config_json = tiny_native_json();
  config_json["first_k_dense_replace"] = 3;
  config_json["mlp_layer_types"] = {"whatever"};
  config_json["compress_rates"] = {{"heavily_compressed_attention", 99}};
  config_json["layer_types"] = {"sliding_attention", "compressed_sparse_attention", "heavily_compressed_attention",
                                "compressed_sparse_attention", "heavily_compressed_attention"};
  EXPECT_EQ(parse_model_config(config_json, "config.json"), parse_model_config(tiny_native_json(), "config.json"));
}

TEST(ModelConfigParse, DefaultsForOptionalHfKeys) {
  json config_json = tiny_native_json();
  for (const char* key : {"topk_method", "bos_token_id", "eos_token_id", "max_position_embeddings", "n_shared_experts",
                          "hc_eps", "rms_norm_eps", "model_type", "architectures"}) {
    config_json.erase(key);
  }
  const ModelConfig config = parse_model_config(config_json, "config.json");
  EXPECT_EQ(config.topk_method, "noaux_tc");
  EXPECT_EQ(config.eos_token_id, 1);
  EXPECT_EQ(config.max_position_embeddings, 65536 * 16);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-6);
}

TEST(ModelConfigParse, WeightQuantFromEitherQuantisationKey) {
  json config_json = tiny_native_json();
  config_json["quantization_config"] = {{"fmt", "e4m3"}};
  EXPECT_EQ(parse_model_config(config_json, "config.json").weight_quant, "fp8");
  config_json["quantization_config"] = {{"quant_method", "something_else"}};
  EXPECT_EQ(parse_model_config(config_json, "config.json").weight_quant, "");
}

TEST(ModelConfigParse, IndexerWidthIsFreeWithoutCsaLayers) {
  json config_json = tiny_native_json();
  config_json["compress_ratios"] = {0, 16, 16, 0, 16, 0};
  config_json["index_head_dim"] = 8;
  EXPECT_EQ(parse_model_config(config_json, "config.json").index_head_dim, 8);
}

// ---------------------------------------------------------------------------------------------
// Validation: each error is one line that names the field

struct ValidationCase {
  std::string name;
  std::function<void(json&)> mutate;
  std::vector<std::string> expected_parts;
};

void PrintTo(const ValidationCase& validation_case, std::ostream* out) { *out << validation_case.name; }

class ModelConfigValidation : public ::testing::TestWithParam<ValidationCase> {};

TEST_P(ModelConfigValidation, ErrorNamesTheField) {
  json config_json = tiny_native_json();
  GetParam().mutate(config_json);
  const std::string message = config_parse_error(config_json);
  EXPECT_THAT(message, HasSubstr("config.json: "));
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  for (const auto& part : GetParam().expected_parts) EXPECT_THAT(message, HasSubstr(part));
}

template <typename Value>
std::function<void(json&)> set(const std::string& key, Value value) {
  return [key, value](json& config_json) { config_json[key] = value; };
}

std::function<void(json&)> erase(const std::string& key) {
  return [key](json& config_json) { config_json.erase(key); };
}

std::function<void(json&)> set_ratio(size_t index, int ratio) {
  return [index, ratio](json& config_json) { config_json["compress_ratios"][index] = ratio; };
}

const std::vector<std::string> kTinyLayerTypes = {"sliding_attention", "compressed_sparse_attention",
                                                  "heavily_compressed_attention", "compressed_sparse_attention",
                                                  "heavily_compressed_attention"};

INSTANTIATE_TEST_SUITE_P(
    ModelConfigErrors, ModelConfigValidation,
    ::testing::Values(
        ValidationCase{"NotAnObject", [](json& j) { j = json::array({1}); }, {"expected a JSON object"}},
        ValidationCase{"MissingHiddenSize", erase("hidden_size"),
                       {"config.json: missing field 'hidden_size'"}},
        ValidationCase{"MissingCompressRatios", erase("compress_ratios"),
                       {"missing field 'compress_ratios'"}},
        ValidationCase{"MissingYarnFactor", [](json& j) { j["rope_scaling"].erase("factor"); },
                       {"missing field 'rope_scaling.factor'"}},
        ValidationCase{"StringForInteger", set("hidden_size", "64"),
                       {"hidden_size must be an integer", "found string \"64\""}},
        ValidationCase{"FractionalInteger", set("num_attention_heads", 4.5),
                       {"num_attention_heads must be an integer", "found number 4.5"}},
        ValidationCase{"NegativeSize", set("head_dim", -64), {"head_dim must be positive", "found -64"}},
        ValidationCase{"HugeSize", set("hidden_size", int64_t{1} << 40), {"hidden_size must be at most"}},
        ValidationCase{"StringForReal", set("rope_theta", "10000"),
                       {"rope_theta must be a number", "found string \"10000\""}},
        ValidationCase{"BooleanForReal", set("routed_scaling_factor", true),
                       {"routed_scaling_factor must be a number", "found boolean true"}},
        ValidationCase{"NegativeEps", set("rms_norm_eps", -1e-6), {"rms_norm_eps must be positive"}},
        ValidationCase{"WrongModelType", set("model_type", "deepseek_v3"),
                       {"model_type is 'deepseek_v3'", "deepseek_v4"}},
        ValidationCase{"WrongArchitecture", set("architectures", json::array({"DeepseekV3ForCausalLM"})),
                       {"architectures", "DeepseekV4ForCausalLM"}},
        ValidationCase{"RatioCountMismatch",
                       [](json& j) { j["compress_ratios"].push_back(0); },
                       {"compress_ratios has 7 entries, expected num_hidden_layers + "
                        "num_nextn_predict_layers = 6"}},
        ValidationCase{"RatioCountWithoutMtp", set("num_nextn_predict_layers", 0),
                       {"compress_ratios has 6 entries", "= 5"}},
        ValidationCase{"RatioOne", set_ratio(1, 1), {"compress_ratios[1] is 1", "V4.1"}},
        ValidationCase{"RatioTwo", set_ratio(2, 2), {"compress_ratios[2] is 2", "V4.1"}},
        ValidationCase{"RatioThree", set_ratio(3, 3), {"compress_ratios[3] is 3"}},
        ValidationCase{"NegativeRatio", set_ratio(1, -4), {"compress_ratios[1] is -4"}},
        ValidationCase{"FractionalRatio",
                       [](json& j) { j["compress_ratios"][1] = 4.5; },
                       {"compress_ratios[1] must be an integer", "4.5"}},
        ValidationCase{"CompressedMtpBlock", set_ratio(5, 4), {"compress_ratios[5] is 4", "MTP"}},
        ValidationCase{"RopeNotBelowHeadDim", set("qk_rope_head_dim", 64),
                       {"qk_rope_head_dim (64) must be smaller than head_dim (64)"}},
        ValidationCase{"OddRopeDim", set("qk_rope_head_dim", 15), {"qk_rope_head_dim (15) must be even"}},
        ValidationCase{"ZeroRopeDim", set("qk_rope_head_dim", 0), {"qk_rope_head_dim must be positive"}},
        ValidationCase{"HeadsNotDivisibleByGroups", set("o_groups", 3),
                       {"num_attention_heads (4) must be divisible by o_groups (3)"}},
        ValidationCase{"IndexerTooNarrowForRope", set("index_head_dim", 16),
                       {"index_head_dim (16) must be larger than qk_rope_head_dim (16)"}},
        ValidationCase{"TooManyActiveExperts", set("num_experts_per_tok", 9),
                       {"num_experts_per_tok (9) must be at most n_routed_experts (8)"}},
        ValidationCase{"NoActiveExperts", set("num_experts_per_tok", 0),
                       {"num_experts_per_tok must be positive"}},
        ValidationCase{"TwoSharedExperts", set("n_shared_experts", 2), {"n_shared_experts is 2"}},
        ValidationCase{"TooManyHashLayers", set("num_hash_layers", 6),
                       {"num_hash_layers (6) must be at most num_hidden_layers (5)"}},
        ValidationCase{"NegativeHashLayers", set("num_hash_layers", -1),
                       {"num_hash_layers must not be negative"}},
        ValidationCase{"SoftmaxScoring", set("scoring_func", "softmax"),
                       {"scoring_func is 'softmax'", "sqrtsoftplus"}},
        ValidationCase{"GreedyTopk", set("topk_method", "greedy"), {"topk_method is 'greedy'"}},
        ValidationCase{"NoHyperConnectionStreams", set("hc_mult", 0), {"hc_mult must be positive"}},
        ValidationCase{"NoSlidingWindow", set("sliding_window", 0), {"sliding_window must be positive"}},
        ValidationCase{"TinyVocabulary", set("vocab_size", 1), {"vocab_size must be at least 2"}},
        ValidationCase{"EosOutsideVocabulary", set("eos_token_id", 1280), {"eos_token_id (1280)"}},
        ValidationCase{"LinearRopeScaling", [](json& j) { j["rope_scaling"]["type"] = "linear"; },
                       {"rope_scaling.type is 'linear'", "yarn"}},
        ValidationCase{"TiedEmbeddings", set("tie_word_embeddings", true), {"tie_word_embeddings"}},
        ValidationCase{"AttentionBias", set("attention_bias", true), {"attention_bias"}},
        ValidationCase{"SeveralKvHeads", set("num_key_value_heads", 4), {"num_key_value_heads is 4"}},
        ValidationCase{"LayerTypesDisagree",
                       [](json& j) {
                         auto layer_types = kTinyLayerTypes;
                         layer_types[2] = "sliding_attention";
                         j["layer_types"] = layer_types;
                       },
                       {"layer_types[2] is 'sliding_attention'", "compress_ratios[2] = 16",
                        "heavily_compressed_attention"}},
        ValidationCase{"LayerTypesWrongLength",
                       [](json& j) {
                         auto layer_types = kTinyLayerTypes;
                         layer_types.pop_back();
                         j["layer_types"] = layer_types;
                       },
                       {"layer_types has 4 entries"}},
        ValidationCase{"UnknownExpertDtype", set("expert_dtype", "int4"), {"expert_dtype is 'int4'"}},
        ValidationCase{"SmallWeightBlocks",
                       [](json& j) { j["quantization_config"]["weight_block_size"] = {32, 32}; },
                       {"quantization_config.weight_block_size is [32,32]"}},
        ValidationCase{"OfficialMissingDim",
                       [](json& j) { j = json::parse(kOfficialFlashConfig); j.erase("dim"); },
                       {"missing field 'dim'"}},
        ValidationCase{"OfficialRatioCount",
                       [](json& j) {
                         j = json::parse(kOfficialFlashConfig);
                         j["compress_ratios"].erase(43);
                       },
                       {"compress_ratios has 43 entries, expected n_layers + n_mtp_layers = 44"}},
        ValidationCase{"OfficialScoreFunc",
                       [](json& j) {
                         j = json::parse(kOfficialFlashConfig);
                         j["score_func"] = "sigmoid";
                       },
                       {"score_func is 'sigmoid'"}}),
    [](const ::testing::TestParamInfo<ValidationCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------------
// Loading from disk

class ModelConfigLoad : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ =
        std::filesystem::temp_directory_path() / str_cat("lightseek_model_config_", ::getpid(), "_", test->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::filesystem::path write(const std::filesystem::path& relative, const std::string& text) {
    const auto file = directory_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file;
  }

  std::string load_error(const std::filesystem::path& path) {
    try {
      load_model_config(path);
    } catch (const Error& error) {
      return error.what();
    }
    ADD_FAILURE() << "load_model_config accepted " << path;
    return {};
  }

  std::filesystem::path directory_;
};

TEST_F(ModelConfigLoad, PrefersConfigJsonInTheDirectory) {
  write("config.json", kTinyNativeConfig);
  write("inference/config.json", kOfficialFlashConfig);
  EXPECT_EQ(load_model_config(directory_).hidden_size, 64);
}

TEST_F(ModelConfigLoad, FallsBackToInferenceConfig) {
  write("inference/config.json", kOfficialFlashConfig);
  EXPECT_EQ(load_model_config(directory_), v4_flash_config());
}

TEST_F(ModelConfigLoad, ReadsAFileDirectly) {
  const auto file = write("other.json", kTinyNativeConfig);
  EXPECT_EQ(load_model_config(file).num_layers, 5);
}

TEST_F(ModelConfigLoad, ValidationErrorsNameTheFile) {
  json config_json = tiny_native_json();
  config_json.erase("head_dim");
  const auto file = write("config.json", config_json.dump());
  EXPECT_THAT(load_error(directory_), HasSubstr(file.string() + ": missing field 'head_dim'"));
}

TEST_F(ModelConfigLoad, InvalidJsonNamesFileAndPosition) {
  const auto file = write("config.json", "{\n  \"hidden_size\": 64,\n  oops\n}");
  const std::string message = load_error(directory_);
  EXPECT_THAT(message, HasSubstr(file.string() + ": invalid JSON"));
  EXPECT_THAT(message, HasSubstr("line 3"));
}

TEST_F(ModelConfigLoad, MissingFileIsNamed) {
  const auto missing = directory_ / "absent.json";
  EXPECT_THAT(load_error(missing), HasSubstr(missing.string() + ": cannot open"));
}

TEST_F(ModelConfigLoad, DirectoryWithoutConfigIsNamed) {
  EXPECT_THAT(load_error(directory_), HasSubstr("no config.json or inference/config.json"));
}

}  // namespace
}  // namespace lightseek
