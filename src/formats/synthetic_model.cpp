#include "formats/synthetic_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string_view>

#include "core/error.h"
#include "core/number_formats.h"
#include "formats/safetensors_writer.h"

namespace lightseek {
namespace {

// xoshiro256** seeded by splitmix64: fast, and identical on every platform.
class Random {
 public:
  explicit Random(uint64_t seed) {
    for (auto& word : state_) word = splitmix(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }
  // Approximately standard normal (Irwin–Hall of four 16-bit uniforms): good enough for
  // synthetic weights and ten times cheaper than Box–Muller.
  float normal() {
    const uint64_t bits = next();
    const float sum = static_cast<float>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) +
                                         ((bits >> 32) & 0xFFFF) + (bits >> 48));
    return (sum / 65536.0f - 2.0f) * 1.7320508f;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_[4];
};

uint64_t name_hash(std::string_view name) {
  uint64_t hash = 0xCBF29CE484222325ull;  // FNV-1a
  for (unsigned char c : name) hash = (hash ^ c) * 0x100000001B3ull;
  return hash;
}

// How a tensor's values are drawn: value = offset + spread · N(0, 1).
struct Distribution {
  float offset = 0.0f;
  float spread = 1.0f;
};

Distribution distribution_for(const std::string& name, const std::vector<int64_t>& shape) {
  const auto ends = [&](std::string_view suffix) { return name.ends_with(suffix); };
  if (name == "embed.weight") return {0.0f, 1.0f};
  if (ends("norm.weight")) return {1.0f, 0.1f};
  if (ends("attn_sink")) return {0.0f, 1.0f};
  if (ends(".ape")) return {0.0f, 0.1f};
  if (ends("gate.bias")) return {0.0f, 0.3f};
  if (ends("_base")) return {0.0f, 0.1f};
  if (ends("_scale")) return {0.5f, 0.1f};
  // Matrices: unit-variance outputs for unit-variance inputs.
  const float fan_in = shape.size() >= 2 ? static_cast<float>(shape[1]) : 1.0f;
  return {0.0f, 1.0f / std::sqrt(fan_in)};
}

// Quantised weights are drawn directly as codes: a lookup table maps 16 random bits to the
// code nearest a normal quantile with standard deviation `code_sigma` (in code units), and
// every block of the tensor shares one power-of-two scale that brings that deviation to the
// target. This writes gigabytes in seconds, where quantising float samples took minutes.
struct CodeTable {
  std::vector<uint8_t> codes;  // 65536 entries
  float code_sigma = 1.0f;
};

float normal_quantile(double p) {
  // Bisection on erfc: exact enough for a table built once.
  double low = -10.0, high = 10.0;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (low + high);
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? low : high) = mid;
  }
  return static_cast<float>(0.5 * (low + high));
}

CodeTable make_code_table(float code_sigma, uint8_t (*encode)(float)) {
  CodeTable table;
  table.code_sigma = code_sigma;
  table.codes.resize(65536);
  for (size_t i = 0; i < table.codes.size(); ++i) {
    table.codes[i] = encode(code_sigma * normal_quantile((static_cast<double>(i) + 0.5) / 65536.0));
  }
  return table;
}

const CodeTable& fp8_code_table() {
  static const CodeTable table = make_code_table(64.0f, f32_to_fp8_e4m3);
  return table;
}

const CodeTable& fp4_code_table() {
  static const CodeTable table = make_code_table(1.5f, f32_to_fp4_e2m1);
  return table;
}

void fill_codes(Random& random, const CodeTable& table, std::span<uint8_t> out) {
  size_t i = 0;
  for (; i + 4 <= out.size(); i += 4) {
    const uint64_t bits = random.next();
    out[i] = table.codes[bits & 0xFFFF];
    out[i + 1] = table.codes[(bits >> 16) & 0xFFFF];
    out[i + 2] = table.codes[(bits >> 32) & 0xFFFF];
    out[i + 3] = table.codes[bits >> 48];
  }
  for (; i < out.size(); ++i) out[i] = table.codes[random.next() & 0xFFFF];
}

// The e8m0 byte of the power of two nearest target_sigma / code_sigma.
uint8_t scale_byte_for(float target_sigma, float code_sigma) {
  const int exponent = static_cast<int>(std::lround(std::log2(target_sigma / code_sigma)));
  return static_cast<uint8_t>(std::clamp(exponent + 127, 0, 254));
}

