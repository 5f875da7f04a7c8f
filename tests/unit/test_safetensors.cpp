#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <stdexcept>

#include "core/dtype.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/safetensors.h"
#include "formats/safetensors_writer.h"
#include "safetensors_test_files.h"

namespace lightseek {
namespace {

using testing::as_bytes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::raw_safetensors;
using testing::read_file;
using testing::ScopedTempDir;
using ::testing::StartsWith;

constexpr std::string_view kSource = "x.safetensors";

SafetensorsHeader parse(const std::string& file) {
  return parse_safetensors_header(as_bytes(file), kSource);
}

// The message of the Error that parsing `file` throws; fails the test if it throws none.
std::string parse_error(const std::string& file) {
  try {
    parse(file);
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), StartsWith(std::string(kSource) + ": "));
    return error.what();
  }
  ADD_FAILURE() << "parsing did not fail";
  return {};
}

// One F32 [2, 2] tensor named "a" whose entry is `entry` (without braces) and 16 bytes of data.
std::string one_tensor_file(std::string_view entry, size_t data_bytes = 16) {
  return raw_safetensors(std::string(R"({"a":{)") + std::string(entry) + "}}", data_bytes);
}

// ---------------------------------------------------------------------------------------------
// Well-formed headers

TEST(SafetensorsParse, ReadsOneTensor) {
  const auto header =
      parse(one_tensor_file(R"("dtype":"F32","shape":[2,2],"data_offsets":[0,16])"));
  ASSERT_EQ(header.tensors.size(), 1u);
  const auto& tensor = header.tensors[0];
  EXPECT_EQ(tensor.name, "a");
  EXPECT_EQ(tensor.dtype, DType::F32);
  EXPECT_THAT(tensor.shape, ElementsAre(2, 2));
  EXPECT_EQ(tensor.begin, 0u);
  EXPECT_EQ(tensor.end, 16u);
  EXPECT_TRUE(header.metadata.empty());
  const std::string json = R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  EXPECT_EQ(header.data_offset, 8 + json.size());
}

TEST(SafetensorsParse, AcceptsEmptyHeaderAndPadding) {
  EXPECT_TRUE(parse(raw_safetensors("{}")).tensors.empty());
  const auto padded = parse(raw_safetensors("  {}      "));
  EXPECT_TRUE(padded.tensors.empty());
  EXPECT_EQ(padded.data_offset, 18u);
}

TEST(SafetensorsParse, AcceptsScalarAndEmptyTensors) {
  const auto header = parse(raw_safetensors(R"({
    "scalar": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]},
    "empty": {"dtype": "BF16", "shape": [3, 0, 5], "data_offsets": [8, 8]}})",
                                            8));
  ASSERT_EQ(header.tensors.size(), 2u);
  EXPECT_EQ(header.tensors[0].name, "scalar");
  EXPECT_TRUE(header.tensors[0].shape.empty());
  EXPECT_EQ(header.tensors[1].name, "empty");
  EXPECT_THAT(header.tensors[1].shape, ElementsAre(3, 0, 5));
}

TEST(SafetensorsParse, SortsTensorsByOffsetThenName) {
  const auto header = parse(raw_safetensors(R"({
    "c": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]},
    "z": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]},
    "b": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
    "a": {"dtype": "U8", "shape": [2], "data_offsets": [8, 10]}})",
                                            10));
  std::vector<std::string> names;
  for (const auto& tensor : header.tensors) names.push_back(tensor.name);
  EXPECT_THAT(names, ElementsAre("b", "z", "c", "a"));
}

TEST(SafetensorsParse, ReadsMetadata) {
  const auto header = parse(raw_safetensors(
      R"({"__metadata__": {"format": "pt", "note": "ünïcode"},
          "a": {"dtype": "I8", "shape": [1], "data_offsets": [0, 1]}})",
      1));
  EXPECT_EQ(header.tensors.size(), 1u);
  EXPECT_EQ(header.metadata.size(), 2u);
  EXPECT_EQ(header.metadata.at("format"), "pt");
  EXPECT_EQ(header.metadata.at("note"), "ünïcode");
}

TEST(SafetensorsParse, ZeroSizeTensorsOverlapNothing) {
  const auto header = parse(raw_safetensors(R"({
    "big": {"dtype": "U8", "shape": [16], "data_offsets": [0, 16]},
    "inside": {"dtype": "F32", "shape": [0, 4], "data_offsets": [8, 8]},
    "same": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]},
    "at_end": {"dtype": "F32", "shape": [0], "data_offsets": [16, 16]}})",
                                            16));
  EXPECT_EQ(header.tensors.size(), 4u);
}

