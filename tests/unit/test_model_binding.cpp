#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/checkpoint.h"
#include "formats/model_binding.h"
#include "formats/safetensors_writer.h"
#include "kernels/dequantize.h"
#include "test_paths.h"

namespace lightseek {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

Binding bind_dir(const std::filesystem::path& dir) {
  const ModelConfig config = load_model_config(dir);
  const Checkpoint checkpoint = Checkpoint::open(dir);
  return bind_checkpoint(config, checkpoint);
}

class OracleBinding : public ::testing::TestWithParam<std::string> {};

TEST_P(OracleBinding, BindsWithoutProblemsOrNotes) {
  const auto dir = oracle_dir(GetParam());
  const ModelConfig config = load_model_config(dir);
  const Checkpoint checkpoint = Checkpoint::open(dir);
  const Binding binding = bind_checkpoint(config, checkpoint);
  EXPECT_TRUE(binding.report.ok()) << binding.report.describe_problems();
  EXPECT_TRUE(binding.report.notes.empty());
  EXPECT_EQ(binding.report.bound.size(), checkpoint.size());  // every tensor consumed once
  const ModelWeights& w = binding.weights;
  ASSERT_EQ(w.layers.size(), 5u);
  EXPECT_FALSE(w.layers[0].attn.has_compressor);
  EXPECT_TRUE(w.layers[1].attn.has_indexer);
  EXPECT_TRUE(w.layers[2].attn.has_compressor);
  EXPECT_FALSE(w.layers[2].attn.has_indexer);
  EXPECT_NE(w.layers[0].ffn.tid2eid.data, nullptr);
  EXPECT_EQ(w.layers[2].ffn.tid2eid.data, nullptr);
  EXPECT_NE(w.layers[2].ffn.gate_bias.data, nullptr);
  EXPECT_EQ(w.layers[3].ffn.experts.size(), 8u);
  EXPECT_EQ(w.mtp.size(), GetParam().ends_with("native") ? 1u : 0u);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, OracleBinding,
                         ::testing::Values("tiny", "tiny_bf16", "tiny_native", "flash_ratios", "flash_ratios_bf16",
                                           "flash_ratios_native"));

TEST(ModelBinding, NativeFixtureKeepsTheReleasedFormats) {
  const auto dir = oracle_dir("tiny_native");
  const ModelConfig config = load_model_config(dir);
  const Checkpoint checkpoint = Checkpoint::open(dir);
  const ModelWeights w = bind_model(config, checkpoint);
  EXPECT_EQ(w.layers[1].attn.wq_b.format, WeightFormat::FP8_E4M3_BLOCK128);
  EXPECT_EQ(w.layers[1].attn.compressor.wkv.format, WeightFormat::BF16);
  EXPECT_EQ(w.layers[1].ffn.experts[3].w2.format, WeightFormat::FP4_E2M1_BLOCK32);
  EXPECT_EQ(w.layers[1].ffn.shared.w1.format, WeightFormat::FP8_E4M3_BLOCK128);
  EXPECT_EQ(w.mtp[0].e_proj.format, WeightFormat::FP8_E4M3_BLOCK128);
  EXPECT_EQ(w.embed.format, WeightFormat::BF16);
  // Zero-copy: the bound weight points into the mapped checkpoint.
  EXPECT_EQ(w.layers[1].attn.wq_b.weight.data, checkpoint.find("layers.1.attn.wq_b.weight")->data);
}

// Rewrites a checkpoint's tensors into a new file, optionally renaming, dropping or replacing.
struct Rewrite {
  std::function<std::string(const std::string&)> rename = [](const std::string& n) { return n; };
  std::vector<TensorToWrite> extra;
};

void rewrite_checkpoint(const std::filesystem::path& from, const std::filesystem::path& to, const Rewrite& rewrite) {
  std::filesystem::create_directories(to);
  std::filesystem::copy_file(from / "config.json", to / "config.json",
                             std::filesystem::copy_options::overwrite_existing);
  const Checkpoint source = Checkpoint::open(from);
  std::vector<TensorToWrite> tensors;
  for (const auto& [name, tensor] : source.tensors()) {
    const std::string renamed = rewrite.rename(name);
    if (renamed.empty()) continue;
    const TensorView* view = &tensor;
    tensors.push_back({renamed, tensor.dtype, tensor.shape,
                       [view](std::span<uint8_t> out) { std::memcpy(out.data(), view->data, out.size()); }});
  }
  for (const auto& extra : rewrite.extra) tensors.push_back(extra);
  write_safetensors(to / "model.safetensors", tensors);
}

TEST(ModelBinding, ReportsMissingUnexpectedAndMismatchedTensorsAllAtOnce) {
  const auto dir = test_temp_dir("binding_problems");
  Rewrite rewrite;
  rewrite.rename = [](const std::string& name) -> std::string {
    if (name == "layers.2.attn.wkv.weight") return "";                 // missing
    if (name == "layers.4.ffn.experts.7.w2.weight") return "";         // missing
    if (name == "layers.1.attn.kv_norm.weight") return "";             // replaced below: wrong shape
    if (name == "layers.0.attn.attn_sink") return "";                  // replaced below: wrong dtype
    return name;
  };
  rewrite.extra.push_back({"layers.1.attn.kv_norm.weight", DType::F32, {63}, [](std::span<uint8_t> out) {
                             std::memset(out.data(), 0, out.size());
                           }});
  rewrite.extra.push_back({"layers.0.attn.attn_sink", DType::I64, {4}, [](std::span<uint8_t> out) {
                             std::memset(out.data(), 0, out.size());
                           }});
  rewrite.extra.push_back({"layers.9.attn.wkv.weight", DType::F32, {2}, [](std::span<uint8_t> out) {
                             std::memset(out.data(), 0, out.size());
                           }});
  rewrite_checkpoint(oracle_dir("tiny"), dir, rewrite);

  const Binding binding = bind_dir(dir);
  const BindingReport& report = binding.report;
  EXPECT_FALSE(report.ok());
  EXPECT_THAT(report.missing, Contains("layers.2.attn.wkv.weight"));
  EXPECT_THAT(report.missing, Contains("layers.4.ffn.experts.7.w2.weight"));
  EXPECT_EQ(report.missing.size(), 2u);
  EXPECT_THAT(report.unexpected, Contains("layers.9.attn.wkv.weight"));
  EXPECT_EQ(report.unexpected.size(), 1u);
  ASSERT_EQ(report.mismatched.size(), 2u);
  const std::string problems = report.describe_problems();
  EXPECT_THAT(problems, HasSubstr("layers.1.attn.kv_norm.weight: F32 [63] but the config implies [64]"));
  EXPECT_THAT(problems, HasSubstr("layers.0.attn.attn_sink: dtype I64"));
  EXPECT_THAT(problems, HasSubstr("2 missing tensors"));

  const ModelConfig config = load_model_config(dir);
  const Checkpoint checkpoint = Checkpoint::open(dir);
  try {
    bind_model(config, checkpoint);
    ADD_FAILURE() << "bind_model accepted a broken checkpoint";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("layers.9.attn.wkv.weight"));
    EXPECT_THAT(error.what(), HasSubstr("layers.2.attn.wkv.weight"));
  }
  std::filesystem::remove_all(dir);
}

