// Cached sequence states on disk: bit-exact round trips for every KV row format, resumption that
// matches a fresh prefill bit for bit, and rejection (with the file and the problem named) of
// every corrupt, truncated, foreign or mismatched file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "model_fixture.h"
#include "runtime/state_file.h"

namespace lightseek {
namespace {

namespace fs = std::filesystem;

constexpr const char* kIdentity = "test-model numerics=test";

std::vector<int32_t> random_state_tokens(int64_t count, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int32_t> pick(2, 1279);
  std::vector<int32_t> out(static_cast<size_t>(count));
  for (auto& token : out) token = pick(generator);
  return out;
}

std::vector<float> last_row(const std::vector<float>& logits, int64_t vocab) {
  return {logits.end() - vocab, logits.end()};
}

CachedState prefill(Transformer& model, const std::vector<int32_t>& tokens) {
  CachedState entry;
  entry.tokens = tokens;
  entry.state = model.new_sequence();
  std::vector<float> logits;
  model.forward(entry.state, tokens, logits);
  entry.last_logits = last_row(logits, model.config().vocab_size);
  return entry;
}

template <typename T>
bool same_state_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool same_state_bits(const KvRows& a, const KvRows& b) {
  const auto x = a.stored_bytes(), y = b.stored_bytes();
  return a.same_layout(b) && a.count() == b.count() && x.size() == y.size() &&
         (x.empty() || std::memcmp(x.data(), y.data(), x.size()) == 0);
}

bool same_state_bits(const CompressorState& a, const CompressorState& b) {
  return a.ratio == b.ratio && a.width == b.width && a.overlapping == b.overlapping && same_state_bits(a.u, b.u) &&
         same_state_bits(a.z, b.z);
}

void expect_identical(const CachedState& a, const CachedState& b) {
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_TRUE(same_state_bits(a.last_logits, b.last_logits));
  ASSERT_EQ(a.state.length, b.state.length);
  ASSERT_EQ(a.state.layers.size(), b.state.layers.size());
  for (size_t i = 0; i < a.state.layers.size(); ++i) {
    const AttentionState &x = a.state.layers[i], &y = b.state.layers[i];
    EXPECT_EQ(x.window, y.window) << "layer " << i;
    EXPECT_EQ(x.head_dim, y.head_dim) << "layer " << i;
    EXPECT_EQ(x.index_dim, y.index_dim) << "layer " << i;
    EXPECT_TRUE(same_state_bits(x.ring, y.ring)) << "layer " << i;
    EXPECT_TRUE(same_state_bits(x.entries, y.entries)) << "layer " << i;
    EXPECT_TRUE(same_state_bits(x.index_keys, y.index_keys)) << "layer " << i;
    EXPECT_TRUE(same_state_bits(x.compressor, y.compressor)) << "layer " << i;
    EXPECT_TRUE(same_state_bits(x.index_compressor, y.index_compressor)) << "layer " << i;
  }
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The message of the Error `action` throws ("" when it throws nothing).
template <typename Action>
std::string state_error_of(Action&& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Offset of the first payload byte: the header's fields, tokens and header checksum.
size_t payload_offset(size_t token_count) {
  return 8 + 4 + 4 + 8 + 4 + std::strlen(kIdentity) + 8 + 4 * token_count + 8;
}

// A model, a file with its state after `tokens`, shared by the corruption tests.
struct WrittenState {
  std::unique_ptr<LoadedModel> model;
  CachedState entry;
  fs::path dir, file;
  std::string bytes;

  WrittenState(const std::string& preset, Numerics numerics, int64_t tokens, const std::string& name) {
    model = LoadedModel::open(preset, NumericsOptions{numerics, true});
    entry = prefill(*model->transformer, random_state_tokens(tokens, 11));
    dir = test_temp_dir(name);
    file = dir / "state.bin";
    write_state_file(file, entry, kIdentity);
    bytes = read_bytes(file);
  }
  ~WrittenState() { fs::remove_all(dir); }

  std::string read_error() const {
    return state_error_of([&] { read_state_file(file, kIdentity, model->transformer->new_sequence()); });
  }
  std::string summary_error() const {
    return state_error_of([&] { read_state_file_summary(file, kIdentity); });
  }
};

TEST(StateFile, KvRowsRebuildFromTheirStoredBytesOnlyWhenTheSizesAgree) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  for (KvRows rows : {KvRows::f32(12), KvRows::fp8(100, 84), KvRows::fp4(40)}) {
    std::vector<float> row(static_cast<size_t>(rows.width()));
    for (int r = 0; r < 3; ++r) {
      for (float& v : row) v = normal(rng);
      rows.append(row.data());
    }
    const std::vector<uint8_t> stored(rows.stored_bytes().begin(), rows.stored_bytes().end());
    ASSERT_EQ(stored.size(), static_cast<size_t>(3 * rows.row_bytes()));
    KvRows rebuilt = rows;
    rebuilt.assign_stored(0, {});
    EXPECT_EQ(rebuilt.count(), 0);
    rebuilt.assign_stored(3, stored);
    EXPECT_TRUE(same_state_bits(rebuilt, rows));
    std::vector<float> a(row.size()), b(row.size());
    rows.read(2, a.data());
    rebuilt.read(2, b.data());
    EXPECT_TRUE(same_state_bits(a, b));
    EXPECT_THROW(rebuilt.assign_stored(2, stored), Error);
    EXPECT_THROW(rebuilt.assign_stored(-1, {}), Error);
    EXPECT_THROW(rebuilt.assign_stored(3, std::span(stored).first(stored.size() - 1)), Error);
    EXPECT_TRUE(same_state_bits(rebuilt, rows)) << "a refused assignment changes nothing";
  }
}

TEST(StateFile, CodedRowsRoundTripBitExactly) {
  // Reference numerics keep compressed KV as FP8 and indexer keys as FP4.
  WrittenState written("tiny_native", Numerics::Reference, 45, "coded-round-trip");
  const SequenceState layout = written.model->transformer->new_sequence();
  ASSERT_EQ(layout.layers[1].entries.format(), KvRowFormat::Fp8Blocks64);
  ASSERT_EQ(layout.layers[1].index_keys.format(), KvRowFormat::Fp4Blocks32);
  ASSERT_GT(written.entry.state.layers[1].index_keys.count(), 0);
  const CachedState read = read_state_file(written.file, kIdentity, layout);
  expect_identical(read, written.entry);
}

TEST(StateFile, FloatRowsRoundTripBitExactly) {
  WrittenState written("tiny", Numerics::Exact, 45, "float-round-trip");
  const SequenceState layout = written.model->transformer->new_sequence();
  ASSERT_EQ(layout.layers[1].entries.format(), KvRowFormat::F32);
  ASSERT_EQ(layout.layers[1].index_keys.format(), KvRowFormat::F32);
  expect_identical(read_state_file(written.file, kIdentity, layout), written.entry);
}

TEST(StateFile, EmptyLogitsAndAFreshStateRoundTrip) {
  auto model = LoadedModel::open("tiny");
  const fs::path dir = test_temp_dir("state-file-fresh");
  CachedState entry;
  entry.state = model->transformer->new_sequence();
  write_state_file(dir / "fresh", entry, kIdentity);
  expect_identical(read_state_file(dir / "fresh", kIdentity, model->transformer->new_sequence()), entry);
  fs::remove_all(dir);
}

// The logits of `tail` run on top of `state`.
std::vector<float> continue_with(Transformer& model, SequenceState state, const std::vector<int32_t>& tail) {
  std::vector<float> logits;
  model.forward(state, tail, logits);
  return last_row(logits, model.config().vocab_size);
}

struct ResumeCase {
  const char* preset;
  Numerics numerics;
  // Whether a prefill in two chunks equals one prefill of the whole (exact and reference run the
  // same arithmetic whatever the chunk; the fast kernels pick paths by token count).
  bool chunking_is_exact;
};

TEST(StateFile, AResumedStateContinuesBitIdenticallyToAFreshPrefill) {
  for (const ResumeCase& c :
       {ResumeCase{"tiny_native", Numerics::Reference, true}, ResumeCase{"tiny", Numerics::Exact, true},
        ResumeCase{"flash_ratios_native", Numerics::Reference, true},
        ResumeCase{"tiny_native", Numerics::Fast, false}}) {
    SCOPED_TRACE(str_cat(c.preset, " numerics ", static_cast<int>(c.numerics)));
    auto model = LoadedModel::open(c.preset, NumericsOptions{c.numerics, true});
    Transformer& transformer = *model->transformer;
    const auto all = random_state_tokens(150, 21);  // past flash_ratios' window of 128
    const std::vector<int32_t> head(all.begin(), all.begin() + 137), tail(all.begin() + 137, all.end());
    const fs::path dir = test_temp_dir("state-file-resume");
    const CachedState written = prefill(transformer, head);
    write_state_file(dir / "head", written, kIdentity);

    const CachedState resumed = read_state_file(dir / "head", kIdentity, transformer.new_sequence());
    const std::vector<float> from_file = continue_with(transformer, resumed.state, tail);
    EXPECT_TRUE(same_state_bits(from_file, continue_with(transformer, written.state, tail)));
    if (c.chunking_is_exact) {
      EXPECT_TRUE(same_state_bits(from_file, prefill(transformer, all).last_logits));
    }
    EXPECT_TRUE(same_state_bits(resumed.last_logits, written.last_logits));
    fs::remove_all(dir);
  }
}

TEST(StateFile, TheSummaryGivesTheTokensAndTheFileSize) {
  WrittenState written("tiny", Numerics::Exact, 23, "summary");
  const StateFileSummary summary = read_state_file_summary(written.file, kIdentity);
  EXPECT_EQ(summary.tokens, written.entry.tokens);
  EXPECT_EQ(summary.file_bytes, written.bytes.size());
  EXPECT_EQ(summary.file_bytes, fs::file_size(written.file));
}

TEST(StateFile, AFlippedByteAnywhereIsRejected) {
  WrittenState written("tiny", Numerics::Exact, 9, "flipped");
  const size_t payload = payload_offset(9);
  // Every header byte, and payload bytes spread over the whole file (its last 8 included).
  std::vector<size_t> offsets;
  for (size_t i = 0; i < payload; ++i) offsets.push_back(i);
  for (size_t i = payload; i < written.bytes.size(); i += 97) offsets.push_back(i);
  for (size_t i = written.bytes.size() - 8; i < written.bytes.size(); ++i) offsets.push_back(i);
  for (const size_t offset : offsets) {
    std::string corrupt = written.bytes;
    corrupt[offset] = static_cast<char>(corrupt[offset] ^ (1 << (offset % 8)));
    write_bytes(written.file, corrupt);
    const std::string error = written.read_error();
    ASSERT_TRUE(contains(error, written.file.string())) << "byte " << offset << ": " << error;
    if (offset >= payload) {
      ASSERT_TRUE(contains(error, "checksum mismatch")) << "byte " << offset << ": " << error;
      EXPECT_EQ(written.summary_error(), "") << "the summary reads the header only";
    } else {
      ASSERT_NE(written.summary_error(), "") << "byte " << offset;
    }
  }
}

TEST(StateFile, EveryTruncationIsRejected) {
  WrittenState written("tiny_native", Numerics::Reference, 9, "truncated");
  std::vector<size_t> lengths;
  for (size_t length = 0; length < payload_offset(9) + 64; ++length) lengths.push_back(length);
  for (size_t length = payload_offset(9) + 64; length < written.bytes.size(); length += 101) lengths.push_back(length);
  lengths.push_back(written.bytes.size() - 1);
  for (const size_t length : lengths) {
    write_bytes(written.file, written.bytes.substr(0, length));
    const std::string error = written.read_error();
    ASSERT_TRUE(contains(error, written.file.string())) << length << " bytes: " << error;
    ASSERT_TRUE(contains(error, "truncated")) << length << " bytes: " << error;
    ASSERT_TRUE(contains(written.summary_error(), "truncated")) << length << " bytes";
  }
  // Bytes appended to a complete file are rejected too.
  write_bytes(written.file, written.bytes + "x");
  EXPECT_TRUE(contains(written.read_error(), "unexpected bytes")) << written.read_error();
}

TEST(StateFile, AnEmptyFileIsRejected) {
  WrittenState written("tiny", Numerics::Exact, 3, "empty");
  write_bytes(written.file, "");
  EXPECT_TRUE(contains(written.read_error(), "empty file")) << written.read_error();
  EXPECT_TRUE(contains(written.summary_error(), "empty file"));
}

TEST(StateFile, AWrongMagicIsRejected) {
  WrittenState written("tiny", Numerics::Exact, 3, "magic");
  write_bytes(written.file, "GGUF" + written.bytes.substr(4));
  EXPECT_TRUE(contains(written.read_error(), "bad magic")) << written.read_error();
  EXPECT_TRUE(contains(written.summary_error(), "bad magic"));
  write_bytes(written.file, "{\"not\": \"a state file\"}\n");
  EXPECT_TRUE(contains(written.read_error(), "bad magic")) << written.read_error();
}

TEST(StateFile, AFutureVersionIsRejected) {
  WrittenState written("tiny", Numerics::Exact, 3, "version");
  std::string future = written.bytes;
  const uint32_t version = kStateFileVersion + 1;
  std::memcpy(future.data() + 8, &version, 4);
  write_bytes(written.file, future);
  const std::string expected = "unsupported format version " + std::to_string(version);
  EXPECT_TRUE(contains(written.read_error(), expected)) << written.read_error();
  EXPECT_TRUE(contains(written.summary_error(), expected));
}

TEST(StateFile, AnotherModelsFileIsRejected) {
  WrittenState written("tiny", Numerics::Exact, 5, "identity");
  const auto layout = written.model->transformer->new_sequence();
  const std::string error = state_error_of([&] { read_state_file(written.file, "another model", layout); });
  EXPECT_TRUE(contains(error, written.file.string())) << error;
  EXPECT_TRUE(contains(error, "another model or numerics")) << error;
  EXPECT_TRUE(contains(error, kIdentity)) << error;
  EXPECT_TRUE(
      contains(state_error_of([&] { read_state_file_summary(written.file, "another model"); }), "another model or numerics"));
}

TEST(StateFile, AnotherLayoutIsRejectedWithWhatDiffers) {
  // Same identity string on purpose: the layout check stands on its own.
  WrittenState coded("tiny_native", Numerics::Reference, 20, "layout");
  auto exact = LoadedModel::open("tiny_native", NumericsOptions{Numerics::Exact, true});
  const std::string formats =
      state_error_of([&] { read_state_file(coded.file, kIdentity, exact->transformer->new_sequence()); });
  EXPECT_TRUE(contains(formats, coded.file.string())) << formats;
  EXPECT_TRUE(contains(formats, "layer 0 compressed KV: format")) << formats;

  auto other = LoadedModel::open("flash_ratios");  // window 128, ratio 128
  const std::string window =
      state_error_of([&] { read_state_file(coded.file, kIdentity, other->transformer->new_sequence()); });
  EXPECT_TRUE(contains(window, "layer 0: window 16")) << window;

  SequenceState fewer_layers = coded.model->transformer->new_sequence();
  fewer_layers.layers.pop_back();
  EXPECT_TRUE(contains(state_error_of([&] { read_state_file(coded.file, kIdentity, fewer_layers); }),
                       "5 layers where the model has 4"));

  SequenceState other_ratio = coded.model->transformer->new_sequence();
  other_ratio.layers[2].compressor.reset(8, other_ratio.layers[2].compressor.width, false);
  const std::string counts = state_error_of([&] { read_state_file(coded.file, kIdentity, other_ratio); });
  EXPECT_TRUE(contains(counts, "layer 2 compressed KV: 1 rows where 2 follow from the token count")) << counts;
}

TEST(StateFile, AHeaderClaimingAHugeTokenCountIsRejectedBeforeAllocating) {
  WrittenState written("tiny", Numerics::Exact, 4, "huge");
  const size_t count_offset = 8 + 4 + 4 + 8 + 4 + std::strlen(kIdentity);
  for (const uint64_t count : {uint64_t{1} << 62, ~uint64_t{0}, uint64_t{1} << 40, uint64_t{5}}) {
    std::string huge = written.bytes;
    std::memcpy(huge.data() + count_offset, &count, 8);
    write_bytes(written.file, huge);
    const std::string error = written.read_error();
    EXPECT_TRUE(contains(error, written.file.string())) << error;
    if (count == 5) {
      EXPECT_TRUE(contains(error, "header checksum mismatch")) << error;
    } else {
      EXPECT_TRUE(contains(error, "token list claims " + std::to_string(count))) << error;
    }
  }
  // A huge identity length as well.
  std::string huge = written.bytes;
  const uint32_t identity_bytes = 0xffffffffu;
  std::memcpy(huge.data() + 24, &identity_bytes, 4);
  write_bytes(written.file, huge);
  EXPECT_TRUE(contains(written.read_error(), "identity length 4294967295")) << written.read_error();
}

TEST(StateFile, WritingRefusesAStateWhoseLengthIsNotTheTokenCount) {
  WrittenState written("tiny", Numerics::Exact, 6, "inconsistent");
  CachedState entry = written.entry;
  entry.tokens.pop_back();
  const fs::path file = written.dir / "inconsistent";
  EXPECT_TRUE(contains(state_error_of([&] { write_state_file(file, entry, kIdentity); }), "state after 6 tokens"));
  EXPECT_FALSE(fs::exists(file));
  EXPECT_NE(state_error_of([&] { write_state_file(file, written.entry, ""); }), "");
  EXPECT_NE(state_error_of([&] { write_state_file(file, written.entry, std::string(kMaxIdentityBytes + 1, 'x')); }), "");
  EXPECT_FALSE(fs::exists(file));
}

TEST(StateFile, WritingOverwritesAtomicallyAndLeavesNoTemporaryFiles) {
  WrittenState written("tiny", Numerics::Exact, 30, "overwrite");
  const CachedState shorter = prefill(*written.model->transformer, random_state_tokens(7, 99));
  write_state_file(written.file, shorter, kIdentity);
  expect_identical(read_state_file(written.file, kIdentity, written.model->transformer->new_sequence()), shorter);
  write_state_file(written.file, written.entry, kIdentity);
  expect_identical(read_state_file(written.file, kIdentity, written.model->transformer->new_sequence()), written.entry);
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(written.dir)) files.push_back(item.path().filename());
  EXPECT_EQ(files, std::vector<fs::path>{"state.bin"});
}

TEST(StateFile, AFailedWriteLeavesNothingUnderTheFinalName) {
  WrittenState written("tiny", Numerics::Exact, 5, "failed-write");
  const fs::path missing = written.dir / "no such directory" / "state.bin";
  const std::string error = state_error_of([&] { write_state_file(missing, written.entry, kIdentity); });
  EXPECT_TRUE(contains(error, missing.string())) << error;
  EXPECT_FALSE(fs::exists(missing));

  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  const fs::path read_only = written.dir / "read-only";
  fs::create_directory(read_only);
  fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_NE(state_error_of([&] { write_state_file(read_only / "state.bin", written.entry, kIdentity); }), "");
  EXPECT_FALSE(fs::exists(read_only / "state.bin"));
  EXPECT_TRUE(fs::is_empty(read_only));
  fs::permissions(read_only, fs::perms::owner_all);
}

TEST(StateFile, AMissingFileOrADirectoryIsAnError) {
  WrittenState written("tiny", Numerics::Exact, 2, "missing");
  const auto layout = written.model->transformer->new_sequence();
  EXPECT_TRUE(contains(state_error_of([&] { read_state_file(written.dir / "absent", kIdentity, layout); }), "cannot open"));
  EXPECT_TRUE(contains(state_error_of([&] { read_state_file(written.dir, kIdentity, layout); }), "not a regular file"));
}

LoadedTextModel open_for_identity(const std::string& preset) {
  LoadedTextModel model;
  model.directory = oracle_dir(preset);
  model.config = load_model_config(model.directory);
  model.checkpoint = Checkpoint::open(model.directory);
  return model;
}

TEST(StateFile, TheModelIdentityTellsModelsAndNumericsApartAndIsStable) {
  const LoadedTextModel tiny = open_for_identity("tiny"), tiny_again = open_for_identity("tiny");
  const LoadedTextModel flash = open_for_identity("flash_ratios"), native = open_for_identity("tiny_native");
  const std::string identity = model_identity(tiny, "exact");
  EXPECT_EQ(identity, model_identity(tiny_again, "exact"));
  EXPECT_NE(identity, model_identity(flash, "exact"));
  EXPECT_NE(identity, model_identity(native, "exact"));
  EXPECT_NE(identity, model_identity(tiny, "reference"));
  EXPECT_NE(model_identity(native, "reference"), model_identity(native, "reference-no-activation-quant"));
  EXPECT_TRUE(contains(identity, "numerics=exact")) << identity;
  EXPECT_LE(identity.size(), kMaxIdentityBytes);
}

TEST(StateFile, TheModelIdentityChangesWithTheWeightsEvenWhenTheHeadersAreEqual) {
  const fs::path dir = test_temp_dir("state-file-identity");
  fs::copy_file(oracle_dir("tiny") / "config.json", dir / "config.json");
  fs::copy_file(oracle_dir("tiny") / "model.safetensors", dir / "model.safetensors");
  LoadedTextModel copy;
  copy.directory = dir;
  copy.checkpoint = Checkpoint::open(dir);
  const std::string before = model_identity(copy, "exact");
  EXPECT_EQ(before, model_identity(open_for_identity("tiny"), "exact")) << "the folder's path plays no part";
  // A "fine-tune": the weights all move a little, the header and sizes stay as they were.
  std::string bytes = read_bytes(dir / "model.safetensors");
  uint64_t header_bytes;
  std::memcpy(&header_bytes, bytes.data(), 8);
  for (size_t i = 8 + header_bytes; i < bytes.size(); i += 512) bytes[i] = static_cast<char>(bytes[i] ^ 1);
  copy.checkpoint = Checkpoint();
  write_bytes(dir / "model.safetensors", bytes);
  copy.checkpoint = Checkpoint::open(dir);
  EXPECT_NE(model_identity(copy, "exact"), before);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace lightseek
