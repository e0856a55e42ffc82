// vellum: capture, restore and check archived web pages.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>

#include "cli/Cli.h"
#include "cli/CliDocs.h"
#include "config/ConfigLoader.h"
#include "config/ConfigSchema.h"
#include "daemon/ControlClient.h"
#include "daemon/DaemonPaths.h"
#include "index/SearchQuery.h"
#include "util/Url.h"

using namespace vellum::cli;

std::vector<char*>& vellum::cli::original_argv() {
  static std::vector<char*> argv;
  return argv;
}

// --config: the daemon's archive directory, plugin directories and their configuration tables,
// and socket become the defaults.
static void apply_config(GlobalOptions& g, bool archive_given, bool timeout_given) {
  auto cfg = vellum::config::load_config(g.config, vellum::config::Reader::settings);
  if (!archive_given) g.archive = cfg.archive.dir;
  if (g.plugin_dirs.empty()) g.plugin_dirs = cfg.plugins.dirs;
  if (g.socket.empty()) g.socket = vellum::daemon::control_socket_path(cfg);
  if (!cfg.plugins.isolate) g.plugins_in_process = true;
  if (!timeout_given)
    g.plugin_timeout = std::chrono::duration<double>(cfg.plugins.page_timeout).count();
  g.plugin_memory = cfg.plugins.worker_memory;
  g.plugin_config = cfg.plugins.config;
}

// The one-line reason on stderr; with --json also as an object on stdout, for scripts.
static void report_error(const GlobalOptions& g, const std::string& what) {
  std::cerr << "vellum: " << what << "\n";
  if (g.json) print_json_line({{"error", what}});
}

namespace {

// CLI11's check that a path exists, without the check's name added to the option's type in
// --help ("FILE:FILE").
CLI::Validator must_exist(const CLI::Validator& check) {
  return CLI::Validator(check).description("");
}

// `v` read as a number, all of it; nullopt when it is not one (a value too small for a double,
// such as 1e-400, is not one either, nor one with spaces before or after it).
std::optional<double> read_number(const std::string& v) {
  std::size_t used = 0;
  if (v.empty() || std::isspace(static_cast<unsigned char>(v.front()))) return std::nullopt;
  try {
    const double d = std::stod(v, &used);
    if (used == v.size()) return d;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::string text_of(double d) {
  return (std::ostringstream() << d).str();
}

// A number greater than 0 (and at most `max`), said in the found/expected form (CLI11's own
// range check prints the limits of a double).
CLI::Validator above_zero(double max = std::numeric_limits<double>::max()) {
  return CLI::Validator(
      [max](std::string& v) -> std::string {
        const auto d = read_number(v);
        if (!d) return "found '" + v + "', expected a number";
        if (!(*d > 0)) return "found " + v + ", expected a number greater than 0";
        if (!(*d <= max))
          return "found " + v + ", expected a number greater than 0 and at most " + text_of(max);
        return {};
      },
      "POSITIVE");
}

// A number from `min` to `max` (NaN is none: CLI11's own range check lets it through).
CLI::Validator number_from(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& v) -> std::string {
        const auto d = read_number(v);
        if (!d) return "found '" + v + "', expected a number";
        if (!(*d >= min && *d <= max))
          return "found " + v + ", expected a number from " + text_of(min) + " to " + text_of(max);
        return {};
      },
      "RANGE");
}

// A whole number from `min` to `max`, digits only ("-1" would otherwise wrap around to the
// largest unsigned number), in decimal ("010" is ten).
CLI::Validator whole_number(std::uint64_t min,
                            std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
  return CLI::Validator(
      [min, max](std::string& v) -> std::string {
        std::uint64_t n = 0;
        const bool digits = !v.empty() && std::all_of(v.begin(), v.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
        const auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (!digits || error != std::errc() || end != v.data() + v.size() || n < min || n > max)
          return "found '" + v + "', expected a whole number from " + std::to_string(min) + " to " +
                 std::to_string(max);
        // In decimal whatever it starts with: CLI11 reads "010" as octal, and refuses "08".
        v = std::to_string(n);
        return {};
      },
      "N");
}

// A path given with -o: not empty (standard output is had by leaving -o out).
CLI::Validator non_empty_path() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        if (v.empty()) return "found an empty path, expected a file to write (or no -o for stdout)";
        return {};
      },
      "");
}

