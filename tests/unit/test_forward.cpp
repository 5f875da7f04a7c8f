#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "eval/verify.h"
#include "formats/synthetic_model.h"
#include "model_fixture.h"
#include "safetensors_test_files.h"

namespace lightseek {
namespace {

using ::testing::HasSubstr;

struct OracleFile {
  std::string preset;
  std::string file;
  Numerics numerics;
  bool activation_quant;
  bool kv_fp8 = false;  // exact or fast with the official KV round trips (--kv-cache fp8)
};

std::string oracle_name(const ::testing::TestParamInfo<OracleFile>& info) {
  std::string name = info.param.preset + "_" + info.param.file.substr(0, info.param.file.find('.'));
  if (info.param.numerics == Numerics::Fast) name += "_fast";
  if (info.param.numerics == Numerics::Exact && info.param.file != "expected.safetensors") name += "_exact";
  if (info.param.kv_fp8) name += "_kv_fp8";
  return name;
}

class OracleVerify : public ::testing::TestWithParam<OracleFile> {};

// Every case of every fixture preset, the way it was recorded, at the fixture's tolerance.
TEST_P(OracleVerify, EveryCaseMatchesTheReference) {
  const OracleFile& param = GetParam();
  // The thresholds `verify` applies (for fast numerics: by distribution).
  VerifyOptions options = verify_options_for({param.numerics, param.activation_quant, param.kv_fp8});
  options.atol = 1e-4;
  const auto results =
      verify_expectations(oracle_dir(param.preset), oracle_dir(param.preset) / param.file, options);
  ASSERT_FALSE(results.empty());
  int64_t rows = 0, agree = 0;
  for (const CaseResult& result : results) {
    EXPECT_TRUE(result.passed()) << format_case_result(result);
    for (const Comparison& comparison : result.comparisons) {
      rows += comparison.rows;
      agree += comparison.argmax_agree;
    }
    // Fast numerics are judged by the distribution (verify's rule: top-1 ≥ 99%, mean KL ≤ 1e-3).
    if (param.numerics == Numerics::Fast) continue;
    for (const Comparison& comparison : result.comparisons) {
      EXPECT_EQ(comparison.argmax_agree, comparison.rows) << result.name << " " << comparison.what;
    }
    if (oracle_dir(param.preset).string().ends_with("native")) {
      EXPECT_GE(result.comparisons.size(), 2u) << "MTP logits were not checked for " << result.name;
    }
  }
  // Fast with the KV round trips: verify judges each case by its mean KL alone (a float32
  // difference can flip an FP8/FP4 rounding and with it a near-tie); over the whole file the
  // top-1 tokens must still agree almost everywhere (measured 99.0–99.5% on AVX2; exact against
  // these expectations without the round trips: ~88%).
  if (param.numerics == Numerics::Fast && param.kv_fp8) {
    EXPECT_GE(static_cast<double>(agree), 0.97 * static_cast<double>(rows)) << agree << " of " << rows;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, OracleVerify,
    ::testing::Values(OracleFile{"tiny", "expected.safetensors", Numerics::Exact, true},
                      OracleFile{"tiny_bf16", "expected.safetensors", Numerics::Exact, true},
                      OracleFile{"tiny_native", "expected.safetensors", Numerics::Exact, true},
                      OracleFile{"tiny_native", "expected_qat.safetensors", Numerics::Reference, false},
                      OracleFile{"tiny_native", "expected_qat_act.safetensors", Numerics::Reference, true},
                      OracleFile{"flash_ratios", "expected.safetensors", Numerics::Exact, true},
                      OracleFile{"flash_ratios_bf16", "expected.safetensors", Numerics::Exact, true},
                      OracleFile{"flash_ratios_native", "expected.safetensors", Numerics::Exact, true},
                      OracleFile{"flash_ratios_native", "expected_qat.safetensors", Numerics::Reference, false},
                      OracleFile{"flash_ratios_native", "expected_qat_act.safetensors", Numerics::Reference, true},
                      // The default numerics against the exact expectations: SIMD kernels of
                      // whatever ISA this CPU has (AMX for products of four tokens or more).
                      OracleFile{"tiny", "expected.safetensors", Numerics::Fast, true},
                      OracleFile{"tiny_bf16", "expected.safetensors", Numerics::Fast, true},
                      OracleFile{"tiny_native", "expected.safetensors", Numerics::Fast, true},
                      OracleFile{"flash_ratios", "expected.safetensors", Numerics::Fast, true},
                      OracleFile{"flash_ratios_bf16", "expected.safetensors", Numerics::Fast, true},
                      OracleFile{"flash_ratios_native", "expected.safetensors", Numerics::Fast, true},
                      // --kv-cache fp8: the official KV round trips under exact (the same logits as
                      // the reference without activation quantisation) and under fast.
                      OracleFile{"tiny_native", "expected_qat.safetensors", Numerics::Exact, true, true},
                      OracleFile{"flash_ratios_native", "expected_qat.safetensors", Numerics::Exact, true, true},
                      OracleFile{"tiny_native", "expected_qat.safetensors", Numerics::Fast, true, true},
                      OracleFile{"flash_ratios_native", "expected_qat.safetensors", Numerics::Fast, true, true}),
    oracle_name);

TEST(OracleVerify, FastNumericsAreJudgedByDistribution) {
  const VerifyOptions exact = verify_options_for({Numerics::Exact, true});
  EXPECT_LT(exact.min_top1, 0.0);
  EXPECT_LT(exact.max_mean_kl, 0.0);  // every logit within atol
  const VerifyOptions fast = verify_options_for({Numerics::Fast, true});
  EXPECT_EQ(fast.min_top1, 0.99);
  EXPECT_EQ(fast.max_mean_kl, 1e-3);
  const VerifyOptions fast_fp8 = verify_options_for({Numerics::Fast, true, /*kv_fp8=*/true});
  EXPECT_LT(fast_fp8.min_top1, 0.0);  // the mean KL alone
  EXPECT_EQ(fast_fp8.max_mean_kl, 1e-3);
  EXPECT_TRUE(fast_fp8.numerics.kv_fp8);
}

TEST(OracleVerify, WrongNumericsFailClearly) {
  // The exact reference against the QAT expectations differs by O(1): the modes are not interchangeable.
  VerifyOptions options;
  options.numerics = {Numerics::Exact, true};
  options.only_cases = {"short"};
  const auto results =
      verify_expectations(oracle_dir("tiny_native"), oracle_dir("tiny_native") / "expected_qat_act.safetensors", options);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].passed());
  EXPECT_GT(results[0].comparisons[0].max_abs, 0.1);
}

std::vector<int32_t> random_tokens(int64_t count, int64_t vocab, uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_int_distribution<int32_t> pick(2, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> tokens(static_cast<size_t>(count));
  for (auto& token : tokens) token = pick(generator);
  return tokens;
}

std::vector<float> run_in_chunks(Transformer& model, std::span<const int32_t> tokens, const std::vector<int64_t>& chunks,
                                 std::vector<float>* streams = nullptr) {
  SequenceState state = model.new_sequence();
  std::vector<float> all, logits, chunk_streams;
  int64_t offset = 0;
  for (int64_t chunk : chunks) {
    model.forward(state, tokens.subspan(offset, chunk), logits, streams ? &chunk_streams : nullptr);
    all.insert(all.end(), logits.begin(), logits.end());
    if (streams) streams->insert(streams->end(), chunk_streams.begin(), chunk_streams.end());
    offset += chunk;
  }
  EXPECT_EQ(state.length, offset);
  return all;
}

std::vector<int64_t> random_chunks(int64_t length, std::mt19937& generator) {
  std::vector<int64_t> chunks;
  for (int64_t left = length; left > 0;) {
    const int64_t chunk = std::min(left, std::uniform_int_distribution<int64_t>(1, 70)(generator));
    chunks.push_back(chunk);
    left -= chunk;
  }
  return chunks;
}

// Chunked prefill and one-token decode are the same computation as a full forward, for lengths
// on both sides of the window (128) and of both compression ratios (4 and 128).
class Incremental : public ::testing::TestWithParam<std::string> {};

TEST_P(Incremental, ChunkedAndTokenByTokenEqualTheFullForwardBitForBit) {
  auto model = LoadedModel::open(GetParam());
  Transformer& transformer = *model->transformer;
  const int64_t vocab = model->config.vocab_size;
  const std::vector<int32_t> tokens = random_tokens(520, vocab, 20261128);
  const std::vector<float> full = run_in_chunks(transformer, tokens, {520});
  const std::vector<float> decoded = run_in_chunks(transformer, tokens, std::vector<int64_t>(520, 1));
  std::mt19937 generator(7);
  for (int64_t length : {1, 3, 4, 5, 127, 128, 129, 255, 256, 257, 520}) {
    const auto prefix = std::span<const int32_t>(tokens).first(static_cast<size_t>(length));
    const std::vector<float> expected(full.begin(), full.begin() + length * vocab);
    EXPECT_EQ(run_in_chunks(transformer, prefix, {length}), expected) << "full forward of " << length;
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), decoded.begin())) << "decode up to " << length;
    const auto chunks = random_chunks(length, generator);
    EXPECT_EQ(run_in_chunks(transformer, prefix, chunks), expected) << "random chunks of " << length;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, Incremental, ::testing::Values("flash_ratios_native", "tiny"));

