#include "formats/checkpoint.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <system_error>

#include "core/error.h"
#include "core/file_contents.h"
#include "formats/quoted_text.h"

namespace lightseek {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr std::string_view kIndexFileName = "model.safetensors.index.json";
constexpr std::string_view kSingleFileName = "model.safetensors";
// How many tensor names an index problem quotes, and how many problems one error lists: enough
// to see the pattern without flooding the terminal on a checkpoint with 100k tensors.
constexpr size_t kExampleNames = 3;
constexpr size_t kMaxProblemsListed = 12;

struct Index {
  fs::path path;
  std::map<std::string, std::string> shard_of_tensor;
  std::map<std::string, std::vector<std::string>> tensors_of_shard;  // names sorted
  std::set<std::string> missing_shards;
  uint64_t total_size = 0;
};

std::string in_quotes(std::string_view name) { return str_cat("'", name, "'"); }

// The first kExampleNames items, comma separated, with "..." when there are more.
std::string examples(const std::vector<std::string>& items) {
  std::string text;
  for (size_t i = 0; i < items.size() && i < kExampleNames; ++i) {
    if (i) text += ", ";
    text += items[i];
  }
  if (items.size() > kExampleNames) text += ", ...";
  return text;
}

std::string plural(size_t count, std::string_view noun) {
  return str_cat(count, " ", noun, count == 1 ? "" : "s");
}

// Shards must sit next to the index: a name that leaves the directory is either a mistake or an
// attempt to read files the user never pointed us at.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

uint64_t parse_total_size(const Json& metadata, const std::string& where) {
  if (!metadata.is_object()) {
    fail(where, ": \"metadata\" is ", metadata.type_name(), ", expected an object");
  }
  const auto total = metadata.find("total_size");
  if (total == metadata.end()) return 0;
  if (total->is_number_unsigned()) return total->get<uint64_t>();
  // Some exporters write the byte count as a float; accept it when it is a whole number.
  if (total->is_number_float()) {
    const double value = total->get<double>();
    if (value >= 0 && value < 0x1p64 && std::floor(value) == value) {
      return static_cast<uint64_t>(value);
    }
  }
  fail(where, ": \"metadata.total_size\" is ", total->dump(), ", expected a byte count");
}

Index read_index(const fs::path& path) {
  const std::string where = path.string();
  const std::string text = read_file_contents(path);
  // nlohmann takes a NUL byte for the end of the input and would ignore whatever follows.
  if (const size_t nul = text.find('\0'); nul != std::string::npos) {
    fail(where, ": not valid JSON: NUL byte at offset ", nul);
  }
  Json json;
  try {
    json = Json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    fail(where, ": not valid JSON: ", json_reason(error));
  }
  if (!json.is_object()) fail(where, ": index is JSON ", json.type_name(), ", expected an object");
  const auto weight_map = json.find("weight_map");
  if (weight_map == json.end()) fail(where, ": index has no \"weight_map\"");
  if (!weight_map->is_object()) {
    fail(where, ": \"weight_map\" is ", weight_map->type_name(),
         ", expected an object of tensor name -> shard file name");
  }

  Index index;
  index.path = path;
  for (const auto& [tensor, shard] : weight_map->items()) {
    if (!shard.is_string()) {
      fail(where, ": \"weight_map\" entry '", tensor, "' is ", shard.type_name(),
           ", expected a shard file name");
    }
    const auto& shard_name = shard.get_ref<const std::string&>();
    if (!is_plain_file_name(shard_name)) {
      fail(where, ": \"weight_map\" entry '", tensor, "' names shard '", shard_name,
           "', which is not a plain file name in the index's directory");
    }
    index.shard_of_tensor.emplace(tensor, shard_name);
    index.tensors_of_shard[shard_name].push_back(tensor);  // items() is in key order
  }
  if (const auto metadata = json.find("metadata"); metadata != json.end()) {
    index.total_size = parse_total_size(*metadata, where);
  }
  return index;
}

// Shards of a directory without an index: model-00001-of-00002.safetensors and the like.
std::vector<fs::path> find_unindexed_shards(const fs::path& directory) {
  std::vector<fs::path> shards;
  std::error_code error;
  fs::directory_iterator entries(directory, error);
  if (error) fail(directory.string(), ": cannot list: ", error.message());
  for (; entries != fs::directory_iterator(); entries.increment(error)) {
    const std::string name = entries->path().filename().string();
    const bool matches = name.starts_with("model") && name.ends_with(".safetensors");
    std::error_code type_error;
    if (matches && entries->is_regular_file(type_error)) shards.push_back(entries->path());
  }
  if (error) fail(directory.string(), ": cannot list: ", error.message());
  std::sort(shards.begin(), shards.end());
  return shards;
}

// Collects index/shard disagreements so that one error shows all of them.
class ProblemList {
 public:
  void add(std::string problem) { problems_.push_back(std::move(problem)); }
  bool empty() const { return problems_.empty(); }

  [[noreturn]] void report(const std::string& where, std::string_view summary) const {
    std::string text =
        str_cat(where, ": ", summary, " (", plural(problems_.size(), "problem"), "):");
    for (size_t i = 0; i < problems_.size() && i < kMaxProblemsListed; ++i) {
      text += "\n  - " + problems_[i];
    }
    if (problems_.size() > kMaxProblemsListed) {
      text += str_cat("\n  - ... and ", problems_.size() - kMaxProblemsListed, " more");
    }
    throw Error(text);
  }

