// Loading extractor plugins (Boost.DLL) and running them safely.
//
// A file is checked before any of its code runs (ELF, exports vellum_plugin_v1), loaded with
// RTLD_NOW, and its descriptor compared with the host's ABI version, descriptor size and build
// tag; a mismatch is refused with "found X, expected Y". Every call into a plugin is wrapped:
// what it throws becomes a message naming plugin, file and call. Each extractor keeps its
// library loaded for as long as it lives.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vellum/plugin.h"

namespace vellum::plugins {

class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The plugin ran out of memory (std::bad_alloc) in the call named in the message.
class PluginMemoryError : public PluginError {
 public:
  using PluginError::PluginError;
};

struct PluginInfo {
  std::string name;
  std::string version;
  std::filesystem::path file;
  std::vector<std::string> hosts;
  std::vector<std::string> url_patterns;
};

// One loaded plugin library with its extractor.
class LoadedPlugin {
 public:
  virtual ~LoadedPlugin() = default;
  virtual const PluginInfo& info() const = 0;
  // Runs the plugin's extract(); throws PluginError (with plugin, file and call named) when it
  // throws. nullopt: the plugin declined the page.
  virtual std::optional<Article> extract(const Page& page) = 0;
  virtual std::vector<std::string> find_links(const Page& page) = 0;
  // How specifically this plugin claims `url`: 0 no claim; higher wins (URL pattern > exact
  // host > parent domain, longer host names beating shorter ones).
  virtual int match(const std::string& url) const = 0;
  // True when the plugin runs in a worker process, which parses the page itself: extract()
  // then needs only the page's capture fields and decoded HTML, not its document.
  virtual bool isolated() const { return false; }
};

// Running the plugins in supervised worker processes (vellum-extract-worker) instead of this
// one, so that a plugin that crashes, hangs or exhausts memory costs one page its plugin
// article, not the process. See docs/plugins.md, "Isolation".
struct IsolationOptions {
  bool enabled = false;
  std::filesystem::path worker_program;            // empty: find_extract_worker()
  std::uint64_t memory_limit = 1ull << 30;         // RLIMIT_AS of each worker, bytes; 0: none
  std::chrono::milliseconds page_timeout{10'000};  // one page's budget in a plugin
  unsigned max_workers = 2;  // pages extracted at once (workers are started when needed)
};

struct HostOptions {
  std::vector<std::filesystem::path> dirs;  // plugin directories, searched in order
  std::function<void(LogLevel, const std::string& logger, const std::string& message)> log;
  // Per-plugin configuration tables by plugin name.
  std::function<nlohmann::json(const std::string& name)> config;
  IsolationOptions isolation = {};  // off: plugins load into this process
  // The directories were named by the user (--plugin-dir, plugins.dirs, VELLUM_PLUGIN_PATH)
  // rather than defaults that may not exist: load_all() reports each that is not a directory.
  bool dirs_named = false;
};

// HostOptions::log that writes to spdlog's default logger as "<logger>: <message>".
void log_to_spdlog(LogLevel level, const std::string& logger, const std::string& message);

class PluginHost {
 public:
  explicit PluginHost(HostOptions options);
  ~PluginHost();

  // Loads every *.so in the plugin directories; returns one line per file refused (the others
  // load). A later plugin with the same name as an earlier one is refused. With isolation on,
  // a worker process loads them and plugins() are proxies that run each call in a worker; a
  // worker that cannot be started is reported as one line and leaves no plugins.
  std::vector<std::string> load_all();

  // Loads one file; throws PluginError saying what was found and what was expected.
  // `from_anywhere` lifts the plugin-directory restriction (vellum extract --plugin,
  // vellum plugins --check). Always loads into this process, whatever the isolation option.
  std::shared_ptr<LoadedPlugin> load_file(const std::filesystem::path& file,
                                          bool from_anywhere = false);

  std::vector<std::shared_ptr<LoadedPlugin>> plugins() const;
  std::shared_ptr<LoadedPlugin> by_name(const std::string& name) const;
  // The plugin that claims `url` most specifically; null when none does.
  std::shared_ptr<LoadedPlugin> route(const std::string& url) const;

  // Isolated: stops the worker processes that are idle now (the next page starts one again),
  // so that a daemon with nothing to do keeps none. Returns how many were stopped.
  std::size_t stop_idle_workers();

 private:
  std::vector<std::string> load_found();  // load_all() without the directory check

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vellum::plugins
