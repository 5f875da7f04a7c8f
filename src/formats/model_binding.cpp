#include "formats/model_binding.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace lightseek {
namespace {

// Native → HF-transformers component renames inside a block (spec §10.4). Order matters: the
// longer, more specific native prefixes come first.
constexpr std::array<std::pair<std::string_view, std::string_view>, 26> kBlockRenames = {{
    {"attn.indexer.compressor.wkv", "self_attn.compressor.indexer.kv_proj"},
    {"attn.indexer.compressor.wgate", "self_attn.compressor.indexer.gate_proj"},
    {"attn.indexer.compressor.ape", "self_attn.compressor.indexer.position_bias"},
    {"attn.indexer.compressor.norm", "self_attn.compressor.indexer.kv_norm"},
    {"attn.indexer.wq_b", "self_attn.compressor.indexer.q_b_proj"},
    {"attn.indexer.weights_proj", "self_attn.compressor.indexer.scorer.weights_proj"},
    {"attn.compressor.wkv", "self_attn.compressor.kv_proj"},
    {"attn.compressor.wgate", "self_attn.compressor.gate_proj"},
    {"attn.compressor.ape", "self_attn.compressor.position_bias"},
    {"attn.compressor.norm", "self_attn.compressor.kv_norm"},
    {"attn.wq_a", "self_attn.q_a_proj"},
    {"attn.q_norm", "self_attn.q_a_norm"},
    {"attn.wq_b", "self_attn.q_b_proj"},
    {"attn.wkv", "self_attn.kv_proj"},
    {"attn.kv_norm", "self_attn.kv_norm"},
    {"attn.wo_a", "self_attn.o_a_proj"},
    {"attn.wo_b", "self_attn.o_b_proj"},
    {"attn.attn_sink", "self_attn.sinks"},
    {"attn_norm", "input_layernorm"},
    {"ffn_norm", "post_attention_layernorm"},
    {"hc_attn_", "attn_hc."},
    {"hc_ffn_", "ffn_hc."},
    {"ffn.gate.bias", "mlp.gate.e_score_correction_bias"},
    {"ffn.gate", "mlp.gate"},
    {"ffn.shared_experts.w1", "mlp.shared_experts.gate_proj"},
    {"ffn.shared_experts.w3", "mlp.shared_experts.up_proj"},
}};

constexpr std::pair<std::string_view, std::string_view> kSharedDown = {
    "ffn.shared_experts.w2", "mlp.shared_experts.down_proj"};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

class Binder {
 public:
  Binder(const ModelConfig& config, const Checkpoint& checkpoint)
      : config_(config), checkpoint_(checkpoint) {}

  Binding run() {
    std::vector<ExpectedTensor> expected = expected_tensors(config_);
    drop_absent_mtp(expected);
    for (const ExpectedTensor& tensor : expected) resolve(tensor);
    for (const auto& [name, view] : checkpoint_.tensors()) {
      if (!consumed_.contains(name)) binding_.report.unexpected.push_back(name);
    }
    if (used_hf_names_) binding_.report.notes.push_back("tensor names: HF transformers");
    if (binding_.report.ok()) assemble();
    return std::move(binding_);
  }

 private:
  void drop_absent_mtp(std::vector<ExpectedTensor>& expected) {
    if (config_.num_mtp_layers == 0) return;
    const bool any_mtp =
        std::any_of(checkpoint_.tensors().begin(), checkpoint_.tensors().end(),
                    [](const auto& entry) { return entry.first.starts_with("mtp."); });
    if (any_mtp) return;
    std::erase_if(expected, [&](const ExpectedTensor& t) { return t.layer >= config_.num_layers; });
    binding_.report.notes.push_back(
        "the config declares " + std::to_string(config_.num_mtp_layers) +
        " MTP block(s) but the checkpoint has none: speculative decoding by MTP is off");
  }

