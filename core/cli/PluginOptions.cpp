// Where plugins come from and how they run, as the command-line options and the environment say;
// shared by both programs (vellum, vellum-capture).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "cli/Cli.h"
#include "plugins/InstalledPluginDir.h"
#include "plugins/PluginHost.h"

namespace vellum::cli {

std::vector<std::filesystem::path> plugin_dirs(const GlobalOptions& g) {
  if (!g.plugin_dirs.empty()) return g.plugin_dirs;
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("VELLUM_PLUGIN_PATH"); env && *env) {
    std::string s = env;
    std::size_t start = 0;
    while (start <= s.size()) {
      auto colon = s.find(':', start);
      std::string part = s.substr(start, colon == std::string::npos ? colon : colon - start);
      if (!part.empty()) dirs.emplace_back(part);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    return dirs;
  }
  dirs.push_back(plugins::installed_plugin_dir());
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto build_plugins = self.parent_path().parent_path() / "plugins";
    if (std::filesystem::is_directory(build_plugins / ".." / "CMakeFiles", ec))
      dirs.push_back(build_plugins);
  }
  return dirs;
}

plugins::HostOptions host_options(const GlobalOptions& g) {
  plugins::HostOptions ho;
  ho.dirs = plugin_dirs(g);
  const char* env = std::getenv("VELLUM_PLUGIN_PATH");
  ho.dirs_named = !g.plugin_dirs.empty() || (env && *env);
  ho.log = plugins::log_to_spdlog;
  ho.config = [tables = g.plugin_config](const std::string& name) {
    auto it = tables.find(name);
    return it == tables.end() ? nlohmann::json::object() : it->second;
  };
  return ho;
}

plugins::HostOptions batch_host_options(const GlobalOptions& g, unsigned workers) {
  plugins::HostOptions ho = host_options(g);
  ho.isolation.enabled = !g.plugins_in_process;
  ho.isolation.page_timeout = std::chrono::milliseconds(static_cast<long>(g.plugin_timeout * 1000));
  ho.isolation.memory_limit = g.plugin_memory;
  ho.isolation.max_workers = std::max(1u, workers);
  return ho;
}

}  // namespace vellum::cli
