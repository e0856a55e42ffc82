// vellumd: the archiving daemon. Runs in the foreground (systemd or a terminal supervises it).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/CliDocs.h"
#include "config/ConfigLoader.h"
#include "config/ConfigSchema.h"
#include "daemon/Daemon.h"

namespace {

// Journald when systemd connected stderr to the journal (or when asked), stderr otherwise.
void setup_logging(const vellum::config::LogConfig& log, int verbosity) {
  bool journal =
      log.target == "journal" || (log.target == "auto" && std::getenv("JOURNAL_STREAM") != nullptr);
  std::shared_ptr<spdlog::logger> logger;
  if (journal) {
    logger = std::make_shared<spdlog::logger>(
        "vellumd", std::make_shared<spdlog::sinks::systemd_sink_mt>("vellumd"));
    logger->set_pattern("%v");
  } else {
    logger = std::make_shared<spdlog::logger>(
        "vellumd", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  }
  auto level = spdlog::level::from_str(log.level);
  if (verbosity > 0) level = spdlog::level::debug;
  if (verbosity < 0) level = spdlog::level::warn;
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// vellumd(8), from the options above and the text here.
int write_man_page(const CLI::App& app, const std::string& file) {
  vellum::cli::ManPage page;
  page.name = "vellumd";
  page.section = 8;
  page.version = VELLUM_VERSION;
  page.summary = "watch sources, capture pages into a WARC archive, extract articles";
  page.synopsis_prefix = "vellumd";
  page.before_options = {
      {"DESCRIPTION",
       "vellumd is Vellum's service. It reads its configuration, watches the sources it names "
       "(feeds, sitemaps, listing pages, single URLs) on their intervals, captures new and "
       "changed pages politely (per-host concurrency and delay, robots.txt, Retry-After and "
       "backoff), stores them as WARC/1.1 records in the archive directory, extracts an "
       "article from each page with a site plugin or the generic extractor, and indexes "
       "everything for vellum(1).\n\nUnder systemd it runs as Type=notify with a watchdog; "
       "the vellumd.service unit is installed with it."}};
  page.after_options = {
      {"SIGNALS",
       "SIGTERM, SIGINT\nStop scheduling, finish the captures in flight, close the WARC files "
       "and exit 0.\n\nSIGHUP\nRead the configuration again and rescan the plugin "
       "directories. When the new configuration is not valid, the old one stays in force and "
       "the reason is logged."},
      {"EXIT STATUS",
       "0 stopped on request, or --check-config found the configuration valid.\n\n1 a "
       "failure at start-up or while running; the reason is logged.\n\n2 the configuration "
       "is not valid (each problem at file:line:column), or the command line was not "
       "understood."},
      {"FILES",
       "/etc/vellum/vellum.toml\nThe configuration; every key is listed there at its "
       "default.\n\n/etc/vellum/sources.d/*.toml\nMore sources, one or more per "
       "file.\n\n/var/lib/vellum\nThe archive directory (archive.dir) and the daemon's state "
       "(state.sqlite3).\n\n/run/vellum/vellumd.sock\nThe control socket for vellum status, "
       "sources and enqueue."},
      {"SEE ALSO", "vellum(1), systemctl(1), systemd.service(5)"}};
  try {
    vellum::cli::write_doc_file(file, vellum::cli::man_page(app, page));
  } catch (const std::exception& e) {
    std::cerr << "vellumd: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vellumd: watches sources, captures pages into a WARC archive, extracts articles"};
  std::string config_file = vellum::config::kDefaultConfigFile;
  bool check = false, print_defaults = false, print_reference = false, version = false;
  int verbose = 0;
  bool quiet = false;
  app.add_option("-c,--config", config_file, "Configuration file")->capture_default_str();
  app.add_flag("--check-config", check, "Check the configuration (and sources.d) and exit");
  app.add_flag("--print-default-config", print_defaults,
               "Print a configuration file with every key at its default and exit");
  app.add_flag("--print-config-reference", print_reference,
               "Print the reference of every configuration key (Markdown) and exit");
  app.add_flag("-v,--verbose", verbose, "Log debug messages");
  app.add_flag("-q,--quiet", quiet, "Log warnings and errors only");
  app.add_flag("--version", version, "Print the version and exit");
  std::string man_file;
  app.add_option("--generate-man", man_file, "Write the manual page to FILE")->group("");
  CLI11_PARSE(app, argc, argv);

  if (!man_file.empty()) return write_man_page(app, man_file);

  if (version) {
    std::cout << "vellumd " << VELLUM_VERSION << "\n";
    return 0;
  }
  if (print_defaults) {
    std::cout << vellum::config::default_config_toml();
    return 0;
  }
  if (print_reference) {
    std::cout << vellum::config::config_reference_markdown();
    return 0;
  }
  try {
    if (check) {
      auto cfg = vellum::config::load_config(config_file, vellum::config::Reader::daemon);
      std::cout << "configuration OK: " << config_file << "\n" << vellum::config::describe(cfg);
      return 0;
    }
    vellum::daemon::Daemon daemon({config_file});
    setup_logging(daemon.config().log, quiet ? -1 : verbose);
    return daemon.run();
  } catch (const vellum::config::ConfigError& e) {
    std::cerr << "vellumd: the configuration is not valid:\n" << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("vellumd: {}", e.what());
    return 1;
  }
}