  const TensorView* lookup(const std::string& native_name) {
    if (const TensorView* tensor = checkpoint_.find(native_name)) {
      consumed_.insert(native_name);
      return tensor;
    }
    const std::string hf = hf_name_for(native_name);
    if (!hf.empty()) {
      if (const TensorView* tensor = checkpoint_.find(hf)) {
        consumed_.insert(hf);
        used_hf_names_ = true;
        return tensor;
      }
    }
    return nullptr;
  }

  void record(const TensorView* tensor, const ExpectedTensor& expected) {
    binding_.report.bound.push_back({*tensor, expected.module, expected.layer});
  }

  void mismatch(const std::string& name, const std::string& what) {
    binding_.report.mismatched.push_back(name + ": " + what);
  }

  bool check_shape(const TensorView& tensor, const std::vector<int64_t>& shape,
                   const std::string& name) {
    if (tensor.shape == shape) return true;
    mismatch(name, str_cat(dtype_name(tensor.dtype), " ", shape_string(tensor.shape),
                           " but the config implies ", shape_string(shape)));
    return false;
  }

  void resolve(const ExpectedTensor& expected) {
    const TensorView* tensor = lookup(expected.name);
    if (!tensor && expected.role == TensorRole::ExpertLinear)
      tensor = stacked_expert_slice(expected.name);
    if (!tensor) {
      binding_.report.missing.push_back(expected.name);
      return;
    }
    record(tensor, expected);
    switch (expected.role) {
      case TensorRole::QuantizedLinear:
      case TensorRole::ExpertLinear:
      case TensorRole::Matrix16:
        resolve_matrix(*tensor, expected);
        return;
      case TensorRole::Vector16:
      case TensorRole::Float32:
        if (tensor->dtype != DType::F32 && tensor->dtype != DType::BF16) {
          mismatch(expected.name,
                   str_cat("dtype ", dtype_name(tensor->dtype), " where F32 or BF16 is expected"));
        } else if (check_shape(*tensor, expected.shape, expected.name)) {
          params_[expected.name] = *tensor;
        }
        return;
      case TensorRole::TokenTable:
        if (tensor->dtype != DType::I64 && tensor->dtype != DType::I32) {
          mismatch(expected.name,
                   str_cat("dtype ", dtype_name(tensor->dtype), " where I64 or I32 is expected"));
        } else if (check_shape(*tensor, expected.shape, expected.name)) {
          params_[expected.name] = *tensor;
        }
        return;
    }
  }

  // The ".scale" of a quantised weight, checked for dtype and shape; nullptr after reporting.
  const TensorView* resolve_scale(const ExpectedTensor& expected,
                                  const std::vector<int64_t>& scale_shape) {
    const std::string name = scale_name_for(expected.name);
    const TensorView* scale = lookup(name);
    if (!scale) {
      binding_.report.missing.push_back(name);
      return nullptr;
    }
    record(scale, expected);
    if (scale->dtype == DType::F32) {
      mismatch(
          name,
          "F32 block scales (the FP8 Base checkpoints) are not supported yet; expected F8_E8M0");
      return nullptr;
    }
    if (scale->dtype != DType::F8_E8M0) {
      mismatch(name, str_cat("dtype ", dtype_name(scale->dtype), " where F8_E8M0 is expected"));
      return nullptr;
    }
    return check_shape(*scale, scale_shape, name) ? scale : nullptr;
  }

