// Where the site plugins (<build>/plugins/<name>.so) are: the environment variable
// VELLUM_PLUGIN_BUILD_DIR when set, else the compile definition of the same name, else the
// plugins/ directory of the build tree this test program is in (<build>/tests/test_plugins).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace vellum::test {

inline std::filesystem::path site_plugin_dir() {
  if (const char* env = std::getenv("VELLUM_PLUGIN_BUILD_DIR"); env && *env) return env;
#ifdef VELLUM_PLUGIN_BUILD_DIR
  return VELLUM_PLUGIN_BUILD_DIR;
#else
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "plugins";
  return exe.parent_path().parent_path() / "plugins";
#endif
}

inline std::filesystem::path site_plugin_file(const std::string& name) {
  return site_plugin_dir() / (name + ".so");
}

}  // namespace vellum::test
