#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "formats/checkpoint.h"
#include "formats/safetensors_writer.h"
#include "safetensors_test_files.h"

namespace lightseek {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScopedTempDir;
using ::testing::StartsWith;

// Byte `i` of tensor `name`: differs between tensors and along each tensor.
uint8_t content_byte(std::string_view name, size_t i) {
  return static_cast<uint8_t>(std::hash<std::string_view>{}(name) + i * 31);
}

// A shard of F32 tensors with the given shapes, filled with content_byte.
void write_shard(const fs::path& path,
                 const std::vector<std::pair<std::string, std::vector<int64_t>>>& tensors) {
  std::vector<TensorToWrite> to_write;
  for (const auto& [name, shape] : tensors) {
    to_write.push_back({name, DType::F32, shape, [name](std::span<uint8_t> out) {
                          for (size_t i = 0; i < out.size(); ++i) out[i] = content_byte(name, i);
                        }});
  }
  write_safetensors(path, to_write);
}

void write_index(const fs::path& directory, const std::map<std::string, std::string>& weight_map,
                 std::optional<uint64_t> total_size = std::nullopt) {
  nlohmann::json index = {{"weight_map", weight_map}};
  if (total_size) index["metadata"] = {{"total_size", *total_size}};
  testing::write_file(directory / "model.safetensors.index.json", index.dump(2));
}

void expect_content(const TensorView& view) {
  for (size_t i = 0; i < view.nbytes; ++i) {
    ASSERT_EQ(view.data[i], content_byte(view.name, i)) << view.name << " byte " << i;
  }
}

std::string open_error(const fs::path& path) {
  try {
    Checkpoint::open(path);
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "opening " << path << " did not fail";
  return {};
}

// True when `address` lies in a mapping of `file` according to /proc/self/maps.
bool is_mapped_from(const void* address, const fs::path& file) {
  const std::string target = fs::canonical(file).string();
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (!line.ends_with(" " + target)) continue;
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream fields(line);
    fields >> std::hex >> begin >> dash >> end;
    const auto at = reinterpret_cast<uintptr_t>(address);
    if (at >= begin && at < end) return true;
  }
  return false;
}

// A directory with a 2-shard checkpoint: a, b in shard 1; c in shard 2.
struct TwoShards {
  ScopedTempDir dir;
  const std::string first = "model-00001-of-00002.safetensors";
  const std::string second = "model-00002-of-00002.safetensors";
  TwoShards() {
    write_shard(dir / first, {{"a", {2, 3}}, {"b", {4}}});
    write_shard(dir / second, {{"c", {5, 1}}});
  }
  fs::path index_path() const { return dir / "model.safetensors.index.json"; }
};

// ---------------------------------------------------------------------------------------------
// Loading

TEST(CheckpointOpen, SingleFileViewsPointIntoTheMapping) {
  ScopedTempDir dir;
  const auto path = dir / "weights.safetensors";
  write_shard(path, {{"x.weight", {3, 4}}, {"x.bias", {3}}, {"empty", {0, 2}}});

  const Checkpoint checkpoint = Checkpoint::open(path);
  EXPECT_EQ(checkpoint.size(), 3u);
  EXPECT_EQ(checkpoint.total_bytes(), 48u + 12u);
  EXPECT_THAT(checkpoint.shard_paths(), ElementsAre(path));
  EXPECT_EQ(checkpoint.index_total_size(), 0u);
  EXPECT_EQ(checkpoint.find("missing"), nullptr);

  const std::string file = testing::read_file(path);
  const auto header = parse_safetensors_header(testing::as_bytes(file), path.string());
  for (const auto& entry : header.tensors) {
    SCOPED_TRACE(entry.name);
    const TensorView* view = checkpoint.find(entry.name);
    ASSERT_NE(view, nullptr);
    EXPECT_EQ(view->name, entry.name);
    EXPECT_EQ(view->dtype, DType::F32);
    EXPECT_EQ(view->shape, entry.shape);
    EXPECT_EQ(view->nbytes, entry.end - entry.begin);
    EXPECT_TRUE(view->valid());
    EXPECT_EQ(
        0, std::memcmp(view->data, file.data() + header.data_offset + entry.begin, view->nbytes));
    if (view->nbytes > 0) {
      EXPECT_TRUE(is_mapped_from(view->data, path)) << "copied, not mapped";
    }
    expect_content(*view);
  }
  // Views are laid out exactly as in the file: one mapping, no per-tensor buffers.
  const TensorView* weight = checkpoint.find("x.weight");
  const TensorView* bias = checkpoint.find("x.bias");
  EXPECT_EQ(weight->data + weight->nbytes, bias->data);
}

TEST(CheckpointOpen, TensorsAreSortedByName) {
  ScopedTempDir dir;
  write_shard(dir / "model.safetensors", {{"z", {1}}, {"a", {1}}, {"m", {1}}});
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  std::vector<std::string> names;
  for (const auto& [name, view] : checkpoint.tensors()) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("a", "m", "z"));
  EXPECT_THAT(checkpoint.shard_paths(), ElementsAre(dir / "model.safetensors"));
}

