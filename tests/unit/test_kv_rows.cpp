// Coded KV rows: lossless for rows that went through the reference round trips (the property
// that lets the reference numerics keep FP8/FP4 codes instead of floats), and float32 rows as is.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/error.h"
#include "kernels/quantize.h"
#include "model/kv_rows.h"

namespace lightseek {
namespace {

std::vector<float> random_row(int64_t width, std::mt19937& rng, float spread) {
  std::normal_distribution<float> normal(0.0f, spread);
  std::vector<float> row(static_cast<size_t>(width));
  for (float& v : row) v = normal(rng);
  return row;
}

TEST(KvRows, Fp8RowsOfRoundTrippedValuesReadBackBitExactly) {
  std::mt19937 rng(3);
  KvRows rows = KvRows::fp8(512, 448);
  std::vector<std::vector<float>> stored;
  for (int i = 0; i < 200; ++i) {
    // Magnitudes from tiny (the amax floor) to large, and a block of zeros now and then.
    std::vector<float> row = random_row(512, rng, std::ldexp(1.0f, i % 40 - 20));
    if (i % 17 == 0) std::fill(row.begin() + 64, row.begin() + 128, 0.0f);
    fp8_roundtrip_blocks(row.data(), 448, 64);
    rows.append(row.data());
    stored.push_back(row);
  }
  ASSERT_EQ(rows.count(), 200);
  EXPECT_EQ(rows.bytes(), 200u * (448 + 7 + 64 * 4));
  std::vector<float> out(512);
  for (int i = 0; i < 200; ++i) {
    rows.read(i, out.data());
    for (int c = 0; c < 512; ++c) ASSERT_EQ(out[c], stored[i][c]) << "row " << i << " channel " << c;
  }
  EXPECT_EQ(rows.f32_data(), nullptr);
}

TEST(KvRows, Fp4RowsOfRoundTrippedValuesReadBackBitExactly) {
  std::mt19937 rng(5);
  KvRows rows = KvRows::fp4(128);
  std::vector<std::vector<float>> stored;
  for (int i = 0; i < 200; ++i) {
    std::vector<float> row = random_row(128, rng, std::ldexp(1.0f, i % 30 - 15));
    hadamard_transform(row.data(), 128);
    fp4_roundtrip_blocks(row.data(), 128, 32);
    rows.append(row.data());
    stored.push_back(row);
  }
  EXPECT_EQ(rows.bytes(), 200u * (64 + 4));
  std::vector<float> out(128);
  for (int i = 0; i < 200; ++i) {
    rows.read(i, out.data());
    for (int c = 0; c < 128; ++c) ASSERT_EQ(out[c], stored[i][c]) << "row " << i << " channel " << c;
  }
}

TEST(KvRows, CodedRowsOfRawValuesEqualTheirRoundTrip) {
  std::mt19937 rng(7);
  KvRows rows = KvRows::fp8(512, 448);
  std::vector<float> raw = random_row(512, rng, 3.0f), expected = raw, out(512);
  fp8_roundtrip_blocks(expected.data(), 448, 64);
  rows.append(raw.data());
  rows.read(0, out.data());
  EXPECT_EQ(out, expected);
}

TEST(KvRows, Float32RowsAreKeptAsGiven) {
  std::mt19937 rng(9);
  KvRows rows = KvRows::f32(96);
  const std::vector<float> a = random_row(96, rng, 1.0f), b = random_row(96, rng, 1e-30f);
  rows.append(a.data());
  rows.append(b.data());
  ASSERT_NE(rows.f32_data(), nullptr);
  EXPECT_EQ(std::vector<float>(rows.f32_data() + 96, rows.f32_data() + 192), b);
  EXPECT_EQ(rows.bytes(), 2u * 96 * 4);
}

TEST(KvRows, CopiesAreIndependentAndGrowingKeepsEveryRow) {
  std::mt19937 rng(12);
  for (KvRows rows : {KvRows::f32(96), KvRows::fp8(96, 64), KvRows::fp4(96)}) {
    std::vector<std::vector<float>> written;
    // Enough rows that the store grows many times (a prefix snapshot copies a state mid-way).
    for (int i = 0; i < 3000; ++i) {
      written.push_back(random_row(96, rng, 1.0f));
      rows.append(written.back().data());
    }
    const KvRows snapshot = rows;
    for (int i = 0; i < 3000; ++i) {
      written.push_back(random_row(96, rng, 1.0f));
      rows.append(written.back().data());
    }
    ASSERT_EQ(snapshot.count(), 3000);
    ASSERT_EQ(rows.count(), 6000);
    EXPECT_EQ(rows.bytes(), 6000u * static_cast<size_t>(rows.row_bytes()));
    std::vector<float> from_rows(96), from_snapshot(96), expected(96);
    for (int i = 0; i < 6000; ++i) {
      expected = written[static_cast<size_t>(i)];
      if (rows.format() == KvRowFormat::Fp8Blocks64) fp8_roundtrip_blocks(expected.data(), 64, 64);
      if (rows.format() == KvRowFormat::Fp4Blocks32) fp4_roundtrip_blocks(expected.data(), 96, 32);
      rows.read(i, from_rows.data());
      ASSERT_EQ(from_rows, expected) << "row " << i;
      if (i < 3000) {
        snapshot.read(i, from_snapshot.data());
        ASSERT_EQ(from_snapshot, expected) << "snapshot row " << i;
      }
    }
  }
}

TEST(KvRows, PartialLastBlocksAsTheRoundTripMakesThem) {
  // The tiny fixtures: 64-wide rows, 48 quantised channels (one partial FP8 block).
  std::mt19937 rng(11);
  KvRows rows = KvRows::fp8(64, 48);
  std::vector<float> row = random_row(64, rng, 2.0f), out(64);
  fp8_roundtrip_blocks(row.data(), 48, 64);
  rows.append(row.data());
  rows.read(0, out.data());
  EXPECT_EQ(out, row);
  EXPECT_EQ(rows.bytes(), 48u + 1 + 16 * 4);
}

TEST(KvRows, RejectsShapesTheCodesCannotHold) {
  EXPECT_THROW(KvRows::fp8(512, 513), Error);
  EXPECT_THROW(KvRows::fp8(64, -1), Error);
  EXPECT_THROW(KvRows::fp4(101), Error);
}

}  // namespace
}  // namespace lightseek