TEST(SafetensorsParse, AllowsUnusedBytesBetweenTensors) {
  const auto header = parse(raw_safetensors(R"({
    "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
    "b": {"dtype": "U8", "shape": [4], "data_offsets": [12, 16]}})",
                                            20));
  EXPECT_EQ(header.tensors.size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Container framing

TEST(SafetensorsParse, RejectsFileShorterThanHeaderLength) {
  EXPECT_THAT(parse_error(""), HasSubstr("file is 0 bytes, too short"));
  EXPECT_THAT(parse_error(std::string(7, '\0')), HasSubstr("file is 7 bytes, too short"));
}

TEST(SafetensorsParse, RejectsHeaderLengthPastEndOfFile) {
  std::string file = raw_safetensors("{}");
  file[0] = 100;  // claims 100 header bytes, the file holds 2
  EXPECT_THAT(parse_error(file),
              HasSubstr("header length 100 runs past the end of the file (10 bytes"));
  // Only the length, no header at all.
  std::string length_only(8, '\0');
  length_only[0] = 1;
  EXPECT_THAT(parse_error(length_only), HasSubstr("header length 1 runs past the end of the file"));
}

TEST(SafetensorsParse, RejectsHeaderLengthAboveLimit) {
  std::string file = raw_safetensors("{}");
  const uint64_t too_long = kMaxSafetensorsHeaderBytes + 1;
  for (int i = 0; i < 8; ++i) file[i] = static_cast<char>((too_long >> (8 * i)) & 0xFF);
  EXPECT_THAT(parse_error(file),
              HasSubstr(str_cat("header length ", too_long, " exceeds the limit")));
  std::memset(file.data(), 0xFF, 8);  // 2^64 - 1: must not wrap around in the bounds check
  EXPECT_THAT(parse_error(file), HasSubstr("header length 18446744073709551615 exceeds the limit"));
}

TEST(SafetensorsParse, RejectsZeroHeaderLength) {
  EXPECT_THAT(parse_error(raw_safetensors("")), HasSubstr("header is not valid JSON"));
}

// ---------------------------------------------------------------------------------------------
// Header text

TEST(SafetensorsParse, RejectsNonUtf8Header) {
  EXPECT_THAT(parse_error(raw_safetensors("{\"a\xff\": {}}")),
              HasSubstr("header is not valid UTF-8 (byte 0xff at header offset 3)"));
  // Overlong '/', a UTF-16 surrogate, a code point past U+10FFFF, a truncated sequence.
  for (std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
    EXPECT_THAT(parse_error(raw_safetensors("{\"" + bad + "\": 1}")), HasSubstr("not valid UTF-8"))
        << "sequence of " << bad.size() << " bytes";
  }
}

TEST(SafetensorsParse, RejectsInvalidJson) {
  EXPECT_THAT(parse_error(raw_safetensors(R"({"a": {"dtype": "F32")")),
              HasSubstr("header is not valid JSON: parse error"));
  EXPECT_THAT(parse_error(raw_safetensors("{} trailing")), HasSubstr("header is not valid JSON"));
  EXPECT_THAT(parse_error(raw_safetensors(std::string("{}\0", 3))),
              HasSubstr("header is not valid JSON: NUL byte at header offset 2"));
  EXPECT_THAT(parse_error(raw_safetensors(std::string("{\"a\0\": 1}", 9))), HasSubstr("NUL byte"));
}

TEST(SafetensorsParse, KeepsJsonErrorMessagesShort) {
  // An unterminated string: nlohmann quotes everything it read, here a megabyte.
  const std::string message = parse_error(raw_safetensors("{\"" + std::string(1 << 20, 'x')));
  EXPECT_THAT(message, HasSubstr("header is not valid JSON"));
  EXPECT_LT(message.size(), 400u);
}

TEST(SafetensorsParse, RejectsDeeplyNestedHeader) {
  const std::string nested = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_THAT(parse_error(raw_safetensors(nested)), HasSubstr("header nests deeper than"));
}

TEST(SafetensorsParse, RejectsHeaderThatIsNotAnObject) {
  EXPECT_THAT(parse_error(raw_safetensors("[1, 2]")),
              HasSubstr("header is JSON array, expected an object of tensors"));
  EXPECT_THAT(parse_error(raw_safetensors("\"text\"")), HasSubstr("header is JSON string"));
}

TEST(SafetensorsParse, RejectsDuplicateTensorNames) {
  EXPECT_THAT(parse_error(raw_safetensors(R"({
    "a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
    "a": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}})",
                                          8)),
              HasSubstr("header names 'a' more than once"));
}

