// The `vellum` command line: shared options and one function per command.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vellum::cli {

struct GlobalOptions {
  std::filesystem::path archive = "vellum-archive";
  bool json = false;
  int verbosity = 0;  // -1 quiet, 0 normal, 1+ verbose
};

struct ArchiveOptions {
  std::vector<std::string> urls;
  std::string input;  // -i FILE or "-"
  int concurrency = 16;
  bool no_extract = false;
  std::vector<std::string> resolve;
  double connect_timeout = 10;
  double timeout = 120;
  std::uint64_t max_size = 256ull << 20;
  int max_redirects = 10;
  std::string compression = "zstd";
  int level = 3;
  std::uint64_t rotate_size = 1ull << 30;
  std::string user_agent;
  std::string cacert;
};

struct RestoreOptions {
  std::string ref;
  std::string format = "html";
  std::string output;      // -o PATH; empty: stdout
  bool no_follow = false;  // html: restore a 3xx capture itself, not where it leads
};

struct ListOptions {
  std::string domain, since, until;
  std::int64_t limit = -1;
};

int run_archive(const GlobalOptions& g, const ArchiveOptions& o);
int run_restore(const GlobalOptions& g, const RestoreOptions& o);
int run_list(const GlobalOptions& g, const ListOptions& o);
int run_show(const GlobalOptions& g, const std::string& ref);
int run_verify(const GlobalOptions& g, const std::string& ref);
int run_reindex(const GlobalOptions& g);

// The command line as given to main().
std::vector<char*>& original_argv();

// Output helpers shared by the commands.
void print_json_line(const nlohmann::json& j);
// A one-line progress bar on stderr, only when stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  void update(std::uint64_t done, std::uint64_t total);

 private:
  std::string label_;
  bool tty_;
  int last_permille_ = -1;
};

}  // namespace vellum::cli
