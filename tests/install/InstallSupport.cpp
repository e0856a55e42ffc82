#include "InstallSupport.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "support/Tools.h"

namespace fs = std::filesystem;

namespace vellum::test {

std::string build_cache_value(const std::string& name) {
  std::ifstream in(fs::path(VELLUM_BINARY_DIR) / "CMakeCache.txt");
  std::string line;
  while (std::getline(in, line)) {
    // NAME:TYPE=VALUE
    auto colon = line.find(':');
    auto equals = line.find('=');
    if (colon == std::string::npos || equals == std::string::npos || colon > equals) continue;
    if (line.compare(0, colon, name) == 0 && colon == name.size()) return line.substr(equals + 1);
  }
  return {};
}

std::string install_build_tree(const fs::path& root, const std::string& prefix) {
  std::string cmake = build_cache_value("CMAKE_COMMAND");
  if (cmake.empty()) cmake = "cmake";
  auto [rc, out] =
      shell("DESTDIR=" + shell_quote(root.string()) + " " + shell_quote(cmake) + " --install " +
            shell_quote(VELLUM_BINARY_DIR) + " --prefix " + shell_quote(prefix) + " 2>&1");
  if (rc == 0) return {};
  return "cmake --install --prefix " + prefix + " failed (" + std::to_string(rc) + "):\n" + out;
}

std::vector<fs::path> find_units(const fs::path& root) {
  std::vector<fs::path> units;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.filename() == "vellumd.service" && p.parent_path().filename() == "system" &&
        p.parent_path().parent_path().filename() == "systemd")
      units.push_back(p.lexically_relative(root));
  }
  std::sort(units.begin(), units.end());
  return units;
}

UnitSettings parse_unit(const std::string& text) {
  UnitSettings settings;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    settings.emplace_back(line.substr(0, equals), line.substr(equals + 1));
  }
  return settings;
}

std::vector<std::string> unit_values(const UnitSettings& settings, const std::string& key) {
  std::vector<std::string> values;
  for (const auto& [k, v] : settings)
    if (k == key) values.push_back(v);
  return values;
}

std::vector<std::string> built_site_plugins() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(VELLUM_PLUGIN_BUILD_DIR, ec))
    if (entry.path().extension() == ".so") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

}  // namespace vellum::test