TEST(SafetensorsParse, RejectsEntryThatIsNotAnObject) {
  EXPECT_THAT(parse_error(raw_safetensors(R"({"a": [1]})")),
              HasSubstr("tensor 'a' is array, expected an object"));
}

// ---------------------------------------------------------------------------------------------
// Tensor entries

TEST(SafetensorsParse, RejectsUnknownDtype) {
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"F4","shape":[2,2],"data_offsets":[0,16])")),
              HasSubstr("tensor 'a': unknown dtype 'F4'"));
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"f32","shape":[2,2],"data_offsets":[0,16])")),
              HasSubstr("unknown dtype 'f32'"));
}

TEST(SafetensorsParse, RejectsMissingOrNonStringDtype) {
  EXPECT_THAT(parse_error(one_tensor_file(R"("shape":[2,2],"data_offsets":[0,16])")),
              HasSubstr("tensor 'a' has no dtype"));
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":4,"shape":[2,2],"data_offsets":[0,16])")),
              HasSubstr("tensor 'a': dtype is a non-negative integer, expected a string"));
}

TEST(SafetensorsParse, RejectsNegativeShape) {
  EXPECT_THAT(
      parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,-2],"data_offsets":[0,16])")),
      HasSubstr(
          "tensor 'a': shape[1] is a negative integer (-2), expected a non-negative integer"));
}

TEST(SafetensorsParse, RejectsNonIntegerShape) {
  EXPECT_THAT(
      parse_error(one_tensor_file(R"("dtype":"F32","shape":[2.5,2],"data_offsets":[0,16])")),
      HasSubstr("shape[0] is a non-integer number (2.5)"));
  // 2.0 has an integral value but is written as a float; safetensors writers never do that.
  EXPECT_THAT(
      parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,2.0],"data_offsets":[0,16])")),
      HasSubstr("shape[1] is a non-integer number"));
  EXPECT_THAT(
      parse_error(one_tensor_file(R"("dtype":"F32","shape":["2",2],"data_offsets":[0,16])")),
      HasSubstr("shape[0] is string"));
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"F32","shape":4,"data_offsets":[0,16])")),
              HasSubstr("shape is a non-negative integer, expected an array"));
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"F32","data_offsets":[0,16])")),
              HasSubstr("tensor 'a' has no shape"));
}

TEST(SafetensorsParse, RejectsOverflowingShape) {
  EXPECT_THAT(
      parse_error(raw_safetensors(
          R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}})")),
      HasSubstr("tensor 'a': F32 [4294967296, 4294967296, 16] is too large"));
  // Fits uint64 but not int64.
  EXPECT_THAT(parse_error(raw_safetensors(
                  R"({"a":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,0]}})")),
              HasSubstr("shape[0] = 9223372036854775808 is too large"));
  // Too large for any integer type: nlohmann reads it as a float.
  EXPECT_THAT(parse_error(raw_safetensors(
                  R"({"a":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,0]}})")),
              HasSubstr("shape[0] is a non-integer number"));
  // Element count fits int64, byte count does not.
  EXPECT_THAT(parse_error(raw_safetensors(
                  R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})")),
              HasSubstr("is too large"));
  // A zero extent makes the tensor empty, but the other extents must still be countable.
  EXPECT_THAT(
      parse_error(raw_safetensors(
          R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})")),
      HasSubstr("is too large"));
}

TEST(SafetensorsParse, RejectsMissingDataOffsets) {
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,2])")),
              HasSubstr("tensor 'a' has no data_offsets"));
}

TEST(SafetensorsParse, RejectsMalformedDataOffsets) {
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,2],"data_offsets":[16])")),
              HasSubstr("data_offsets is [16], expected [begin, end]"));
  EXPECT_THAT(
      parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,2],"data_offsets":[0,8,16])")),
      HasSubstr("expected [begin, end]"));
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,2],"data_offsets":"0-16")")),
              HasSubstr("expected [begin, end]"));
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,2],"data_offsets":[-1,15])")),
              HasSubstr("data_offsets[0] is a negative integer (-1)"));
  EXPECT_THAT(
      parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,2],"data_offsets":[0,16.0])")),
      HasSubstr("data_offsets[1] is a non-integer number"));
}

