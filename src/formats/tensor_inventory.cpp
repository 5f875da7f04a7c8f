#include "formats/tensor_inventory.h"

#include "core/error.h"

namespace lightseek {

std::string_view tensor_role_name(TensorRole role) {
  switch (role) {
    case TensorRole::QuantizedLinear:
      return "quantized-linear";
    case TensorRole::ExpertLinear:
      return "expert-linear";
    case TensorRole::Matrix16:
      return "matrix";
    case TensorRole::Vector16:
      return "norm";
    case TensorRole::Float32:
      return "f32-parameter";
    case TensorRole::TokenTable:
      return "token-table";
  }
  return "?";
}

std::string_view module_kind_name(ModuleKind kind) {
  switch (kind) {
    case ModuleKind::Embedding:
      return "embeddings";
    case ModuleKind::Attention:
      return "attention";
    case ModuleKind::HyperConnection:
      return "hyper-connections";
    case ModuleKind::Norm:
      return "norms";
    case ModuleKind::Router:
      return "router";
    case ModuleKind::SharedExpert:
      return "shared experts";
    case ModuleKind::RoutedExpert:
      return "routed experts";
    case ModuleKind::MtpProjection:
      return "mtp projections";
  }
  return "?";
}

namespace {

class InventoryBuilder {
 public:
  explicit InventoryBuilder(const ModelConfig& config) : config_(config) {}

  void add(std::string name, std::vector<int64_t> shape, TensorRole role, ModuleKind module) {
    tensors_.push_back({std::move(name), std::move(shape), role, module, layer_});
  }

  // Blocks mix into pre/post/comb (three scales); the final head has one.
  void add_hyper_connection(const std::string& prefix, int64_t outputs, int64_t scales) {
    const int64_t streams = config_.hc_mult;
    add(prefix + "_fn", {outputs, streams * config_.hidden_size}, TensorRole::Float32,
        ModuleKind::HyperConnection);
    add(prefix + "_base", {outputs}, TensorRole::Float32, ModuleKind::HyperConnection);
    add(prefix + "_scale", {scales}, TensorRole::Float32, ModuleKind::HyperConnection);
  }

  void add_compressor(const std::string& prefix, int ratio, int64_t width) {
    const int64_t copies = ratio == 4 ? 2 : 1;  // CSA pools overlapping windows: two series
    const int64_t dim = config_.hidden_size;
    add(prefix + ".wkv.weight", {copies * width, dim}, TensorRole::Matrix16, ModuleKind::Attention);
    add(prefix + ".wgate.weight", {copies * width, dim}, TensorRole::Matrix16,
        ModuleKind::Attention);
    add(prefix + ".ape", {ratio, copies * width}, TensorRole::Float32, ModuleKind::Attention);
    add(prefix + ".norm.weight", {width}, TensorRole::Vector16, ModuleKind::Attention);
  }

  void add_expert(const std::string& prefix, TensorRole role, ModuleKind module) {
    const int64_t dim = config_.hidden_size;
    const int64_t inter = config_.moe_intermediate_size;
    add(prefix + ".w1.weight", {inter, dim}, role, module);
    add(prefix + ".w3.weight", {inter, dim}, role, module);
    add(prefix + ".w2.weight", {dim, inter}, role, module);
  }

  void add_block(const std::string& p, const LayerSpec& layer) {
    layer_ = layer.index;
    const auto& c = config_;
    const int64_t dim = c.hidden_size;
    const int64_t streams = c.hc_mult;
    add_hyper_connection(p + ".hc_attn", (2 + streams) * streams, 3);
    add_hyper_connection(p + ".hc_ffn", (2 + streams) * streams, 3);

    const auto ql = TensorRole::QuantizedLinear;
    const auto attn = ModuleKind::Attention;
    add(p + ".attn.attn_sink", {c.num_heads}, TensorRole::Float32, attn);
    add(p + ".attn.wq_a.weight", {c.q_lora_rank, dim}, ql, attn);
    add(p + ".attn.q_norm.weight", {c.q_lora_rank}, TensorRole::Vector16, attn);
    add(p + ".attn.wq_b.weight", {c.num_heads * c.head_dim, c.q_lora_rank}, ql, attn);
    add(p + ".attn.wkv.weight", {c.head_dim, dim}, ql, attn);
    add(p + ".attn.kv_norm.weight", {c.head_dim}, TensorRole::Vector16, attn);
    add(p + ".attn.wo_a.weight",
        {c.o_groups * c.o_lora_rank, c.num_heads / c.o_groups * c.head_dim}, ql, attn);
    add(p + ".attn.wo_b.weight", {dim, c.o_groups * c.o_lora_rank}, ql, attn);
    if (layer.compress_ratio > 0)
      add_compressor(p + ".attn.compressor", layer.compress_ratio, c.head_dim);
    if (layer.attention == AttentionKind::CompressedSparse) {
      add(p + ".attn.indexer.wq_b.weight", {c.index_n_heads * c.index_head_dim, c.q_lora_rank}, ql,
          attn);
      add(p + ".attn.indexer.weights_proj.weight", {c.index_n_heads, dim}, TensorRole::Matrix16,
          attn);
      add_compressor(p + ".attn.indexer.compressor", layer.compress_ratio, c.index_head_dim);
    }

    add(p + ".attn_norm.weight", {dim}, TensorRole::Vector16, ModuleKind::Norm);
    add(p + ".ffn_norm.weight", {dim}, TensorRole::Vector16, ModuleKind::Norm);

    add_expert(p + ".ffn.shared_experts", ql, ModuleKind::SharedExpert);
    for (int64_t e = 0; e < c.n_routed_experts; ++e) {
      add_expert(str_cat(p, ".ffn.experts.", e), TensorRole::ExpertLinear,
                 ModuleKind::RoutedExpert);
    }
    add(p + ".ffn.gate.weight", {c.n_routed_experts, dim}, TensorRole::Matrix16,
        ModuleKind::Router);
    if (layer.hash_routed) {
      add(p + ".ffn.gate.tid2eid", {c.vocab_size, c.num_experts_per_tok}, TensorRole::TokenTable,
          ModuleKind::Router);
    } else {
      add(p + ".ffn.gate.bias", {c.n_routed_experts}, TensorRole::Float32, ModuleKind::Router);
    }
  }