// Produces the bytes of every stored tensor. A quantised weight and its ".scale" are made
// together (the scale is written when the weight is), so the writer's callbacks share state.
class WeightFactory {
 public:
  WeightFactory(const ModelConfig& config, uint64_t seed) : config_(config), seed_(seed) {}

  void fill(const StoredTensor& tensor, const std::vector<int64_t>& logical_shape,
            std::span<uint8_t> out) {
    if (tensor.is_scale) {
      if (pending_scale_name_ != tensor.name || pending_scale_.size() != out.size()) {
        fail("internal: scale ", tensor.name, " was not produced with its weight");
      }
      std::memcpy(out.data(), pending_scale_.data(), out.size());
      pending_scale_.clear();
      pending_scale_name_.clear();
      return;
    }
    Random random(seed_ ^ name_hash(tensor.name));
    const int64_t count = std::accumulate(logical_shape.begin(), logical_shape.end(), int64_t{1},
                                          std::multiplies<>());
    const Distribution distribution = distribution_for(tensor.name, logical_shape);
    switch (tensor.dtype) {
      case DType::I64:
        return fill_token_table(random, logical_shape, out);
      case DType::F32:
        for (int64_t i = 0; i < count; ++i) {
          const float value = distribution.offset + distribution.spread * random.normal();
          std::memcpy(out.data() + 4 * i, &value, 4);
        }
        return;
      case DType::BF16:
        for (int64_t i = 0; i < count; ++i) {
          const uint16_t bits =
              f32_to_bf16(distribution.offset + distribution.spread * random.normal());
          std::memcpy(out.data() + 2 * i, &bits, 2);
        }
        return;
      case DType::F8_E4M3: {
        const CodeTable& table = fp8_code_table();
        fill_codes(random, table, out);
        const int64_t rows = logical_shape[0], cols = logical_shape[1];
        pending_scale_.assign(static_cast<size_t>(((rows + 127) / 128) * ((cols + 127) / 128)),
                              scale_byte_for(distribution.spread, table.code_sigma));
        pending_scale_name_ = scale_name_for(tensor.name);
        return;
      }
      case DType::I8: {
        const CodeTable& table = fp4_code_table();
        for (size_t i = 0; i < out.size(); i += 2) {  // two packed pairs per 64 random bits
          const uint64_t bits = random.next();
          out[i] = static_cast<uint8_t>(table.codes[bits & 0xFFFF] |
                                        (table.codes[(bits >> 16) & 0xFFFF] << 4));
          if (i + 1 < out.size()) {
            out[i + 1] = static_cast<uint8_t>(table.codes[(bits >> 32) & 0xFFFF] |
                                              (table.codes[bits >> 48] << 4));
          }
        }
        const int64_t rows = logical_shape[0], cols = logical_shape[1];
        pending_scale_.assign(static_cast<size_t>(rows * (cols / 32)),
                              scale_byte_for(distribution.spread, table.code_sigma));
        pending_scale_name_ = scale_name_for(tensor.name);
        return;
      }
      default:
        fail("internal: gen-model cannot produce ", dtype_name(tensor.dtype), " for ", tensor.name);
    }
  }

 private:
  // Each token gets top-k distinct experts, like the released tid2eid tables.
  void fill_token_table(Random& random, const std::vector<int64_t>& shape, std::span<uint8_t> out) {
    const int64_t tokens = shape[0], top_k = shape[1];
    std::vector<int64_t> experts(static_cast<size_t>(config_.n_routed_experts));
    for (int64_t t = 0; t < tokens; ++t) {
      std::iota(experts.begin(), experts.end(), 0);
      for (int64_t k = 0; k < top_k; ++k) {  // partial Fisher–Yates
        const int64_t pick =
            k + static_cast<int64_t>(random.next() % static_cast<uint64_t>(experts.size() - k));
        std::swap(experts[k], experts[pick]);
        std::memcpy(out.data() + 8 * (t * top_k + k), &experts[k], 8);
      }
    }
  }

  const ModelConfig& config_;
  uint64_t seed_;
  std::vector<uint8_t> pending_scale_;
  std::string pending_scale_name_;
};

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) fail(path.string(), ": cannot write");
}

}  // namespace

