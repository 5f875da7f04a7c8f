#include "formats/model_config.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "core/error.h"
#include "core/file_contents.h"

namespace lightseek {
namespace {

using nlohmann::json;

constexpr int kCompressedSparseRatio = 4;
constexpr std::string_view kModelType = "deepseek_v4";
constexpr std::string_view kArchitecture = "DeepseekV4ForCausalLM";
constexpr std::string_view kFp8BlockScaled = "fp8";

// Keeps every size small enough that products of two of them fit in int64 downstream.
constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();

// The two key styles name the same quantities differently; errors quote the name the file uses.
struct KeyNames {
  std::string_view style;
  std::string_view hidden_size;
  std::string_view num_layers;
  std::string_view num_heads;
  std::string_view rope_head_dim;
  std::string_view sliding_window;
  std::string_view num_experts_per_tok;
  std::string_view moe_intermediate_size;
  std::string_view routed_scaling_factor;
  std::string_view scoring_func;
  std::string_view num_hash_layers;
  std::string_view num_mtp_layers;
  std::string_view rms_norm_eps;
};

constexpr KeyNames kHuggingFaceKeys{"HF",
                                    "hidden_size",
                                    "num_hidden_layers",
                                    "num_attention_heads",
                                    "qk_rope_head_dim",
                                    "sliding_window",
                                    "num_experts_per_tok",
                                    "moe_intermediate_size",
                                    "routed_scaling_factor",
                                    "scoring_func",
                                    "num_hash_layers",
                                    "num_nextn_predict_layers",
                                    "rms_norm_eps"};

constexpr KeyNames kOfficialKeys{"official",
                                 "dim",
                                 "n_layers",
                                 "n_heads",
                                 "rope_head_dim",
                                 "window_size",
                                 "n_activated_experts",
                                 "moe_inter_dim",
                                 "route_scale",
                                 "score_func",
                                 "n_hash_layers",
                                 "n_mtp_layers",
                                 "norm_eps"};

// Shows a wrong value briefly; whole objects or long arrays would swamp the one-line error.
std::string describe(const json& value) {
  constexpr size_t kMaxShown = 48;
  std::string shown = value.dump();
  if (shown.size() > kMaxShown) shown = shown.substr(0, kMaxShown) + "...";
  if (value.is_number()) return str_cat("number ", shown);
  if (value.is_boolean()) return str_cat("boolean ", shown);
  if (value.is_null()) return "null";
  return str_cat(value.type_name(), " ", shown);
}

// Typed access to the fields of one JSON object; every failure names source and field.
class FieldReader {
 public:
  FieldReader(const json& object, std::string_view source, std::string prefix = {})
      : object_(object), source_(source), prefix_(std::move(prefix)) {}

  std::string name(std::string_view key) const { return str_cat(prefix_, key); }

  template <typename... Parts>
  [[noreturn]] void fail_field(std::string_view key, Parts&&... parts) const {
    fail(source_, ": ", name(key), " ", std::forward<Parts>(parts)...);
  }

  // A null value counts as absent: configs write null for "not set".
  const json* find(std::string_view key) const {
    auto found = object_.find(key);
    if (found == object_.end() || found->is_null()) return nullptr;
    return &*found;
  }

  const json& require(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) fail(source_, ": missing field '", name(key), "'");
    return *value;
  }

  int64_t integer(std::string_view key) const { return to_integer(name(key), require(key)); }

  std::optional<int64_t> optional_integer(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) return std::nullopt;
    return to_integer(name(key), *value);
  }

  // A dimension or count that must be at least `minimum`.
  int64_t size(std::string_view key, int64_t minimum = 1) const { return check_size(key, integer(key), minimum); }

  int64_t size_or(std::string_view key, int64_t fallback, int64_t minimum = 1) const {
    const auto value = optional_integer(key);
    return value ? check_size(key, *value, minimum) : fallback;
  }

  double number(std::string_view key) const { return to_number(name(key), require(key)); }

  double number_or(std::string_view key, double fallback) const {
    const json* value = find(key);
    return value == nullptr ? fallback : to_number(name(key), *value);
  }

  double positive_number(std::string_view key) const { return check_positive(key, number(key)); }

  double positive_number_or(std::string_view key, double fallback) const {
    return find(key) == nullptr ? fallback : positive_number(key);
  }