 private:
  std::vector<std::string> problems_;
};

}  // namespace

Checkpoint Checkpoint::open(const std::filesystem::path& path) {
  std::optional<Index> index;
  std::vector<fs::path> shard_paths;
  std::error_code error;
  if (fs::is_directory(path, error)) {
    if (fs::exists(path / kIndexFileName, error)) {
      index = read_index(path / kIndexFileName);
    } else if (fs::exists(path / kSingleFileName, error)) {
      shard_paths.push_back(path / kSingleFileName);
    } else {
      shard_paths = find_unindexed_shards(path);
      if (shard_paths.empty()) {
        fail(path.string(), ": no safetensors checkpoint found (looked for ", kIndexFileName, ", ",
             kSingleFileName, ", model-*.safetensors)");
      }
    }
  } else if (path.filename() == kIndexFileName) {
    index = read_index(path);
  } else {
    shard_paths.push_back(path);
  }

  ProblemList problems;
  if (index) {
    const fs::path directory = index->path.parent_path();
    for (const auto& [shard, tensors] : index->tensors_of_shard) {
      const fs::path shard_path = directory / shard;
      if (fs::exists(shard_path, error)) {
        shard_paths.push_back(shard_path);
        continue;
      }
      index->missing_shards.insert(shard);
      std::vector<std::string> names;
      for (size_t i = 0; i < tensors.size() && i < kExampleNames; ++i) {
        names.push_back(in_quotes(tensors[i]));
      }
      problems.add(str_cat("index names shard '", shard, "' for ", plural(tensors.size(), "tensor"),
                           " (e.g. ", examples(names), "), but it does not exist"));
    }
  }

  Checkpoint checkpoint;
  // Name of the shard each tensor was found in, to explain duplicates and misplaced tensors.
  std::map<std::string, std::string, std::less<>> shard_of_tensor;
  std::vector<std::string> duplicates;
  for (const fs::path& shard_path : shard_paths) {
    auto file = std::make_unique<MappedFile>(MappedFile::open(shard_path));
    const SafetensorsHeader header = parse_safetensors_header(file->bytes(), shard_path.string());
    const std::string shard_name = shard_path.filename().string();
    for (const SafetensorsEntry& entry : header.tensors) {
      const auto [previous, inserted] = shard_of_tensor.emplace(entry.name, shard_name);
      if (!inserted) {
        duplicates.push_back(str_cat(in_quotes(entry.name), " in ", in_quotes(previous->second),
                                     " and ", in_quotes(shard_name)));
        continue;
      }
      TensorView view;
      view.name = entry.name;
      view.dtype = entry.dtype;
      view.shape = entry.shape;
      view.data = file->data() + header.data_offset + entry.begin;
      view.nbytes = static_cast<size_t>(entry.end - entry.begin);
      checkpoint.total_bytes_ += view.nbytes;
      checkpoint.tensors_.emplace(entry.name, std::move(view));
    }
    checkpoint.files_.push_back(std::move(file));
    checkpoint.shard_paths_.push_back(shard_path);
  }
  if (!duplicates.empty()) {
    problems.add(str_cat(plural(duplicates.size(), "tensor name"),
                         duplicates.size() == 1 ? " appears" : " appear",
                         " in more than one shard: ", examples(duplicates)));
  }

  if (index) {
    // Tensors the index puts in a shard that exists but does not hold them.
    for (const auto& [shard, tensors] : index->tensors_of_shard) {
      if (index->missing_shards.contains(shard)) continue;  // reported above
      std::vector<std::string> absent;
      for (const std::string& tensor : tensors) {
        const auto found = shard_of_tensor.find(tensor);
        if (found == shard_of_tensor.end()) {
          absent.push_back(in_quotes(tensor));
        } else if (found->second != shard) {
          absent.push_back(
              str_cat(in_quotes(tensor), " (found in ", in_quotes(found->second), ")"));
        }
      }
      if (!absent.empty()) {
        problems.add(str_cat("index lists ", plural(absent.size(), "tensor"), " in shard '", shard,
                             "' that it does not hold: ", examples(absent)));
      }
    }
    // Tensors in a shard that the index does not mention at all.
    std::map<std::string, std::vector<std::string>> unlisted_by_shard;
    for (const auto& [tensor, shard] : shard_of_tensor) {
      if (!index->shard_of_tensor.contains(tensor)) {
        unlisted_by_shard[shard].push_back(in_quotes(tensor));
      }
    }
    for (const auto& [shard, tensors] : unlisted_by_shard) {
      problems.add(str_cat("shard '", shard, "' holds ", plural(tensors.size(), "tensor"),
                           " that the index does not list: ", examples(tensors)));
    }
    checkpoint.index_total_size_ = index->total_size;
  }

  if (!problems.empty()) {
    if (index) problems.report(index->path.string(), "index does not match the shards");
    problems.report(path.string(), "shards do not form one checkpoint");
  }
  return checkpoint;
}

const TensorView* Checkpoint::find(std::string_view name) const {
  const auto found = tensors_.find(name);
  return found == tensors_.end() ? nullptr : &found->second;
}

bool Checkpoint::populate() const {
  bool all = true;
  for (const auto& file : files_) all = file->populate() && all;
  return all;
}

}  // namespace lightseek