TEST(CheckpointOpen, ViewsSurviveMovingTheCheckpoint) {
  ScopedTempDir dir;
  write_shard(dir / "model.safetensors", {{"w", {64}}});
  Checkpoint moved;
  {
    Checkpoint original = Checkpoint::open(dir.path());
    moved = std::move(original);
  }
  const TensorView* view = moved.find("w");
  ASSERT_NE(view, nullptr);
  expect_content(*view);
}

TEST(CheckpointOpen, DirectoryOfUnindexedShards) {
  ScopedTempDir dir;
  write_shard(dir / "model-00002-of-00002.safetensors", {{"b", {2}}});
  write_shard(dir / "model-00001-of-00002.safetensors", {{"a", {2}}});
  testing::write_file(dir / "other.safetensors", "not part of the checkpoint");
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.size(), 2u);
  EXPECT_THAT(checkpoint.shard_paths(), ElementsAre(dir / "model-00001-of-00002.safetensors",
                                                    dir / "model-00002-of-00002.safetensors"));
  expect_content(*checkpoint.find("a"));
  expect_content(*checkpoint.find("b"));
}

TEST(CheckpointOpen, SingleFileTakesPrecedenceOverUnindexedShards) {
  ScopedTempDir dir;
  write_shard(dir / "model.safetensors", {{"a", {2}}});
  write_shard(dir / "model-00001-of-00001.safetensors", {{"a", {2}}});  // would be a duplicate
  EXPECT_EQ(Checkpoint::open(dir.path()).size(), 1u);
}

// The data section is a hole in a sparse file; if opening read it, its pages would be resident.
TEST(CheckpointOpen, ReadsOnlyTheHeader) {
  ScopedTempDir dir;
  const auto path = dir / "model.safetensors";
  constexpr uint64_t kDataBytes = 64ull << 20;
  testing::write_file(
      path, testing::raw_safetensors(str_cat(R"({"big":{"dtype":"U8","shape":[)", kDataBytes,
                                             R"(],"data_offsets":[0,)", kDataBytes, "]}}")));
  fs::resize_file(path, fs::file_size(path) + kDataBytes);

  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  const TensorView* big = checkpoint.find("big");
  ASSERT_NE(big, nullptr);
  ASSERT_EQ(big->nbytes, kDataBytes);
  // Skip the first megabyte: faulting in the header may read ahead around it.
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const auto start = (reinterpret_cast<uintptr_t>(big->data) + (1u << 20)) / page * page;
  const auto stop = (reinterpret_cast<uintptr_t>(big->data) + big->nbytes) / page * page;
  std::vector<unsigned char> resident((stop - start) / page);
  ASSERT_EQ(0, ::mincore(reinterpret_cast<void*>(start), stop - start, resident.data()));
  size_t resident_pages = 0;
  for (unsigned char flags : resident) resident_pages += flags & 1;
  EXPECT_EQ(resident_pages, 0u);
}