void write_synthetic_model(const std::filesystem::path& dir, const ModelConfig& config,
                           const SyntheticModelOptions& options) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) fail(dir.string(), ": cannot create directory: ", error.message());

  const std::vector<StoredTensor> layout = stored_layout(config, options.precision);
  std::map<std::string, std::vector<int64_t>> logical_shapes;
  for (const ExpectedTensor& tensor : expected_tensors(config))
    logical_shapes[tensor.name] = tensor.shape;

  // Group tensors into shards, keeping each weight with its scale.
  std::vector<std::vector<const StoredTensor*>> shards(1);
  uint64_t shard_bytes = 0, total_bytes = 0;
  for (const StoredTensor& tensor : layout) {
    const uint64_t bytes = tensor_nbytes(tensor.dtype, tensor.shape);
    const bool split = options.max_shard_bytes > 0 && shard_bytes > 0 && !tensor.is_scale &&
                       shard_bytes + bytes > options.max_shard_bytes;
    if (split) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(&tensor);
    shard_bytes += bytes;
    total_bytes += bytes;
  }

  WeightFactory factory(config, options.seed);
  uint64_t written = 0;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (size_t s = 0; s < shards.size(); ++s) {
    char shard_name[64];
    std::snprintf(shard_name, sizeof shard_name, "model-%05zu-of-%05zu.safetensors", s + 1,
                  shards.size());
    const std::string file_name = options.max_shard_bytes > 0 ? shard_name : "model.safetensors";
    std::vector<TensorToWrite> tensors;
    for (const StoredTensor* tensor : shards[s]) {
      weight_map[tensor->name] = file_name;
      const auto logical = tensor->is_scale ? tensor->shape : logical_shapes.at(tensor->name);
      const uint64_t bytes = tensor_nbytes(tensor->dtype, tensor->shape);
      tensors.push_back({tensor->name, tensor->dtype, tensor->shape,
                         [&, tensor, logical, bytes](std::span<uint8_t> out) {
                           factory.fill(*tensor, logical, out);
                           written += bytes;
                           if (options.progress) options.progress(written, total_bytes);
                         }});
    }
    write_safetensors(dir / file_name, tensors, {{"format", "pt"}});
  }
  if (options.max_shard_bytes > 0) {
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", total_bytes}};
    index["weight_map"] = weight_map;
    write_text_file(dir / "model.safetensors.index.json", index.dump(2) + "\n");
  } else {
    std::filesystem::remove(dir / "model.safetensors.index.json", error);
  }
  write_text_file(dir / "config.json", to_hf_config_json(config).dump(2) + "\n");
}

ModelConfig tiny_model_config(bool real_vocab) {
  ModelConfig c;
  c.vocab_size = real_vocab ? 129280 : 1280;
  c.hidden_size = 64;
  c.num_layers = 5;
  c.num_heads = 4;
  c.head_dim = 64;
  c.rope_head_dim = 16;
  c.q_lora_rank = 32;
  c.o_groups = 2;
  c.o_lora_rank = 16;
  c.sliding_window = 16;
  c.compress_ratios = {0, 4, 16, 4, 16, 0};
  c.rope_theta = 10000;
  c.compress_rope_theta = 160000;
  c.yarn = {16.0, 65536, 32.0, 1.0};
  c.max_position_embeddings = 1048576;
  c.index_n_heads = 16;
  c.index_head_dim = 32;
  c.index_topk = 4;
  c.n_routed_experts = 8;
  c.num_experts_per_tok = 2;
  c.n_shared_experts = 1;
  c.moe_intermediate_size = 32;
  c.num_hash_layers = 2;
  c.routed_scaling_factor = 1.5;
  c.swiglu_limit = 1.5;
  c.num_mtp_layers = 1;
  c.weight_quant = "fp8";
  c.expert_dtype = "fp4";
  return c;
}

ModelConfig flash_slice_config(int layers, int experts, bool with_mtp, int64_t vocab) {
  ModelConfig c = v4_flash_config();
  if (layers < 1 || layers > c.num_layers)
    fail("--layers must be between 1 and ", c.num_layers, ", got ", layers);
  if (experts < c.num_experts_per_tok || experts > c.n_routed_experts) {
    fail("--experts must be between ", c.num_experts_per_tok, " and ", c.n_routed_experts, ", got ",
         experts);
  }
  std::vector<int> ratios(c.compress_ratios.begin(), c.compress_ratios.begin() + layers);
  if (with_mtp) ratios.push_back(0);
  c.compress_ratios = ratios;
  c.num_layers = layers;
  c.num_mtp_layers = with_mtp ? 1 : 0;
  c.num_hash_layers = std::min<int64_t>(c.num_hash_layers, layers);
  c.n_routed_experts = experts;
  if (vocab < 0 || vocab == 1) fail("--vocab must be at least 2, got ", vocab);
  if (vocab > 0) c.vocab_size = vocab;
  return c;
}

}  // namespace lightseek