TEST(SafetensorsParse, RejectsBeginAfterEnd) {
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"U8","shape":[0],"data_offsets":[8,4])")),
              HasSubstr("tensor 'a': data_offsets [8, 4] end before they begin"));
}

TEST(SafetensorsParse, RejectsDataOffsetsPastEndOfFile) {
  EXPECT_THAT(
      parse_error(one_tensor_file(R"("dtype":"F32","shape":[2,2],"data_offsets":[0,16])", 12)),
      HasSubstr(
          "tensor 'a': data_offsets [0, 16] run past the end of the data section (12 bytes)"));
  EXPECT_THAT(
      parse_error(one_tensor_file(
          R"("dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615])")),
      HasSubstr("run past the end of the data section"));
}

TEST(SafetensorsParse, RejectsByteCountThatDiffersFromShape) {
  EXPECT_THAT(
      parse_error(raw_safetensors(
          R"({"a.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", 16)),
      HasSubstr("tensor 'a.weight': data_offsets [0, 12] hold 12 bytes but F32 [2, 2] needs 16"));
  EXPECT_THAT(parse_error(one_tensor_file(R"("dtype":"BF16","shape":[2,2],"data_offsets":[0,16])")),
              HasSubstr("hold 16 bytes but BF16 [2, 2] needs 8"));
}

TEST(SafetensorsParse, RejectsOverlappingRanges) {
  EXPECT_THAT(parse_error(raw_safetensors(R"({
    "a": {"dtype": "U8", "shape": [16], "data_offsets": [0, 16]},
    "b": {"dtype": "U8", "shape": [16], "data_offsets": [8, 24]}})",
                                          24)),
              HasSubstr("tensors 'a' [0, 16) and 'b' [8, 24) overlap"));
  // "c" overlaps "big", not its neighbour "small"; a check of adjacent pairs alone misses it.
  EXPECT_THAT(parse_error(raw_safetensors(R"({
    "big": {"dtype": "U8", "shape": [32], "data_offsets": [0, 32]},
    "small": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
    "c": {"dtype": "U8", "shape": [4], "data_offsets": [20, 24]}})",
                                          32)),
              HasSubstr("overlap"));
  // Identical ranges.
  EXPECT_THAT(parse_error(raw_safetensors(R"({
    "x": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]},
    "y": {"dtype": "I8", "shape": [4], "data_offsets": [4, 8]}})",
                                          8)),
              HasSubstr("tensors 'x' [4, 8) and 'y' [4, 8) overlap"));
}

TEST(SafetensorsParse, RejectsBadMetadata) {
  EXPECT_THAT(parse_error(raw_safetensors(R"({"__metadata__": ["pt"]})")),
              HasSubstr("__metadata__ is array, expected an object of strings"));
  EXPECT_THAT(parse_error(raw_safetensors(R"({"__metadata__": {"format": "pt", "step": 100}})")),
              HasSubstr("__metadata__ 'step' is a non-negative integer, expected a string"));
  EXPECT_THAT(parse_error(raw_safetensors(R"({"__metadata__": {"nested": {}}})")),
              HasSubstr("__metadata__ 'nested' is object"));
}

// Mutated copies of a valid file must either parse or throw Error: never crash, never throw
// anything else. The fuzzer does this at scale; this keeps a cheap version in every test run.
TEST(SafetensorsParse, SurvivesRandomMutations) {
  const std::string valid = raw_safetensors(R"({"__metadata__":{"format":"pt"},
    "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "b": {"dtype": "I8", "shape": [3], "data_offsets": [16, 19]}})",
                                            19);
  std::mt19937 random(1234);
  int accepted = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string file = valid;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % file.size();
      switch (random() % 3) {
        case 0:
          file[at] = static_cast<char>(random());
          break;
        case 1:
          file.erase(at, 1 + random() % 8);
          break;
        default:
          file.resize(at);
          break;
      }
      if (file.empty()) break;
    }
    try {
      parse(file);
      ++accepted;
    } catch (const Error&) {
    }
  }
  EXPECT_GT(accepted, 0);  // some mutations (e.g. inside metadata) leave a valid file
}