  std::optional<std::string> optional_string(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_string()) fail_field(key, "must be a string, found ", describe(*value));
    return value->get<std::string>();
  }

  std::string string_or(std::string_view key, std::string_view fallback) const {
    auto value = optional_string(key);
    return value ? std::move(*value) : std::string(fallback);
  }

  std::optional<bool> optional_bool(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) fail_field(key, "must be true or false, found ", describe(*value));
    return value->get<bool>();
  }

  const json* optional_array(std::string_view key) const {
    const json* value = find(key);
    if (value != nullptr && !value->is_array()) {
      fail_field(key, "must be an array, found ", describe(*value));
    }
    return value;
  }

  const json& array(std::string_view key) const {
    const json& value = require(key);
    if (!value.is_array()) fail_field(key, "must be an array, found ", describe(value));
    return value;
  }

  std::optional<FieldReader> optional_object(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_object()) fail_field(key, "must be an object, found ", describe(*value));
    return FieldReader(*value, source_, str_cat(name(key), "."));
  }

  int64_t to_integer(const std::string& field, const json& value) const {
    if (value.is_number_unsigned()) {
      const auto unsigned_value = value.get<uint64_t>();
      if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        fail(source_, ": ", field, " is too large, found ", describe(value));
      }
      return static_cast<int64_t>(unsigned_value);
    }
    if (value.is_number_integer()) return value.get<int64_t>();
    if (value.is_number_float()) {
      // Some writers emit whole numbers as 64.0; accept those, reject real fractions.
      const double real = value.get<double>();
      constexpr double kTwoTo63 = 9223372036854775808.0;
      if (!std::isfinite(real) || real != std::trunc(real) || real >= kTwoTo63 || real < -kTwoTo63) {
        fail(source_, ": ", field, " must be an integer, found ", describe(value));
      }
      return static_cast<int64_t>(real);
    }
    fail(source_, ": ", field, " must be an integer, found ", describe(value));
  }

  double to_number(const std::string& field, const json& value) const {
    if (!value.is_number()) fail(source_, ": ", field, " must be a number, found ", describe(value));
    const double real = value.get<double>();
    if (!std::isfinite(real)) fail(source_, ": ", field, " must be finite, found ", describe(value));
    return real;
  }

  std::string_view source() const { return source_; }

 private:
  int64_t check_size(std::string_view key, int64_t value, int64_t minimum) const {
    if (value < minimum) {
      if (minimum == 1) fail_field(key, "must be positive, found ", value);
      if (minimum == 0) fail_field(key, "must not be negative, found ", value);
      fail_field(key, "must be at least ", minimum, ", found ", value);
    }
    if (value > kMaxSize) fail_field(key, "must be at most ", kMaxSize, ", found ", value);
    return value;
  }

  double check_positive(std::string_view key, double value) const {
    if (!(value > 0)) fail_field(key, "must be positive, found ", value);
    return value;
  }

  const json& object_;
  std::string_view source_;
  std::string prefix_;
};

std::string_view layer_type_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::SlidingWindow:
      return "sliding_attention";
    case AttentionKind::CompressedSparse:
      return "compressed_sparse_attention";
    case AttentionKind::HeavilyCompressed:
      return "heavily_compressed_attention";
  }
  return "unknown";
}

std::optional<AttentionKind> attention_kind_for_ratio(int ratio) {
  if (ratio == 0) return AttentionKind::SlidingWindow;
  if (ratio == kCompressedSparseRatio) return AttentionKind::CompressedSparse;
  if (ratio > kCompressedSparseRatio) return AttentionKind::HeavilyCompressed;
  return std::nullopt;
}

void check_model_identity(const FieldReader& reader) {
  if (auto model_type = reader.optional_string("model_type"); model_type && *model_type != kModelType) {
    reader.fail_field("model_type", "is '", *model_type, "', expected '", kModelType, "'");
  }
  if (const json* architectures = reader.optional_array("architectures")) {
    const bool names_v4 = std::any_of(architectures->begin(), architectures->end(), [](const json& entry) {
      return entry.is_string() && entry.get<std::string>() == kArchitecture;
    });
    if (!names_v4) {
      reader.fail_field("architectures", "is ", architectures->dump(), ", expected it to contain ", kArchitecture);
    }
  }
}

