// Installing the build tree under test the way users do (`cmake --install`, `cpack`), into
// scratch directories, and reading what came out.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace vellum::test {

// A value from the build tree's CMakeCache.txt, e.g. CMAKE_COMMAND; empty when absent.
std::string build_cache_value(const std::string& name);

// `cmake --install <build tree> --prefix PREFIX` with DESTDIR=root. Returns an empty string on
// success, else what went wrong with cmake's output.
std::string install_build_tree(const std::filesystem::path& root, const std::string& prefix);

// Every vellumd.service below `root` in a systemd/system directory (lib/systemd/system,
// usr/lib/systemd/system, ...), relative to root.
std::vector<std::filesystem::path> find_units(const std::filesystem::path& root);

// The Key=Value lines of a unit file, in order, without comments and section headers.
using UnitSettings = std::vector<std::pair<std::string, std::string>>;
UnitSettings parse_unit(const std::string& text);
// Every value given to `key`, in order.
std::vector<std::string> unit_values(const UnitSettings& settings, const std::string& key);

// Names (without .so) of the site plugins the build tree made.
std::vector<std::string> built_site_plugins();

// Replaces every occurrence of `from` in `text` by `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to);

}  // namespace vellum::test
