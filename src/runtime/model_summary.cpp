#include "runtime/model_summary.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/checkpoint.h"
#include "runtime/memory_estimate.h"

namespace lightseek {
namespace {

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024.0 && unit < 4) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.2f %s", bytes, units[unit]);
  return text;
}

std::string routing_name(const LayerSpec& layer) { return layer.hash_routed ? "hash" : "top-k"; }

std::string weight_formats(const ModelSummary& s) {
  std::string formats;
  for (const auto& [dtype, count] : s.by_dtype) {
    if (!formats.empty()) formats += ", ";
    formats += dtype;
  }
  return formats;
}

}  // namespace

ModelSummary summarize_model(const std::filesystem::path& model_dir) {
  ModelSummary summary;
  summary.path = model_dir.string();
  summary.config = load_model_config(model_dir);
  const Checkpoint checkpoint = Checkpoint::open(model_dir);
  summary.shard_count = checkpoint.shard_paths().size();
  for (const auto& [name, tensor] : checkpoint.tensors()) {
    ByteCount& count = summary.by_dtype[std::string(dtype_name(tensor.dtype))];
    ++count.tensors;
    count.bytes += tensor.nbytes;
    ++summary.all.tensors;
    summary.all.bytes += tensor.nbytes;
  }
  summary.binding = bind_checkpoint(summary.config, checkpoint).report;
  for (const BoundTensor& bound : summary.binding.bound) {
    ByteCount& count = summary.by_module[std::string(module_kind_name(bound.module))];
    ++count.tensors;
    count.bytes += bound.tensor.nbytes;
  }
  return summary;
}

