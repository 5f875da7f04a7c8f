#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "formats/checkpoint.h"
#include "formats/model_binding.h"
#include "formats/synthetic_model.h"
#include "formats/tensor_inventory.h"
#include "test_paths.h"

namespace lightseek {
namespace {

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t total_bytes(const std::vector<StoredTensor>& layout) {
  uint64_t bytes = 0;
  for (const StoredTensor& tensor : layout) {
    uint64_t count = dtype_size(tensor.dtype);
    for (int64_t extent : tensor.shape) count *= static_cast<uint64_t>(extent);
    bytes += count;
  }
  return bytes;
}

// Spec §10.3: enumerating the tensors of §10.2 gives the byte total of the released index.
TEST(TensorInventory, FlashNativeLayoutMatchesTheReleasedIndexTotal) {
  const auto layout = stored_layout(v4_flash_config(), WeightPrecision::Native);
  EXPECT_EQ(layout.size(), 69187u);
  EXPECT_EQ(total_bytes(layout), 159609485896ull);
}

TEST(TensorInventory, ProNativeLayoutMatchesTheComputedTotal) {
  const auto layout = stored_layout(v4_pro_config(), WeightPrecision::Native);
  EXPECT_EQ(layout.size(), 145116u);
  EXPECT_EQ(total_bytes(layout), 864704792696ull);
}

TEST(TensorInventory, ScaleNamesReplaceTheWeightSuffix) {
  EXPECT_EQ(scale_name_for("layers.1.attn.wq_b.weight"), "layers.1.attn.wq_b.scale");
  EXPECT_EQ(scale_name_for("mtp.0.e_proj.weight"), "mtp.0.e_proj.scale");
}

struct Stored {
  std::string dtype;
  std::vector<int64_t> shape;
  bool operator==(const Stored&) const = default;
};

// The V4-Flash rows of spec §10.2, written out independently of tensor_inventory.cpp.
class FlashTable {
 public:
  FlashTable(int64_t vocab, int64_t experts) : vocab_(vocab), experts_(experts) {}

  void fp8(const std::string& name, int64_t out, int64_t in) {
    rows_[name + ".weight"] = {"F8_E4M3", {out, in}};
    rows_[name + ".scale"] = {"F8_E8M0", {(out + 127) / 128, (in + 127) / 128}};
  }
  void fp4(const std::string& name, int64_t out, int64_t in) {
    rows_[name + ".weight"] = {"I8", {out, in / 2}};
    rows_[name + ".scale"] = {"F8_E8M0", {out, in / 32}};
  }
  void plain(const std::string& name, const std::string& dtype, std::vector<int64_t> shape) {
    rows_[name] = {dtype, std::move(shape)};
  }

  void block(const std::string& p, int ratio, bool hash) {
    for (const char* hc : {".hc_attn", ".hc_ffn"}) {
      plain(p + hc + "_fn", "F32", {24, 16384});
      plain(p + hc + "_base", "F32", {24});
      plain(p + hc + "_scale", "F32", {3});
    }
    plain(p + ".attn_norm.weight", "BF16", {4096});
    plain(p + ".ffn_norm.weight", "BF16", {4096});
    plain(p + ".attn.attn_sink", "F32", {64});
    fp8(p + ".attn.wq_a", 1024, 4096);
    plain(p + ".attn.q_norm.weight", "BF16", {1024});
    fp8(p + ".attn.wq_b", 32768, 1024);
    fp8(p + ".attn.wkv", 512, 4096);
    plain(p + ".attn.kv_norm.weight", "BF16", {512});
    fp8(p + ".attn.wo_a", 8192, 4096);
    fp8(p + ".attn.wo_b", 4096, 8192);
    if (ratio == 4) {
      plain(p + ".attn.compressor.ape", "F32", {4, 1024});
      plain(p + ".attn.compressor.wkv.weight", "BF16", {1024, 4096});
      plain(p + ".attn.compressor.wgate.weight", "BF16", {1024, 4096});
      plain(p + ".attn.compressor.norm.weight", "BF16", {512});
      fp8(p + ".attn.indexer.wq_b", 8192, 1024);
      plain(p + ".attn.indexer.weights_proj.weight", "BF16", {64, 4096});
      plain(p + ".attn.indexer.compressor.ape", "F32", {4, 256});
      plain(p + ".attn.indexer.compressor.wkv.weight", "BF16", {256, 4096});
      plain(p + ".attn.indexer.compressor.wgate.weight", "BF16", {256, 4096});
      plain(p + ".attn.indexer.compressor.norm.weight", "BF16", {128});
    } else if (ratio == 128) {
      plain(p + ".attn.compressor.ape", "F32", {128, 512});
      plain(p + ".attn.compressor.wkv.weight", "BF16", {512, 4096});
      plain(p + ".attn.compressor.wgate.weight", "BF16", {512, 4096});
      plain(p + ".attn.compressor.norm.weight", "BF16", {512});
    }
    plain(p + ".ffn.gate.weight", "BF16", {experts_, 4096});
    if (hash) plain(p + ".ffn.gate.tid2eid", "I64", {vocab_, 6});
    else plain(p + ".ffn.gate.bias", "F32", {experts_});
    fp8(p + ".ffn.shared_experts.w1", 2048, 4096);
    fp8(p + ".ffn.shared_experts.w3", 2048, 4096);
    fp8(p + ".ffn.shared_experts.w2", 4096, 2048);
    for (int64_t e = 0; e < experts_; ++e) {
      const std::string expert = p + ".ffn.experts." + std::to_string(e);
      fp4(expert + ".w1", 2048, 4096);
      fp4(expert + ".w3", 2048, 4096);
      fp4(expert + ".w2", 4096, 2048);
    }
  }

