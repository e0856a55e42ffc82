// vellum-extract-worker: runs extractor plugins on behalf of vellumd and vellum, one page at a
// time, in a process of its own (docs/plugins.md, "Isolation"). Started by WorkerPool with its
// socket as file descriptor 3; not meant to be run by hand.
#include <sys/prctl.h>
#include <unistd.h>

#include <dirent.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "plugins/ExtractWorker.h"

#if defined(__SANITIZE_ADDRESS__)
// In sanitizer builds, a plugin's SIGSEGV, SIGBUS or SIGFPE must still end the worker with
// that signal, as it does in a normal build, rather than with the sanitizer's own report.
extern "C" const char* __asan_default_options() {
  return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0";
}
#endif

int main(int argc, char** argv) {
  // Die with the parent, even when stuck in a plugin; a worker never outlives what started it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (argc != 3 || std::string(argv[1]) != "--parent") {
    std::fprintf(stderr,
                 "vellum-extract-worker: found %d arguments, expected --parent PID; this program "
                 "is started by vellumd and vellum, not by hand\n",
                 argc - 1);
    return 2;
  }
  // The parent may have died before prctl() took effect.
  if (::getppid() != static_cast<pid_t>(std::atol(argv[2]))) return 1;
  // Only the socket is wanted: descriptors the parent leaked without close-on-exec are closed.
  std::vector<int> leaked;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      int fd = std::atoi(e->d_name);
      if (fd > 3 && fd != ::dirfd(d)) leaked.push_back(fd);
    }
    ::closedir(d);
  }
  for (int fd : leaked) ::close(fd);
  // Ctrl-C reaches the whole process group: the parent decides when workers stop.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  return vellum::plugins::run_extract_worker(3);
}
