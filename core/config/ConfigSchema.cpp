#include "config/ConfigSchema.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <regex>
#include <sstream>

#include "config/Units.h"
#include "util/Text.h"
#include "util/Url.h"

namespace vellum::config {

namespace {
bool is_port(std::string_view s);
bool is_ipv4(const std::string& s);
bool is_ipv6(const std::string& s);
}  // namespace

bool is_resolve_entry(const std::string& s) {
  auto first = s.find(':');
  if (first == 0 || first == std::string::npos) return false;
  auto second = s.find(':', first + 1);
  if (second == std::string::npos) return false;
  std::string_view host(s.data(), first);
  if (host.find_first_of(" \t") != std::string_view::npos) return false;
  if (!is_port(std::string_view(s).substr(first + 1, second - first - 1))) return false;
  std::stringstream addresses(s.substr(second + 1));
  std::string address;
  int count = 0;
  while (std::getline(addresses, address, ',')) {
    if (address.size() > 2 && address.front() == '[' && address.back() == ']')
      address = address.substr(1, address.size() - 2);
    if (!is_ipv4(address) && !is_ipv6(address)) return false;
    ++count;
  }
  return count > 0;
}

namespace {

using Store = std::function<void(Config&, const Value&)>;

// ---- Storing a checked value into its field ----

void assign(std::string& out, const Value& v) {
  out = std::get<std::string>(v);
}
void assign(std::filesystem::path& out, const Value& v) {
  out = std::get<std::string>(v);
}
void assign(int& out, const Value& v) {
  out = static_cast<int>(std::get<std::int64_t>(v));
}
void assign(bool& out, const Value& v) {
  out = std::get<bool>(v);
}
void assign(double& out, const Value& v) {
  out = std::get<double>(v);
}
void assign(Duration& out, const Value& v) {
  out = std::get<Duration>(v);
}
void assign(std::uint64_t& out, const Value& v) {
  out = std::get<std::uint64_t>(v);
}
void assign(std::vector<std::string>& out, const Value& v) {
  out = std::get<std::vector<std::string>>(v);
}
void assign(std::vector<std::filesystem::path>& out, const Value& v) {
  const auto& strings = std::get<std::vector<std::string>>(v);
  out.assign(strings.begin(), strings.end());
}
void assign(std::vector<Duration>& out, const Value& v) {
  out = std::get<std::vector<Duration>>(v);
}
void assign(std::optional<bool>& out, const Value& v) {
  out = std::get<bool>(v);
}
void assign(std::optional<std::vector<Duration>>& out, const Value& v) {
  out = std::get<std::vector<Duration>>(v);
}
void assign(Headers& out, const Value& v) {
  out = std::get<Headers>(v);
}
void assign(PluginTables& out, const Value& v) {
  out = std::get<PluginTables>(v);
}

// A field of one of Config's sections.
template <class Section, class Field>
Store in(Section Config::*section, Field Section::*field) {
  return [section, field](Config& c, const Value& v) { assign((c.*section).*field, v); };
}

// A field of the [[source]] being read.
template <class Field>
Store in_source(Field SourceConfig::*field) {
  return [field](Config& c, const Value& v) { assign(c.sources.back().*field, v); };
}

// ---- Checks ----

const std::optional<std::string> kPass = std::nullopt;
const std::optional<std::string> kFail = std::string();

Check int_range(std::int64_t lo, std::int64_t hi) {
  return {std::to_string(lo) + " to " + std::to_string(hi), [lo, hi](const Value& v) {
            auto n = std::get<std::int64_t>(v);
            return n >= lo && n <= hi ? kPass : kFail;
          }};
}

Check float_range(double lo, double hi, std::string text) {
  return {std::move(text), [lo, hi](const Value& v) {
            double d = std::get<double>(v);
            return d >= lo && d <= hi ? kPass : kFail;  // false for NaN
          }};
}

Check more_than_zero() {
  return {"more than 0s",
          [](const Value& v) { return std::get<Duration>(v).count() > 0 ? kPass : kFail; }};
}

Check at_least(Duration min) {
  return {"at least " + format_duration(min),
          [min](const Value& v) { return std::get<Duration>(v) >= min ? kPass : kFail; }};
}

Check size_at_least(std::uint64_t min) {
  return {"at least " + format_size(min),
          [min](const Value& v) { return std::get<std::uint64_t>(v) >= min ? kPass : kFail; }};
}

Check zero_or_at_least(std::uint64_t min) {
  return {"0 or at least " + format_size(min), [min](const Value& v) {
            auto n = std::get<std::uint64_t>(v);
            return n == 0 || n >= min ? kPass : kFail;
          }};
}

Check not_empty() {
  return {"not empty",
          [](const Value& v) { return std::get<std::string>(v).empty() ? kFail : kPass; }};
}

Check printable_or_empty() {
  return {"printable ASCII with at least one non-space character, or empty", [](const Value& v) {
            const auto& s = std::get<std::string>(v);
            if (s.empty()) return kPass;
            bool has_text = s.find_first_not_of(' ') != std::string::npos;
            return has_text && util::printable_ascii(s) ? kPass : kFail;
          }};
}

Check printable_name() {
  return {"a non-empty name of printable ASCII characters", [](const Value& v) {
            const auto& s = std::get<std::string>(v);
            bool has_text = s.find_first_not_of(' ') != std::string::npos;
            return has_text && util::printable_ascii(s) ? kPass : kFail;
          }};
}

Check file_name_part() {
  return {"a non-empty name of letters, digits, '.', '_' and '-'", [](const Value& v) {
            const auto& s = std::get<std::string>(v);
            if (s.empty()) return kFail;
            for (char c : s) {
              bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
              if (!ok) return kFail;
            }
            return kPass;
          }};
}

Check valid_regex() {
  return {"a valid ECMAScript regular expression", [](const Value& v) {
            try {
              std::regex re(std::get<std::string>(v), std::regex::ECMAScript);
              return kPass;
            } catch (const std::regex_error& e) {
              return std::optional<std::string>("std::regex says: " + std::string(e.what()));
            }
          }};
}

Check http_url() {
  // As the fetcher will read it: a host with a space or one IDNA cannot convert is refused now,
  // not at the first fetch.
  return {"an absolute http:// or https:// URL", [](const Value& v) {
            std::string why;
            if (util::parse_request_url(std::get<std::string>(v), &why)) return kPass;
            return why.empty() ? kFail : std::optional<std::string>(why);
          }};
}

bool is_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  return port >= 1 && port <= 65535;
}

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

Check resolve_entry() {
  return {"HOST:PORT:ADDR, e.g. \"news.example.com:443:192.0.2.10\"", [](const Value& v) {
            return is_resolve_entry(std::get<std::string>(v)) ? kPass : kFail;
          }};
}

Check loopback_listen() {
  return {"a loopback address and port: 127.x.x.x:PORT, [::1]:PORT or localhost:PORT",
          [](const Value& v) {
            const auto& s = std::get<std::string>(v);
            const std::optional<std::string> why =
                "metrics are served without authentication, so only this machine may reach "
                "them";
            auto colon = s.rfind(':');
            if (colon == std::string::npos || !is_port(std::string_view(s).substr(colon + 1)))
              return why;
            std::string host = s.substr(0, colon);
            if (host == "localhost" || host == "[::1]") return kPass;
            if (is_ipv4(host) && host.rfind("127.", 0) == 0) return kPass;
            return why;
          }};
}

Check increasing() {
  return {"delays in increasing order", [](const Value& v) {
            const auto& list = std::get<std::vector<Duration>>(v);
            for (std::size_t i = 1; i < list.size(); ++i)
              if (list[i] <= list[i - 1]) return kFail;
            return kPass;
          }};
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Check header_fields() {
  return {"header names that are HTTP tokens (no spaces or ':') and values on one line",
          [](const Value& v) -> std::optional<std::string> {
            // Every field that is wrong, not only the first: one edit mends them all.
            std::string wrong;
            auto add = [&](const std::string& what) {
              wrong += (wrong.empty() ? "" : "; ") + what;
            };
            for (const auto& [name, value] : std::get<Headers>(v)) {
              bool name_ok = !name.empty();
              for (char c : name) name_ok = name_ok && is_token_char(c);
              if (!name_ok) add("header name '" + name + "'");
              if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
                add("the value of header '" + name + "' holds a line break or NUL");
            }
            return wrong.empty() ? kPass : std::optional<std::string>(wrong);
          }};
}

// ---- The table ----

// Each key names only the members it sets; the others keep their defaults. g++ 12 warns about
// members left out of a designated initializer even then.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

std::vector<SectionSpec> build_schema() {
  using K = KeyType;
  std::vector<SectionSpec> s;

  s.push_back({"archive", false, "Where captures are stored, and how.", {}});
  s.back().keys = {
      {.key = "dir",
       .type = K::path,
       .default_toml = R"("/var/lib/vellum")",
       .description = "The archive directory: WARC files, index, article files and the "
                      "daemon's state. The default is the service's state directory; a "
                      "relative path is taken from the daemon's working directory.",
       .checks = {not_empty()},
       .store = in(&Config::archive, &ArchiveConfig::dir)},
      {.key = "compression",
       .type = K::enumeration,
       .default_toml = R"("zstd")",
       .description = "How WARC records are compressed: zstd (one frame per record), gzip (one "
                      "member per record, for tools that cannot read zstd) or none.",
       .allowed = {"zstd", "gzip", "none"},
       .store = in(&Config::archive, &ArchiveConfig::compression)},
      {.key = "level",
       .type = K::integer,
       .default_toml = "3",
       .description = "Compression level: 1 to 22 for zstd, 1 to 9 for gzip; not used with none.",
       .store = in(&Config::archive, &ArchiveConfig::level)},
      {.key = "rotate_size",
       .type = K::size,
       .default_toml = R"("1GiB")",
       .description = "A WARC file is closed, and the next one started, once it reaches this size.",
       .checks = {size_at_least(1ull << 20)},
       .store = in(&Config::archive, &ArchiveConfig::rotate_size)},
      {.key = "prefix",
       .type = K::string,
       .default_toml = R"("vellum")",
       .description =
           "Start of every WARC file name: <prefix>-<timestamp>-<serial>-<host>.warc.zst.",
       .checks = {file_name_part()},
       .store = in(&Config::archive, &ArchiveConfig::prefix)},
      {.key = "sync",
       .type = K::enumeration,
       .default_toml = R"("always")",
       .description = "always: a capture counts as done only once its records are on disk "
                      "(fdatasync). never: leave flushing to the operating system, which is "
                      "faster but may lose the last captures in a power cut.",
       .allowed = {"always", "never"},
       .store = in(&Config::archive, &ArchiveConfig::sync)},
      {.key = "extract",
       .type = K::boolean,
       .default_toml = "true",
       .description = "Extract the article from each captured page and store it with the capture.",
       .store = in(&Config::archive, &ArchiveConfig::extract)},
  };

  s.push_back({"plugins", false, "Site extractor plugins.", {}});
  s.back().keys = {
      {.key = "dirs",
       .type = K::path_array,
       .default_toml = "[]",
       .description = "Directories searched for plugin libraries (*.so), in order. Empty: the "
                      "installed plugin directory.",
       .element_checks = {not_empty()},
       .store = in(&Config::plugins, &PluginsConfig::dirs)},
      {.key = "config",
       .type = K::tables,
       .description = "Settings for one plugin, handed to it as JSON when it loads: a table "
                      "[plugins.config.<plugin name>] holding the keys that plugin documents.",
       .example_toml = "[plugins.config.example]\nsetting = \"value\"",
       .store = in(&Config::plugins, &PluginsConfig::config)},
      {.key = "isolate",
       .type = K::boolean,
       .default_toml = "true",
       .description = "Run the plugins in worker processes (vellum-extract-worker), one page at "
                      "a time each, so that a plugin that crashes, hangs or exhausts memory "
                      "loses that page its plugin article (the generic extractor's is stored, "
                      "with the failure in extractor.plugin_error) and the worker is replaced. "
                      "false: load the plugins into vellumd itself, where such a plugin stops "
                      "the daemon.",
       .store = in(&Config::plugins, &PluginsConfig::isolate)},
      {.key = "page_timeout",
       .type = K::duration,
       .default_toml = R"("10s")",
       .description = "How long a plugin may take over one page when isolated; then its worker "
                      "is killed and the page gets the generic extractor's article.",
       .checks = {at_least(Duration(100))},
       .store = in(&Config::plugins, &PluginsConfig::page_timeout)},
      {.key = "worker_memory",
       .type = K::size,
       .default_toml = R"("1GiB")",
       .description = "Address space each plugin worker may use (RLIMIT_AS) when isolated; a "
                      "plugin that needs more fails the page with \"ran out of memory\". 0: no "
                      "limit.",
       .checks = {zero_or_at_least(64ull << 20)},
       .store = in(&Config::plugins, &PluginsConfig::worker_memory)},
  };

  s.push_back({"fetch", false, "How pages are fetched, and how politely.", {}});
  s.back().keys = {
      {.key = "user_agent",
       .type = K::string,
       .default_toml = R"("")",
       .description = "User-Agent header of every request; it should name you and a way to "
                      "reach you. Empty: Vellum/<version> with the project's contact URL.",
       .checks = {printable_or_empty()},
       .store = in(&Config::fetch, &FetchConfig::user_agent)},
      {.key = "concurrency",
       .type = K::integer,
       .default_toml = "16",
       .description = "Requests in flight at once, all hosts together.",
       .checks = {int_range(1, 1024)},
       .store = in(&Config::fetch, &FetchConfig::concurrency)},
      {.key = "per_host_concurrency",
       .type = K::integer,
       .default_toml = "2",
       .description = "Requests in flight at once to any one host.",
       .checks = {int_range(1, 64)},
       .store = in(&Config::fetch, &FetchConfig::per_host_concurrency)},
      {.key = "per_host_delay",
       .type = K::duration,
       .default_toml = R"("1s")",
       .description = "Pause between the end of one request to a host and the start of the next.",
       .store = in(&Config::fetch, &FetchConfig::per_host_delay)},
      {.key = "connect_timeout",
       .type = K::duration,
       .default_toml = R"("10s")",
       .description = "Longest wait for a connection to be established.",
       .checks = {more_than_zero()},
       .store = in(&Config::fetch, &FetchConfig::connect_timeout)},
      {.key = "timeout",
       .type = K::duration,
       .default_toml = R"("2m")",
       .description = "Longest time one request may take, from connecting to the last byte.",
       .checks = {more_than_zero()},
       .store = in(&Config::fetch, &FetchConfig::timeout)},
      {.key = "max_size",
       .type = K::size,
       .default_toml = R"("256MiB")",
       .description = "Largest page body kept; a longer body is cut at this size and the "
                      "capture marked truncated.",
       .checks = {size_at_least(1ull << 10)},
       .store = in(&Config::fetch, &FetchConfig::max_size)},
      {.key = "max_document_size",
       .type = K::size,
       .default_toml = R"("64MiB")",
       .description = "Largest feed, sitemap or robots.txt read.",
       .checks = {size_at_least(1ull << 10)},
       .store = in(&Config::fetch, &FetchConfig::max_document_size)},
      {.key = "max_redirects",
       .type = K::integer,
       .default_toml = "10",
       .description = "Redirects followed from one URL; each hop is archived as its own capture.",
       .checks = {int_range(0, 50)},
       .store = in(&Config::fetch, &FetchConfig::max_redirects)},
      {.key = "resolve",
       .type = K::string_array,
       .default_toml = "[]",
       .description = "Fixed addresses for host names, as curl's --resolve: the host is "
                      "connected to at ADDR instead of the address DNS gives.",
       .element_checks = {resolve_entry()},
       .store = in(&Config::fetch, &FetchConfig::resolve)},
      {.key = "ca_file",
       .type = K::path,
       .default_toml = R"("")",
       .description = "CA certificates (PEM) that TLS servers are verified against. Empty: the "
                      "system's.",
       .daemon_reads = true,
       .store = in(&Config::fetch, &FetchConfig::ca_file)},
      {.key = "allow_private_networks",
       .type = K::boolean,
       .default_toml = "false",
       .description = "Allow requests to loopback, private and link-local addresses. While "
                      "false, the daemon refuses them: feeds and local users choose the URLs "
                      "it fetches.",
       .store = in(&Config::fetch, &FetchConfig::allow_private_networks)},
      {.key = "robots",
       .type = K::boolean,
       .default_toml = "true",
       .description = "Honour robots.txt. A source may decide otherwise with its own robots key.",
       .store = in(&Config::fetch, &FetchConfig::robots)},
      {.key = "robots_cache",
       .type = K::duration,
       .default_toml = R"("1d")",
       .description = "How long a robots.txt is trusted before it is fetched again.",
       .checks = {more_than_zero()},
       .store = in(&Config::fetch, &FetchConfig::robots_cache)},
      {.key = "retries",
       .type = K::integer,
       .default_toml = "5",
       .description = "Further attempts after a 429, a 5xx or a timeout before a URL is given up.",
       .checks = {int_range(0, 20)},
       .store = in(&Config::fetch, &FetchConfig::retries)},
      {.key = "backoff_initial",
       .type = K::duration,
       .default_toml = R"("30s")",
       .description = "Delay before the first retry; it doubles with each retry after that.",
       .checks = {more_than_zero()},
       .store = in(&Config::fetch, &FetchConfig::backoff_initial)},
      {.key = "backoff_max",
       .type = K::duration,
       .default_toml = R"("6h")",
       .description = "Longest delay between retries, and the longest Retry-After honoured. At "
                      "least backoff_initial.",
       .checks = {more_than_zero()},
       .store = in(&Config::fetch, &FetchConfig::backoff_max)},
  };

  s.push_back({"schedule", false, "When sources are visited and articles captured again.", {}});
  s.back().keys = {
      {.key = "jitter",
       .type = K::floating,
       .default_toml = "0.1",
       .description = "Each source's interval is stretched or shrunk at random by up to this "
                      "fraction, so that sources drift apart rather than run together.",
       .checks = {float_range(0.0, 0.5, "0 to 0.5")},
       .store = in(&Config::schedule, &ScheduleConfig::jitter)},
      {.key = "revisit",
       .type = K::duration_array,
       .default_toml = R"(["1h", "1d", "7d"])",
       .description = "After its first capture, an article is captured again after each of "
                      "these delays (counted from the first capture), then left alone. A "
                      "source may set its own.",
       .checks = {increasing()},
       .element_checks = {more_than_zero()},
       .store = in(&Config::schedule, &ScheduleConfig::revisit)},
      {.key = "max_new_per_run",
       .type = K::integer,
       .default_toml = "500",
       .description = "Most new URLs one visit of a source may add.",
       .checks = {int_range(1, 100000)},
       .store = in(&Config::schedule, &ScheduleConfig::max_new_per_run)},
  };

  s.push_back({"daemon", false, "The vellumd process.", {}});
  s.back().keys = {
      {.key = "state_file",
       .type = K::path,
       .default_toml = R"("")",
       .description = "SQLite file of the daemon's own state: what it has seen and what is due. "
                      "Empty: state.sqlite3 in the archive directory.",
       .store = in(&Config::daemon, &DaemonConfig::state_file)},
      {.key = "socket",
       .type = K::path,
       .default_toml = R"("")",
       .description = "Unix socket that `vellum status`, `vellum enqueue` and `vellum sources` "
                      "talk to. Empty: vellumd.sock in $RUNTIME_DIRECTORY when systemd sets "
                      "it, else in the archive directory.",
       .store = in(&Config::daemon, &DaemonConfig::socket)},
      {.key = "sources_dir",
       .type = K::path,
       .default_toml = R"("")",
       .description = "Directory of source files: every *.toml in it is read in name order, "
                      "and may hold only [[source]] tables. Empty: sources.d beside the main "
                      "configuration file.",
       .store = in(&Config::daemon, &DaemonConfig::sources_dir)},
      {.key = "drain_timeout",
       .type = K::duration,
       .default_toml = R"("30s")",
       .description = "On SIGTERM, the longest wait for captures in flight before exiting.",
       .checks = {more_than_zero()},
       .store = in(&Config::daemon, &DaemonConfig::drain_timeout)},
  };

  s.push_back({"log", false, "Logging.", {}});
  s.back().keys = {
      {.key = "level",
       .type = K::enumeration,
       .default_toml = R"("info")",
       .description = "Least severe messages logged.",
       .allowed = {"trace", "debug", "info", "warn", "error"},
       .store = in(&Config::log, &LogConfig::level)},
      {.key = "target",
       .type = K::enumeration,
       .default_toml = R"("auto")",
       .description = "Where log lines go: auto (the journal when started by systemd, else "
                      "stderr), stderr or journal.",
       .allowed = {"auto", "stderr", "journal"},
       .store = in(&Config::log, &LogConfig::target)},
  };

  s.push_back({"metrics", false, "Prometheus metrics.", {}});
  s.back().keys = {
      {.key = "enabled",
       .type = K::boolean,
       .default_toml = "false",
       .description = "Serve Prometheus metrics over HTTP at /metrics.",
       .store = in(&Config::metrics, &MetricsConfig::enabled)},
      {.key = "listen",
       .type = K::string,
       .default_toml = R"("127.0.0.1:9464")",
       .description = "Address and port the metrics are served on. Loopback only: they are "
                      "served without authentication.",
       .checks = {loopback_listen()},
       .store = in(&Config::metrics, &MetricsConfig::listen)},
  };

  s.push_back({"source",
               true,
               "A source the daemon watches. Sources belong in the files of the sources "
               "directory (daemon.sources_dir), any number of [[source]] tables per file.",
               {}});
  s.back().keys = {
      {.key = "name",
       .type = K::string,
       .description = "Unique name of the source, used in logs, metrics and `vellum sources`.",
       .checks = {printable_name()},
       .required = true,
       .example_toml = R"("example-news")",
       .store = in_source(&SourceConfig::name)},
      {.key = "kind",
       .type = K::enumeration,
       .description = "What url points at: feed (RSS or Atom), sitemap (a news sitemap or a "
                      "sitemap index), url (one page, captured again every interval) or page "
                      "(a listing page whose links matching link_pattern are captured).",
       .allowed = {"feed", "sitemap", "url", "page"},
       .required = true,
       .example_toml = R"("page")",
       .store = in_source(&SourceConfig::kind)},
      {.key = "url",
       .type = K::string,
       .description = "Where the source is fetched from.",
       .checks = {http_url()},
       .required = true,
       .example_toml = R"("https://news.example.com/latest")",
       .store = in_source(&SourceConfig::url)},
      {.key = "interval",
       .type = K::duration,
       .default_toml = R"("15m")",
       .description = "How often the source is visited (give or take schedule.jitter). At "
                      "least 1s; most feeds change every few minutes at most, so intervals "
                      "under 5m rarely find more.",
       .checks = {at_least(Duration{1'000})},
       .store = in_source(&SourceConfig::interval)},
      {.key = "link_pattern",
       .type = K::string,
       .default_toml = R"("")",
       .description = "ECMAScript regular expression searched for in each absolute link of a "
                      "listing page (anchor with ^ and $ to match the whole URL); the links it "
                      "is found in are captured. Required for kind = \"page\", not allowed for "
                      "other kinds.",
       .checks = {valid_regex()},
       .example_toml = R"("^https://news\\.example\\.com/\\d{4}/\\d{2}/")",
       .store = in_source(&SourceConfig::link_pattern)},
      {.key = "plugin",
       .type = K::string,
       .default_toml = R"("")",
       .description = "Plugin that extracts this source's pages, by name. Empty: the plugin "
                      "that claims each page's URL, else the generic extractor. A plugin not "
                      "loaded is named in the log, and the generic extractor takes the pages.",
       .store = in_source(&SourceConfig::plugin)},
      {.key = "robots",
       .type = K::boolean,
       .description = "Honour robots.txt for this source. Unset: fetch.robots.",
       .example_toml = "true",
       .store = in_source(&SourceConfig::robots)},
      {.key = "revisit",
       .type = K::duration_array,
       .description = "Revisit delays for this source's articles, as schedule.revisit. Unset: "
                      "schedule.revisit. Not for kind url, whose page is captured every interval.",
       .checks = {increasing()},
       .element_checks = {more_than_zero()},
       .example_toml = R"(["1h", "1d", "7d"])",
       .store = in_source(&SourceConfig::revisit)},
      {.key = "headers",
       .type = K::headers,
       .default_toml = "{}",
       .description = "Extra request headers for this source, sent in the order written, to the "
                      "source's own origin only (scheme, host and port).",
       .checks = {header_fields()},
       .example_toml = R"({ "Accept-Language" = "en" })",
       .store = in_source(&SourceConfig::headers)},
      {.key = "cookie_file",
       .type = K::path,
       .default_toml = R"("")",
       .description = "Cookies to send, from a file in the Netscape format that curl reads. "
                      "Empty: none.",
       .daemon_reads = true,
       .store = in_source(&SourceConfig::cookie_file)},
      {.key = "enabled",
       .type = K::boolean,
       .default_toml = "true",
       .description = "false keeps the source in the configuration without visiting it.",
       .store = in_source(&SourceConfig::enabled)},
  };
  return s;
}

#pragma GCC diagnostic pop

// ---- Rendering ----

// `text` as comment lines of at most 100 columns.
void comment(std::string& out, std::string_view text) {
  constexpr std::size_t kWidth = 100;
  std::string line = "#";
  std::istringstream words{std::string(text)};
  std::string word;
  while (words >> word) {
    if (line.size() > 1 && line.size() + 1 + word.size() > kWidth) {
      out += line + "\n";
      line = "#";
    }
    line += " " + word;
  }
  out += line + "\n";
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// The description with what the checks allow, as one paragraph.
std::string full_description(const KeySpec& key) {
  std::string text = key.description;
  if (!key.allowed.empty()) text += " One of: " + join(key.allowed, ", ") + ".";
  std::vector<std::string> rules;
  for (const auto& c : key.checks) rules.push_back(c.text);
  for (const auto& c : key.element_checks) rules.push_back("each " + c.text);
  if (key.daemon_reads) rules.push_back("a file vellumd can read (checked when vellumd loads it)");
  if (!rules.empty()) text += " Allowed: " + join(rules, "; ") + ".";
  if (key.required) text += " Required.";
  return text;
}

constexpr std::string_view kFileIntro =
    "vellumd configuration. Every key is listed at its default value, so as shipped this file "
    "changes nothing: edit the values you want different. Durations are strings of numbers "
    "with units ms, s, m, h, d (\"500ms\", \"45s\", \"15m\", \"1h30m\", \"2d\"). Sizes are "
    "strings with units B, KiB, MiB, GiB, TiB (powers of 1024) or kB, MB, GB, TB (powers of "
    "1000), or a plain number of bytes. Relative paths are taken from the daemon's working "
    "directory. An unknown key or a bad value stops the daemon with FILE:LINE:COLUMN and the "
    "reason; `vellumd --check-config` checks the configuration without starting. "
    "docs/configuration.md describes every key.";

}  // namespace

const KeySpec* SectionSpec::find(std::string_view key) const {
  for (const auto& k : keys)
    if (k.key == key) return &k;
  return nullptr;
}

std::string SectionSpec::header() const {
  return array ? "[[" + name + "]]" : "[" + name + "]";
}

Check daemon_readable_file() {
  return {"a file vellumd can read", [](const Value& v) -> std::optional<std::string> {
            const auto& path = std::get<std::string>(v);
            if (path.empty()) return std::nullopt;
            const std::string relative =
                path.front() == '/'
                    ? ""
                    : "; a relative path is taken from vellumd's working directory, "
                      "/var/lib/vellum under the shipped systemd unit";
            struct stat st {};
            if (::stat(path.c_str(), &st) != 0) return std::strerror(errno) + relative;
            if (!S_ISREG(st.st_mode)) return std::string("not a regular file");
            int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) return std::strerror(errno) + relative;
            ::close(fd);
            return std::nullopt;
          }};
}

const std::vector<SectionSpec>& config_schema() {
  static const std::vector<SectionSpec> schema = build_schema();
  return schema;
}

const SectionSpec* find_section(std::string_view name) {
  for (const auto& s : config_schema())
    if (s.name == name) return &s;
  return nullptr;
}

std::string type_name(const KeySpec& key) {
  switch (key.type) {
    case KeyType::string:
    case KeyType::enumeration:  // the allowed values are listed with the description
      return "string";
    case KeyType::path:
      return "path";
    case KeyType::integer:
      return "integer";
    case KeyType::boolean:
      return "boolean";
    case KeyType::floating:
      return "float";
    case KeyType::duration:
      return "duration";
    case KeyType::size:
      return "size";
    case KeyType::string_array:
      return "array of strings";
    case KeyType::path_array:
      return "array of paths";
    case KeyType::duration_array:
      return "array of durations";
    case KeyType::headers:
      return "table of strings";
    case KeyType::tables:
      return "tables";
  }
  return "value";
}

std::string default_config_toml() {
  std::string out;
  comment(out, kFileIntro);
  for (const auto& section : config_schema()) {
    out += "\n";
    comment(out, section.description);
    if (section.array) {
      // Shown commented out: its keys with their meaning, ready to copy into sources.d.
      comment(out,
              "Every key of a source, with its meaning (copy into a file in sources.d and "
              "remove the # in front of the keys you set):");
      out += "#\n#" + section.header() + "\n";
      for (const auto& key : section.keys) {
        out += "#\n";
        comment(out, full_description(key));
        const std::string& value = key.example_toml.empty() ? key.default_toml : key.example_toml;
        out += "#" + key.key + " = " + value + "\n";
      }
      continue;
    }
    out += section.header() + "\n";
    for (const auto& key : section.keys) {
      out += "\n";
      comment(out, full_description(key));
      if (key.default_toml.empty()) {
        std::istringstream lines(key.example_toml);
        std::string line;
        while (std::getline(lines, line)) out += "#" + line + "\n";
      } else {
        out += key.key + " = " + key.default_toml + "\n";
      }
    }
  }
  return out;
}

std::string config_reference_markdown() {
  auto cell = [](std::string text) {
    std::string out;
    for (char c : text) {
      if (c == '|' || c == '<' || c == '>' || c == '*') out += '\\';
      out += c;
    }
    return out;
  };
  std::string out;
  for (const auto& section : config_schema()) {
    if (!out.empty()) out += "\n";
    out += "### `" + section.header() + "`\n\n" + cell(section.description) + "\n\n";
    out += "| Key | Type | Default | Meaning |\n| --- | --- | --- | --- |\n";
    for (const auto& key : section.keys) {
      std::string def = key.required               ? "required"
                        : key.default_toml.empty() ? "unset"
                                                   : "`" + key.default_toml + "`";
      out += "| `" + key.key + "` | " + cell(type_name(key)) + " | " + cell(def) + " | " +
             cell(full_description(key)) + " |\n";
    }
  }
  return out;
}

}  // namespace vellum::config
