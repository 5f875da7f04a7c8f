// Runs the `lightseek` binary (path in LIGHTSEEK_BIN, set by CTest), or any shell command, and
// captures its output.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>

namespace lightseek {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

inline bool have_lightseek_binary() { return std::getenv("LIGHTSEEK_BIN") != nullptr; }

// `command` goes through the shell, with stderr merged into stdout.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// `arguments` is passed through the shell; `environment` (e.g. "LIGHTSEEK_CACHE=/tmp/x") is
// put in front of the command.
inline CommandResult run_lightseek(const std::string& arguments, const std::string& environment = "") {
  const char* binary = std::getenv("LIGHTSEEK_BIN");
  if (!binary) return {};
  return run_command(environment + " " + std::string(binary) + " " + arguments);
}

}  // namespace lightseek
