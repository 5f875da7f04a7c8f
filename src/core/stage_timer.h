// Where a forward pass spends its time, for `lightseek bench`: wall time accumulated per stage
// while enabled. Stages are coarse (one scope per layer and stage), so the clock reads cost
// nothing measurable; when disabled a scope is one relaxed load.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace lightseek {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

enum class Stage : int { Projections, Indexer, Attention, Experts, Head, Count };

std::string_view stage_name(Stage stage);

class StageTimes {
 public:
  static StageTimes& global();
  void enable(bool on) { enabled_.store(on, std::memory_order_relaxed); }
  bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  void reset();
  void add(Stage stage, int64_t nanoseconds) {
    totals_[static_cast<int>(stage)].fetch_add(nanoseconds, std::memory_order_relaxed);
  }
  int64_t nanoseconds(Stage stage) const { return totals_[static_cast<int>(stage)].load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> enabled_{false};
  std::array<std::atomic<int64_t>, static_cast<int>(Stage::Count)> totals_{};
};

class ScopedStage {
 public:
  explicit ScopedStage(Stage stage) : stage_(stage), active_(StageTimes::global().enabled()) {
    if (active_) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedStage() {
    if (active_) {
      const auto elapsed = std::chrono::steady_clock::now() - start_;
      StageTimes::global().add(stage_, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
    }
  }
  ScopedStage(const ScopedStage&) = delete;
  ScopedStage& operator=(const ScopedStage&) = delete;

 private:
  Stage stage_;
  bool active_;
  std::chrono::steady_clock::time_point start_;
};

// Attributes the time since the last switch to the current stage; for code that alternates
// between stages inside one loop.
class StageSwitch {
 public:
  explicit StageSwitch(Stage first) : stage_(first), active_(StageTimes::global().enabled()) {
    if (active_) start_ = std::chrono::steady_clock::now();
  }
  void to(Stage next) {
    if (active_ && next != stage_) {
      const auto now = std::chrono::steady_clock::now();
      StageTimes::global().add(stage_, std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count());
      start_ = now;
    }
    stage_ = next;
  }
  ~StageSwitch() {
    if (active_) {
      const auto elapsed = std::chrono::steady_clock::now() - start_;
      StageTimes::global().add(stage_, std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
    }
  }
  StageSwitch(const StageSwitch&) = delete;
  StageSwitch& operator=(const StageSwitch&) = delete;

 private:
  Stage stage_;
  bool active_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lightseek