// The thread count changes how work is split (a prompt's routed experts run whole on separate
// threads, and a decode step's too when its six experts divide evenly among the threads), never
// the arithmetic: every sum keeps its order. Six experts per token, so that a different order of
// adding their outputs would change the bits; 16 heads, so that the attention's groups of eight
// heads (each thread normalising and rotating its own queries) split from two threads on.
TEST(Threads, OneToFourKernelThreadsGiveTheSameLogitsBitForBit) {
  testing::ScopedTempDir dir;
  ModelConfig config = tiny_model_config(false);
  config.n_routed_experts = 16;
  config.num_experts_per_tok = 6;
  config.num_heads = 16;
  write_synthetic_model(dir.path(), config, {});
  const ModelConfig loaded = load_model_config(dir.path());
  const Checkpoint checkpoint = Checkpoint::open(dir.path());
  const ModelWeights weights = bind_model(loaded, checkpoint);
  const auto tokens = random_tokens(300, loaded.vocab_size, 99);
  for (Numerics numerics : {Numerics::Exact, Numerics::Fast}) {
    Transformer transformer(loaded, weights, NumericsOptions{numerics});
    // A prompt, then eight decode steps.
    const std::vector<int64_t> chunks = {292, 1, 1, 1, 1, 1, 1, 1, 1};
    set_kernel_threads(1);
    const std::vector<float> one = run_in_chunks(transformer, tokens, chunks);
    for (int threads : {2, 3, 4}) {  // decode's experts whole per thread on 2 and 3, split by rows on 4
      set_kernel_threads(threads);
      EXPECT_EQ(run_in_chunks(transformer, tokens, chunks), one)
          << (numerics == Numerics::Fast ? "fast" : "exact") << " numerics, " << threads << " threads";
    }
    set_kernel_threads(default_thread_count());
  }
}

