// The `vellum` command line: shared options and one function per command.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "index/Index.h"
#include "plugins/PluginHost.h"

namespace vellum::archive {
class ArchiveReader;
}
namespace vellum::index {
struct CaptureRow;
}

namespace vellum::cli {

// Exit statuses of `vellum`, documented in vellum(1) and docs/cli.md.
inline constexpr int kExitOk = 0;        // done
inline constexpr int kExitFailure = 1;   // the command failed (reason on stderr)
inline constexpr int kExitUsage = 2;     // the command line was not understood
inline constexpr int kExitNoDaemon = 3;  // the running daemon could not be reached

// A command line that names nothing to do or gives a value in the wrong form, found after
// parsing (no URLs, a time that does not read, a query that does not parse): exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --level for --compression: 1 to the highest level the compression has (UsageError if not).
void check_compression_level(const std::string& compression, int level);

struct GlobalOptions {
  std::filesystem::path archive = "vellum-archive";
  std::vector<std::filesystem::path> plugin_dirs;  // --plugin-dir; empty: the default ones
  bool json = false;
  int verbosity = 0;             // -1 quiet, 0 normal, 1+ verbose
  std::filesystem::path config;  // --config: a vellumd configuration to take defaults from
  std::filesystem::path socket;  // the running daemon's control socket
  // Plugins in worker processes for the commands that extract many pages unattended (archive,
  // reextract); --plugins-in-process or [plugins] isolate = false turns it off.
  bool plugins_in_process = false;
  double plugin_timeout = 10;                // seconds per page in a plugin (isolated)
  std::uint64_t plugin_memory = 1ull << 30;  // RLIMIT_AS of a plugin worker; 0: none
  // [plugins.config.<name>] tables of the --config file, handed to the plugins by name.
  std::map<std::string, nlohmann::json> plugin_config;
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
  std::string format = "text";
  std::string output;      // -o PATH; empty: stdout
  bool no_follow = false;  // html: restore a 3xx capture itself, not where it leads
};

struct ListOptions {
  std::string domain, since, until;
  std::int64_t limit = -1;
};

int run_archive(const GlobalOptions& g, const ArchiveOptions& o);
// For WriterOptions::busy: logs each long step of opening an archive for writing once, so that
// an index upgrade or rebuild (minutes on a large archive) does not pass in silence.
index::Index::BusyHook log_each_step();
int run_restore(const GlobalOptions& g, const RestoreOptions& o);
int run_list(const GlobalOptions& g, const ListOptions& o);
int run_show(const GlobalOptions& g, const std::string& ref);
int run_verify(const GlobalOptions& g, const std::string& ref);
int run_reindex(const GlobalOptions& g);

// `vellum search` and `vellum history` (SearchCommands.cpp).
struct SearchOptions {
  std::vector<std::string> words;  // joined with spaces into the query
  std::string domain, since, until;
  std::int64_t limit = 20;
};
int run_search(const GlobalOptions& g, const SearchOptions& o);
int run_history(const GlobalOptions& g, const std::string& ref);

struct ExtractOptions {
  std::string file;    // PAGE.html ("-": stdin)
  std::string url;     // the URL the page came from (routing, relative links, domain)
  std::string plugin;  // FILE.so to use instead of routing
  std::string format = "json";
};
int run_extract(const GlobalOptions& g, const ExtractOptions& o);
int run_plugins(const GlobalOptions& g, const std::string& check_file);

struct ReextractOptions {
  std::string domain;  // only captures of this host and its subdomains
  std::string plugin;  // force this plugin (by name) instead of routing
};
int run_reextract(const GlobalOptions& g, const ReextractOptions& o);

// The article of a capture stored without one (or of a revisit, or whose stored article could
// not be read: `unreadable` says why), extracted now from its stored payload with the plugins
// and the generic extractor; nothing is written.
nlohmann::json extract_capture_article(const GlobalOptions& g, archive::ArchiveReader& reader,
                                       const index::CaptureRow& row,
                                       const std::string& unreadable = {});

// `vellum export`: selected captures as one .warc.gz file or WACZ package.
struct ExportOptions {
  std::string format;  // "warc.gz" or "wacz"; empty: from the output file's extension
  std::string output;  // -o OUT
  std::string domain, since, until;
  bool skip_damaged = false;
};
int run_export(const GlobalOptions& g, const ExportOptions& o);

// `vellum import FILE...`: captures from WARC files made elsewhere join the archive.
struct ImportOptions {
  std::vector<std::string> files;
  bool no_extract = false;
  std::string compression = "zstd";
  int level = 3;
  std::uint64_t rotate_size = 1ull << 30;
};
int run_import(const GlobalOptions& g, const ImportOptions& o);

// Talking to the running daemon over its control socket.
struct EnqueueOptions {
  std::vector<std::string> urls;
  std::string input;   // -i FILE or "-"
  std::string plugin;  // force this plugin for these URLs
};
int run_status(const GlobalOptions& g);
int run_sources(const GlobalOptions& g);
int run_enqueue(const GlobalOptions& g, const EnqueueOptions& o);

// Reads URLs, one per line (blank lines and '#' comments skipped), from FILE or "-" (stdin).
void read_url_list(const std::string& input, std::vector<std::string>& out);

// The plugin directories in effect: --plugin-dir values, else $VELLUM_PLUGIN_PATH (':'-separated),
// else the installed directory and, in a build tree, <build>/plugins.
std::vector<std::filesystem::path> plugin_dirs(const GlobalOptions& g);

// Host options with plugins in this process: the plugin directories, spdlog for the plugins'
// logs, and each plugin's configuration table from --config.
plugins::HostOptions host_options(const GlobalOptions& g);

// host_options() for a command that extracts many pages: isolation as the options say, with up
// to `workers` worker processes.
plugins::HostOptions batch_host_options(const GlobalOptions& g, unsigned workers);

// The command line as given to main().
std::vector<char*>& original_argv();

// --since/--until (named by `option` in errors) as WARC-Date text: a lower bound starts at the
// first moment of the period named (2026 → 2026-01-01T00:00:00Z), an upper bound ends at its
// last. Empty text: no bound.
std::string time_bound(const std::string& option, const std::string& text, bool upper);

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
