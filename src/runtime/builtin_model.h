// The built-in model that `run` and `chat` use without -m: the tiny V4 geometry (every
// mechanism of the architecture, hidden size 64) with DeepSeek's real 129280-token vocabulary
// and tokenizer, random weights. It is generated deterministically on first use into a cache
// folder, so a fresh machine can show the whole text path working; its output is noise.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace lightseek {

// $LIGHTSEEK_CACHE, else $XDG_CACHE_HOME/lightseek, else ~/.cache/lightseek.
std::filesystem::path cache_directory();

// Makes sure the built-in model exists under cache_directory() and returns its folder.
// `status` receives one-line progress messages. Throws Error when it cannot be written or the
// base tokenizer is missing.
std::filesystem::path ensure_builtin_model(const std::function<void(const std::string&)>& status = {});

// What the banner says about it.
inline constexpr const char* kBuiltinModelBanner =
    "built-in model: the V4 architecture at toy size (hidden 64, 5 layers + MTP) with DeepSeek's "
    "tokenizer and RANDOM weights - its text is noise. Use -m DIR for a real checkpoint.";

}  // namespace lightseek
