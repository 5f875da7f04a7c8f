// End-to-end checks of the `lightseek` binary (path in LIGHTSEEK_BIN, set by CTest).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/wait.h>

#include "cli_runner.h"
#include "test_paths.h"

namespace lightseek {
namespace {

using ::testing::HasSubstr;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("LIGHTSEEK_BIN")) GTEST_SKIP() << "LIGHTSEEK_BIN is not set (run through ctest)";
  }
};

TEST_F(Cli, InspectPrintsTheScheduleOfAFixture) {
  const auto result = run_lightseek("inspect -m " + oracle_dir("tiny_native").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("5 layers + 1 MTP"));
  EXPECT_THAT(result.output, HasSubstr("  1      csa            4  hash"));
  EXPECT_THAT(result.output, HasSubstr("  2      hca           16  top-k"));
  EXPECT_THAT(result.output, HasSubstr("  mtp.0  sliding        0  top-k"));
  EXPECT_THAT(result.output, HasSubstr("binding     ok"));
}

TEST_F(Cli, InspectJsonCountsTensorsByDtypeAndModule) {
  const auto result = run_lightseek("inspect --json -m " + oracle_dir("tiny_native").string());
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const auto json = nlohmann::json::parse(result.output);
  EXPECT_EQ(json["tensors"]["count"], 508);
  EXPECT_EQ(json["by_dtype"]["F8_E4M3"]["count"], 52);
  EXPECT_EQ(json["by_dtype"]["F8_E8M0"]["count"], 196);
  EXPECT_EQ(json["by_dtype"]["I8"]["count"], 144);
  EXPECT_EQ(json["by_dtype"]["BF16"]["count"], 56);
  EXPECT_EQ(json["by_dtype"]["F32"]["count"], 58);
  EXPECT_EQ(json["by_dtype"]["I64"]["count"], 2);
  EXPECT_EQ(json["by_module"]["routed experts"]["count"], 6 * 8 * 3 * 2);  // 5 layers + MTP, weight + scale
  EXPECT_EQ(json["schedule"].size(), 6u);
  EXPECT_EQ(json["schedule"][3]["attention"], "csa");
  EXPECT_TRUE(json["binding"]["ok"]);
  // §11.4 for this geometry: 2 CSA layers × (128 B / 4 + 64 B / 4) + 2 HCA layers × 128 B / 16.
  EXPECT_DOUBLE_EQ(json["memory"]["kv_bytes_per_token"]["bf16"].get<double>(), 2 * (32.0 + 16.0) + 2 * 8.0);
  // As lightseek stores it: float32 (256 B entries, 128 B keys), or FP8 entries of 48 codes, one
  // scale and 16 float32 RoPE channels (113 B) with FP4 keys of 16 B + 1 scale (17 B).
  EXPECT_DOUBLE_EQ(json["memory"]["kv_bytes_per_token_stored"]["f32"].get<double>(),
                   2 * (256.0 / 4 + 128.0 / 4) + 2 * 256.0 / 16);
  EXPECT_DOUBLE_EQ(json["memory"]["kv_bytes_per_token_stored"]["fp8"].get<double>(),
                   2 * (113.0 / 4 + 17.0 / 4) + 2 * 113.0 / 16);
}

TEST_F(Cli, GenModelOutputIsAcceptedByInspect) {
  const auto dir = test_temp_dir("cli_gen");
  const auto generated = run_lightseek("gen-model --preset tiny --seed 7 -o " + dir.string());
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  const auto inspected = run_lightseek("inspect -m " + dir.string());
  EXPECT_EQ(inspected.exit_code, 0) << inspected.output;
  EXPECT_THAT(inspected.output, HasSubstr("binding     ok"));
  std::filesystem::remove_all(dir);
}

TEST_F(Cli, GenModelIsDeterministicAndShardsOnRequest) {
  const auto one = test_temp_dir("cli_gen_one");
  const auto two = test_temp_dir("cli_gen_two");
  ASSERT_EQ(run_lightseek("gen-model --preset tiny -o " + one.string()).exit_code, 0);
  const auto sharded = run_lightseek("gen-model --preset tiny --shard-gb 0.0003 -o " + two.string());
  ASSERT_EQ(sharded.exit_code, 0) << sharded.output;
  EXPECT_TRUE(std::filesystem::exists(two / "model.safetensors.index.json"));
  EXPECT_TRUE(std::filesystem::exists(two / "model-00001-of-00005.safetensors")) << sharded.output;
  const auto a = nlohmann::json::parse(run_lightseek("inspect --json -m " + one.string()).output);
  const auto b = nlohmann::json::parse(run_lightseek("inspect --json -m " + two.string()).output);
  EXPECT_EQ(a["tensors"], b["tensors"]);
  EXPECT_EQ(b["shards"], 5);
  const auto again = test_temp_dir("cli_gen_again");
  ASSERT_EQ(run_lightseek("gen-model --preset tiny -o " + again.string()).exit_code, 0);
  std::ifstream first(one / "model.safetensors", std::ios::binary), second(again / "model.safetensors", std::ios::binary);
  EXPECT_TRUE(std::equal(std::istreambuf_iterator<char>(first), {}, std::istreambuf_iterator<char>(second)));
  for (const auto& dir : {one, two, again}) std::filesystem::remove_all(dir);
}

