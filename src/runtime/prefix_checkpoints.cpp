#include "runtime/prefix_checkpoints.h"

#include <algorithm>

namespace lightseek {

std::vector<int64_t> prefix_checkpoints(std::span<const int32_t> prompt, const CheckpointMarkers& markers) {
  const auto size = static_cast<int64_t>(prompt.size());
  std::vector<int64_t> out;
  std::vector<int64_t> boundaries{0};
  for (int64_t i = 0; i < size; ++i) {
    const int32_t token = prompt[static_cast<size_t>(i)];
    if (markers.user && token == *markers.user) {
      boundaries.push_back(i);
      if (i >= kShortestCheckpoint) out.push_back(i);
    }
    if (markers.assistant && token == *markers.assistant) {
      boundaries.push_back(i + 1);
      out.push_back(i + 1);  // every turn's, however short: the next turn resumes there
    }
  }
  boundaries.push_back(size);

  for (size_t b = 0; b + 1 < boundaries.size(); ++b) {
    const int64_t start = boundaries[b];
    const int64_t end = boundaries[b + 1];
    for (int64_t offset = kFirstInnerCheckpoint; start + offset < end; offset *= 2) out.push_back(start + offset);
  }
  if (size > 0) out.push_back(size);  // every other point is within (0, size] already
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace lightseek