// A capture reference (REF): not empty.
CLI::Validator reference() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        if (v.find_first_not_of(" \t") == std::string::npos)
          return "found '" + v + "', expected a capture id, a URL, or URL@TIMESTAMP";
        return {};
      },
      "");
}

// A host name for --domain: no spaces or control characters.
CLI::Validator host_name() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        const bool unusable = std::any_of(v.begin(), v.end(), [](char c) {
          return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) == 0x7F;
        });
        if (v.empty() || unusable)
          return "found '" + v + "', expected a host name such as example.com";
        // A URL, a port or a path matches no stored host: said, not silently matched to nothing.
        // An IPv6 address is written as URLs hold it, in brackets.
        const bool bracketed = v.size() > 2 && v.front() == '[' && v.back() == ']';
        if (!bracketed && v.find_first_of("/:@?#[]\\") != std::string::npos)
          return "found '" + v +
                 "', expected a host name such as example.com, without scheme, port or path" +
                 (std::count(v.begin(), v.end(), ':') > 1 && v.find('/') == std::string::npos
                      ? " (an IPv6 address in brackets: [" + v + "])"
                      : std::string());
        // One that ends in a number must be an IPv4 address, as in a URL.
        std::string why;
        if (!vellum::util::typed_host(v, &why) && why.find("ends in a number") != std::string::npos)
          return "found '" + v + "', expected a host name such as example.com: " + why;
        return {};
      },
      "HOST");
}

// Seconds a network wait may last: more than a day is a mistake.
constexpr double kMaxSeconds = 86400;

}  // namespace

