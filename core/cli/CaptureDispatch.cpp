// In `vellum`, capture commands run in `vellum-capture`: the same command line, executed by a
// program that links the fetcher. Reading commands start faster without libcurl loaded.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "cli/Cli.h"

namespace vellum::cli {

namespace {

std::filesystem::path capture_program() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path dir = ec ? std::filesystem::path(".") : self.parent_path();
  for (const auto& candidate :
       {dir / "vellum-capture", dir / ".." / "libexec" / "vellum" / "vellum-capture"}) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("cannot find vellum-capture next to " + self.string() + " or in " +
                           (dir / ".." / "libexec" / "vellum").string() + "; reinstall Vellum");
}

}  // namespace

int run_archive(const GlobalOptions&, const ArchiveOptions&) {
  std::filesystem::path program = capture_program();
  std::vector<char*> args = original_argv();
  args[0] = const_cast<char*>(program.c_str());
  args.push_back(nullptr);
  execv(program.c_str(), args.data());
  throw std::runtime_error("cannot run " + program.string() + ": " + std::strerror(errno));
}

}  // namespace vellum::cli