// ---------------------------------------------------------------------------------------------
// Sharded with an index

TEST(CheckpointSharded, TwoShardIndexLoads) {
  TwoShards shards;
  write_index(shards.dir.path(), {{"a", shards.first}, {"b", shards.first}, {"c", shards.second}},
              123456);
  const Checkpoint checkpoint = Checkpoint::open(shards.dir.path());
  EXPECT_EQ(checkpoint.size(), 3u);
  EXPECT_EQ(checkpoint.total_bytes(), 24u + 16u + 20u);
  EXPECT_EQ(checkpoint.index_total_size(), 123456u);
  EXPECT_THAT(checkpoint.shard_paths(),
              ElementsAre(shards.dir / shards.first, shards.dir / shards.second));
  for (const auto& [name, view] : checkpoint.tensors()) expect_content(view);
  EXPECT_THAT(checkpoint.find("c")->shape, ElementsAre(5, 1));
  EXPECT_TRUE(is_mapped_from(checkpoint.find("c")->data, shards.dir / shards.second));
}

TEST(CheckpointSharded, OpensTheIndexFileItself) {
  TwoShards shards;
  write_index(shards.dir.path(), {{"a", shards.first}, {"b", shards.first}, {"c", shards.second}});
  const Checkpoint checkpoint = Checkpoint::open(shards.index_path());
  EXPECT_EQ(checkpoint.size(), 3u);
  EXPECT_EQ(checkpoint.index_total_size(), 0u);
}

TEST(CheckpointSharded, IndexTakesPrecedenceOverSingleFile) {
  TwoShards shards;
  write_index(shards.dir.path(), {{"a", shards.first}, {"b", shards.first}, {"c", shards.second}});
  write_shard(shards.dir / "model.safetensors", {{"stale", {1}}});
  const Checkpoint checkpoint = Checkpoint::open(shards.dir.path());
  EXPECT_EQ(checkpoint.size(), 3u);
  EXPECT_EQ(checkpoint.find("stale"), nullptr);
}

TEST(CheckpointSharded, MissingShard) {
  ScopedTempDir dir;
  write_shard(dir / "model-00001-of-00003.safetensors", {{"a", {1}}});
  write_index(dir.path(), {{"a", "model-00001-of-00003.safetensors"},
                           {"layers.3.attn.wkv.weight", "model-00002-of-00003.safetensors"},
                           {"layers.3.attn.wo.weight", "model-00002-of-00003.safetensors"}});
  EXPECT_THAT(open_error(dir.path()),
              AllOf(StartsWith((dir / "model.safetensors.index.json").string() + ": "),
                    HasSubstr("index names shard 'model-00002-of-00003.safetensors' for 2 tensors "
                              "(e.g. 'layers.3.attn.wkv.weight', 'layers.3.attn.wo.weight'), but "
                              "it does not exist")));
}

TEST(CheckpointSharded, IndexNamesTensorNotInItsShard) {
  TwoShards shards;
  write_index(
      shards.dir.path(),
      {{"a", shards.first}, {"b", shards.first}, {"c", shards.second}, {"ghost", shards.second}});
  EXPECT_THAT(open_error(shards.dir.path()),
              AllOf(StartsWith(shards.index_path().string() + ": index does not match the shards"),
                    HasSubstr("index lists 1 tensor in shard '" + shards.second +
                              "' that it does not hold: 'ghost'")));
}

TEST(CheckpointSharded, IndexPutsTensorInTheWrongShard) {
  TwoShards shards;
  write_index(shards.dir.path(), {{"a", shards.first}, {"b", shards.second}, {"c", shards.second}});
  const std::string message = open_error(shards.dir.path());
  EXPECT_THAT(message, HasSubstr("index lists 1 tensor in shard '" + shards.second +
                                 "' that it does not hold: 'b' (found in '" + shards.first + "')"));
  EXPECT_THAT(message, Not(HasSubstr("does not list")));  // it is listed, just misplaced
}