// ---------------------------------------------------------------------------------------------
// Writer

std::vector<uint8_t> pattern_bytes(size_t count, uint32_t seed) {
  std::vector<uint8_t> bytes(count);
  std::mt19937 random(seed);
  for (auto& byte : bytes) byte = static_cast<uint8_t>(random());
  return bytes;
}

TEST(SafetensorsWriter, TensorNbytes) {
  EXPECT_EQ(tensor_nbytes(DType::F32, {2, 3}), 24u);
  EXPECT_EQ(tensor_nbytes(DType::BF16, {}), 2u);
  EXPECT_EQ(tensor_nbytes(DType::I64, {0, 7}), 0u);
  EXPECT_EQ(tensor_nbytes(DType::F8_E4M3, {128, 256}), 32768u);
  EXPECT_THROW(tensor_nbytes(DType::F32, {2, -3}), Error);
  try {
    tensor_nbytes(DType::F32, {4294967296, 4294967296, 16});
    ADD_FAILURE() << "overflow not detected";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("F32 [4294967296, 4294967296, 16]"));
    EXPECT_THAT(error.what(), HasSubstr("overflows"));
  }
}

TEST(SafetensorsRoundTrip, EveryDtypeKeepsItsBytes) {
  const DType all_dtypes[] = {DType::F64,     DType::F32,     DType::F16,     DType::BF16,
                              DType::F8_E4M3, DType::F8_E5M2, DType::F8_E8M0, DType::I64,
                              DType::I32,     DType::I16,     DType::I8,      DType::U8,
                              DType::BOOL};
  ScopedTempDir dir;
  std::vector<TensorToWrite> tensors;
  std::vector<std::vector<uint8_t>> contents;
  contents.reserve(std::size(all_dtypes));  // the fills keep pointers into it
  uint32_t seed = 1;
  for (DType dtype : all_dtypes) {
    // Odd shapes, so that offsets are not all multiples of 8.
    std::vector<int64_t> shape = {3, 5};
    contents.push_back(pattern_bytes(tensor_nbytes(dtype, shape), seed++));
    const auto* bytes = &contents.back();
    tensors.push_back({std::string("t.") + std::string(dtype_name(dtype)), dtype, shape,
                       [bytes](std::span<uint8_t> out) {
                         ASSERT_EQ(out.size(), bytes->size());
                         std::memcpy(out.data(), bytes->data(), out.size());
                       }});
  }
  const auto path = dir / "all.safetensors";
  write_safetensors(path, tensors);
  EXPECT_FALSE(std::filesystem::exists(dir / "all.safetensors.tmp"));

  const std::string file = read_file(path);
  const auto header = parse_safetensors_header(as_bytes(file), path.string());
  ASSERT_EQ(header.tensors.size(), std::size(all_dtypes));
  for (size_t i = 0; i < header.tensors.size(); ++i) {
    const auto& entry = header.tensors[i];  // sorted by offset = declaration order
    SCOPED_TRACE(entry.name);
    EXPECT_EQ(entry.name, tensors[i].name);
    EXPECT_EQ(entry.dtype, all_dtypes[i]);
    EXPECT_THAT(entry.shape, ElementsAre(3, 5));
    ASSERT_EQ(entry.end - entry.begin, contents[i].size());
    EXPECT_EQ(0, std::memcmp(file.data() + header.data_offset + entry.begin, contents[i].data(),
                             contents[i].size()));
    if (i > 0) {
      EXPECT_EQ(entry.begin, header.tensors[i - 1].end);  // contiguous, in order
    }
  }
  EXPECT_EQ(header.tensors.back().end + header.data_offset, file.size());
}

TEST(SafetensorsWriter, PadsHeaderAndPutsMetadataFirst) {
  ScopedTempDir dir;
  const auto path = dir / "m.safetensors";
  write_safetensors(path,
                    {{"z.first",
                      DType::I8,
                      {3},
                      [](std::span<uint8_t> out) { std::memset(out.data(), 7, out.size()); }},
                     {"a.second",
                      DType::F32,
                      {1},
                      [](std::span<uint8_t> out) { std::memset(out.data(), 1, out.size()); }}},
                    {{"format", "pt"}, {"origin", "test"}});
  const std::string file = read_file(path);
  const auto header = parse_safetensors_header(as_bytes(file), path.string());
  EXPECT_EQ(header.data_offset % 8, 0u);
  const std::string text = file.substr(8, header.data_offset - 8);
  EXPECT_THAT(text, StartsWith(R"({"__metadata__":{"format":"pt","origin":"test"},"z.first":)"));
  EXPECT_LT(text.find("z.first"), text.find("a.second"));  // declaration order, not sorted
  EXPECT_EQ(text.find_last_not_of(' '), text.rfind('}'));
  EXPECT_EQ(header.metadata.at("origin"), "test");
  EXPECT_EQ(file.substr(header.data_offset), std::string("\7\7\7\1\1\1\1"));
}

