// A whole (small) file in memory: configs, JSON headers, tokenizer files.
#pragma once

#include <filesystem>
#include <string>

namespace lightseek {

// The file's bytes. Throws Error "PATH: cannot open: REASON" or "PATH: cannot read: REASON".
std::string read_file_contents(const std::filesystem::path& path);

}  // namespace lightseek
