// The systemd unit as installed with `cmake --install --prefix /usr`: its settings, and
// `systemd-analyze verify`, which needs no running systemd.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "install/InstallSupport.h"
#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kDaemon = "/usr/bin/vellumd";
constexpr const char* kConfig = "/etc/vellum/vellum.toml";

// Installs the tree with prefix /usr under `root`; returns the unit's path, or fails the test.
fs::path install_unit(const fs::path& root) {
  std::string error = install_build_tree(root, "/usr");
  EXPECT_EQ(error, "");
  auto units = find_units(root);
  EXPECT_EQ(units.size(), 1u) << "expected one vellumd.service under " << root;
  return units.empty() ? fs::path() : root / units.front();
}

// `systemd-analyze verify FILE`: exit status and everything it printed.
std::pair<int, std::string> verify(const fs::path& unit) {
  return shell("systemd-analyze verify " + shell_quote(unit.string()) + " 2>&1");
}

// Lines of systemd-analyze's output about `unit_name` (warnings do not change its exit status).
std::string complaints_about(const std::string& output, const std::string& unit_name) {
  std::string found;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line))
    if (line.find(unit_name) != std::string::npos) found += line + "\n";
  return found;
}

}  // namespace

TEST(SystemdUnit, RunsVellumdAsANotifyServiceInASandbox) {
  TempDir tmp("unit");
  fs::path unit = install_unit(tmp.path());
  ASSERT_FALSE(unit.empty());
  // Debian's units live in /lib/systemd/system (or /usr/lib/...), never under /etc.
  EXPECT_TRUE(unit.parent_path().string().ends_with("lib/systemd/system")) << unit;
  std::string text = read_file(unit);
  EXPECT_FALSE(std::regex_search(text, std::regex("@[A-Za-z_]+@")))
      << "a placeholder was left unsubstituted:\n"
      << text;

  UnitSettings s = parse_unit(text);
  const std::map<std::string, std::string> expected = {
      {"Type", "notify"},
      {"NotifyAccess", "main"},
      {"WatchdogSec", "60s"},
      {"ExecStartPre", std::string(kDaemon) + " --check-config --config " + kConfig},
      {"ExecStart", std::string(kDaemon) + " --config " + kConfig},
      {"ExecReload", "/bin/kill -HUP $MAINPID"},
      {"Restart", "on-failure"},
      {"KillMode", "mixed"},
      {"TimeoutStopSec", "60s"},
      {"User", "vellum"},
      {"Group", "vellum"},
      {"StateDirectory", "vellum"},
      {"RuntimeDirectory", "vellum"},
      {"RuntimeDirectoryMode", "0750"},
      {"ConfigurationDirectory", "vellum"},
      {"UMask", "0027"},
      {"ProtectSystem", "strict"},
      {"ProtectHome", "yes"},
      {"PrivateTmp", "yes"},
      {"PrivateDevices", "yes"},
      {"NoNewPrivileges", "yes"},
      {"RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
      {"SystemCallFilter", "@system-service"},
      {"CapabilityBoundingSet", ""},
      {"MemoryDenyWriteExecute", "yes"},
      {"WantedBy", "multi-user.target"},
  };
  for (const auto& [key, value] : expected) {
    auto values = unit_values(s, key);
    EXPECT_EQ(values, std::vector<std::string>{value}) << key << "= in " << unit;
  }

  // What ExecStart= names is what the installation put there.
  EXPECT_EQ(access((tmp.path() / "usr/bin/vellumd").c_str(), X_OK), 0);
  EXPECT_TRUE(fs::is_regular_file(tmp.path() / "etc/vellum/vellum.toml"));
}

TEST(SystemdUnit, SystemdAnalyzeVerifyAcceptsIt) {
  if (!on_path("systemd-analyze"))
    GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd); the unit was "
                    "not verified";
  TempDir tmp("unit-verify");

  // First a unit that is certainly valid: if systemd-analyze cannot verify that here, say so.
  fs::path probe = tmp / "vellum-probe.service";
  write_file(probe, "[Service]\nExecStart=/bin/sh -c true\n");
  auto [probe_rc, probe_out] = verify(probe);
  if (probe_rc != 0)
    GTEST_SKIP() << "systemd-analyze verify does not work on this machine (exit " << probe_rc
                 << " for a minimal unit):\n"
                 << probe_out;
  // verify also checks that ExecReload='s program exists.
  if (access("/bin/kill", X_OK) != 0)
    GTEST_SKIP() << "/bin/kill is missing here (Debian package procps, which the vellum package "
                    "depends on); the unit cannot be verified without it";

  fs::path root = tmp / "root";
  fs::path unit = install_unit(root);
  ASSERT_FALSE(unit.empty());
  // verify insists that the programs named exist: point the unit at the installed copies.
  std::string text = read_file(unit);
  text = replace_all(text, kDaemon, (root / "usr/bin/vellumd").string());
  text = replace_all(text, kConfig, (root / "etc/vellum/vellum.toml").string());
  fs::path copy = tmp / "vellumd.service";
  write_file(copy, text);

  auto [rc, out] = verify(copy);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(complaints_about(out, "vellumd.service"), "") << out;

  // The check above can fail: a misspelt value is reported on this systemd.
  fs::path broken_dir = tmp / "broken";
  fs::create_directories(broken_dir);
  write_file(broken_dir / "vellumd.service",
             replace_all(text, "ProtectSystem=strict", "ProtectSystem=strikt"));
  auto [broken_rc, broken_out] = verify(broken_dir / "vellumd.service");
  EXPECT_NE(complaints_about(broken_out, "vellumd.service"), "")
      << "systemd-analyze did not report ProtectSystem=strikt (exit " << broken_rc << "):\n"
      << broken_out;
}
