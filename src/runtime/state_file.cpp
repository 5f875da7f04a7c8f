#include "runtime/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <span>
#include <utility>

#include "core/error.h"
#include "core/file_contents.h"
#include "formats/safetensors.h"
#include "kernels/cpu_features.h"

namespace lightseek {

static_assert(std::endian::native == std::endian::little,
              "state files store the host's floats and integers as little-endian bytes");

namespace {

namespace fs = std::filesystem;

constexpr std::array<char, 8> kMagic = {'L', 'S', 'K', 'S', 'T', 'A', 'T', 'E'};

// XXH64 (seed 0), streaming. Fast enough (several GB/s) that checksumming a state costs little
// next to reading it from disk.
class Xxh64 {
 public:
  void update(const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    total_ += size;
    if (buffered_ + size < 32) {
      if (size > 0) std::memcpy(buffer_.data() + buffered_, bytes, size);
      buffered_ += size;
      return;
    }
    if (buffered_ > 0) {
      const size_t fill = 32 - buffered_;
      std::memcpy(buffer_.data() + buffered_, bytes, fill);
      consume_stripe(buffer_.data());
      bytes += fill;
      size -= fill;
      buffered_ = 0;
    }
    for (; size >= 32; bytes += 32, size -= 32) consume_stripe(bytes);
    if (size > 0) std::memcpy(buffer_.data(), bytes, size);
    buffered_ = size;
  }

  uint64_t digest() const {
    uint64_t hash;
    if (total_ >= 32) {
      hash = std::rotl(lanes_[0], 1) + std::rotl(lanes_[1], 7) + std::rotl(lanes_[2], 12) + std::rotl(lanes_[3], 18);
      for (const uint64_t lane : lanes_) hash = (hash ^ round(0, lane)) * kPrime1 + kPrime4;
    } else {
      hash = kPrime5;
    }
    hash += total_;
    const uint8_t* tail = buffer_.data();
    size_t left = buffered_;
    for (; left >= 8; tail += 8, left -= 8)
      hash = std::rotl(hash ^ round(0, load<uint64_t>(tail)), 27) * kPrime1 + kPrime4;
    if (left >= 4) {
      hash = std::rotl(hash ^ (static_cast<uint64_t>(load<uint32_t>(tail)) * kPrime1), 23) * kPrime2 + kPrime3;
      tail += 4;
      left -= 4;
    }
    for (; left > 0; ++tail, --left) hash = std::rotl(hash ^ (*tail * kPrime5), 11) * kPrime1;
    hash ^= hash >> 33;
    hash *= kPrime2;
    hash ^= hash >> 29;
    hash *= kPrime3;
    hash ^= hash >> 32;
    return hash;
  }

 private:
  static constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ull, kPrime2 = 0xC2B2AE3D27D4EB4Full,
                            kPrime3 = 0x165667B19E3779F9ull, kPrime4 = 0x85EBCA77C2B2AE63ull,
                            kPrime5 = 0x27D4EB2F165667C5ull;

  template <typename T>
  static T load(const uint8_t* bytes) {
    T value;
    std::memcpy(&value, bytes, sizeof(T));
    return value;
  }
  static uint64_t round(uint64_t lane, uint64_t input) { return std::rotl(lane + input * kPrime2, 31) * kPrime1; }
  void consume_stripe(const uint8_t* stripe) {
    for (int i = 0; i < 4; ++i) lanes_[i] = round(lanes_[i], load<uint64_t>(stripe + 8 * i));
  }

