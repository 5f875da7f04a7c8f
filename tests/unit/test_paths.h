// Where tests find fixtures and put scratch files.
#pragma once

#include <filesystem>
#include <string>
#include <unistd.h>

namespace lightseek {

inline std::filesystem::path fixture_dir() { return LIGHTSEEK_TEST_FIXTURES; }
// The repository root, for tests that run its scripts.
inline std::filesystem::path source_dir() { return LIGHTSEEK_SOURCE_DIR; }
inline std::filesystem::path oracle_dir(const std::string& preset) { return fixture_dir() / "v4-oracle" / preset; }

// A fresh, empty directory unique to this process and name.
inline std::filesystem::path test_temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lightseek-test-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace lightseek