std::string summary_to_text(const ModelSummary& s) {
  const ModelConfig& c = s.config;
  std::string out;
  char line[256];
  out += "model       " + s.path + "\n";
  std::snprintf(line, sizeof line,
                "geometry    vocab %lld, hidden %lld, %lld layers + %lld MTP, %lld heads x %lld (rope %lld)\n",
                (long long)c.vocab_size, (long long)c.hidden_size, (long long)c.num_layers, (long long)c.num_mtp_layers,
                (long long)c.num_heads, (long long)c.head_dim, (long long)c.rope_head_dim);
  out += line;
  std::snprintf(line, sizeof line,
                "attention   q_lora %lld, output %lld groups x %lld, window %lld, indexer %lld heads x %lld top-%lld\n",
                (long long)c.q_lora_rank, (long long)c.o_groups, (long long)c.o_lora_rank, (long long)c.sliding_window,
                (long long)c.index_n_heads, (long long)c.index_head_dim, (long long)c.index_topk);
  out += line;
  std::snprintf(line, sizeof line,
                "moe         %lld experts, top-%lld + %lld shared, width %lld, %s, scale %g, swiglu limit %g\n",
                (long long)c.n_routed_experts, (long long)c.num_experts_per_tok, (long long)c.n_shared_experts,
                (long long)c.moe_intermediate_size, c.scoring_func.c_str(), c.routed_scaling_factor, c.swiglu_limit);
  out += line;
  out += "stored as   " + weight_formats(s) + "\n\nschedule\n  layer  attention  ratio  routing\n";
  for (const LayerSpec& layer : c.schedule()) {
    const std::string name = layer.is_mtp ? str_cat("mtp.", layer.mtp_index) : std::to_string(layer.index);
    std::snprintf(line, sizeof line, "  %-6s %-10s %5d  %s\n", name.c_str(),
                  std::string(attention_kind_name(layer.attention)).c_str(), layer.compress_ratio,
                  routing_name(layer).c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "\ntensors     %llu in %zu file(s), %s\n", (unsigned long long)s.all.tensors,
                s.shard_count, human_bytes(static_cast<double>(s.all.bytes)).c_str());
  out += line;
  out += "  by dtype\n";
  for (const auto& [dtype, count] : s.by_dtype) {
    std::snprintf(line, sizeof line, "    %-18s %8llu  %12s\n", dtype.c_str(), (unsigned long long)count.tensors,
                  human_bytes(static_cast<double>(count.bytes)).c_str());
    out += line;
  }
  out += "  by module\n";
  for (const auto& [module, count] : s.by_module) {
    std::snprintf(line, sizeof line, "    %-18s %8llu  %12s\n", module.c_str(), (unsigned long long)count.tensors,
                  human_bytes(static_cast<double>(count.bytes)).c_str());
    out += line;
  }
  out += "\nmemory\n";
  out += "  weights (memory-mapped)      " + human_bytes(static_cast<double>(s.all.bytes)) + "\n";
  for (KvStorage storage : {KvStorage::Bf16, KvStorage::Fp8, KvStorage::Fp8Fp4Index}) {
    const double per_token = kv_bytes_per_token(c, storage);
    std::snprintf(line, sizeof line, "  KV cache per token %-14s %8.1f B   (%s at 1M tokens)\n",
                  std::string(kv_storage_name(storage)).c_str(), per_token,
                  human_bytes(per_token * 1048576.0).c_str());
    out += line;
  }
  for (bool coded : {false, true}) {
    const double per_token = stored_kv_bytes_per_token(c, coded);
    std::snprintf(line, sizeof line, "  KV as stored, --kv-cache %-3s      %8.1f B   (%s at 1M tokens)\n", coded ? "fp8" : "f32",
                  per_token, human_bytes(per_token * 1048576.0).c_str());
    out += line;
  }
  const SequenceFixedBytes fixed = sequence_fixed_bytes(c);
  out += "  per sequence, fixed          " + human_bytes(static_cast<double>(fixed.window_rings)) + " window rings + " +
         human_bytes(static_cast<double>(fixed.compressor_state)) + " compressor state\n";
  out += "\nbinding     ";
  if (s.binding.ok()) {
    out += "ok, every tensor matches the config\n";
  } else {
    out += "FAILED\n" + s.binding.describe_problems() + "\n";
  }
  for (const std::string& note : s.binding.notes) out += "  note: " + note + "\n";
  return out;
}

nlohmann::json summary_to_json(const ModelSummary& s) {
  nlohmann::json json;
  json["path"] = s.path;
  json["config"] = to_hf_config_json(s.config);
  nlohmann::json schedule = nlohmann::json::array();
  for (const LayerSpec& layer : s.config.schedule()) {
    schedule.push_back({{"index", layer.index},
                        {"mtp", layer.is_mtp},
                        {"attention", attention_kind_name(layer.attention)},
                        {"compress_ratio", layer.compress_ratio},
                        {"routing", routing_name(layer)}});
  }
  json["schedule"] = schedule;
  json["shards"] = s.shard_count;
  json["tensors"] = {{"count", s.all.tensors}, {"bytes", s.all.bytes}};
  for (const auto& [dtype, count] : s.by_dtype) {
    json["by_dtype"][dtype] = {{"count", count.tensors}, {"bytes", count.bytes}};
  }
  for (const auto& [module, count] : s.by_module) {
    json["by_module"][module] = {{"count", count.tensors}, {"bytes", count.bytes}};
  }
  json["memory"]["weights_bytes"] = s.all.bytes;
  for (KvStorage storage : {KvStorage::Bf16, KvStorage::Fp8, KvStorage::Fp8Fp4Index}) {
    json["memory"]["kv_bytes_per_token"][std::string(kv_storage_name(storage))] = kv_bytes_per_token(s.config, storage);
  }
  for (bool coded : {false, true}) {
    json["memory"]["kv_bytes_per_token_stored"][coded ? "fp8" : "f32"] = stored_kv_bytes_per_token(s.config, coded);
  }
  const SequenceFixedBytes fixed = sequence_fixed_bytes(s.config);
  json["memory"]["sequence_fixed_bytes"] = {{"window_rings", fixed.window_rings},
                                            {"compressor_state", fixed.compressor_state}};
  json["binding"] = {{"ok", s.binding.ok()},
                     {"missing", s.binding.missing},
                     {"unexpected", s.binding.unexpected},
                     {"mismatched", s.binding.mismatched},
                     {"notes", s.binding.notes}};
  return json;
}

}  // namespace lightseek