  void resolve_matrix(const TensorView& tensor, const ExpectedTensor& expected) {
    const int64_t rows = expected.shape[0];
    const int64_t cols = expected.shape[1];
    WeightMatrix matrix;
    matrix.rows = rows;
    matrix.cols = cols;
    matrix.weight = tensor;
    const bool quantizable = expected.role != TensorRole::Matrix16;
    switch (tensor.dtype) {
      case DType::F32:
      case DType::BF16:
        if (!check_shape(tensor, expected.shape, expected.name)) return;
        matrix.format = tensor.dtype == DType::F32 ? WeightFormat::F32 : WeightFormat::BF16;
        break;
      case DType::F8_E4M3: {
        if (!quantizable) {
          mismatch(expected.name, "F8_E4M3, but this weight is BF16 or F32 in V4 checkpoints");
          return;
        }
        const bool shape_ok = check_shape(tensor, expected.shape, expected.name);
        const TensorView* scale =
            resolve_scale(expected, {ceil_div(rows, 128), ceil_div(cols, 128)});
        if (!shape_ok || !scale) return;
        matrix.format = WeightFormat::FP8_E4M3_BLOCK128;
        matrix.scale = *scale;
        break;
      }
      case DType::I8: {
        if (expected.role != TensorRole::ExpertLinear) {
          mismatch(expected.name,
                   "I8 (packed FP4), but only routed experts are FP4 in V4 checkpoints");
          return;
        }
        if (cols % 32 != 0) {
          mismatch(expected.name,
                   str_cat("FP4 needs an input width divisible by 32, the config implies ", cols));
          return;
        }
        const bool shape_ok = check_shape(tensor, {rows, cols / 2}, expected.name);
        const TensorView* scale = resolve_scale(expected, {rows, cols / 32});
        if (!shape_ok || !scale) return;
        matrix.format = WeightFormat::FP4_E2M1_BLOCK32;
        matrix.scale = *scale;
        break;
      }
      default:
        mismatch(expected.name, str_cat("dtype ", dtype_name(tensor.dtype),
                                        " is not a weight format lightseek reads (",
                                        tensor_role_name(expected.role), ")"));
        return;
    }
    matrices_[expected.name] = matrix;
  }

  // HF transformers stores routed experts stacked per layer: gate_up_proj [E, 2I, D] (w1 rows,
  // then w3 rows) and down_proj [E, D, I]. A native expert weight is a contiguous slice of it.
  const TensorView* stacked_expert_slice(const std::string& native_name) {
    // native: "layers.{i}.ffn.experts.{e}.w{1,2,3}.weight"
    const size_t experts_at = native_name.find(".ffn.experts.");
    if (!native_name.starts_with("layers.") || experts_at == std::string::npos) return nullptr;
    const std::string layer_prefix = native_name.substr(0, experts_at);
    const std::string rest = native_name.substr(experts_at + 13);  // "{e}.w1.weight"
    const size_t dot = rest.find('.');
    const int64_t expert = std::stoll(rest.substr(0, dot));
    const std::string which = rest.substr(dot + 1, 2);
    const bool down = which == "w2";
    const std::string stacked_name =
        "model." + layer_prefix + ".mlp.experts." + (down ? "down_proj" : "gate_up_proj");
    const TensorView* stacked = checkpoint_.find(stacked_name);
    if (!stacked) return nullptr;
    consumed_.insert(stacked_name);
    used_hf_names_ = true;
    const int64_t experts = config_.n_routed_experts;
    const int64_t inter = config_.moe_intermediate_size;
    const int64_t dim = config_.hidden_size;
    const std::vector<int64_t> stacked_shape = down ? std::vector<int64_t>{experts, dim, inter}
                                                    : std::vector<int64_t>{experts, 2 * inter, dim};
    if (stacked->dtype != DType::F32 && stacked->dtype != DType::BF16) {
      if (!reported_stacked_.contains(stacked_name)) {
        mismatch(stacked_name, "stacked experts are read only as F32 or BF16");
        reported_stacked_.insert(stacked_name);
      }
      return nullptr;
    }
    if (stacked->shape != stacked_shape) {
      if (!reported_stacked_.contains(stacked_name)) {
        check_shape(*stacked, stacked_shape, stacked_name);
        reported_stacked_.insert(stacked_name);
      }
      return nullptr;
    }
    const size_t element = dtype_size(stacked->dtype);
    const int64_t rows = down ? dim : inter;
    const int64_t cols = down ? inter : dim;
    int64_t first_row = expert * (down ? dim : 2 * inter);
    if (which == "w3") first_row += inter;
    TensorView slice;
    slice.name = str_cat(stacked_name, "[", expert,
                         (which == "w3"   ? ", up"
                          : which == "w1" ? ", gate"
                                          : ""),
                         "]");
    slice.dtype = stacked->dtype;
    slice.shape = {rows, cols};
    slice.nbytes = static_cast<size_t>(rows * cols) * element;
    slice.data = stacked->data + static_cast<size_t>(first_row * cols) * element;
    auto stored = std::make_unique<TensorView>(std::move(slice));
    const TensorView* pointer = stored.get();
    slices_.push_back(std::move(stored));
    return pointer;
  }