int main(int argc, char** argv) {
  original_argv().assign(argv, argv + argc);
  CLI::App app{"vellum — archive web pages as WARC, find them, restore them byte for byte"};
  app.set_version_flag("--version", "vellum " VELLUM_VERSION);
  app.require_subcommand(0, 1);  // none: only with --generate-docs (checked below)
  app.fallthrough();             // global options may also follow the command
  GlobalOptions g;
  std::string docs_dir;
  // Hidden (no group): the build writes the manual pages and bash completion with it.
  app.add_option("--generate-docs", docs_dir,
                 "Write man pages and bash completion for this command line under DIR")
      ->group("");
  bool verbose = false, quiet = false;
  app.add_option("--archive", g.archive, "Archive directory")
      ->type_name("DIR")
      ->capture_default_str();
  app.add_flag("--json", g.json, "Machine-readable output: one JSON object per line");
  app.add_flag("-v,--verbose", verbose, "More detail on stderr");
  app.add_flag("-q,--quiet", quiet, "Only errors on stderr");
  auto* archive_opt = app.get_option("--archive");
  app.add_option("--config", g.config,
                 "vellumd configuration: its archive.dir, plugin dirs, plugin settings and "
                 "control socket become the defaults")
      ->type_name("FILE")
      ->check(must_exist(CLI::ExistingFile));
  app.add_option("--socket", g.socket,
                 "The daemon's control socket (default: from --config, $VELLUM_SOCKET, "
                 "/run/vellum/vellumd.sock, or vellumd.sock in the archive directory)")
      ->type_name("PATH");
  app.add_option("--plugin-dir", g.plugin_dirs,
                 "Load extractor plugins from DIR (repeatable; default: the installed directory)")
      ->type_name("DIR")
      ->check(must_exist(CLI::ExistingDirectory))
      ->allow_extra_args(false);
  app.add_flag("--plugins-in-process", g.plugins_in_process,
               "archive, reextract: load the plugins into this process instead of worker "
               "processes (a plugin that crashes then stops the command)");
  auto* timeout_opt =
      app.add_option("--plugin-timeout", g.plugin_timeout,
                     "archive, reextract: seconds a plugin may spend on one page before its "
                     "worker is killed and the generic extractor is used")
          ->type_name("SECONDS")
          ->check(number_from(0.1, kMaxSeconds))
          ->capture_default_str();

  ArchiveOptions ao;
  auto* archive = app.add_subcommand("archive", "Capture URLs now, without the daemon");
  archive->add_option("urls", ao.urls, "URLs to capture");
  archive->add_option("-i,--input", ao.input, "Read URLs from FILE, one per line ('-': stdin)")
      ->type_name("FILE");
  archive->add_option("--concurrency", ao.concurrency, "Transfers at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  archive->add_flag("--no-extract", ao.no_extract,
                    "Store the captures without extracting articles");
  archive
      ->add_option("--resolve", ao.resolve,
                   "HOST:PORT:ADDR, as curl's --resolve (repeat for more than one)")
      ->allow_extra_args(false)
      ->check(
          [](const std::string& v) -> std::string {
            if (!vellum::config::is_resolve_entry(v))
              return "found '" + v +
                     "', expected HOST:PORT:ADDR with a port from 1 to 65535 and an IP address "
                     "(e.g. example.com:443:127.0.0.1)";
            return {};
          },
          "HOST:PORT:ADDR");
  archive->add_option("--connect-timeout", ao.connect_timeout, "Seconds to connect")
      ->check(above_zero(kMaxSeconds))
      ->capture_default_str();
  archive->add_option("--timeout", ao.timeout, "Seconds for each request in all")
      ->check(above_zero(kMaxSeconds))
      ->capture_default_str();
  archive
      ->add_option("--max-size", ao.max_size,
                   "Largest body kept, in bytes as received (chunk framing counted); longer ones "
                   "are cut and marked truncated")
      ->transform(whole_number(1))
      ->capture_default_str();
  archive->add_option("--max-redirects", ao.max_redirects, "Redirects followed")
      ->check(CLI::Range(0, 50))
      ->capture_default_str();
  archive->add_option("--compression", ao.compression, "WARC compression")
      ->check(CLI::IsMember({"zstd", "gzip", "none"}))
      ->capture_default_str();
  archive->add_option("--level", ao.level, "Compression level")->capture_default_str();
  archive->add_option("--rotate-size", ao.rotate_size, "Start a new WARC file at this size")
      ->transform(whole_number(1))
      ->capture_default_str();
  archive->add_option("--user-agent", ao.user_agent, "User-Agent header to send");
  archive
      ->add_option("--cacert", ao.cacert, "Verify servers with the CA certificates in FILE (PEM)")
      ->type_name("FILE")
      ->check(must_exist(CLI::ExistingFile));

  RestoreOptions ro;
  auto* restore = app.add_subcommand("restore", "Write out an archived capture");
  restore->add_option("ref", ro.ref, "Capture id, URL, or URL@TIMESTAMP")
      ->required()
      ->check(reference());
  restore
      ->add_option("--format", ro.format,
                   "text, markdown, json: the article; html: the payload as served; warc: the "
                   "records")
      ->check(CLI::IsMember({"text", "markdown", "json", "html", "warc"}))
      ->capture_default_str();
  restore->add_option("-o,--output", ro.output, "Write to PATH instead of stdout")
      ->type_name("PATH")
      ->check(non_empty_path());
  restore->add_flag("--no-follow", ro.no_follow,
                    "For a redirect, restore the redirect itself, not the page it leads to");

  ListOptions lo;
  auto* list = app.add_subcommand("list", "List captures, newest first");
  list->add_option("--domain", lo.domain, "Only this host and its subdomains")->check(host_name());
  list->add_option("--since", lo.since, "Captured at or after (YYYYMMDD[hhmmss] or ISO 8601)");
  list->add_option("--until", lo.until, "Captured at or before");
  // The limits are signed (-1: none).
  constexpr auto kMaxLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  list->add_option("--limit", lo.limit, "At most N captures")
      ->transform(whole_number(1, kMaxLimit));

  SearchOptions so;
  auto* search = app.add_subcommand("search", "Full-text search over article titles and bodies");
  search
      ->add_option("query", so.words,
                   "Words (all must occur), \"exact phrase\", prefix*, AND, OR, NOT, ( )")
      ->required();
  search->add_option("--limit", so.limit, "At most N hits")
      ->transform(whole_number(1, kMaxLimit))
      ->capture_default_str();
  search->add_option("--domain", so.domain, "Only this host and its subdomains")
      ->check(host_name());
  search->add_option("--since", so.since, "Captured at or after (YYYYMMDD[hhmmss] or ISO 8601)");
  search->add_option("--until", so.until, "Captured at or before");
  std::string history_ref;
  auto* history = app.add_subcommand("history", "Every capture of a URL and what changed");
  history->add_option("url", history_ref, "URL (or a capture id of it)")
      ->required()
      ->check(reference());

  std::string show_ref;
  auto* show = app.add_subcommand("show", "Show what is stored for a capture");
  show->add_option("ref", show_ref, "Capture id, URL, or URL@TIMESTAMP")
      ->required()
      ->check(reference());

  std::string verify_ref;
  auto* verify = app.add_subcommand("verify", "Recompute digests and check the index");
  verify->add_option("ref", verify_ref, "Check only this capture")->check(reference());

  auto* reindex = app.add_subcommand("reindex", "Rebuild the index from the WARC files");

  ImportOptions imo;
  auto* import_cmd = app.add_subcommand(
      "import", "Add the captures of WARC files made elsewhere (wget, other crawlers, Vellum)");
  import_cmd->add_option("files", imo.files, "FILE.warc, FILE.warc.gz or FILE.warc.zst")
      ->required();
  import_cmd->add_flag("--no-extract", imo.no_extract,
                       "Store the captures without extracting articles");
  import_cmd->add_option("--compression", imo.compression, "Compression of the archive's files")
      ->check(CLI::IsMember({"zstd", "gzip", "none"}))
      ->capture_default_str();
  import_cmd->add_option("--level", imo.level, "Compression level")->capture_default_str();
  import_cmd->add_option("--rotate-size", imo.rotate_size, "Start a new WARC file at this size")
      ->transform(whole_number(1))
      ->capture_default_str();

  ExtractOptions eo;
  auto* extract = app.add_subcommand("extract", "Extract the article from a saved page");
  extract->add_option("page", eo.file, "PAGE.html ('-': standard input)")->required();
  extract->add_option("--url", eo.url, "The URL the page was served at");
  extract->add_option("--plugin", eo.plugin, "Use this plugin file (.so) instead of routing")
      ->type_name("FILE")
      ->check(must_exist(CLI::ExistingFile));
  extract->add_option("--format", eo.format, "Output format")
      ->check(CLI::IsMember({"json", "text", "markdown"}))
      ->capture_default_str();

  ReextractOptions xo;
  auto* reextract =
      app.add_subcommand("reextract", "Run extraction again on stored captures (no refetch)");
  reextract->add_option("--domain", xo.domain, "Only this host and its subdomains")
      ->check(host_name());
  reextract->add_option("--plugin", xo.plugin, "Use the plugin of this name for every capture");

  std::string check_file;
  auto* plugins_cmd =
      app.add_subcommand("plugins", "List the extractor plugins, or check one file");
  plugins_cmd->add_option("--check", check_file, "Check FILE.so: would it load?")
      ->type_name("FILE");

  ExportOptions exo;
  auto* export_cmd =
      app.add_subcommand("export", "Write selected captures to one .warc.gz file or WACZ package");
  export_cmd->add_option("--format", exo.format, "warc.gz or wacz (default: from OUT's extension)")
      ->check(CLI::IsMember({"warc.gz", "wacz"}));
  export_cmd->add_option("-o,--output", exo.output, "The file to write")
      ->type_name("PATH")
      ->required();
  export_cmd->add_option("--domain", exo.domain, "Only this host and its subdomains")
      ->check(host_name());
  export_cmd->add_option("--since", exo.since,
                         "Captured at or after (YYYYMMDD[hhmmss] or ISO 8601)");
  export_cmd->add_option("--until", exo.until, "Captured at or before");
  export_cmd->add_flag("--skip-damaged", exo.skip_damaged,
                       "Check every record first; export what reads, name what is left out, "
                       "exit 1 if anything is");

  auto* status = app.add_subcommand("status", "Ask the running daemon what it is doing");
  auto* sources = app.add_subcommand("sources", "List the running daemon's sources");
  EnqueueOptions qo;
  auto* enqueue = app.add_subcommand("enqueue", "Hand URLs to the running daemon to capture");
  enqueue->add_option("urls", qo.urls, "URLs to capture");
  enqueue->add_option("-i,--input", qo.input, "Read URLs from FILE, one per line ('-': stdin)")
      ->type_name("FILE");
  enqueue->add_option("--plugin", qo.plugin, "Extract these pages with the plugin of this name");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // An unknown option in place of a required value ("search -foo") would be reported as the
    // value missing: name the option instead.
    std::vector<std::string> rest;
    if (dynamic_cast<const CLI::RequiredError*>(&e)) rest = app.remaining(true);
    std::string message = e.what();
    if (!rest.empty() && rest.front().starts_with("-")) {
      message = "found the unknown option " + rest.front() +
                ", expected an option this command knows; a value that starts with '-' goes "
                "after `--`";
      std::cerr << "vellum: " << message << "\nRun with --help for more information.\n";
    } else if (app.exit(e) == 0) {
      return kExitOk;
    }
    // The option may not have been applied when parsing stopped: look for it by hand.
    for (int i = 1; i < argc; ++i) {
      if (std::string_view(argv[i]) != "--json") continue;
      print_json_line({{"error", message}});
      break;
    }
    return kExitUsage;
  }
  if (!docs_dir.empty()) {
    try {
      for (const auto& f : write_vellum_docs(app, docs_dir)) std::cout << f.string() << "\n";
      return kExitOk;
    } catch (const std::exception& e) {
      std::cerr << "vellum: " << e.what() << "\n";
      return kExitFailure;
    }
  }
  if (app.get_subcommands().empty()) {
    report_error(g, "no command given; expected one of the commands `vellum --help` lists");
    return kExitUsage;
  }
  g.verbosity = quiet ? -1 : (verbose ? 1 : 0);
  auto logger = spdlog::stderr_color_mt("vellum");
  logger->set_pattern("vellum: %^%l%$: %v");
  logger->set_level(g.verbosity < 0   ? spdlog::level::err
                    : g.verbosity > 0 ? spdlog::level::debug
                                      : spdlog::level::info);
  spdlog::set_default_logger(logger);

  try {
    if (!g.config.empty()) apply_config(g, archive_opt->count() > 0, timeout_opt->count() > 0);
    if (*status) return run_status(g);
    if (*sources) return run_sources(g);
    if (*enqueue) return run_enqueue(g, qo);
    if (*archive) return run_archive(g, ao);
    if (*restore) return run_restore(g, ro);
    if (*list) return run_list(g, lo);
    if (*search) return run_search(g, so);
    if (*history) return run_history(g, history_ref);
    if (*show) return run_show(g, show_ref);
    if (*verify) return run_verify(g, verify_ref);
    if (*reindex) return run_reindex(g);
    if (*import_cmd) return run_import(g, imo);
    if (*extract) return run_extract(g, eo);
    if (*plugins_cmd) return run_plugins(g, check_file);
    if (*reextract) return run_reextract(g, xo);
    if (*export_cmd) return run_export(g, exo);
  } catch (const vellum::daemon::ControlError& e) {
    report_error(g, e.what());
    return kExitNoDaemon;
  } catch (const UsageError& e) {
    report_error(g, e.what());
    return kExitUsage;
  } catch (const vellum::index::SearchQueryError& e) {
    report_error(g, e.what());
    return kExitUsage;
  } catch (const std::exception& e) {
    report_error(g, e.what());
    return kExitFailure;
  }
  return kExitFailure;
}