TEST(SafetensorsWriter, WritesEmptyAndZeroSizeTensors) {
  ScopedTempDir dir;
  write_safetensors(dir / "none.safetensors", {});
  EXPECT_TRUE(parse_safetensors_header(as_bytes(read_file(dir / "none.safetensors")), "none")
                  .tensors.empty());

  int calls = 0;
  write_safetensors(dir / "zero.safetensors",
                    {{"empty", DType::F32, {0, 4}, [&](std::span<uint8_t> out) {
                        calls++;
                        EXPECT_TRUE(out.empty());
                      }}});
  EXPECT_EQ(calls, 1);
  const auto header =
      parse_safetensors_header(as_bytes(read_file(dir / "zero.safetensors")), "zero");
  ASSERT_EQ(header.tensors.size(), 1u);
  EXPECT_EQ(header.tensors[0].begin, header.tensors[0].end);
}

TEST(SafetensorsWriter, FailedFillLeavesNoFileAndKeepsThePreviousOne) {
  ScopedTempDir dir;
  const auto path = dir / "out.safetensors";
  testing::write_file(path, "previous contents");
  const auto throwing_fill = [](std::span<uint8_t>) {
    throw std::runtime_error("generator failed");
  };
  EXPECT_THROW(write_safetensors(path, {{"a", DType::F32, {4}, throwing_fill}}),
               std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "out.safetensors.tmp"));
  EXPECT_EQ(read_file(path), "previous contents");
}

TEST(SafetensorsWriter, RejectsInvalidTensorLists) {
  ScopedTempDir dir;
  const auto path = dir / "bad.safetensors";
  const auto noop = [](std::span<uint8_t>) {};
  const auto message = [&](const std::vector<TensorToWrite>& tensors) -> std::string {
    try {
      write_safetensors(path, tensors);
    } catch (const Error& error) {
      return error.what();
    }
    ADD_FAILURE() << "write did not fail";
    return {};
  };
  EXPECT_THAT(message({{"a", DType::U8, {1}, noop}, {"a", DType::U8, {1}, noop}}),
              HasSubstr("tensor 'a' is listed twice"));
  EXPECT_THAT(message({{"__metadata__", DType::U8, {1}, noop}}), HasSubstr("cannot name a tensor"));
  EXPECT_THAT(message({{"a", DType::U8, {1}, nullptr}}),
              HasSubstr("tensor 'a' has no fill function"));
  EXPECT_THAT(message({{"a", DType::F32, {-1}, noop}}),
              HasSubstr("tensor 'a': F32 [-1] has no valid byte size"));
  EXPECT_THAT(message({{"a", DType::F32, {4294967296, 4294967296, 16}, noop}}),
              HasSubstr("no valid byte size"));
  EXPECT_THAT(message({{"a", DType::U8, {int64_t{1} << 62}, noop},
                       {"b", DType::U8, {int64_t{1} << 62}, noop},
                       {"c", DType::U8, {int64_t{1} << 62}, noop},
                       {"d", DType::U8, {int64_t{1} << 62}, noop}}),
              HasSubstr("tensor 'd'"));
  EXPECT_THAT(message({{"bad\xff", DType::U8, {1}, noop}}), HasSubstr("cannot encode the header"));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.safetensors.tmp"));
}

TEST(SafetensorsWriter, ReportsUnwritablePath) {
  ScopedTempDir dir;
  const auto path = dir / "missing-dir" / "x.safetensors";
  try {
    write_safetensors(path, {{"a", DType::U8, {1}, [](std::span<uint8_t>) {}}});
    ADD_FAILURE() << "write did not fail";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(),
                HasSubstr(path.string() + ".tmp: cannot create: No such file or directory"));
  }
}

}  // namespace
}  // namespace lightseek