TEST(Batching, ABatchOfSequencesEqualsRunningThemOneByOne) {
  auto model = LoadedModel::open("tiny_native");
  Transformer& transformer = *model->transformer;
  const int64_t vocab = model->config.vocab_size;
  const auto a = random_tokens(37, vocab, 1), b = random_tokens(5, vocab, 2), c = random_tokens(70, vocab, 3);
  const auto prefix = random_tokens(20, vocab, 4);

  // Alone: b continues a sequence that already holds `prefix`.
  std::vector<float> alone_a, alone_b, alone_c, ignored;
  SequenceState sa = transformer.new_sequence(), sb = transformer.new_sequence(), sc = transformer.new_sequence();
  transformer.forward(sa, a, alone_a);
  transformer.forward(sb, prefix, ignored);
  transformer.forward(sb, b, alone_b);
  transformer.forward(sc, c, alone_c);

  SequenceState ba = transformer.new_sequence(), bb = transformer.new_sequence(), bc = transformer.new_sequence();
  transformer.forward(bb, prefix, ignored);
  std::vector<float> batch_a, batch_b, batch_c;
  std::vector<SequenceInput> batch = {{&ba, a, &batch_a}, {&bb, b, &batch_b}, {&bc, c, &batch_c}};
  transformer.forward(batch);
  EXPECT_EQ(batch_a, alone_a);
  EXPECT_EQ(batch_b, alone_b);
  EXPECT_EQ(batch_c, alone_c);
  EXPECT_EQ(bb.length, 25);

  // And the states carry on identically.
  const auto next = random_tokens(3, vocab, 5);
  std::vector<float> after_alone, after_batch;
  transformer.forward(sb, next, after_alone);
  transformer.forward(bb, next, after_batch);
  EXPECT_EQ(after_alone, after_batch);
}

