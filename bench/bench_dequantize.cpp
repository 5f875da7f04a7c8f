// Scalar reference dequantisation throughput: the baseline the SIMD kernels will be measured
// against (elements per second for each weight format).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "core/number_formats.h"
#include "kernels/dequantize.h"

namespace lightseek {
namespace {

WeightMatrix make_matrix(WeightFormat format, int64_t rows, int64_t cols, std::vector<uint8_t>& weight,
                         std::vector<uint8_t>& scale) {
  WeightMatrix matrix;
  matrix.format = format;
  matrix.rows = rows;
  matrix.cols = cols;
  size_t weight_bytes = 0, scale_bytes = 0;
  switch (format) {
    case WeightFormat::F32: weight_bytes = rows * cols * 4; break;
    case WeightFormat::BF16: weight_bytes = rows * cols * 2; break;
    case WeightFormat::FP8_E4M3_BLOCK128:
      weight_bytes = rows * cols;
      scale_bytes = ((rows + 127) / 128) * ((cols + 127) / 128);
      break;
    case WeightFormat::FP4_E2M1_BLOCK32:
      weight_bytes = rows * cols / 2;
      scale_bytes = rows * cols / 32;
      break;
  }
  weight.assign(weight_bytes, 0x3A);
  scale.assign(scale_bytes, 127);
  matrix.weight.data = weight.data();
  matrix.weight.nbytes = weight.size();
  matrix.scale.data = scale.data();
  matrix.scale.nbytes = scale.size();
  return matrix;
}

void BM_DequantizeRows(benchmark::State& state) {
  const auto format = static_cast<WeightFormat>(state.range(0));
  const int64_t rows = 64, cols = 4096;
  std::vector<uint8_t> weight, scale;
  const WeightMatrix matrix = make_matrix(format, rows, cols, weight, scale);
  std::vector<float> out(rows * cols);
  for (auto _ : state) {
    dequantize_rows(matrix, 0, rows, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * rows * cols);
  state.SetLabel(std::string(weight_format_name(format)));
}

BENCHMARK(BM_DequantizeRows)
    ->Arg(static_cast<int>(WeightFormat::F32))
    ->Arg(static_cast<int>(WeightFormat::BF16))
    ->Arg(static_cast<int>(WeightFormat::FP8_E4M3_BLOCK128))
    ->Arg(static_cast<int>(WeightFormat::FP4_E2M1_BLOCK32));

}  // namespace
}  // namespace lightseek