TEST(CheckpointSharded, ShardTensorMissingFromIndex) {
  TwoShards shards;
  write_index(shards.dir.path(), {{"a", shards.first}, {"c", shards.second}});
  EXPECT_THAT(
      open_error(shards.dir.path()),
      HasSubstr("shard '" + shards.first + "' holds 1 tensor that the index does not list: 'b'"));
}

TEST(CheckpointSharded, DuplicateTensorAcrossShards) {
  ScopedTempDir dir;
  write_shard(dir / "model-00001-of-00002.safetensors", {{"a", {1}}, {"shared", {2}}});
  write_shard(dir / "model-00002-of-00002.safetensors", {{"b", {1}}, {"shared", {2}}});
  write_index(dir.path(), {{"a", "model-00001-of-00002.safetensors"},
                           {"b", "model-00002-of-00002.safetensors"},
                           {"shared", "model-00001-of-00002.safetensors"}});
  EXPECT_THAT(
      open_error(dir.path()),
      HasSubstr("1 tensor name appears in more than one shard: 'shared' in "
                "'model-00001-of-00002.safetensors' and 'model-00002-of-00002.safetensors'"));
}

TEST(CheckpointSharded, DuplicateTensorAcrossUnindexedShards) {
  ScopedTempDir dir;
  write_shard(dir / "model-00001-of-00002.safetensors", {{"shared", {2}}});
  write_shard(dir / "model-00002-of-00002.safetensors", {{"shared", {2}}});
  EXPECT_THAT(open_error(dir.path()),
              AllOf(StartsWith(dir.path().string() + ": shards do not form one checkpoint"),
                    HasSubstr("'shared' in 'model-00001-of-00002.safetensors' and "
                              "'model-00002-of-00002.safetensors'")));
}

TEST(CheckpointSharded, ReportsAllProblemsAtOnce) {
  ScopedTempDir dir;
  write_shard(dir / "model-00001-of-00003.safetensors", {{"a", {1}}, {"extra", {1}}});
  write_shard(dir / "model-00002-of-00003.safetensors", {{"b", {1}}});
  write_index(dir.path(), {{"a", "model-00001-of-00003.safetensors"},
                           {"b", "model-00002-of-00003.safetensors"},
                           {"ghost", "model-00002-of-00003.safetensors"},
                           {"lost", "model-00003-of-00003.safetensors"}});
  const std::string message = open_error(dir.path());
  EXPECT_THAT(message, HasSubstr("(3 problems)"));
  EXPECT_THAT(message, HasSubstr("shard 'model-00003-of-00003.safetensors' for 1 tensor (e.g. "
                                 "'lost'), but it does not exist"));
  EXPECT_THAT(message, HasSubstr("that it does not hold: 'ghost'"));
  EXPECT_THAT(message, HasSubstr("the index does not list: 'extra'"));
}

TEST(CheckpointSharded, CountsAndLimitsExamples) {
  ScopedTempDir dir;
  write_shard(dir / "model-00001-of-00001.safetensors", {{"a", {1}}});
  std::map<std::string, std::string> weight_map = {{"a", "model-00001-of-00001.safetensors"}};
  for (int i = 0; i < 50; ++i) {
    weight_map[str_cat("ghost.", 10 + i)] = "model-00001-of-00001.safetensors";
  }
  write_index(dir.path(), weight_map);
  const std::string ghosts = open_error(dir.path());
  EXPECT_THAT(ghosts,
              HasSubstr("index lists 50 tensors in shard 'model-00001-of-00001.safetensors' "
                        "that it does not hold: 'ghost.10', 'ghost.11', 'ghost.12', ..."));
  EXPECT_THAT(ghosts, Not(HasSubstr("ghost.13")));
}