TEST(Mtp, IncrementalRowsEqualOneFullPass) {
  auto model = LoadedModel::open("tiny_native");
  Transformer& transformer = *model->transformer;
  const int64_t dim = model->config.hc_mult * model->config.hidden_size;
  const auto tokens = random_tokens(41, model->config.vocab_size, 11);
  std::vector<float> streams;
  run_in_chunks(transformer, tokens, {41}, &streams);
  const auto next = std::span<const int32_t>(tokens).subspan(1);  // 40 rows

  SequenceState full_state = transformer.new_mtp_sequence();
  std::vector<float> full, part, pieces;
  transformer.forward_mtp(full_state, streams.data(), next, full);
  SequenceState state = transformer.new_mtp_sequence();
  int64_t offset = 0;
  for (int64_t chunk : {17, 1, 1, 21}) {
    transformer.forward_mtp(state, streams.data() + offset * dim, next.subspan(offset, chunk), part);
    pieces.insert(pieces.end(), part.begin(), part.end());
    offset += chunk;
  }
  EXPECT_EQ(pieces, full);
}

TEST(ForwardInput, RejectsTokensOutsideTheVocabularyWithoutTouchingTheState) {
  auto model = LoadedModel::open("tiny");
  Transformer& transformer = *model->transformer;
  SequenceState state = transformer.new_sequence();
  std::vector<float> logits;
  const std::vector<int32_t> bad = {5, 1280, 7};
  try {
    transformer.forward(state, bad, logits);
    ADD_FAILURE() << "accepted token 1280";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("token id 1280 at index 1 is outside the vocabulary (0..1279)"));
  }
  EXPECT_THROW(transformer.forward(state, std::vector<int32_t>{-3}, logits), Error);
  EXPECT_EQ(state.length, 0);
  transformer.forward(state, std::vector<int32_t>{5, 6}, logits);
  EXPECT_EQ(state.length, 2);
}

TEST(ForwardInput, RejectsEmptyInput) {
  auto model = LoadedModel::open("tiny");
  SequenceState state = model->transformer->new_sequence();
  std::vector<float> logits;
  try {
    model->transformer->forward(state, std::vector<int32_t>{}, logits);
    ADD_FAILURE() << "accepted an empty input";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("empty input"));
  }
}

TEST(ForwardInput, RejectsPositionsPastTheConfiguredMaximum) {
  auto model = LoadedModel::open("tiny");
  model->config.max_position_embeddings = 8;
  Transformer transformer(model->config, model->weights, {});
  SequenceState state = transformer.new_sequence();
  std::vector<float> logits;
  transformer.forward(state, random_tokens(6, 1280, 1), logits);
  try {
    transformer.forward(state, random_tokens(3, 1280, 2), logits);
    ADD_FAILURE() << "accepted position 8";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("positions up to 8 exceed the model's maximum of 7"));
  }
  EXPECT_EQ(state.length, 6);
}

}  // namespace
}  // namespace lightseek
