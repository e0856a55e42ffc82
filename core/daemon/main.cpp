// vellumd: the archiving daemon. Runs in the foreground (systemd or a terminal supervises it).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

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
  CLI11_PARSE(app, argc, argv);

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
      auto cfg = vellum::config::load_config(config_file);
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
