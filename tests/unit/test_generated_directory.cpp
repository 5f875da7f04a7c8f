// generate_directory_once: one generation however many threads and processes ask at once, and
// nothing that looks complete after a failed or interrupted one.
#include "runtime/generated_directory.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "safetensors_test_files.h"

namespace lightseek {
namespace {

using testing::ScopedTempDir;

// Writes a few files slowly, so that concurrent callers overlap with it.
void write_slowly(const std::filesystem::path& scratch) {
  for (int part = 0; part < 4; ++part) {
    std::ofstream(scratch / ("part" + std::to_string(part))) << part;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void expect_whole_generation(const std::filesystem::path& dir) {
  EXPECT_TRUE(std::filesystem::exists(dir / "complete"));
  for (int part = 0; part < 4; ++part) EXPECT_TRUE(std::filesystem::exists(dir / ("part" + std::to_string(part))));
  EXPECT_FALSE(std::filesystem::exists(dir.string() + ".partial"));
}

TEST(GeneratedDirectory, ConcurrentThreadsGenerateOnceAndAllGetTheWholeFolder) {
  const ScopedTempDir temp;
  const auto dir = temp / "cache" / "model";
  std::atomic<int> generations{0};
  std::atomic<int> waits{0};
  std::vector<std::thread> threads;
  std::vector<std::filesystem::path> results(6);
  std::vector<std::string> errors(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        results[i] = generate_directory_once(
            dir,
            [&](const std::filesystem::path& scratch) {
              ++generations;
              write_slowly(scratch);
            },
            [&] { ++waits; });
      } catch (const std::exception& error) {
        errors[i] = error.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(generations.load(), 1);
  EXPECT_GE(waits.load(), 1) << "the callers started together, so some found the lock taken";
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(errors[i], "");
    EXPECT_EQ(results[i], dir);
  }
  expect_whole_generation(dir);
}

TEST(GeneratedDirectory, ConcurrentProcessesGenerateOnce) {
  const ScopedTempDir temp;
  const auto dir = temp / "model";
  const auto log = temp / "generations";
  const auto generate = [&] {
    return generate_directory_once(dir, [&](const std::filesystem::path& scratch) {
      std::ofstream(log, std::ios::app) << ::getpid() << "\n";
      write_slowly(scratch);
    });
  };
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      int code = 1;
      try {
        code = generate() == dir ? 0 : 2;
      } catch (...) {
      }
      ::_exit(code);
    }
    children.push_back(child);
  }
  EXPECT_EQ(generate(), dir);
  for (const pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  std::ifstream in(log);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  EXPECT_EQ(lines, 1);
  expect_whole_generation(dir);
}

TEST(GeneratedDirectory, AFailedGenerationLeavesNothingAndTheNextOneRuns) {
  const ScopedTempDir temp;
  const auto dir = temp / "model";
  EXPECT_THROW(generate_directory_once(dir,
                                       [](const std::filesystem::path& scratch) {
                                         std::ofstream(scratch / "part0") << 0;
                                         throw std::runtime_error("disk full");
                                       }),
               std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(std::filesystem::exists(dir.string() + ".partial"));
  int generations = 0;
  generate_directory_once(dir, [&](const std::filesystem::path& scratch) {
    ++generations;
    write_slowly(scratch);
  });
  EXPECT_EQ(generations, 1);
  expect_whole_generation(dir);
}

TEST(GeneratedDirectory, LeftoversOfAnInterruptedRunAreReplacedAndACompleteFolderIsKept) {
  const ScopedTempDir temp;
  const auto dir = temp / "model";
  // What a killed run leaves: a half-written target without the marker, and its scratch folder.
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "stale") << "x";
  std::filesystem::create_directories(dir.string() + ".partial");
  int generations = 0;
  const auto count_and_write = [&](const std::filesystem::path& scratch) {
    ++generations;
    write_slowly(scratch);
  };
  generate_directory_once(dir, count_and_write);
  EXPECT_EQ(generations, 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "stale"));
  expect_whole_generation(dir);
  generate_directory_once(dir, count_and_write);
  EXPECT_EQ(generations, 1);
}

TEST(GeneratedDirectory, AnUnwritableCacheIsAClearError) {
  const ScopedTempDir temp;
  std::ofstream(temp / "file") << "not a folder";
  try {
    generate_directory_once(temp / "file" / "model", [](const std::filesystem::path&) {});
    FAIL() << "expected an error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("file"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace lightseek