TEST(CheckpointSharded, RejectsShardNamesOutsideTheDirectory) {
  ScopedTempDir dir;
  fs::create_directories(dir / "sub");
  write_shard(dir / "x.safetensors", {{"a", {1}}});
  write_shard(dir / "sub" / "y.safetensors", {{"b", {1}}});
  const auto index_dir = dir / "sub";
  for (const std::string bad :
       {"../x.safetensors", "..", "sub/y.safetensors", "/abs.safetensors", "", "."}) {
    SCOPED_TRACE(bad);
    write_index(index_dir, {{"a", bad}});
    EXPECT_THAT(open_error(index_dir),
                AllOf(StartsWith((index_dir / "model.safetensors.index.json").string() + ": "),
                      HasSubstr("\"weight_map\" entry 'a' names shard '" + bad +
                                "', which is not a plain file name")));
  }
}

TEST(CheckpointSharded, RejectsMalformedIndex) {
  ScopedTempDir dir;
  write_shard(dir / "model-00001-of-00001.safetensors", {{"a", {1}}});
  const auto index = dir / "model.safetensors.index.json";
  const auto error_for = [&](std::string_view text) {
    testing::write_file(index, text);
    const std::string message = open_error(dir.path());
    EXPECT_THAT(message, StartsWith(index.string() + ": "));
    return message;
  };
  EXPECT_THAT(error_for(R"({"weight_map": {"a": )"), HasSubstr("not valid JSON: parse error"));
  EXPECT_THAT(error_for(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_for("{\"weight_map\": {\"\xff\": \"m\"}}"), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_for(std::string("{}\0junk", 7)), HasSubstr("not valid JSON: NUL byte"));
  EXPECT_THAT(error_for("[]"), HasSubstr("index is JSON array, expected an object"));
  EXPECT_THAT(error_for("{}"), HasSubstr("index has no \"weight_map\""));
  EXPECT_THAT(error_for(R"({"weight_map": []})"), HasSubstr("\"weight_map\" is array"));
  EXPECT_THAT(error_for(R"({"weight_map": {"a": 1}})"),
              HasSubstr("\"weight_map\" entry 'a' is number, expected a shard file name"));
  EXPECT_THAT(
      error_for(R"({"metadata": 5, "weight_map": {"a": "model-00001-of-00001.safetensors"}})"),
      HasSubstr("\"metadata\" is number, expected an object"));
  EXPECT_THAT(error_for(R"({"metadata": {"total_size": -4},
                            "weight_map": {"a": "model-00001-of-00001.safetensors"}})"),
              HasSubstr("\"metadata.total_size\" is -4, expected a byte count"));
}

TEST(CheckpointSharded, AcceptsWholeFloatTotalSize) {
  ScopedTempDir dir;
  write_shard(dir / "model-00001-of-00001.safetensors", {{"a", {1}}});
  testing::write_file(dir / "model.safetensors.index.json",
                      R"({"metadata": {"total_size": 4.0, "format": "pt"},
                          "weight_map": {"a": "model-00001-of-00001.safetensors"}})");
  EXPECT_EQ(Checkpoint::open(dir.path()).index_total_size(), 4u);
}

TEST(CheckpointSharded, MalformedShardIsNamed) {
  TwoShards shards;
  write_index(shards.dir.path(), {{"a", shards.first}, {"b", shards.first}, {"c", shards.second}});
  testing::write_file(shards.dir / shards.second, testing::raw_safetensors("{oops"));
  EXPECT_THAT(open_error(shards.dir.path()),
              StartsWith((shards.dir / shards.second).string() + ": header is not valid JSON"));
}

// ---------------------------------------------------------------------------------------------
// Nothing to open

TEST(CheckpointOpen, DirectoryWithoutCheckpoint) {
  ScopedTempDir dir;
  testing::write_file(dir / "config.json", "{}");
  testing::write_file(dir / "weights.bin", "");
  EXPECT_EQ(open_error(dir.path()),
            dir.path().string() +
                ": no safetensors checkpoint found (looked for model.safetensors.index.json, "
                "model.safetensors, model-*.safetensors)");
}

