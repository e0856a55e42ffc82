// A preloadable library that makes chosen file system calls fail, so that tests can drive the
// real `vellum` and `vellumd` programs into write and sync errors a healthy disk never gives
// (EIO from fdatasync, a short write, a read that fails). Configured from the environment:
//
//   VELLUM_FAULT_CALLS  comma-separated calls to fail: write (and writev), pwrite, fsync,
//                       fdatasync, pread
//   VELLUM_FAULT_PATH   only on descriptors whose path contains this text; with a '$' at its
//                       end, whose path ends with it ("/warc$": the directory, not its files)
//   VELLUM_FAULT_SKIP   matching calls that succeed before the first failure (default 0)
//   VELLUM_FAULT_COUNT  how many matching calls fail after that; 0 = every one (default 1)
//   VELLUM_FAULT_ERRNO  the errno they fail with (default EIO)
//   VELLUM_FAULT_SHORT  when 1, the first failure of a write or pwrite is a short write of half
//                       the bytes instead (the disk then fails the call for the rest)
//   VELLUM_FAULT_LOG    a file that gets one line per failure injected
//
// Calls on other descriptors, and all calls once the failures are spent, go to the C library.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

enum Call : unsigned { kWrite = 1, kPwrite = 2, kFsync = 4, kFdatasync = 8, kPread = 16 };

const char* call_name(Call call) {
  switch (call) {
    case kWrite:
      return "write";
    case kPwrite:
      return "pwrite";
    case kFsync:
      return "fsync";
    case kFdatasync:
      return "fdatasync";
    case kPread:
      return "pread";
  }
  return "?";
}

struct Settings {
  unsigned calls = 0;
  const char* path = nullptr;
  long skip = 0;
  long count = 1;
  int error = EIO;
  bool short_first = false;
  const char* log = nullptr;
};

const Settings& settings() {
  static const Settings s = [] {
    Settings r;
    if (const char* c = std::getenv("VELLUM_FAULT_CALLS")) {
      if (std::strstr(c, "pwrite")) r.calls |= kPwrite;
      if (std::strstr(c, "fdatasync")) r.calls |= kFdatasync;
      if (std::strstr(c, "pread")) r.calls |= kPread;
      // "write" and "fsync" also occur inside "pwrite" and "fdatasync"; look for whole words.
      for (const char* p = c; (p = std::strstr(p, "write")) != nullptr; p += 5)
        if (p == c || p[-1] == ',') r.calls |= kWrite;
      for (const char* p = c; (p = std::strstr(p, "fsync")) != nullptr; p += 5)
        if (p == c || p[-1] == ',') r.calls |= kFsync;
    }
    r.path = std::getenv("VELLUM_FAULT_PATH");
    if (const char* v = std::getenv("VELLUM_FAULT_SKIP")) r.skip = std::atol(v);
    if (const char* v = std::getenv("VELLUM_FAULT_COUNT")) r.count = std::atol(v);
    if (const char* v = std::getenv("VELLUM_FAULT_ERRNO")) r.error = std::atoi(v);
    r.log = std::getenv("VELLUM_FAULT_LOG");
    if (const char* v = std::getenv("VELLUM_FAULT_SHORT")) r.short_first = std::atoi(v) == 1;
    return r;
  }();
  return s;
}

std::atomic<long> matched{0};

bool path_matches(const char* target, const char* pattern) {
  std::size_t n = std::strlen(pattern);
  if (n == 0 || pattern[n - 1] != '$') return std::strstr(target, pattern) != nullptr;
  std::size_t t = std::strlen(target);
  return t >= n - 1 && std::memcmp(target + t - (n - 1), pattern, n - 1) == 0;
}

enum class Fault { kNone, kFail, kShort };

// Whether (and how) this call on `fd` fails; errno is set and the failure logged.
Fault inject(Call call, int fd) {
  const Settings& s = settings();
  if ((s.calls & call) == 0 || s.path == nullptr) return Fault::kNone;
  char link[64];
  char target[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = ::readlink(link, target, sizeof target - 1);
  if (n <= 0) return Fault::kNone;
  target[n] = '\0';
  if (!path_matches(target, s.path)) return Fault::kNone;
  long k = matched.fetch_add(1);
  if (k < s.skip || (s.count > 0 && k >= s.skip + s.count)) return Fault::kNone;
  bool cut = s.short_first && k == s.skip && (call == kWrite || call == kPwrite);
  if (s.log) {
    int lfd = ::open(s.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (lfd >= 0) {
      char line[4200];
      int len = std::snprintf(line, sizeof line, "%s%s %s\n", call_name(call),
                              cut ? " (short)" : "", target);
      using WriteFn = ssize_t (*)(int, const void*, size_t);
      static auto real = reinterpret_cast<WriteFn>(dlsym(RTLD_NEXT, "write"));
      if (len > 0) (void)!real(lfd, line, static_cast<size_t>(len));
      ::close(lfd);
    }
  }
  if (cut) return Fault::kShort;
  errno = s.error;
  return Fault::kFail;
}

template <typename Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// A write-like call: `real(fd, buf, n, rest...)` unless a fault is due.
template <typename Real, typename... Rest>
ssize_t write_call(Call call, Real real, int fd, const void* buf, size_t n, Rest... rest) {
  switch (inject(call, fd)) {
    case Fault::kFail:
      return -1;
    case Fault::kShort:
      return real(fd, buf, n / 2, rest...);
    case Fault::kNone:
      break;
  }
  return real(fd, buf, n, rest...);
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t n) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  return write_call(kWrite, real, fd, buf, n);
}

// std::ofstream writes a large block with the buffer before it in one writev: a "write" too.
ssize_t writev(int fd, const struct iovec* iov, int count) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  switch (inject(kWrite, fd)) {
    case Fault::kFail:
      return -1;
    case Fault::kShort:
      if (count > 0) {
        struct iovec half = iov[0];
        half.iov_len /= 2;
        return real(fd, &half, 1);
      }
      break;
    case Fault::kNone:
      break;
  }
  return real(fd, iov, count);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  return write_call(kPwrite, real, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t off) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  return write_call(kPwrite, real, fd, buf, n, off);
}

ssize_t pread(int fd, void* buf, size_t n, off_t off) {
  static auto real = next<ssize_t (*)(int, void*, size_t, off_t)>("pread");
  if (inject(kPread, fd) != Fault::kNone) return -1;
  return real(fd, buf, n, off);
}

ssize_t pread64(int fd, void* buf, size_t n, off64_t off) {
  static auto real = next<ssize_t (*)(int, void*, size_t, off64_t)>("pread64");
  if (inject(kPread, fd) != Fault::kNone) return -1;
  return real(fd, buf, n, off);
}

int fsync(int fd) {
  static auto real = next<int (*)(int)>("fsync");
  if (inject(kFsync, fd) != Fault::kNone) return -1;
  return real(fd);
}

int fdatasync(int fd) {
  static auto real = next<int (*)(int)>("fdatasync");
  if (inject(kFdatasync, fd) != Fault::kNone) return -1;
  return real(fd);
}

}  // extern "C"