std::vector<int> read_compress_ratios(const FieldReader& reader) {
  const json& entries = reader.array("compress_ratios");
  std::vector<int> ratios;
  ratios.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string field = str_cat("compress_ratios[", i, "]");
    const int64_t ratio = reader.to_integer(field, entries[i]);
    if (ratio > INT_MAX || ratio < INT_MIN) {
      fail(reader.source(), ": ", field, " is out of range, found ", ratio);
    }
    ratios.push_back(static_cast<int>(ratio));
  }
  return ratios;
}

// Fields whose key is the same in both styles, or differs only by the names in `keys`.
void read_shared_fields(const FieldReader& reader, const KeyNames& keys, ModelConfig& config) {
  config.vocab_size = reader.size("vocab_size", 2);
  config.hidden_size = reader.size(keys.hidden_size);
  config.num_layers = reader.size(keys.num_layers);
  config.num_heads = reader.size(keys.num_heads);
  config.head_dim = reader.size("head_dim");
  config.rope_head_dim = reader.size(keys.rope_head_dim);
  config.q_lora_rank = reader.size("q_lora_rank");
  config.o_groups = reader.size("o_groups");
  config.o_lora_rank = reader.size("o_lora_rank");
  config.sliding_window = reader.size(keys.sliding_window);
  config.compress_ratios = read_compress_ratios(reader);
  config.rope_theta = reader.positive_number_or("rope_theta", config.rope_theta);
  config.compress_rope_theta = reader.positive_number_or("compress_rope_theta", config.compress_rope_theta);
  config.index_n_heads = reader.size("index_n_heads");
  config.index_head_dim = reader.size("index_head_dim");
  config.index_topk = reader.size("index_topk");
  config.n_routed_experts = reader.size("n_routed_experts");
  config.num_experts_per_tok = reader.size(keys.num_experts_per_tok);
  config.n_shared_experts = reader.size_or("n_shared_experts", config.n_shared_experts);
  config.moe_intermediate_size = reader.size(keys.moe_intermediate_size);
  config.num_hash_layers = reader.size_or(keys.num_hash_layers, 0, 0);
  config.scoring_func = reader.string_or(keys.scoring_func, config.scoring_func);
  config.routed_scaling_factor = reader.positive_number_or(keys.routed_scaling_factor, config.routed_scaling_factor);
  config.swiglu_limit = reader.number_or("swiglu_limit", config.swiglu_limit);
  if (config.swiglu_limit < 0) {
    reader.fail_field("swiglu_limit", "must not be negative, found ", config.swiglu_limit);
  }
  config.hc_mult = reader.size_or("hc_mult", config.hc_mult);
  config.hc_sinkhorn_iters = reader.size_or("hc_sinkhorn_iters", config.hc_sinkhorn_iters);
  config.hc_eps = reader.positive_number_or("hc_eps", config.hc_eps);
  config.rms_norm_eps = reader.positive_number_or(keys.rms_norm_eps, config.rms_norm_eps);
  // Both the official ModelArgs and the HF config class default to one MTP block.
  config.num_mtp_layers = reader.size_or(keys.num_mtp_layers, 1, 0);

  if (auto expert_dtype = reader.optional_string("expert_dtype")) {
    if (*expert_dtype != "fp4" && *expert_dtype != "fp8") {
      reader.fail_field("expert_dtype", "is '", *expert_dtype, "', expected fp4 or fp8");
    }
    config.expert_dtype = std::move(*expert_dtype);
  }
}

// Without an explicit maximum, the context is what YaRN stretches to: V4 publishes
// original 65536 × factor 16 = 1048576 as max_position_embeddings.
int64_t yarn_context_length(const YarnConfig& yarn) {
  return static_cast<int64_t>(std::llround(static_cast<double>(yarn.original_max_position) * yarn.factor));
}

void read_yarn_fields(const FieldReader& reader, std::string_view factor_key, std::string_view original_key,
                      YarnConfig& yarn) {
  yarn.factor = reader.positive_number(factor_key);
  yarn.original_max_position = reader.size(original_key);
  yarn.beta_fast = reader.number_or("beta_fast", yarn.beta_fast);
  yarn.beta_slow = reader.number_or("beta_slow", yarn.beta_slow);
}

