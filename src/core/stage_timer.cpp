#include "core/stage_timer.h"

namespace lightseek {

std::string_view stage_name(Stage stage) {
  switch (stage) {
    case Stage::Projections: return "projections";
    case Stage::Indexer: return "indexer";
    case Stage::Attention: return "attention";
    case Stage::Experts: return "experts";
    case Stage::Head: return "head";
    case Stage::Count: break;
  }
  return "?";
}

StageTimes& StageTimes::global() {
  static StageTimes times;
  return times;
}

void StageTimes::reset() {
  for (auto& total : totals_) total.store(0, std::memory_order_relaxed);
}

}  // namespace lightseek