TEST(ModelBinding, QuantizedWeightWithoutItsScaleIsReported) {
  const auto dir = test_temp_dir("binding_scale");
  Rewrite rewrite;
  rewrite.rename = [](const std::string& name) -> std::string {
    return name == "layers.3.ffn.experts.0.w1.scale" ? "" : name;
  };
  rewrite_checkpoint(oracle_dir("tiny_native"), dir, rewrite);
  const Binding binding = bind_dir(dir);
  EXPECT_THAT(binding.report.missing, Contains("layers.3.ffn.experts.0.w1.scale"));
  std::filesystem::remove_all(dir);
}

TEST(ModelBinding, AcceptsHfTransformersNamesIncludingStackedExperts) {
  const auto native_dir = oracle_dir("tiny");
  const auto dir = test_temp_dir("binding_hf");
  const ModelConfig config = load_model_config(native_dir);
  const Checkpoint native = Checkpoint::open(native_dir);
  const int64_t experts = config.n_routed_experts, inter = config.moe_intermediate_size, dim = config.hidden_size;

  std::vector<TensorToWrite> tensors;
  for (const auto& [name, tensor] : native.tensors()) {
    if (name.find(".ffn.experts.") != std::string::npos) continue;
    const std::string hf = hf_name_for(name);
    ASSERT_FALSE(hf.empty()) << name;
    const TensorView* view = &tensor;
    tensors.push_back({hf, tensor.dtype, tensor.shape,
                       [view](std::span<uint8_t> out) { std::memcpy(out.data(), view->data, out.size()); }});
  }
  for (int layer = 0; layer < config.num_layers; ++layer) {
    const std::string p = "layers." + std::to_string(layer) + ".ffn.experts.";
    const Checkpoint* source = &native;
    tensors.push_back({"model.layers." + std::to_string(layer) + ".mlp.experts.gate_up_proj", DType::F32,
                       {experts, 2 * inter, dim}, [=](std::span<uint8_t> out) {
                         const size_t block = static_cast<size_t>(inter * dim * 4);
                         for (int64_t e = 0; e < experts; ++e) {
                           const std::string prefix = p + std::to_string(e);
                           std::memcpy(out.data() + (2 * e) * block, source->find(prefix + ".w1.weight")->data, block);
                           std::memcpy(out.data() + (2 * e + 1) * block, source->find(prefix + ".w3.weight")->data,
                                       block);
                         }
                       }});
    tensors.push_back({"model.layers." + std::to_string(layer) + ".mlp.experts.down_proj", DType::F32,
                       {experts, dim, inter}, [=](std::span<uint8_t> out) {
                         const size_t block = static_cast<size_t>(inter * dim * 4);
                         for (int64_t e = 0; e < experts; ++e) {
                           std::memcpy(out.data() + e * block,
                                       source->find(p + std::to_string(e) + ".w2.weight")->data, block);
                         }
                       }});
  }
  write_safetensors(dir / "model.safetensors", tensors);
  std::filesystem::copy_file(native_dir / "config.json", dir / "config.json");

  const Checkpoint hf_checkpoint = Checkpoint::open(dir);
  const Binding hf = bind_checkpoint(config, hf_checkpoint);
  ASSERT_TRUE(hf.report.ok()) << hf.report.describe_problems();
  EXPECT_THAT(hf.report.notes, Contains("tensor names: HF transformers"));
  const ModelWeights reference = bind_model(config, native);
  for (int layer : {0, 3}) {
    for (int expert : {0, 5, 7}) {
      const ExpertWeights& a = reference.layers[layer].ffn.experts[expert];
      const ExpertWeights& b = hf.weights.layers[layer].ffn.experts[expert];
      for (int64_t r = 0; r < inter; r += 7) {
        for (int64_t c = 0; c < dim; c += 5) {
          EXPECT_EQ(weight_value(a.w1, r, c), weight_value(b.w1, r, c));
          EXPECT_EQ(weight_value(a.w3, r, c), weight_value(b.w3, r, c));
          EXPECT_EQ(weight_value(a.w2, c, r), weight_value(b.w2, c, r));
        }
      }
    }
    EXPECT_EQ(weight_value(reference.layers[layer].attn.wq_b, 3, 4), weight_value(hf.weights.layers[layer].attn.wq_b, 3, 4));
  }
  std::filesystem::remove_all(dir);
}

