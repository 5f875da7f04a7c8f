// Cache folders that are generated once and then reused (the built-in model, the synthetic
// benchmark checkpoints). Several runs may start on a fresh cache at the same time: tests run in
// parallel, a user starts `serve` and `run` together. They must neither write into each other's
// half-finished folder nor generate a 16 GB checkpoint twice.
#pragma once

#include <filesystem>
#include <functional>

namespace lightseek {

// Returns `dir` once it holds a complete generation. If it does not yet, takes an exclusive lock
// (a `<dir>.lock` file beside it, so concurrent threads and processes wait for one another),
// checks again, then lets `write` fill a scratch folder, marks it complete and renames it to
// `dir`. An interrupted run therefore never leaves a folder that looks complete. `waiting` is
// called before blocking on a lock that another run holds. Throws Error when a folder cannot be
// created, locked or moved; an exception from `write` removes the scratch folder and passes on.
std::filesystem::path generate_directory_once(const std::filesystem::path& dir,
                                              const std::function<void(const std::filesystem::path& scratch)>& write,
                                              const std::function<void()>& waiting = {});

}  // namespace lightseek