  const WeightMatrix& matrix(const std::string& name) const { return matrices_.at(name); }
  const TensorView& param(const std::string& name) const { return params_.at(name); }
  TensorView optional_param(const std::string& name) const {
    const auto found = params_.find(name);
    return found == params_.end() ? TensorView{} : found->second;
  }

  HyperConnectionWeights hyper_connection(const std::string& prefix) const {
    return {param(prefix + "_fn"), param(prefix + "_base"), param(prefix + "_scale")};
  }

  CompressorWeights compressor(const std::string& prefix) const {
    return {matrix(prefix + ".wkv.weight"), matrix(prefix + ".wgate.weight"),
            param(prefix + ".ape"), param(prefix + ".norm.weight")};
  }

  ExpertWeights expert(const std::string& prefix) const {
    return {matrix(prefix + ".w1.weight"), matrix(prefix + ".w2.weight"),
            matrix(prefix + ".w3.weight")};
  }

  BlockWeights block(const std::string& p, const LayerSpec& spec) const {
    BlockWeights b;
    b.spec = spec;
    b.hc_attn = hyper_connection(p + ".hc_attn");
    b.hc_ffn = hyper_connection(p + ".hc_ffn");
    b.attn_norm = param(p + ".attn_norm.weight");
    b.ffn_norm = param(p + ".ffn_norm.weight");
    AttentionWeights& a = b.attn;
    a.wq_a = matrix(p + ".attn.wq_a.weight");
    a.wq_b = matrix(p + ".attn.wq_b.weight");
    a.wkv = matrix(p + ".attn.wkv.weight");
    a.wo_a = matrix(p + ".attn.wo_a.weight");
    a.wo_b = matrix(p + ".attn.wo_b.weight");
    a.q_norm = param(p + ".attn.q_norm.weight");
    a.kv_norm = param(p + ".attn.kv_norm.weight");
    a.attn_sink = param(p + ".attn.attn_sink");
    a.has_compressor = spec.compress_ratio > 0;
    if (a.has_compressor) a.compressor = compressor(p + ".attn.compressor");
    a.has_indexer = spec.attention == AttentionKind::CompressedSparse;
    if (a.has_indexer) {
      a.indexer.wq_b = matrix(p + ".attn.indexer.wq_b.weight");
      a.indexer.weights_proj = matrix(p + ".attn.indexer.weights_proj.weight");
      a.indexer.compressor = compressor(p + ".attn.indexer.compressor");
    }
    MoeWeights& m = b.ffn;
    m.gate = matrix(p + ".ffn.gate.weight");
    m.gate_bias = optional_param(p + ".ffn.gate.bias");
    m.tid2eid = optional_param(p + ".ffn.gate.tid2eid");
    m.shared = expert(p + ".ffn.shared_experts");
    m.experts.reserve(static_cast<size_t>(config_.n_routed_experts));
    for (int64_t e = 0; e < config_.n_routed_experts; ++e)
      m.experts.push_back(expert(str_cat(p, ".ffn.experts.", e)));
    return b;
  }