void read_huggingface_quantization(const FieldReader& reader, ModelConfig& config) {
  auto quantization = reader.optional_object("quantization_config");
  if (!quantization) return;
  const auto method = quantization->optional_string("quant_method");
  const auto element_format = quantization->optional_string("fmt");
  const bool fp8 = method == "fp8" || element_format == "e4m3";
  if (!fp8) return;
  config.weight_quant = kFp8BlockScaled;
  if (const json* block = quantization->optional_array("weight_block_size")) {
    // The engine's FP8 kernels and the inventory assume V4's 128×128 scale blocks.
    if (*block != json::array({128, 128})) {
      quantization->fail_field("weight_block_size", "is ", block->dump(),
                               ", expected [128,128] (V4's FP8 scale blocks)");
    }
  }
}

void check_huggingface_constants(const FieldReader& reader) {
  if (auto tied = reader.optional_bool("tie_word_embeddings"); tied && *tied) {
    reader.fail_field("tie_word_embeddings", "is true; V4 keeps separate embed and head weights");
  }
  if (auto bias = reader.optional_bool("attention_bias"); bias && *bias) {
    reader.fail_field("attention_bias", "is true; V4 attention has no biases");
  }
  if (auto kv_heads = reader.optional_integer("num_key_value_heads"); kv_heads && *kv_heads != 1) {
    reader.fail_field("num_key_value_heads", "is ", *kv_heads, ", expected 1 (V4 shares one K=V head)");
  }
  if (auto activation = reader.optional_string("hidden_act"); activation && *activation != "silu") {
    reader.fail_field("hidden_act", "is '", *activation, "', expected 'silu'");
  }
}

ModelConfig read_huggingface(const FieldReader& reader) {
  ModelConfig config;
  read_shared_fields(reader, kHuggingFaceKeys, config);
  check_huggingface_constants(reader);

  if (auto topk_method = reader.optional_string("topk_method")) {
    if (*topk_method != "noaux_tc") {
      reader.fail_field("topk_method", "is '", *topk_method, "', expected 'noaux_tc'");
    }
    config.topk_method = std::move(*topk_method);
  }

  if (auto rope_scaling = reader.optional_object("rope_scaling")) {
    for (std::string_view type_key : {"type", "rope_type"}) {
      if (auto type = rope_scaling->optional_string(type_key); type && *type != "yarn") {
        rope_scaling->fail_field(type_key, "is '", *type, "', expected 'yarn'");
      }
    }
    read_yarn_fields(*rope_scaling, "factor", "original_max_position_embeddings", config.yarn);
  }

  if (reader.find("max_position_embeddings") != nullptr) {
    config.max_position_embeddings = reader.size("max_position_embeddings");
  } else if (config.yarn.original_max_position > 0) {
    config.max_position_embeddings = yarn_context_length(config.yarn);
  } else {
    reader.require("max_position_embeddings");
  }

  config.bos_token_id = reader.size_or("bos_token_id", config.bos_token_id, 0);
  config.eos_token_id = reader.size_or("eos_token_id", config.eos_token_id, 0);
  read_huggingface_quantization(reader, config);
  return config;
}

ModelConfig read_official(const FieldReader& reader) {
  ModelConfig config;
  read_shared_fields(reader, kOfficialKeys, config);
  read_yarn_fields(reader, "rope_factor", "original_seq_len", config.yarn);
  config.max_position_embeddings = yarn_context_length(config.yarn);
  if (config.max_position_embeddings < 1 || config.max_position_embeddings > kMaxSize) {
    reader.fail_field("original_seq_len", "× rope_factor gives a context of ", config.max_position_embeddings,
                      ", outside 1..", kMaxSize);
  }
  if (reader.optional_string("dtype") == kFp8BlockScaled) config.weight_quant = kFp8BlockScaled;
  return config;
}

