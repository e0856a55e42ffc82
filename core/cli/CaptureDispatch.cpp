// In `vellum`, the commands that fetch or run extractors, and `export` (SHA-256 from libcrypto),
// run in `vellum-capture`: the same command line, executed by a program that also links the
// fetcher (libcurl), the extractors (libxml2) and libcrypto. The reading commands start faster
// without those libraries loaded.
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

// Runs the whole command line again in vellum-capture. Called before the command has written
// anything, so the other program does the command from its start.
[[noreturn]] void hand_over() {
  std::filesystem::path program = capture_program();
  std::vector<char*> args = original_argv();
  args[0] = const_cast<char*>(program.c_str());
  args.push_back(nullptr);
  execv(program.c_str(), args.data());
  throw std::runtime_error("cannot run " + program.string() + ": " + std::strerror(errno));
}

}  // namespace

int run_archive(const GlobalOptions&, const ArchiveOptions&) {
  hand_over();
}
int run_import(const GlobalOptions&, const ImportOptions&) {
  hand_over();
}
int run_extract(const GlobalOptions&, const ExtractOptions&) {
  hand_over();
}
int run_reextract(const GlobalOptions&, const ReextractOptions&) {
  hand_over();
}
int run_plugins(const GlobalOptions&, const std::string&) {
  hand_over();
}
int run_export(const GlobalOptions&, const ExportOptions&) {
  hand_over();
}
nlohmann::json extract_capture_article(const GlobalOptions&, archive::ArchiveReader&,
                                       const index::CaptureRow&, const std::string&) {
  hand_over();
}

}  // namespace vellum::cli