#include "model_fixture.h"

namespace lightseek {
namespace {

// Under the numerics that round-trip the KV (reference, and exact or fast with --kv-cache fp8)
// the coded state is lossless: the logits equal those of a float32 state bit for bit, through
// compressed entries, index keys (fast: decoded a block at a time for the SIMD scores) and a
// prefill + decode split.
TEST(KvRows, LogitsWithCodedStateEqualFloatStateBitForBit) {
  const NumericsOptions settings[] = {{Numerics::Reference, true}, {Numerics::Exact, true, true},
                                      {Numerics::Fast, true, true}};
  for (const NumericsOptions& numerics : settings) {
    for (const char* preset : {"tiny_native", "flash_ratios_native"}) {
      SCOPED_TRACE(numerics_label(numerics));
      auto model = LoadedModel::open(preset, numerics);
      std::vector<int32_t> tokens;
      for (int i = 0; i < 300; ++i) tokens.push_back((i * 37 + 11) % 1280);
      std::vector<LayerSpec> layers;
      for (const BlockWeights& block : model->weights.layers) layers.push_back(block.spec);
      SequenceState coded = model->transformer->new_sequence();
      SequenceState plain = make_sequence_state(model->config, layers, /*coded_kv=*/false);
      ASSERT_EQ(coded.layers[1].entries.format(), KvRowFormat::Fp8Blocks64);
      ASSERT_EQ(plain.layers[1].entries.format(), KvRowFormat::F32);
      std::vector<float> coded_logits, plain_logits;
      const std::span<const int32_t> all(tokens);
      for (auto [begin, count] : {std::pair<size_t, size_t>{0, 290}, {290, 10}}) {
        model->transformer->forward(coded, all.subspan(begin, count), coded_logits);
        model->transformer->forward(plain, all.subspan(begin, count), plain_logits);
        ASSERT_EQ(coded_logits, plain_logits) << preset << " tokens " << begin << "+" << count;
      }
      EXPECT_LT(coded.layers[1].entries.bytes(), plain.layers[1].entries.bytes() / 2) << preset;
      EXPECT_EQ(coded.layers[1].index_keys.format(), KvRowFormat::Fp4Blocks32) << preset;
    }
  }
}

}  // namespace
}  // namespace lightseek