void validate(const ModelConfig& config, const KeyNames& keys, std::string_view source) {
  const auto ratio_count = static_cast<int64_t>(config.compress_ratios.size());
  if (ratio_count != config.num_layers + config.num_mtp_layers) {
    fail(source, ": compress_ratios has ", ratio_count, " entries, expected ", keys.num_layers, " + ",
         keys.num_mtp_layers, " = ", config.num_layers + config.num_mtp_layers);
  }
  bool any_compressed_sparse = false;
  for (int64_t i = 0; i < ratio_count; ++i) {
    const int ratio = config.compress_ratios[i];
    const auto kind = attention_kind_for_ratio(ratio);
    if (!kind) {
      fail(source, ": compress_ratios[", i, "] is ", ratio,
           "; V4 ratios are 0, 4 or greater than 4 (V4.1's ratios 1 and 2 are not supported)");
    }
    if (i >= config.num_layers && ratio != 0) {
      fail(source, ": compress_ratios[", i, "] is ", ratio, ", but MTP blocks (entries from ", keys.num_layers, " = ",
           config.num_layers, " on) are sliding-window only and must be 0");
    }
    any_compressed_sparse |= *kind == AttentionKind::CompressedSparse;
  }

  if (config.rope_head_dim >= config.head_dim) {
    fail(source, ": ", keys.rope_head_dim, " (", config.rope_head_dim, ") must be smaller than head_dim (",
         config.head_dim, ")");
  }
  if (config.rope_head_dim % 2 != 0) {
    fail(source, ": ", keys.rope_head_dim, " (", config.rope_head_dim, ") must be even (RoPE rotates channel pairs)");
  }
  if (config.num_heads % config.o_groups != 0) {
    fail(source, ": ", keys.num_heads, " (", config.num_heads, ") must be divisible by o_groups (", config.o_groups,
         ")");
  }
  if (any_compressed_sparse && config.index_head_dim <= config.rope_head_dim) {
    fail(source, ": index_head_dim (", config.index_head_dim, ") must be larger than ", keys.rope_head_dim, " (",
         config.rope_head_dim, ") when a layer uses CSA");
  }
  if (config.num_experts_per_tok > config.n_routed_experts) {
    fail(source, ": ", keys.num_experts_per_tok, " (", config.num_experts_per_tok,
         ") must be at most n_routed_experts (", config.n_routed_experts, ")");
  }
  if (config.n_shared_experts != 1) {
    fail(source, ": n_shared_experts is ", config.n_shared_experts, ", expected 1");
  }
  if (config.num_hash_layers > config.num_layers) {
    fail(source, ": ", keys.num_hash_layers, " (", config.num_hash_layers, ") must be at most ", keys.num_layers, " (",
         config.num_layers, ")");
  }
  if (config.scoring_func != "sqrtsoftplus") {
    fail(source, ": ", keys.scoring_func, " is '", config.scoring_func, "', expected 'sqrtsoftplus'");
  }
  if (config.bos_token_id >= config.vocab_size) {
    fail(source, ": bos_token_id (", config.bos_token_id, ") must be below vocab_size (", config.vocab_size, ")");
  }
  if (config.eos_token_id >= config.vocab_size) {
    fail(source, ": eos_token_id (", config.eos_token_id, ") must be below vocab_size (", config.vocab_size, ")");
  }
}

// transformers v5 writes layer_types beside compress_ratios; both must describe the same model.
void check_layer_types(const FieldReader& reader, const ModelConfig& config) {
  const json* layer_types = reader.optional_array("layer_types");
  if (layer_types == nullptr) return;
  const auto count = static_cast<int64_t>(layer_types->size());
  if (count != config.num_layers && count != config.num_layers + config.num_mtp_layers) {
    reader.fail_field("layer_types", "has ", count, " entries, expected num_hidden_layers = ", config.num_layers);
  }
  for (int64_t i = 0; i < count; ++i) {
    const json& entry = (*layer_types)[i];
    const std::string field = str_cat("layer_types[", i, "]");
    if (!entry.is_string()) {
      fail(reader.source(), ": ", field, " must be a string, found ", describe(entry));
    }
    const int ratio = config.compress_ratios[i];
    const std::string_view expected = layer_type_name(*attention_kind_for_ratio(ratio));
    if (entry.get<std::string>() != expected) {
      fail(reader.source(), ": ", field, " is '", entry.get<std::string>(), "' but compress_ratios[", i, "] = ", ratio,
           " makes it ", expected, "; inconsistent config");
    }
  }
}

std::filesystem::path locate_config(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) return path;
  for (const auto& candidate : {path / "config.json", path / "inference" / "config.json"}) {
    if (std::filesystem::is_regular_file(candidate, error)) return candidate;
  }
  fail(path.string(), ": no config.json or inference/config.json in this directory");
}

std::vector<int> repeat_pairs(std::vector<int> prefix, std::pair<int, int> pair, int pair_count,
                              std::vector<int> suffix) {
  for (int i = 0; i < pair_count; ++i) {
    prefix.push_back(pair.first);
    prefix.push_back(pair.second);
  }
  prefix.insert(prefix.end(), suffix.begin(), suffix.end());
  return prefix;
}