  void assemble() {
    ModelWeights& w = binding_.weights;
    w.embed = matrix("embed.weight");
    w.head = matrix("head.weight");
    w.norm = param("norm.weight");
    w.hc_head = hyper_connection("hc_head");
    const bool has_mtp = matrices_.contains("mtp.0.e_proj.weight");
    for (const LayerSpec& spec : config_.schedule()) {
      if (!spec.is_mtp) {
        w.layers.push_back(block(str_cat("layers.", spec.index), spec));
      } else if (has_mtp) {
        const std::string p = str_cat("mtp.", spec.mtp_index);
        MtpWeights mtp;
        mtp.block = block(p, spec);
        mtp.e_proj = matrix(p + ".e_proj.weight");
        mtp.h_proj = matrix(p + ".h_proj.weight");
        mtp.enorm = param(p + ".enorm.weight");
        mtp.hnorm = param(p + ".hnorm.weight");
        mtp.norm = param(p + ".norm.weight");
        mtp.hc_head = hyper_connection(p + ".hc_head");
        w.mtp.push_back(std::move(mtp));
      }
    }
  }

  const ModelConfig& config_;
  const Checkpoint& checkpoint_;
  Binding binding_;
  std::set<std::string, std::less<>> consumed_;
  std::set<std::string> reported_stacked_;
  std::map<std::string, WeightMatrix> matrices_;
  std::map<std::string, TensorView> params_;
  std::vector<std::unique_ptr<TensorView>> slices_;
  bool used_hf_names_ = false;
};

void describe_group(std::string& out, const char* title, const std::vector<std::string>& items) {
  if (items.empty()) return;
  constexpr size_t kShown = 20;
  out += str_cat(items.size(), " ", title, ":\n");
  for (size_t i = 0; i < items.size() && i < kShown; ++i) out += "  " + items[i] + "\n";
  if (items.size() > kShown) out += str_cat("  ... and ", items.size() - kShown, " more\n");
}

}  // namespace

std::string hf_name_for(const std::string& native_name) {
  if (native_name.starts_with("mtp.")) return "";
  if (native_name == "embed.weight") return "model.embed_tokens.weight";
  if (native_name == "norm.weight") return "model.norm.weight";
  if (native_name == "head.weight") return "lm_head.weight";
  if (native_name.starts_with("hc_head_")) return "model.hc_head.hc_" + native_name.substr(8);
  if (!native_name.starts_with("layers.")) return "";
  const size_t dot = native_name.find('.', 7);
  if (dot == std::string::npos) return "";
  const std::string layer_prefix = "model." + native_name.substr(0, dot + 1);
  const std::string component = native_name.substr(dot + 1);
  if (component.starts_with("ffn.experts.")) return "";  // stacked in HF; see stacked_expert_slice
  auto renamed = [&](std::string_view from, std::string_view to) -> std::string {
    if (!component.starts_with(from)) return "";
    const std::string rest = component.substr(from.size());
    // Only rename whole components: the next character must end the native component.
    if (!rest.empty() && rest[0] != '.' && !from.ends_with('_') && !from.ends_with('.')) return "";
    std::string name = layer_prefix + std::string(to) + rest;
    // Native block scales are "<module>.scale"; HF calls them "<module>.weight_scale_inv".
    if (rest == ".scale") name.replace(name.size() - 6, 6, ".weight_scale_inv");
    return name;
  };
  for (const auto& [from, to] : kBlockRenames) {
    if (std::string name = renamed(from, to); !name.empty()) return name;
  }
  return renamed(kSharedDown.first, kSharedDown.second);
}

std::string BindingReport::describe_problems() const {
  std::string out;
  describe_group(out, "missing tensors", missing);
  describe_group(out, "unexpected tensors", unexpected);
  describe_group(out, "tensors with the wrong shape or dtype", mismatched);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Binding bind_checkpoint(const ModelConfig& config, const Checkpoint& checkpoint) {
  return Binder(config, checkpoint).run();
}

ModelWeights bind_model(const ModelConfig& config, const Checkpoint& checkpoint) {
  Binding binding = bind_checkpoint(config, checkpoint);
  if (!binding.report.ok()) {
    fail("the checkpoint does not match its config:\n", binding.report.describe_problems());
  }
  return std::move(binding.weights);
}

}  // namespace lightseek