TEST(ModelBinding, HfNamesFollowTheTransformersConvention) {
  EXPECT_EQ(hf_name_for("embed.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(hf_name_for("head.weight"), "lm_head.weight");
  EXPECT_EQ(hf_name_for("hc_head_fn"), "model.hc_head.hc_fn");
  EXPECT_EQ(hf_name_for("layers.7.attn.wq_a.weight"), "model.layers.7.self_attn.q_a_proj.weight");
  EXPECT_EQ(hf_name_for("layers.7.attn.wq_a.scale"), "model.layers.7.self_attn.q_a_proj.weight_scale_inv");
  EXPECT_EQ(hf_name_for("layers.2.attn.indexer.compressor.ape"),
            "model.layers.2.self_attn.compressor.indexer.position_bias");
  EXPECT_EQ(hf_name_for("layers.2.attn.indexer.weights_proj.weight"),
            "model.layers.2.self_attn.compressor.indexer.scorer.weights_proj.weight");
  EXPECT_EQ(hf_name_for("layers.0.hc_attn_scale"), "model.layers.0.attn_hc.scale");
  EXPECT_EQ(hf_name_for("layers.0.ffn.gate.bias"), "model.layers.0.mlp.gate.e_score_correction_bias");
  EXPECT_EQ(hf_name_for("layers.0.ffn.shared_experts.w2.weight"), "model.layers.0.mlp.shared_experts.down_proj.weight");
  EXPECT_EQ(hf_name_for("layers.0.ffn_norm.weight"), "model.layers.0.post_attention_layernorm.weight");
  EXPECT_EQ(hf_name_for("mtp.0.e_proj.weight"), "");
}

TEST(ModelBinding, CheckpointWithoutTheDeclaredMtpBlockBindsWithANote) {
  const auto dir = test_temp_dir("binding_no_mtp");
  Rewrite rewrite;
  rewrite.rename = [](const std::string& name) -> std::string { return name.starts_with("mtp.") ? "" : name; };
  rewrite_checkpoint(oracle_dir("tiny_native"), dir, rewrite);
  const Binding binding = bind_dir(dir);
  EXPECT_TRUE(binding.report.ok()) << binding.report.describe_problems();
  EXPECT_TRUE(binding.weights.mtp.empty());
  ASSERT_EQ(binding.report.notes.size(), 1u);
  EXPECT_THAT(binding.report.notes[0], HasSubstr("MTP"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lightseek
