// The tensors a DeepSeek-V4 checkpoint holds for a given config (spec §10.2): native names,
// logical shapes, and the role that decides which stored dtypes are acceptable. This is the
// one source of truth used by model binding (what to look for), gen-model (what to write) and
// inspect (how to classify bytes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "formats/model_config.h"

namespace lightseek {

enum class TensorRole : uint8_t {
  QuantizedLinear,  // FP8 e4m3 + 128×128 e8m0 ".scale" in the release; BF16/F32 when unquantised
  ExpertLinear,     // FP4 e2m1 + 1×32 e8m0 ".scale" in the release; FP8 block-128, BF16, F32
  Matrix16,         // BF16 (or F32): embed, head, router, compressor and indexer projections
  Vector16,         // BF16 (or F32): norm weights
  Float32,          // F32 (or BF16): hc_*, attn_sink, ape, gate.bias
  TokenTable,       // I64 (or I32): tid2eid
};
std::string_view tensor_role_name(TensorRole role);

enum class ModuleKind : uint8_t {
  Embedding,       // embed, head
  Attention,       // attn.* including compressors and the indexer
  HyperConnection, // hc_* (the final hc_head included)
  Norm,            // block norms and the final norm
  Router,          // ffn.gate.*
  SharedExpert,
  RoutedExpert,
  MtpProjection,   // mtp.k.{e_proj, h_proj, enorm, hnorm, norm}
};
std::string_view module_kind_name(ModuleKind kind);
inline constexpr int kModuleKindCount = 8;

struct ExpectedTensor {
  std::string name;            // native name, e.g. "layers.3.attn.wkv.weight"
  std::vector<int64_t> shape;  // logical shape [out, in] (FP4 packing not applied)
  TensorRole role = TensorRole::Matrix16;
  ModuleKind module = ModuleKind::Attention;
  int layer = -1;              // schedule index (MTP blocks follow the backbone); -1 for globals
};

// Every weight of the model in a stable order: globals, then per block (backbone, then MTP):
// hc_*, attn.*, norms, shared expert, routed experts, router. Scales are not listed; they
// follow from the role and the stored dtype.
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& config);

// How gen-model stores the weights.
enum class WeightPrecision : uint8_t {
  Native,  // the release: FP8 linears, FP4 experts (FP8 when expert_dtype is "fp8"), BF16, F32
  BF16,    // every matrix and norm BF16; F32 and I64 parameters as released
  F32,     // everything F32 except I64 tid2eid
};

struct StoredTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // stored shape (FP4 as I8 [out, in/2]; scales included)
  ModuleKind module = ModuleKind::Attention;
  bool is_scale = false;
};

// The concrete file layout: every expected tensor in the chosen precision, each quantised
// weight followed by its ".scale" tensor.
std::vector<StoredTensor> stored_layout(const ModelConfig& config, WeightPrecision precision);

// The ".scale" tensor name of a quantised weight: "a.b.weight" -> "a.b.scale".
std::string scale_name_for(std::string_view weight_name);

}  // namespace lightseek