  void add_mtp_extras(const std::string& p) {
    const int64_t dim = config_.hidden_size;
    const auto mtp = ModuleKind::MtpProjection;
    add(p + ".e_proj.weight", {dim, dim}, TensorRole::QuantizedLinear, mtp);
    add(p + ".h_proj.weight", {dim, dim}, TensorRole::QuantizedLinear, mtp);
    add(p + ".enorm.weight", {dim}, TensorRole::Vector16, mtp);
    add(p + ".hnorm.weight", {dim}, TensorRole::Vector16, mtp);
    add(p + ".norm.weight", {dim}, TensorRole::Vector16, mtp);
    add_hyper_connection(p + ".hc_head", config_.hc_mult, 1);
  }

  std::vector<ExpectedTensor> build() {
    const auto& c = config_;
    layer_ = -1;
    add("embed.weight", {c.vocab_size, c.hidden_size}, TensorRole::Matrix16, ModuleKind::Embedding);
    for (const LayerSpec& layer : c.schedule()) {
      if (layer.is_mtp) {
        const std::string prefix = str_cat("mtp.", layer.mtp_index);
        add_block(prefix, layer);
        add_mtp_extras(prefix);
      } else {
        add_block(str_cat("layers.", layer.index), layer);
      }
    }
    layer_ = -1;
    add_hyper_connection("hc_head", c.hc_mult, 1);
    add("norm.weight", {c.hidden_size}, TensorRole::Vector16, ModuleKind::Norm);
    add("head.weight", {c.vocab_size, c.hidden_size}, TensorRole::Matrix16, ModuleKind::Embedding);
    return std::move(tensors_);
  }

 private:
  const ModelConfig& config_;
  std::vector<ExpectedTensor> tensors_;
  int layer_ = -1;
};

int64_t blocks_of(int64_t extent, int64_t block) { return (extent + block - 1) / block; }

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config) {
  return InventoryBuilder(config).build();
}

std::string scale_name_for(std::string_view weight_name) {
  constexpr std::string_view kSuffix = ".weight";
  if (weight_name.ends_with(kSuffix)) {
    weight_name.remove_suffix(kSuffix.size());
  }
  return std::string(weight_name) + ".scale";
}

std::vector<StoredTensor> stored_layout(const ModelConfig& config, WeightPrecision precision) {
  std::vector<StoredTensor> layout;
  for (const ExpectedTensor& tensor : expected_tensors(config)) {
    const auto& shape = tensor.shape;
    auto plain = [&](DType dtype) {
      layout.push_back({tensor.name, dtype, shape, tensor.module, false});
    };
    auto fp8_block128 = [&] {
      layout.push_back({tensor.name, DType::F8_E4M3, shape, tensor.module, false});
      layout.push_back({scale_name_for(tensor.name),
                        DType::F8_E8M0,
                        {blocks_of(shape[0], 128), blocks_of(shape[1], 128)},
                        tensor.module,
                        true});
    };
    auto fp4_block32 = [&] {
      if (shape[1] % 32 != 0) {
        fail(tensor.name, ": FP4 experts need an input width divisible by 32, got ", shape[1]);
      }
      layout.push_back({tensor.name, DType::I8, {shape[0], shape[1] / 2}, tensor.module, false});
      layout.push_back({scale_name_for(tensor.name),
                        DType::F8_E8M0,
                        {shape[0], shape[1] / 32},
                        tensor.module,
                        true});
    };
    const bool full_precision = precision == WeightPrecision::F32;
    switch (tensor.role) {
      case TensorRole::QuantizedLinear:
        if (precision == WeightPrecision::Native)
          fp8_block128();
        else
          plain(full_precision ? DType::F32 : DType::BF16);
        break;
      case TensorRole::ExpertLinear:
        if (precision != WeightPrecision::Native)
          plain(full_precision ? DType::F32 : DType::BF16);
        else if (config.expert_dtype == "fp8")
          fp8_block128();
        else
          fp4_block32();
        break;
      case TensorRole::Matrix16:
      case TensorRole::Vector16:
        plain(full_precision ? DType::F32 : DType::BF16);
        break;
      case TensorRole::Float32:
        plain(DType::F32);
        break;
      case TensorRole::TokenTable:
        plain(DType::I64);
        break;
    }
  }
  return layout;
}

}  // namespace lightseek