// Values common to both releases (spec §2.1).
ModelConfig v4_release_common() {
  ModelConfig config;
  config.vocab_size = 129280;
  config.head_dim = 512;
  config.rope_head_dim = 64;
  config.o_lora_rank = 1024;
  config.sliding_window = 128;
  config.rope_theta = 10000.0;
  config.compress_rope_theta = 160000.0;
  config.yarn = YarnConfig{.factor = 16.0, .original_max_position = 65536, .beta_fast = 32.0, .beta_slow = 1.0};
  config.max_position_embeddings = 1048576;
  config.index_n_heads = 64;
  config.index_head_dim = 128;
  config.num_experts_per_tok = 6;
  config.n_shared_experts = 1;
  config.num_hash_layers = 3;
  config.scoring_func = "sqrtsoftplus";
  config.topk_method = "noaux_tc";
  config.swiglu_limit = 10.0;
  config.hc_mult = 4;
  config.hc_sinkhorn_iters = 20;
  config.hc_eps = 1e-6;
  config.rms_norm_eps = 1e-6;
  config.num_mtp_layers = 1;
  config.bos_token_id = 0;
  config.eos_token_id = 1;
  config.weight_quant = "fp8";
  config.expert_dtype = "fp4";
  return config;
}

}  // namespace

std::string_view attention_kind_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::SlidingWindow:
      return "sliding";
    case AttentionKind::CompressedSparse:
      return "csa";
    case AttentionKind::HeavilyCompressed:
      return "hca";
  }
  return "unknown";
}

std::vector<LayerSpec> ModelConfig::schedule() const {
  const int64_t block_count = num_layers + num_mtp_layers;
  if (num_layers < 0 || num_mtp_layers < 0 || static_cast<int64_t>(compress_ratios.size()) != block_count) {
    fail("model config: compress_ratios has ", compress_ratios.size(), " entries, expected ", num_layers, " layers + ",
         num_mtp_layers, " MTP blocks");
  }
  std::vector<LayerSpec> layers;
  layers.reserve(compress_ratios.size());
  for (int64_t i = 0; i < block_count; ++i) {
    const int ratio = compress_ratios[i];
    const auto kind = attention_kind_for_ratio(ratio);
    if (!kind) fail("model config: compress ratio ", ratio, " of layer ", i, " is not a V4 ratio");
    LayerSpec layer;
    layer.index = static_cast<int>(i);
    layer.is_mtp = i >= num_layers;
    layer.mtp_index = layer.is_mtp ? static_cast<int>(i - num_layers) : -1;
    layer.compress_ratio = ratio;
    layer.attention = *kind;
    layer.hash_routed = !layer.is_mtp && i < num_hash_layers;
    layers.push_back(layer);
  }
  return layers;
}

ModelConfig parse_model_config(const nlohmann::json& json, std::string_view source) {
  if (!json.is_object()) fail(source, ": expected a JSON object, found ", describe(json));
  const FieldReader reader(json, source);
  check_model_identity(reader);

  const bool huggingface = json.contains("hidden_size") || json.contains("num_hidden_layers");
  const bool official = !huggingface && (json.contains("dim") || json.contains("n_layers"));
  if (official) {
    ModelConfig config = read_official(reader);
    validate(config, kOfficialKeys, source);
    return config;
  }
  // With neither style's keys, errors name the HF keys: that is the format gen-model writes.
  ModelConfig config = read_huggingface(reader);
  validate(config, kHuggingFaceKeys, source);
  check_layer_types(reader, config);
  return config;
}

ModelConfig load_model_config(const std::filesystem::path& path) {
  const std::filesystem::path file = locate_config(path);
  const std::string text = read_file_contents(file);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    // what() starts with "[json.exception.parse_error.101] "; the rest carries the position.
    std::string_view message = error.what();
    if (auto end_of_tag = message.find("] "); end_of_tag != std::string_view::npos) {
      message.remove_prefix(end_of_tag + 2);
    }
    fail(file.string(), ": invalid JSON: ", message);
  }
  return parse_model_config(json, file.string());
}

