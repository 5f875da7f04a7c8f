// A sequence state on disk, so that a restarted server resumes a cached conversation instead of
// processing it again. The file is tied to the model and numerics that produced it (a state is
// only meaningful for the exact computation that made it) and checksummed; the readers reject a
// corrupt, truncated or foreign file with an Error naming the file and the problem, never load
// it, and never size an allocation from a field before checking it against the file's size.
//
// Layout, version 1. Every field is little-endian and fixed-width; floats are IEEE-754 binary32
// as the state holds them (the round trip is bit-exact, FP8/FP4 codes included).
//
//   header
//     u8[8]  magic "LSKSTATE"
//     u32    format version (kStateFileVersion)
//     u32    flags, 0
//     u64    file bytes: the whole file, trailing checksum included
//     u32    identity bytes L (1..kMaxIdentityBytes)
//     u8[L]  model identity (model_identity())
//     u64    token count T
//     i32[T] tokens
//     u64    header checksum: hash of every header byte before it
//   payload
//     i64    state length (must equal T)
//     u64    logits count V, f32[V] logits of the last token
//     u32    layer count, then per layer:
//       i64    window, head_dim, index_dim
//       u64    ring floats R, f32[R]
//       rows   compressed entries, then rows: indexer keys, each as
//                u32 format (KvRowFormat), i64 width, i64 quantized, i64 count,
//                u64 bytes B, u8[B] (KvRows::stored_bytes())
//       comp   compressor, then comp: indexer compressor, each as
//                i64 ratio, i64 width, u32 overlapping, u64 U, f32[U] u, u64 Z, f32[Z] z
//   trailer
//     u64    checksum: hash of every byte before it
//
// The hash is XXH64 (seed 0). The header has its own checksum so that the cache can index a
// directory of files at startup from their headers alone (read_state_file_summary).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "model/sequence_state.h"
#include "runtime/loaded_model.h"

namespace lightseek {

inline constexpr uint32_t kStateFileVersion = 1;
inline constexpr uint32_t kMaxIdentityBytes = 4096;

// The state after exactly `tokens`, and the logits of the last token (may be empty).
struct CachedState {
  std::vector<int32_t> tokens;
  SequenceState state;
  std::vector<float> last_logits;
};

// Writes atomically: a temporary file in the same directory, fsync, rename over `file`, fsync of
// the directory; a failure or crash never leaves a partial file under the final name (a crash
// may leave the temporary, named FILE.tmp-*). Throws Error naming the file when it cannot be
// written, when state.length differs from the token count, or when the identity is empty or
// longer than kMaxIdentityBytes.
void write_state_file(const std::filesystem::path& file, const CachedState& entry, std::string_view model_identity);

// What the cache indexes at startup without reading the payload: the tokens, checked against the
// header checksum, the identity and the file's actual size.
struct StateFileSummary {
  std::vector<int32_t> tokens;
  uint64_t file_bytes = 0;
};
StateFileSummary read_state_file_summary(const std::filesystem::path& file, std::string_view model_identity);

// The whole entry, verified: header as above, then the payload against the trailing checksum and
// against `expected_layout` (the model's fresh new_sequence()): layer count, window, widths, KV
// row formats, ring size, compressor shapes, and entry/key counts that match the token count.
CachedState read_state_file(const std::filesystem::path& file, std::string_view model_identity,
                            const SequenceState& expected_layout);

// Identifies everything a cached state depends on, cheaply enough for 100+ GB checkpoints:
// config.json's bytes; per shard its name, size, safetensors header and a few sampled 4 KiB
// blocks of its data (which tell a fine-tune from its base, whose headers are equal); the
// built-in model's versioned name; the SIMD instruction set the kernels use (floating-point
// results may differ between them); the state file version; and `numerics_name`, which must
// distinguish every numerics setting that changes the computation (e.g. "reference" and
// "reference-no-activation-quant"). The result is readable text ending in a 64-bit hash.
// Throws Error when a file of the model cannot be read.
std::string model_identity(const LoadedTextModel& model, std::string_view numerics_name);

}  // namespace lightseek