TEST_F(Cli, InspectOfABrokenCheckpointFailsWithAClearMessage) {
  const auto dir = test_temp_dir("cli_broken");
  std::filesystem::copy_file(oracle_dir("tiny").string() + "/config.json", dir / "config.json");
  std::ofstream(dir / "model.safetensors") << "not a safetensors file";
  const auto result = run_lightseek("inspect -m " + dir.string());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("lightseek: error: "));
  EXPECT_THAT(result.output, HasSubstr("model.safetensors"));
  std::filesystem::remove_all(dir);
}

TEST_F(Cli, InspectOfAMissingDirectoryFails) {
  const auto result = run_lightseek("inspect -m /nonexistent/model");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("/nonexistent/model"));
}

TEST_F(Cli, GenModelRejectsBadArguments) {
  EXPECT_NE(run_lightseek("gen-model --preset flash-slice --layers 99 -o /tmp/x").exit_code, 0);
  const auto both = run_lightseek("gen-model -o /tmp/x");
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_THAT(both.output, HasSubstr("exactly one of --preset or --config"));
  const auto precision = run_lightseek("gen-model --preset tiny --precision fp2 -o /tmp/x");
  EXPECT_THAT(precision.output, HasSubstr("--precision must be native, bf16 or f32"));
}

TEST_F(Cli, VerifyRunsEveryCaseAndEndsWithTheCounts) {
  const auto dir = oracle_dir("tiny_native");
  const auto result =
      run_lightseek("verify -m " + dir.string() + " --expected " + (dir / "expected_qat_act.safetensors").string() +
                    " --numerics reference");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("prefill 29 + 19 steps"));
  EXPECT_THAT(result.output, HasSubstr("chunks 13,10,1,1,7,32"));
  EXPECT_THAT(result.output, HasSubstr("mtp_logits"));
  EXPECT_TRUE(result.output.ends_with("\n5 passed, 0 failed\n")) << result.output;
}

TEST_F(Cli, VerifyFailsWhenTheToleranceIsNotMet) {
  const auto dir = oracle_dir("tiny");
  const auto result = run_lightseek("verify -m " + dir.string() + " --expected " +
                                    (dir / "expected.safetensors").string() + " --case short --atol 1e-9");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("FAIL"));
  EXPECT_THAT(result.output, HasSubstr("0 passed, 1 failed"));
}

TEST_F(Cli, VerifyJudgesTheFp8KvCacheAgainstTheOfficialRoundTrips) {
  const auto dir = oracle_dir("flash_ratios_native");
  const std::string qat = " --expected " + (dir / "expected_qat.safetensors").string();
  auto result = run_lightseek("verify -m " + dir.string() + qat + " --numerics exact --kv-cache fp8");
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_TRUE(result.output.ends_with("\n2 passed, 0 failed\n")) << result.output;
  // Without the round trips the same expectations are out of reach.
  result = run_lightseek("verify -m " + dir.string() + qat + " --numerics exact --case decode");
  EXPECT_EQ(result.exit_code, 1) << result.output;
}

TEST_F(Cli, NumericsFlagsRejectUnknownValuesAndContradictions) {
  const std::string model = " -m " + oracle_dir("tiny").string() + " --prompt-ids 1,2";
  auto result = run_lightseek("logits" + model + " --kv-cache bf16");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("--kv-cache must be f32 or fp8, got 'bf16'"));
  result = run_lightseek("logits" + model + " --numerics reference --kv-cache f32");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("--kv-cache f32 contradicts --numerics reference"));
  const auto dir = oracle_dir("tiny");
  result = run_lightseek("verify -m " + dir.string() + " --expected " + (dir / "expected.safetensors").string() +
                         " --numerics fast --no-act-quant");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("--no-act-quant goes with --numerics reference"));
  result = run_lightseek("logits" + model + " --numerics fast --kv-cache fp8");
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST_F(Cli, LogitsPrintsTheTopTokensOfTheLastPosition) {
  // The "short" case of tiny: ids from its expectation file, whose last row peaks at token 860 (3.18633).
  const auto dir = oracle_dir("tiny");
  const auto result = run_lightseek("logits -m " + dir.string() + " --prompt-ids 573,588,950 --top 3");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("position 2, top 3 of 1280"));
  EXPECT_THAT(result.output, HasSubstr("     1     860    3.18633"));
}

TEST_F(Cli, LogitsRejectsBadIds) {
  const auto dir = oracle_dir("tiny").string();
  auto result = run_lightseek("logits -m " + dir + " --prompt-ids 1,x,3");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("'x' is not a token id"));
  result = run_lightseek("logits -m " + dir + " --prompt-ids 1,99999");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.output, HasSubstr("outside the vocabulary"));
  result = run_lightseek("logits -m " + dir + " --prompt-ids ''");
  EXPECT_EQ(result.exit_code, 1);
}

}  // namespace
}  // namespace lightseek
