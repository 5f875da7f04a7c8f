#include "formats/safetensors_writer.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>

#include "core/error.h"
#include "core/tensor_view.h"

namespace lightseek {
namespace {

std::optional<uint64_t> nbytes_if_representable(DType dtype, const std::vector<int64_t>& shape) {
  uint64_t bytes = dtype_size(dtype);
  for (int64_t extent : shape) {
    if (extent < 0) return std::nullopt;
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(extent), &bytes)) return std::nullopt;
  }
  return bytes;
}

std::string build_header(const std::string& where, const std::vector<TensorToWrite>& tensors,
                         const std::map<std::string, std::string>& metadata,
                         const std::vector<uint64_t>& sizes) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json entries = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) entries[key] = value;
    header["__metadata__"] = std::move(entries);
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    header[tensors[i].name] = {
        {"dtype", dtype_name(tensors[i].dtype)},
        {"shape", tensors[i].shape},
        {"data_offsets", {offset, offset + sizes[i]}},
    };
    offset += sizes[i];
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& error) {
    // JSON strings must be UTF-8; a tensor name or metadata entry was not.
    fail(where, ": cannot encode the header: ", error.what());
  }
  // The data section starts 8-byte aligned so that every tensor whose offset is a multiple of
  // its element size is aligned in memory too.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// Owns the temporary file while it is being written; unless committed, destruction unmaps,
// closes and deletes it, so a failed or interrupted write leaves nothing behind.
class TemporaryOutput {
 public:
  explicit TemporaryOutput(std::filesystem::path final_path)
      : final_path_(std::move(final_path)), temp_path_(final_path_.string() + ".tmp") {}

  // Not done in the constructor: a throw there would skip the destructor's cleanup.
  void create(uint64_t total_bytes) {
    fd_ = ::open(temp_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail_io("cannot create");
    created_ = true;
    if (total_bytes > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
      fail(temp_path_.string(), ": ", total_bytes, " bytes is too large a file");
    }
    if (::ftruncate(fd_, static_cast<off_t>(total_bytes)) != 0) fail_io("cannot resize");
    // Reserving the blocks now turns a full disk into an error here instead of a SIGBUS when a
    // fill callback touches a page that cannot be backed.
    const int reserve = ::posix_fallocate(fd_, 0, static_cast<off_t>(total_bytes));
    if (reserve != 0 && reserve != EOPNOTSUPP && reserve != EINVAL) {
      fail(temp_path_.string(), ": cannot reserve ", total_bytes,
           " bytes: ", std::strerror(reserve));
    }
    void* address = ::mmap(nullptr, total_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (address == MAP_FAILED) fail_io("cannot map");
    data_ = static_cast<uint8_t*>(address);
    size_ = total_bytes;
  }
  TemporaryOutput(const TemporaryOutput&) = delete;
  TemporaryOutput& operator=(const TemporaryOutput&) = delete;

  ~TemporaryOutput() {
    if (data_) ::munmap(data_, size_);
    if (fd_ >= 0) ::close(fd_);
    if (created_) ::unlink(temp_path_.c_str());
  }

  uint8_t* data() { return data_; }

  void commit() {
    if (::msync(data_, size_, MS_SYNC) != 0) fail_io("cannot write back");
    const int unmapped = ::munmap(data_, size_);
    data_ = nullptr;
    if (unmapped != 0) fail_io("cannot unmap");
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) fail_io("cannot close");
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      fail(temp_path_.string(), ": cannot rename to ", final_path_.string(), ": ",
           std::strerror(errno));
    }
    created_ = false;
  }

 private:
  [[noreturn]] void fail_io(std::string_view what) const {
    fail(temp_path_.string(), ": ", what, ": ", std::strerror(errno));
  }

  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  bool created_ = false;
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace

uint64_t tensor_nbytes(DType dtype, const std::vector<int64_t>& shape) {
  const auto bytes = nbytes_if_representable(dtype, shape);
  if (!bytes) {
    fail(dtype_name(dtype), " ", shape_string(shape),
         ": not a valid tensor size (negative extent or byte count overflows 64 bits)");
  }
  return *bytes;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string where = path.string();
  std::vector<uint64_t> sizes;
  sizes.reserve(tensors.size());
  std::set<std::string_view> names;
  uint64_t data_bytes = 0;
  for (const auto& tensor : tensors) {
    if (tensor.name == "__metadata__") fail(where, ": '__metadata__' cannot name a tensor");
    if (!names.insert(tensor.name).second) {
      fail(where, ": tensor '", tensor.name, "' is listed twice");
    }
    if (!tensor.fill) fail(where, ": tensor '", tensor.name, "' has no fill function");
    const auto bytes = nbytes_if_representable(tensor.dtype, tensor.shape);
    if (!bytes || __builtin_add_overflow(data_bytes, *bytes, &data_bytes)) {
      fail(where, ": tensor '", tensor.name, "': ", dtype_name(tensor.dtype), " ",
           shape_string(tensor.shape), " has no valid byte size");
    }
    sizes.push_back(*bytes);
  }

  const std::string header = build_header(where, tensors, metadata, sizes);
  const uint64_t data_offset = 8 + header.size();
  uint64_t total_bytes = 0;
  if (__builtin_add_overflow(data_offset, data_bytes, &total_bytes)) {
    fail(where, ": ", data_bytes, " bytes of tensors is too large a file");
  }

  TemporaryOutput output(path);
  output.create(total_bytes);
  uint8_t* file = output.data();
  const uint64_t header_length = header.size();
  for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(header_length >> (8 * i));
  std::memcpy(file + 8, header.data(), header.size());
  uint64_t offset = data_offset;
  for (size_t i = 0; i < tensors.size(); ++i) {
    tensors[i].fill(std::span<uint8_t>(file + offset, sizes[i]));
    offset += sizes[i];
  }
  output.commit();
}

}  // namespace lightseek
