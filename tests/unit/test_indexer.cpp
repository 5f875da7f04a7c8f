// The indexer's selection for a prompt's tokens at once: each token keeps a best top-k of the
// keys it sees, and under fast numerics scoring the tokens together chooses exactly what scoring
// each alone does (the batched kernels compute every score independently of the others).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/quantize.h"
#include "model/indexer.h"
#include "model/sequence_state.h"
#include "model_fixture.h"
#include "random_values.h"

namespace lightseek {
namespace {

using testing::normal_floats;

struct IndexerCase {
  std::unique_ptr<LoadedModel> model;
  std::unique_ptr<RopeTable> rope;
  std::unique_ptr<Indexer> indexer;
  AttentionState state;
};

// The fixture's first CSA layer, with `keys` random index keys in its state (FP4 with coded_kv).
IndexerCase indexer_with_keys(NumericsOptions numerics, bool coded_kv, int64_t keys) {
  IndexerCase c;
  c.model = LoadedModel::open("flash_ratios_native", numerics);
  const ModelConfig& config = c.model->config;
  for (const BlockWeights& block : c.model->weights.layers) {
    if (!block.attn.has_indexer) continue;
    c.rope = std::make_unique<RopeTable>(config, true);
    c.indexer = std::make_unique<Indexer>(config, block.attn.indexer, block.spec.compress_ratio, *c.rope, numerics);
    break;
  }
  if (!c.indexer) throw Error("the fixture has no CSA layer");
  c.state.index_keys = index_key_rows(config, coded_kv);
  const int64_t dim = config.index_head_dim;
  std::vector<float> values = normal_floats(static_cast<size_t>(keys * dim), 5);
  for (int64_t k = 0; k < keys; ++k) c.state.index_keys.append(values.data() + k * dim);
  return c;
}

// Σ_h w_h · max(0, q_h · key) in double, over the keys as stored.
std::vector<double> reference_scores(const Indexer& indexer, const AttentionState& state, const float* q,
                                     const float* w, int64_t visible) {
  const int64_t heads = indexer.heads(), dim = indexer.dim();
  std::vector<double> scores(static_cast<size_t>(visible));
  std::vector<float> key(static_cast<size_t>(dim));
  for (int64_t k = 0; k < visible; ++k) {
    state.index_keys.read(k, key.data());
    double score = 0.0;
    for (int64_t h = 0; h < heads; ++h) {
      double product = 0.0;
      for (int64_t d = 0; d < dim; ++d) product += static_cast<double>(q[h * dim + d]) * key[d];
      score += w[h] * std::max(0.0, product);
    }
    scores[static_cast<size_t>(k)] = score;
  }
  return scores;
}

// `chosen` is min(top_k, visible) ascending keys below `visible`, none scoring clearly below a
// key left out.
void expect_a_best_top_k(std::span<const int64_t> chosen, const std::vector<double>& scores, int64_t top_k,
                         const std::string& what) {
  const int64_t visible = static_cast<int64_t>(scores.size());
  ASSERT_EQ(static_cast<int64_t>(chosen.size()), std::min(top_k, visible)) << what;
  ASSERT_TRUE(std::is_sorted(chosen.begin(), chosen.end())) << what;
  ASSERT_TRUE(std::adjacent_find(chosen.begin(), chosen.end()) == chosen.end()) << what;
  std::vector<bool> in(static_cast<size_t>(visible));
  double lowest_chosen = INFINITY;
  for (int64_t k : chosen) {
    ASSERT_GE(k, 0) << what;
    ASSERT_LT(k, visible) << what;
    in[static_cast<size_t>(k)] = true;
    lowest_chosen = std::min(lowest_chosen, scores[static_cast<size_t>(k)]);
  }
  for (int64_t k = 0; k < visible; ++k) {
    if (!in[static_cast<size_t>(k)]) {
      EXPECT_LE(scores[static_cast<size_t>(k)], lowest_chosen + 1e-4 * (1.0 + std::fabs(lowest_chosen)))
          << what << ": key " << k << " left out scores above a chosen one";
    }
  }
}

struct SelectionCase {
  Numerics numerics;
  bool coded_kv;
};

class IndexerSelection : public ::testing::TestWithParam<SelectionCase> {};

TEST_P(IndexerSelection, EveryTokenOfAPromptKeepsABestTopKOfTheKeysItSees) {
  const auto [numerics, coded_kv] = GetParam();
  // Past two of the kernels' 256-key runs; the first tokens see fewer keys than top_k.
  IndexerCase c = indexer_with_keys(NumericsOptions{numerics}, coded_kv, 600);
  const Indexer& indexer = *c.indexer;
  const int64_t heads = indexer.heads(), dim = indexer.dim(), tokens = 40;
  std::vector<int64_t> visible(static_cast<size_t>(tokens));
  for (int64_t t = 0; t < tokens; ++t) visible[static_cast<size_t>(t)] = t < 3 ? 2 * t : 15 * t;
  std::vector<float> q = normal_floats(static_cast<size_t>(tokens * heads * dim), 6);
  if (coded_kv) {
    // As project() leaves them: through the FP4 round trip, so that the integer products apply.
    // All but token 7, which is no FP4 row and takes float32 products on the decoded keys.
    fp4_roundtrip_blocks(q.data(), 7 * heads * dim, 32);
    fp4_roundtrip_blocks(q.data() + 8 * heads * dim, (tokens - 8) * heads * dim, 32);
    std::vector<int8_t> codes(static_cast<size_t>(heads * dim));
    std::vector<float> scale(static_cast<size_t>(heads));
    ASSERT_FALSE(fp4_rows_as_int8(q.data() + 7 * heads * dim, heads, dim, codes.data(), scale.data()));
    ASSERT_TRUE(fp4_rows_as_int8(q.data() + 8 * heads * dim, heads, dim, codes.data(), scale.data()));
  }
  std::vector<float> w = normal_floats(static_cast<size_t>(tokens * heads), 7);

  IndexSelection together, alone;
  indexer.select(q.data(), w.data(), tokens, visible.data(), c.state, together);
  for (int64_t t = 0; t < tokens; ++t) {
    const std::string what = str_cat("token ", t, " seeing ", visible[static_cast<size_t>(t)], " keys");
    const float* token_q = q.data() + t * heads * dim;
    const float* token_w = w.data() + t * heads;
    expect_a_best_top_k(together.of(t), reference_scores(indexer, c.state, token_q, token_w, visible[t]),
                        indexer.top_k(), what);
    indexer.select(token_q, token_w, 1, &visible[static_cast<size_t>(t)], c.state, alone);
    const std::span<const int64_t> one = alone.of(0), all = together.of(t);
    EXPECT_TRUE(std::equal(one.begin(), one.end(), all.begin(), all.end())) << what << ": alone chooses otherwise";
  }
}

std::string selection_case_name(const ::testing::TestParamInfo<SelectionCase>& info) {
  const std::string numerics = info.param.numerics == Numerics::Exact       ? "exact"
                               : info.param.numerics == Numerics::Reference ? "reference"
                                                                             : "fast";
  return numerics + (info.param.coded_kv ? "_fp8" : "_f32");
}

INSTANTIATE_TEST_SUITE_P(Numerics, IndexerSelection,
                         ::testing::Values(SelectionCase{Numerics::Exact, false}, SelectionCase{Numerics::Fast, false},
                                           SelectionCase{Numerics::Fast, true},
                                           SelectionCase{Numerics::Reference, true}),
                         selection_case_name);

}  // namespace
}  // namespace lightseek