  void mtp(const std::string& p) {
    block(p, 0, false);
    fp8(p + ".e_proj", 4096, 4096);
    fp8(p + ".h_proj", 4096, 4096);
    for (const char* norm : {".enorm.weight", ".hnorm.weight", ".norm.weight"}) plain(p + norm, "BF16", {4096});
    plain(p + ".hc_head_fn", "F32", {4, 16384});
    plain(p + ".hc_head_base", "F32", {4});
    plain(p + ".hc_head_scale", "F32", {1});
  }

  void globals() {
    plain("embed.weight", "BF16", {vocab_, 4096});
    plain("head.weight", "BF16", {vocab_, 4096});
    plain("norm.weight", "BF16", {4096});
    plain("hc_head_fn", "F32", {4, 16384});
    plain("hc_head_base", "F32", {4});
    plain("hc_head_scale", "F32", {1});
  }

  const std::map<std::string, Stored>& rows() const { return rows_; }

 private:
  int64_t vocab_, experts_;
  std::map<std::string, Stored> rows_;
};

TEST(TensorInventory, FlashSliceCheckpointMatchesTheSpecTableExactly) {
  const int64_t vocab = 1024, experts = 6;
  const auto dir = test_temp_dir("flash_slice");
  write_synthetic_model(dir, flash_slice_config(4, experts, true, vocab), {});

  FlashTable table(vocab, experts);
  table.globals();
  table.block("layers.0", 0, true);
  table.block("layers.1", 0, true);
  table.block("layers.2", 4, true);
  table.block("layers.3", 128, false);
  table.mtp("mtp.0");

  // Opening and binding maps the file without reading the weights: resident memory grows by
  // far less than the 1.2 GB checkpoint.
  const uint64_t rss_before = resident_bytes();
  const Checkpoint checkpoint = Checkpoint::open(dir);
  const ModelWeights weights = bind_model(load_model_config(dir), checkpoint);
  EXPECT_LT(resident_bytes() - rss_before, 64ull << 20);
  EXPECT_GT(checkpoint.total_bytes(), 1000ull << 20);
  std::map<std::string, Stored> written;
  for (const auto& [name, tensor] : checkpoint.tensors()) {
    written[name] = {std::string(dtype_name(tensor.dtype)), tensor.shape};
  }
  for (const auto& [name, row] : table.rows()) {
    const auto found = written.find(name);
    if (found == written.end()) {
      ADD_FAILURE() << "missing " << name;
    } else {
      EXPECT_EQ(found->second, row) << name;
    }
  }
  for (const auto& [name, row] : written) {
    EXPECT_TRUE(table.rows().contains(name)) << "not in spec §10.2: " << name;
  }
  std::filesystem::remove_all(dir);
}

TEST(TensorInventory, ExpertCountChangesOnlyTheRoutedExperts) {
  auto names_without_experts = [](const ModelConfig& config) {
    std::map<std::string, std::vector<int64_t>> rows;
    for (const ExpectedTensor& t : expected_tensors(config)) {
      if (t.module == ModuleKind::RoutedExpert || t.module == ModuleKind::Router) continue;
      rows[t.name] = t.shape;
    }
    return rows;
  };
  const ModelConfig full = flash_slice_config(4, 256, true);
  const ModelConfig few = flash_slice_config(4, 8, true);
  EXPECT_EQ(names_without_experts(full), names_without_experts(few));
  size_t full_experts = 0, few_experts = 0;
  for (const auto& t : expected_tensors(full)) full_experts += t.module == ModuleKind::RoutedExpert;
  for (const auto& t : expected_tensors(few)) few_experts += t.module == ModuleKind::RoutedExpert;
  EXPECT_EQ(full_experts, 5u * 256 * 3);
  EXPECT_EQ(few_experts, 5u * 8 * 3);
}

}  // namespace
}  // namespace lightseek
