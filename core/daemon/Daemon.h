// vellumd's root object: one io_context owns the signal set, the source timers, the frontier,
// the fetcher, the control socket, the metrics endpoint and the systemd notifier. Captures are
// stored (compressed, extracted, made durable) on a thread pool and reported back to the loop.
#pragma once

#include <filesystem>
#include <memory>

#include "config/Config.h"

namespace vellum::daemon {

struct DaemonOptions {
  std::filesystem::path config_file = "/etc/vellum/vellum.toml";
};

class Daemon {
 public:
  // Loads and checks the configuration; throws config::ConfigError when it is unusable.
  explicit Daemon(DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the archive, state and plugins, serves until SIGTERM/SIGINT has drained the work in
  // flight, closes everything and returns the exit status (0 after a clean drain). Throws when
  // start-up fails.
  int run();

  const config::Config& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vellum::daemon