nlohmann::json to_hf_config_json(const ModelConfig& config) {
  nlohmann::json out = {
      {"architectures", nlohmann::json::array({kArchitecture})},
      {"model_type", kModelType},
      {"vocab_size", config.vocab_size},
      {"hidden_size", config.hidden_size},
      {"num_hidden_layers", config.num_layers},
      {"num_attention_heads", config.num_heads},
      {"num_key_value_heads", 1},
      {"head_dim", config.head_dim},
      {"qk_rope_head_dim", config.rope_head_dim},
      {"q_lora_rank", config.q_lora_rank},
      {"o_groups", config.o_groups},
      {"o_lora_rank", config.o_lora_rank},
      {"sliding_window", config.sliding_window},
      {"compress_ratios", config.compress_ratios},
      {"rope_theta", config.rope_theta},
      {"compress_rope_theta", config.compress_rope_theta},
      {"max_position_embeddings", config.max_position_embeddings},
      {"index_n_heads", config.index_n_heads},
      {"index_head_dim", config.index_head_dim},
      {"index_topk", config.index_topk},
      {"n_routed_experts", config.n_routed_experts},
      {"num_experts_per_tok", config.num_experts_per_tok},
      {"n_shared_experts", config.n_shared_experts},
      {"moe_intermediate_size", config.moe_intermediate_size},
      {"num_hash_layers", config.num_hash_layers},
      {"scoring_func", config.scoring_func},
      {"topk_method", config.topk_method},
      {"norm_topk_prob", true},
      {"routed_scaling_factor", config.routed_scaling_factor},
      {"swiglu_limit", config.swiglu_limit},
      {"hidden_act", "silu"},
      {"hc_mult", config.hc_mult},
      {"hc_sinkhorn_iters", config.hc_sinkhorn_iters},
      {"hc_eps", config.hc_eps},
      {"rms_norm_eps", config.rms_norm_eps},
      {"num_nextn_predict_layers", config.num_mtp_layers},
      {"bos_token_id", config.bos_token_id},
      {"eos_token_id", config.eos_token_id},
      {"tie_word_embeddings", false},
      {"attention_bias", false},
      {"torch_dtype", "bfloat16"},
  };
  // A config without YaRN (the parse default) must come back without it.
  if (config.yarn != YarnConfig{}) {
    out["rope_scaling"] = {
        {"type", "yarn"},
        {"factor", config.yarn.factor},
        {"original_max_position_embeddings", config.yarn.original_max_position},
        {"beta_fast", config.yarn.beta_fast},
        {"beta_slow", config.yarn.beta_slow},
    };
  }
  if (config.weight_quant == kFp8BlockScaled) {
    out["quantization_config"] = {
        {"activation_scheme", "dynamic"},
        {"fmt", "e4m3"},
        {"quant_method", "fp8"},
        {"scale_fmt", "ue8m0"},
        {"weight_block_size", nlohmann::json::array({128, 128})},
    };
  } else if (!config.weight_quant.empty()) {
    fail("model config: weight_quant '", config.weight_quant, "' has no config.json form");
  }
  if (!config.expert_dtype.empty()) out["expert_dtype"] = config.expert_dtype;
  return out;
}

ModelConfig v4_flash_config() {
  ModelConfig config = v4_release_common();
  config.hidden_size = 4096;
  config.num_layers = 43;
  config.num_heads = 64;
  config.q_lora_rank = 1024;
  config.o_groups = 8;
  // Layers 0-1 sliding, then CSA/HCA alternating, the last backbone layer CSA, MTP sliding.
  config.compress_ratios = repeat_pairs({0, 0}, {4, 128}, 20, {4, 0});
  config.index_topk = 512;
  config.n_routed_experts = 256;
  config.moe_intermediate_size = 2048;
  config.routed_scaling_factor = 1.5;
  return config;
}

ModelConfig v4_pro_config() {
  ModelConfig config = v4_release_common();
  config.hidden_size = 7168;
  config.num_layers = 61;
  config.num_heads = 128;
  config.q_lora_rank = 1536;
  config.o_groups = 16;
  // Pro has no sliding-only backbone layer: layers 0-1 are HCA.
  config.compress_ratios = repeat_pairs({128, 128}, {4, 128}, 29, {4, 0});
  config.index_topk = 1024;
  config.n_routed_experts = 384;
  config.moe_intermediate_size = 3072;
  config.routed_scaling_factor = 2.5;
  return config;
}

}  // namespace lightseek