  std::array<uint64_t, 4> lanes_ = {kPrime1 + kPrime2, kPrime2, 0, 0 - kPrime1};
  std::array<uint8_t, 32> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

std::string quoted_identity(std::string_view identity) {
  constexpr size_t kShown = 300;
  std::string shown(identity.substr(0, kShown));
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return "\"" + shown + (identity.size() > kShown ? "...\"" : "\"");
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the error (a delayed write error can surface here).
  int close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

// ---------------------------------------------------------------------------------------------
// Writing. The same serialisation runs twice: once counting bytes (the header records the file's
// size), once writing.

class ByteCounter {
 public:
  void write(const void*, size_t size) { bytes_ += size; }
  void write_checksum() { bytes_ += 8; }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

class HashingFileWriter {
 public:
  HashingFileWriter(int fd, const fs::path& temporary) : fd_(fd), temporary_(temporary) {}

  void write(const void* data, size_t size) {
    hash_.update(data, size);
    write_raw(data, size);
  }
  // The hash of every byte written so far, itself hashed like any other field.
  void write_checksum() {
    const uint64_t checksum = hash_.digest();
    write(&checksum, sizeof checksum);
  }

 private:
  void write_raw(const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    while (size > 0) {
      const ssize_t written = ::write(fd_, bytes, std::min<size_t>(size, size_t{1} << 30));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) fail(temporary_.string(), ": cannot write: ", std::strerror(written < 0 ? errno : EIO));
      bytes += written;
      size -= static_cast<size_t>(written);
    }
  }

  int fd_;
  const fs::path& temporary_;
  Xxh64 hash_;
};

template <typename Sink, typename T>
void put(Sink& sink, T value) {
  sink.write(&value, sizeof value);
}

template <typename Sink, typename T>
void put_array(Sink& sink, const std::vector<T>& values) {
  put<Sink, uint64_t>(sink, values.size());
  sink.write(values.data(), values.size() * sizeof(T));
}

template <typename Sink>
void put_rows(Sink& sink, const KvRows& rows) {
  put<Sink, uint32_t>(sink, static_cast<uint32_t>(rows.format()));
  put<Sink, int64_t>(sink, rows.width());
  put<Sink, int64_t>(sink, rows.quantized());
  put<Sink, int64_t>(sink, rows.count());
  const std::span<const uint8_t> bytes = rows.stored_bytes();
  put<Sink, uint64_t>(sink, bytes.size());
  sink.write(bytes.data(), bytes.size());
}

template <typename Sink>
void put_compressor(Sink& sink, const CompressorState& compressor) {
  put<Sink, int64_t>(sink, compressor.ratio);
  put<Sink, int64_t>(sink, compressor.width);
  put<Sink, uint32_t>(sink, compressor.overlapping ? 1 : 0);
  put_array(sink, compressor.u);
  put_array(sink, compressor.z);
}

template <typename Sink>
void serialize(Sink& sink, const CachedState& entry, std::string_view identity, uint64_t file_bytes) {
  sink.write(kMagic.data(), kMagic.size());
  put<Sink, uint32_t>(sink, kStateFileVersion);
  put<Sink, uint32_t>(sink, 0);
  put<Sink, uint64_t>(sink, file_bytes);
  put<Sink, uint32_t>(sink, static_cast<uint32_t>(identity.size()));
  sink.write(identity.data(), identity.size());
  put_array(sink, entry.tokens);
  sink.write_checksum();

  const SequenceState& state = entry.state;
  put<Sink, int64_t>(sink, state.length);
  put_array(sink, entry.last_logits);
  put<Sink, uint32_t>(sink, static_cast<uint32_t>(state.layers.size()));
  for (const AttentionState& layer : state.layers) {
    put<Sink, int64_t>(sink, layer.window);
    put<Sink, int64_t>(sink, layer.head_dim);
    put<Sink, int64_t>(sink, layer.index_dim);
    put_array(sink, layer.ring);
    put_rows(sink, layer.entries);
    put_rows(sink, layer.index_keys);
    put_compressor(sink, layer.compressor);
    put_compressor(sink, layer.index_compressor);
  }
  sink.write_checksum();
}

void sync_directory(const fs::path& directory) {
  // Makes the rename durable. Some file systems refuse fsync on a directory; the file's data is
  // already synced, so that only weakens durability, never integrity.
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// ---------------------------------------------------------------------------------------------
// Reading: exact reads at increasing offsets, each checked against the bytes the file has left
// before anything is allocated for it, and hashed as they go.

class HashingFileReader {
 public:
  HashingFileReader(int fd, uint64_t file_size) : fd_(fd), file_size_(file_size), limit_(file_size) {}

  uint64_t position() const { return position_; }
  uint64_t left() const { return limit_ - position_; }
  uint64_t file_size() const { return file_size_; }
  // Reads past `limit` are refused (the payload must not run into the trailing checksum).
  void set_limit(uint64_t limit) { limit_ = limit; }

  void read(void* out, size_t size, std::string_view what) {
    if (size > left()) {
      fail("truncated or corrupt: ", what, " needs ", size, " bytes at offset ", position_, " but only ", left(),
           " remain");
    }
    read_raw(out, size);
    hash_.update(out, size);
  }
  template <typename T>
  T get(std::string_view what) {
    T value;
    read(&value, sizeof value, what);
    return value;
  }
  // A u64 element count followed by that many elements, refusing counts the file cannot hold.
  template <typename T>
  std::vector<T> get_array(std::string_view what) {
    const uint64_t count = get<uint64_t>(what);
    if (count > left() / sizeof(T)) {
      fail("truncated or corrupt: ", what, " claims ", count, " elements of ", sizeof(T), " bytes but only ", left(),
           " bytes remain");
    }
    std::vector<T> values(static_cast<size_t>(count));
    read(values.data(), values.size() * sizeof(T), what);
    return values;
  }
  // Hashes the rest up to the limit (to tell corruption from a well-formed file that does not fit).
  void skip_to_limit() {
    std::vector<uint8_t> chunk(size_t{1} << 20);
    while (left() > 0) read(chunk.data(), static_cast<size_t>(std::min<uint64_t>(left(), chunk.size())), "payload");
  }
  // Whether the stored checksum at the current position is the hash of every byte before it.
  // The stored value is then hashed like any other field, as the writer did.
  bool read_and_check_checksum(std::string_view what) {
    if (file_size_ - position_ < 8) fail("truncated: no room for the ", what);
    const uint64_t computed = hash_.digest();
    uint64_t stored;
    read_raw(&stored, sizeof stored);
    hash_.update(&stored, sizeof stored);
    return stored == computed;
  }

 private:
  void read_raw(void* out, size_t size) {
    auto* bytes = static_cast<uint8_t*>(out);
    while (size > 0) {
      const ssize_t got = ::pread(fd_, bytes, std::min<size_t>(size, size_t{1} << 30), static_cast<off_t>(position_));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail("cannot read at offset ", position_, ": ", std::strerror(errno));
      if (got == 0) fail("truncated while reading (the file shrank to ", position_, " bytes)");
      bytes += got;
      size -= static_cast<size_t>(got);
      position_ += static_cast<uint64_t>(got);
    }
  }

  int fd_;
  uint64_t file_size_;
  uint64_t limit_;
  uint64_t position_ = 0;
  Xxh64 hash_;
};

struct OpenedStateFile {
  std::unique_ptr<FileDescriptor> fd;
  std::unique_ptr<HashingFileReader> reader;
};

OpenedStateFile open_state_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(file.string(), ": cannot open: ", std::strerror(errno));
  OpenedStateFile opened{std::make_unique<FileDescriptor>(fd), nullptr};
  struct stat info {};
  if (::fstat(fd, &info) != 0) fail(file.string(), ": cannot stat: ", std::strerror(errno));
  if (!S_ISREG(info.st_mode)) fail(file.string(), ": not a regular file");
  opened.reader = std::make_unique<HashingFileReader>(fd, static_cast<uint64_t>(info.st_size));
  return opened;
}

// Reads and verifies the header; leaves the reader at the payload.
std::vector<int32_t> read_header(HashingFileReader& reader, std::string_view expected_identity) {
  if (reader.file_size() == 0) fail("empty file (truncated)");
  std::array<char, 8> magic{};
  if (reader.file_size() < magic.size()) fail("truncated: ", reader.file_size(), " bytes, shorter than the magic");
  reader.read(magic.data(), magic.size(), "magic");
  if (magic != kMagic) fail("bad magic: not a lightseek state file");
  const auto version = reader.get<uint32_t>("format version");
  if (version != kStateFileVersion) {
    fail("unsupported format version ", version, " (this build reads version ", kStateFileVersion, ")");
  }
  const auto flags = reader.get<uint32_t>("flags");
  const auto file_bytes = reader.get<uint64_t>("file size");
  const auto identity_bytes = reader.get<uint32_t>("identity length");
  if (identity_bytes == 0 || identity_bytes > kMaxIdentityBytes) {
    fail("corrupt header: identity length ", identity_bytes, " outside 1..", kMaxIdentityBytes);
  }
  std::string identity(identity_bytes, '\0');
  reader.read(identity.data(), identity.size(), "model identity");
  std::vector<int32_t> tokens = reader.get_array<int32_t>("token list");
  if (!reader.read_and_check_checksum("header checksum")) fail("header checksum mismatch (corrupt header)");

  if (flags != 0) fail("unsupported flags ", flags);
  if (identity != expected_identity) {
    fail("written for another model or numerics (file: ", quoted_identity(identity),
         ", this model: ", quoted_identity(expected_identity), ")");
  }
  if (file_bytes != reader.file_size()) {
    if (reader.file_size() < file_bytes) fail("truncated: ", reader.file_size(), " of ", file_bytes, " bytes");
    fail(reader.file_size() - file_bytes, " unexpected bytes past the declared end (", file_bytes, " bytes)");
  }
  if (file_bytes < reader.position() + 8) fail("corrupt header: file size ", file_bytes, " leaves no payload");
  return tokens;
}

std::string layer_name(size_t layer) { return str_cat("layer ", layer); }

KvRows read_rows(HashingFileReader& reader, const KvRows& expected, int64_t expected_count, const std::string& what) {
  const auto format = reader.get<uint32_t>(what);
  const auto width = reader.get<int64_t>(what);
  const auto quantized = reader.get<int64_t>(what);
  if (format != static_cast<uint32_t>(expected.format()) || width != expected.width() ||
      quantized != expected.quantized()) {
    fail(what, ": format ", format, ", width ", width, ", ", quantized, " coded channels; the model keeps format ",
         static_cast<uint32_t>(expected.format()), ", width ", expected.width(), ", ", expected.quantized(),
         " coded channels (another numerics mode?)");
  }
  const auto count = reader.get<int64_t>(what);
  if (count != expected_count) {
    fail(what, ": ", count, " rows where ", expected_count, " follow from the token count");
  }
  const std::vector<uint8_t> bytes = reader.get_array<uint8_t>(what);
  KvRows rows = expected;
  rows.assign_stored(count, bytes);
  return rows;
}

CompressorState read_compressor(HashingFileReader& reader, const CompressorState& expected, const std::string& what) {
  CompressorState compressor;
  compressor.ratio = reader.get<int64_t>(what);
  compressor.width = reader.get<int64_t>(what);
  compressor.overlapping = reader.get<uint32_t>(what) != 0;
  if (compressor.ratio != expected.ratio || compressor.width != expected.width ||
      compressor.overlapping != expected.overlapping) {
    fail(what, ": ratio ", compressor.ratio, ", width ", compressor.width,
         compressor.overlapping ? ", overlapping" : "", "; the model's has ratio ", expected.ratio, ", width ",
         expected.width, expected.overlapping ? ", overlapping" : "");
  }
  compressor.u = reader.get_array<float>(what);
  compressor.z = reader.get_array<float>(what);
  if (compressor.u.size() != expected.u.size() || compressor.z.size() != expected.z.size()) {
    fail(what, ": ", compressor.u.size(), " and ", compressor.z.size(), " pending values where the model has ",
         expected.u.size(), " and ", expected.z.size());
  }
  return compressor;
}

int64_t rows_after(int64_t length, const CompressorState& compressor) {
  return compressor.ratio > 0 ? length / compressor.ratio : 0;
}

SequenceState read_payload(HashingFileReader& reader, int64_t token_count, const SequenceState& expected,
                           std::vector<float>& last_logits) {
  SequenceState state;
  state.length = reader.get<int64_t>("state length");
  if (state.length != token_count) {
    fail("state length ", state.length, " differs from the ", token_count, " tokens in the header");
  }
  last_logits = reader.get_array<float>("last logits");
  const auto layers = reader.get<uint32_t>("layer count");
  if (layers != expected.layers.size()) {
    fail(layers, " layers where the model has ", expected.layers.size());
  }
  state.layers.reserve(layers);
  for (size_t i = 0; i < layers; ++i) {
    const AttentionState& want = expected.layers[i];
    const std::string name = layer_name(i);
    AttentionState layer;
    layer.window = reader.get<int64_t>(name);
    layer.head_dim = reader.get<int64_t>(name);
    layer.index_dim = reader.get<int64_t>(name);
    if (layer.window != want.window || layer.head_dim != want.head_dim || layer.index_dim != want.index_dim) {
      fail(name, ": window ", layer.window, ", head_dim ", layer.head_dim, ", index_dim ", layer.index_dim,
           " where the model has ", want.window, ", ", want.head_dim, ", ", want.index_dim);
    }
    layer.ring = reader.get_array<float>(name + " ring");
    if (layer.ring.size() != want.ring.size()) {
      fail(name, ": ring of ", layer.ring.size(), " values where the model has ", want.ring.size());
    }
    layer.entries = read_rows(reader, want.entries, rows_after(state.length, want.compressor), name + " compressed KV");
    layer.index_keys =
        read_rows(reader, want.index_keys, rows_after(state.length, want.index_compressor), name + " indexer keys");
    layer.compressor = read_compressor(reader, want.compressor, name + " compressor");
    layer.index_compressor = read_compressor(reader, want.index_compressor, name + " indexer compressor");
    state.layers.push_back(std::move(layer));
  }
  if (reader.left() > 0) fail(reader.left(), " unexpected bytes after the payload");
  return state;
}

// ---------------------------------------------------------------------------------------------
// Model identity.

void hash_field(Xxh64& hash, std::string_view bytes) {
  const uint64_t size = bytes.size();
  hash.update(&size, sizeof size);
  hash.update(bytes.data(), bytes.size());
}

// Reads `size` bytes at `offset`, or fails naming the shard.
std::string read_range(std::ifstream& in, const fs::path& path, uint64_t offset, uint64_t size) {
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (!in) fail(path.string(), ": cannot read ", size, " bytes at offset ", offset, " (needed for the model identity)");
  return bytes;
}

void hash_shard(Xxh64& hash, const fs::path& shard) {
  std::error_code error;
  const uint64_t size = fs::file_size(shard, error);
  if (error) fail(shard.string(), ": cannot stat: ", error.message());
  std::ifstream in(shard, std::ios::binary);
  if (!in) fail(shard.string(), ": cannot open (needed for the model identity)");
  hash_field(hash, shard.filename().string());
  hash.update(&size, sizeof size);
  if (size < 8) fail(shard.string(), ": too short for a safetensors file");
  const std::string length_bytes = read_range(in, shard, 0, 8);
  uint64_t header_bytes;
  std::memcpy(&header_bytes, length_bytes.data(), 8);
  if (header_bytes > kMaxSafetensorsHeaderBytes || header_bytes > size - 8) {
    fail(shard.string(), ": safetensors header length ", header_bytes, " does not fit the file");
  }
  hash_field(hash, read_range(in, shard, 8, header_bytes));
  // A fine-tune has the same header as its base: a few samples of the data tell them apart.
  constexpr uint64_t kSampleBytes = 4096, kSamples = 4;
  const uint64_t data_begin = 8 + header_bytes, data_bytes = size - data_begin;
  for (uint64_t i = 0; i < kSamples; ++i) {
    const uint64_t offset = data_begin + data_bytes * (2 * i + 1) / (2 * kSamples);
    hash_field(hash, read_range(in, shard, offset, std::min(kSampleBytes, size - offset)));
  }
}

std::string hex64(uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<size_t>(i)] = kDigits[value & 15];
  return out;
}

std::atomic<uint64_t> temporary_counter{0};

}  // namespace

void write_state_file(const fs::path& file, const CachedState& entry, std::string_view model_identity) {
  if (model_identity.empty() || model_identity.size() > kMaxIdentityBytes) {
    fail(file.string(), ": model identity of ", model_identity.size(), " bytes (must be 1..", kMaxIdentityBytes, ")");
  }
  if (entry.state.length != static_cast<int64_t>(entry.tokens.size())) {
    fail(file.string(), ": state after ", entry.state.length, " tokens stored with ", entry.tokens.size(), " tokens");
  }
  ByteCounter counter;
  serialize(counter, entry, model_identity, 0);

  const fs::path temporary =
      file.parent_path() / str_cat(file.filename().string(), ".tmp-", ::getpid(), "-", temporary_counter.fetch_add(1));
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(file.string(), ": cannot create ", temporary.string(), ": ", std::strerror(errno));
  FileDescriptor descriptor(fd);
  try {
    HashingFileWriter writer(fd, temporary);
    serialize(writer, entry, model_identity, counter.bytes());
    if (::fsync(fd) != 0) fail(temporary.string(), ": fsync failed: ", std::strerror(errno));
    if (descriptor.close() != 0) fail(temporary.string(), ": close failed: ", std::strerror(errno));
    if (::rename(temporary.c_str(), file.c_str()) != 0) {
      fail(file.string(), ": cannot rename ", temporary.string(), " into place: ", std::strerror(errno));
    }
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  sync_directory(file.parent_path());
}

StateFileSummary read_state_file_summary(const fs::path& file, std::string_view model_identity) {
  const OpenedStateFile opened = open_state_file(file);
  StateFileSummary summary;
  try {
    summary.tokens = read_header(*opened.reader, model_identity);
  } catch (const Error& error) {
    fail(file.string(), ": ", error.what());
  }
  summary.file_bytes = opened.reader->file_size();
  return summary;
}

CachedState read_state_file(const fs::path& file, std::string_view model_identity,
                            const SequenceState& expected_layout) {
  const OpenedStateFile opened = open_state_file(file);
  HashingFileReader& reader = *opened.reader;
  CachedState entry;
  try {
    entry.tokens = read_header(reader, model_identity);
    reader.set_limit(reader.file_size() - 8);
    std::optional<Error> layout_problem;
    try {
      entry.state = read_payload(reader, static_cast<int64_t>(entry.tokens.size()), expected_layout, entry.last_logits);
    } catch (const Error& problem) {
      // Corruption shows up as a wrong field as often as anything: only a file whose checksum
      // holds is reported as a well-formed file that does not fit this model.
      layout_problem = problem;
      entry = {};
      reader.skip_to_limit();
    }
    if (!reader.read_and_check_checksum("checksum")) fail("checksum mismatch (corrupt file)");
    if (layout_problem) throw *layout_problem;
  } catch (const Error& error) {
    fail(file.string(), ": ", error.what());
  }
  return entry;
}

std::string model_identity(const LoadedTextModel& model, std::string_view numerics_name) {
  Xxh64 hash;
  hash_field(hash, str_cat("lightseek state file version ", kStateFileVersion));
  hash_field(hash, numerics_name);
  const std::string_view isa = isa_name(active_isa());
  hash_field(hash, isa);
  std::string config_text;
  try {
    config_text = read_file_contents(model.directory / "config.json");
  } catch (const Error& error) {
    fail(error.what(), " (needed for the model identity)");
  }
  hash_field(hash, config_text);
  if (model.builtin) {
    // Its folder name is versioned (bumped whenever the generator changes).
    hash_field(hash, model.directory.filename().string());
  }
  const auto& shards = model.checkpoint.shard_paths();
  const uint64_t shard_count = shards.size();
  hash.update(&shard_count, sizeof shard_count);
  for (const fs::path& shard : shards) hash_shard(hash, shard);
  return str_cat("lightseek-state-v", kStateFileVersion, " numerics=", numerics_name, " isa=", isa,
                 model.builtin ? " model=builtin:" : " model=", hex64(hash.digest()));
}

}  // namespace lightseek
