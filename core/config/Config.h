// vellumd's configuration: what /etc/vellum/vellum.toml and /etc/vellum/sources.d/*.toml hold,
// after defaults and validation (see ConfigSchema for every key, its default and its check).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vellum::config {

using Duration = std::chrono::milliseconds;

struct ArchiveConfig {
  std::filesystem::path dir = "/var/lib/vellum";  // relative paths: from the working directory
  std::string compression = "zstd";               // zstd | gzip | none
  int level = 3;                                  // compression level
  std::uint64_t rotate_size = 1ull << 30;         // bytes
  std::string prefix = "vellum";                  // WARC file name prefix
  std::string sync = "always";                    // always | never
  bool extract = true;                            // extract articles at capture
};

struct PluginsConfig {
  std::vector<std::filesystem::path> dirs;       // empty: the installed plugin directory
  std::map<std::string, nlohmann::json> config;  // [plugins.config.<name>] tables, as JSON
  bool isolate = true;                           // run plugins in vellum-extract-worker processes
  Duration page_timeout{10'000};                 // one page's budget in a plugin (isolated)
  std::uint64_t worker_memory = 1ull << 30;      // RLIMIT_AS of a worker; 0: no limit
};

struct FetchConfig {
  std::string user_agent;  // empty: "Vellum/<version> (+contact URL)"
  int concurrency = 16;    // transfers in flight at once, all hosts
  int per_host_concurrency = 2;
  Duration per_host_delay{1000};  // between the end of one request and the next to a host
  Duration connect_timeout{10'000};
  Duration timeout{120'000};                      // per request
  std::uint64_t max_size = 256ull << 20;          // page body cap (bytes): kept, marked truncated
  std::uint64_t max_document_size = 64ull << 20;  // feed / sitemap / robots.txt cap
  int max_redirects = 10;
  std::vector<std::string> resolve;  // "HOST:PORT:ADDR"
  std::filesystem::path ca_file;     // empty: the system's
  bool allow_private_networks = false;
  bool robots = true;                 // honour robots.txt (a source may turn it off)
  Duration robots_cache{86'400'000};  // how long a robots.txt is trusted
  int retries = 5;                    // attempts after a 429/5xx/timeout before giving up
  Duration backoff_initial{30'000};   // first retry delay; doubles each time
  Duration backoff_max{21'600'000};   // ceiling for the delay (Retry-After is honoured up to it)
};

struct ScheduleConfig {
  double jitter = 0.1;  // each interval is stretched or shrunk by up to this fraction
  // After its first capture, an article URL is captured again after each of these delays (from
  // its first capture), then left alone.
  std::vector<Duration> revisit{Duration{3'600'000}, Duration{86'400'000},
                                Duration{7 * 86'400'000LL}};
  int max_new_per_run = 500;  // new URLs one source run may add
};

struct DaemonConfig {
  std::filesystem::path state_file;   // empty: <archive.dir>/state.sqlite3
  std::filesystem::path socket;       // empty: $RUNTIME_DIRECTORY/vellumd.sock, else
                                      // <archive.dir>/vellumd.sock
  std::filesystem::path sources_dir;  // empty: sources.d beside the main config file
  Duration drain_timeout{30'000};     // SIGTERM: longest wait for captures in flight
};

struct LogConfig {
  std::string level = "info";   // trace | debug | info | warn | error
  std::string target = "auto";  // auto (journal under systemd, else stderr) | stderr | journal
};

struct MetricsConfig {
  bool enabled = false;
  std::string listen = "127.0.0.1:9464";  // loopback only
};

struct SourceConfig {
  std::string name;
  std::string kind;  // feed | sitemap | url | page
  std::string url;
  Duration interval{900'000};                    // "15m"
  std::string link_pattern;                      // ECMAScript regex; required for kind = "page"
  std::string plugin;                            // force this plugin for the source's pages
  std::optional<bool> robots;                    // unset: fetch.robots
  std::optional<std::vector<Duration>> revisit;  // unset: schedule.revisit
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::filesystem::path cookie_file;  // Netscape cookie file, as curl reads it
  bool enabled = true;
  std::string origin;  // "file:line:column" where the source was declared (for messages)
};

struct Config {
  ArchiveConfig archive;
  PluginsConfig plugins;
  FetchConfig fetch;
  ScheduleConfig schedule;
  DaemonConfig daemon;
  LogConfig log;
  MetricsConfig metrics;
  std::vector<SourceConfig> sources;
  std::vector<std::filesystem::path> files;  // every file read, main config first
};

// A configuration that cannot be used. what() is one or more lines, each
// "FILE:LINE:COLUMN: what was found; what was expected".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace vellum::config
