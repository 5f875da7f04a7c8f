#include "runtime/generated_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace lightseek {
namespace {

constexpr const char* kCompleteMarker = "complete";

bool is_complete(const std::filesystem::path& dir) { return std::filesystem::exists(dir / kCompleteMarker); }

// flock() locks belong to the open file description, so each call's own open() makes threads of
// one process exclude each other as well as other processes. The kernel drops the lock if the
// process dies, so a killed generator never blocks the next run.
class DirectoryLock {
 public:
  DirectoryLock(const std::filesystem::path& path, const std::function<void()>& waiting) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail(path.string(), ": cannot create the lock file: ", std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    if (errno == EWOULDBLOCK && waiting) waiting();
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int reason = errno;
      ::close(fd_);
      fail(path.string(), ": cannot lock: ", std::strerror(reason));
    }
  }
  ~DirectoryLock() { ::close(fd_); }  // closing the last descriptor releases the lock
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

std::filesystem::path generate_directory_once(const std::filesystem::path& dir,
                                              const std::function<void(const std::filesystem::path& scratch)>& write,
                                              const std::function<void()>& waiting) {
  if (is_complete(dir)) return dir;
  std::error_code error;
  std::filesystem::create_directories(dir.parent_path(), error);
  if (error) fail(dir.parent_path().string(), ": cannot create: ", error.message());

  const DirectoryLock lock(dir.string() + ".lock", waiting);
  if (is_complete(dir)) return dir;  // the run we waited for finished it

  // Only the lock holder writes here, so a leftover scratch or target is from an interrupted run.
  const std::filesystem::path scratch = dir.string() + ".partial";
  std::filesystem::remove_all(scratch, error);
  std::filesystem::create_directories(scratch, error);
  if (error) fail(scratch.string(), ": cannot create: ", error.message());
  try {
    write(scratch);
    std::ofstream marker(scratch / kCompleteMarker);
    marker << dir.filename().string() << "\n";
    marker.close();
    if (!marker) fail((scratch / kCompleteMarker).string(), ": cannot write");
  } catch (...) {
    std::filesystem::remove_all(scratch, error);
    throw;
  }
  std::filesystem::remove_all(dir, error);
  std::filesystem::rename(scratch, dir, error);
  if (error) {
    const std::string reason = error.message();
    std::filesystem::remove_all(scratch, error);
    fail(dir.string(), ": cannot move the generated folder into place: ", reason);
  }
  return dir;
}

}  // namespace lightseek
