// Binds the tensors of a checkpoint to the V4 model structure: every tensor the config implies
// is found (by its native DeepSeek name, or its HF-transformers name), checked for shape and
// dtype, and exposed as a typed view in its stored format. Problems are collected and reported
// all at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor_view.h"
#include "core/weight_matrix.h"
#include "formats/checkpoint.h"
#include "formats/model_config.h"
#include "formats/tensor_inventory.h"

namespace lightseek {

struct HyperConnectionWeights {
  TensorView fn;     // [outputs, hc_mult·D]
  TensorView base;   // [outputs]
  TensorView scale;  // [3] in blocks, [1] in heads
};

struct CompressorWeights {
  WeightMatrix wkv;    // [c·width, D]
  WeightMatrix wgate;  // [c·width, D]
  TensorView ape;      // [ratio, c·width]
  TensorView norm;     // [width]
};

struct IndexerWeights {
  WeightMatrix wq_b;          // [index_heads·index_dim, q_lora]
  WeightMatrix weights_proj;  // [index_heads, D]
  CompressorWeights compressor;
};

struct AttentionWeights {
  WeightMatrix wq_a, wq_b, wkv, wo_a, wo_b;
  TensorView q_norm, kv_norm, attn_sink;
  bool has_compressor = false;
  CompressorWeights compressor;
  bool has_indexer = false;
  IndexerWeights indexer;
};

struct ExpertWeights {
  WeightMatrix w1, w2, w3;  // gate, down, up
};

struct MoeWeights {
  WeightMatrix gate;     // router [E, D]
  TensorView gate_bias;  // [E] on top-k layers; empty on hash layers
  TensorView tid2eid;    // [vocab, top-k] on hash layers; empty otherwise
  ExpertWeights shared;
  std::vector<ExpertWeights> experts;
};

struct BlockWeights {
  LayerSpec spec;
  HyperConnectionWeights hc_attn, hc_ffn;
  TensorView attn_norm, ffn_norm;
  AttentionWeights attn;
  MoeWeights ffn;
};

struct MtpWeights {
  BlockWeights block;
  WeightMatrix e_proj, h_proj;
  TensorView enorm, hnorm, norm;
  HyperConnectionWeights hc_head;
};

struct ModelWeights {
  WeightMatrix embed;  // [vocab, D]; row lookups
  WeightMatrix head;   // [vocab, D]
  TensorView norm;
  HyperConnectionWeights hc_head;
  std::vector<BlockWeights> layers;
  std::vector<MtpWeights> mtp;  // empty when the checkpoint carries no MTP block
};

// One checkpoint tensor the binding consumed (weights and their scales).
struct BoundTensor {
  TensorView tensor;  // a copy: stacked HF experts are bound as slices that live nowhere else
  ModuleKind module = ModuleKind::Attention;
  int layer = -1;
};

struct BindingReport {
  std::vector<std::string> missing;     // expected by the config, absent from the checkpoint
  std::vector<std::string> unexpected;  // in the checkpoint, not implied by the config
  std::vector<std::string> mismatched;  // present with the wrong shape or dtype
  std::vector<std::string> notes;       // informational (naming style, MTP absent, ...)
  std::vector<BoundTensor> bound;
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // Multi-line description of every problem, grouped, with counts.
  std::string describe_problems() const;
};

// Builds the weights and the report. The weights are meaningful only when report.ok().
struct Binding {
  ModelWeights weights;
  BindingReport report;
};
Binding bind_checkpoint(const ModelConfig& config, const Checkpoint& checkpoint);

// bind_checkpoint, throwing Error with describe_problems() when the report is not ok.
ModelWeights bind_model(const ModelConfig& config, const Checkpoint& checkpoint);

// The HF-transformers name of a native tensor name, or "" when HF stores it differently
// (stacked routed experts) or not at all (MTP).
std::string hf_name_for(const std::string& native_name);

}  // namespace lightseek
