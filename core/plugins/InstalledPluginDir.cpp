#include "plugins/InstalledPluginDir.h"

#include <algorithm>
#include <vector>

namespace fs = std::filesystem;

namespace vellum::plugins {

namespace {

// When `dir` ends with the relative path `tail`, what comes before it.
bool strip_tail(const fs::path& dir, const fs::path& tail, fs::path& prefix) {
  std::vector<fs::path> d(dir.begin(), dir.end()), t(tail.begin(), tail.end());
  if (t.empty() || t.size() >= d.size() || !std::equal(t.rbegin(), t.rend(), d.rbegin()))
    return false;
  prefix.clear();
  for (std::size_t i = 0; i < d.size() - t.size(); ++i) prefix /= d[i];
  return true;
}

}  // namespace

fs::path installed_plugin_dir() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path prefix;
    for (const char* dir : {VELLUM_INSTALL_BINDIR, VELLUM_INSTALL_LIBEXECDIR})
      if (strip_tail(self.parent_path(), dir, prefix)) return prefix / VELLUM_INSTALL_PLUGINDIR;
  }
  return VELLUM_PLUGIN_INSTALL_DIR;
}

}  // namespace vellum::plugins