TEST(CheckpointOpen, MissingFileIsNamed) {
  ScopedTempDir dir;
  EXPECT_THAT(open_error(dir / "absent.safetensors"),
              StartsWith((dir / "absent.safetensors").string() + ": cannot open"));
}

TEST(CheckpointOpen, TruncatedFileIsNamed) {
  ScopedTempDir dir;
  testing::write_file(dir / "model.safetensors", "abc");
  EXPECT_THAT(open_error(dir.path()),
              StartsWith((dir / "model.safetensors").string() + ": file is 3 bytes, too short"));
}

// ---------------------------------------------------------------------------------------------
// The oracle fixtures

fs::path oracle_fixtures() {
  const fs::path in_tree = fs::path(LIGHTSEEK_TEST_FIXTURES) / "v4-oracle";
  if (fs::exists(in_tree)) return in_tree;
  return fs::path(LIGHTSEEK_SHARED_DIR) / "fixtures" / "v4-oracle";
}

TEST(CheckpointFixtures, OpensEveryOracleModel) {
  const fs::path root = oracle_fixtures();
  ASSERT_TRUE(fs::exists(root)) << root;
  struct Expected {
    size_t tensors;
    std::map<DType, size_t> dtypes;
  };
  const Expected f32{259, {{DType::F32, 257}, {DType::I64, 2}}};
  const Expected bf16{259, {{DType::F32, 47}, {DType::BF16, 210}, {DType::I64, 2}}};
  const Expected native{508,
                        {{DType::F8_E4M3, 52},
                         {DType::F8_E8M0, 196},
                         {DType::I8, 144},
                         {DType::BF16, 56},
                         {DType::F32, 58},
                         {DType::I64, 2}}};
  const std::map<std::string, Expected> expected = {
      {"tiny", f32},           {"flash_ratios", f32},
      {"tiny_bf16", bf16},     {"flash_ratios_bf16", bf16},
      {"tiny_native", native}, {"flash_ratios_native", native}};

  size_t opened = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    const fs::path model = entry.path() / "model.safetensors";
    if (!fs::exists(model)) continue;
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    const Checkpoint checkpoint = Checkpoint::open(entry.path());
    ++opened;
    std::map<DType, size_t> dtypes;
    uint64_t bytes = 0;
    for (const auto& [tensor_name, view] : checkpoint.tensors()) {
      ++dtypes[view.dtype];
      bytes += view.nbytes;
      EXPECT_EQ(view.nbytes, static_cast<size_t>(view.numel()) * dtype_size(view.dtype))
          << tensor_name;
    }
    EXPECT_EQ(bytes, checkpoint.total_bytes());
    EXPECT_LE(checkpoint.total_bytes(), fs::file_size(model));
    const auto found = expected.find(name);
    if (found == expected.end()) continue;  // a fixture added later: opening it is the test
    EXPECT_EQ(checkpoint.size(), found->second.tensors);
    EXPECT_EQ(dtypes, found->second.dtypes);
  }
  EXPECT_GE(opened, expected.size());
}

TEST(CheckpointFixtures, OpensEveryExpectationFile) {
  const fs::path root = oracle_fixtures();
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".safetensors") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_GT(Checkpoint::open(entry.path()).size(), 0u);
  }
}

}  // namespace
}  // namespace lightseek

namespace lightseek {
namespace {

TEST(CheckpointPopulate, MapsEveryShardAndLeavesTheTensorsReadable) {
  const Checkpoint checkpoint = Checkpoint::open(std::filesystem::path(LIGHTSEEK_TEST_FIXTURES) / "v4-oracle/tiny_native");
  EXPECT_TRUE(checkpoint.populate());
  const TensorView* embed = checkpoint.find("embed.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_GT(embed->nbytes, 0u);
}

}  // namespace
}  // namespace lightseek
