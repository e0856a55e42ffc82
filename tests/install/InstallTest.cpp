// `cmake --install` into a scratch root: the layout a Debian system expects with prefix /usr,
// programs that find their helpers and plugins where they were installed, a shipped
// configuration that passes `vellumd --check-config`, and an edited configuration that a
// reinstall leaves alone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "install/InstallSupport.h"
#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum::test;
namespace fs = std::filesystem;

namespace {

bool is_executable(const fs::path& p) {
  return fs::is_regular_file(p) && access(p.c_str(), X_OK) == 0;
}

// Below `dir`, the first file called `name`; empty when there is none.
fs::path find_below(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->path().filename() == name) return it->path();
  return {};
}

}  // namespace

TEST(Install, PrefixUsrGivesTheLayoutOfADebianSystem) {
  TempDir tmp("install");
  const fs::path& root = tmp.path();
  ASSERT_EQ(install_build_tree(root, "/usr"), "");

  EXPECT_TRUE(is_executable(root / "usr/bin/vellum"));
  EXPECT_TRUE(is_executable(root / "usr/bin/vellumd"));
  EXPECT_TRUE(is_executable(root / "usr/libexec/vellum/vellum-capture"));
  EXPECT_TRUE(is_executable(root / "usr/libexec/vellum/vellum-extract-worker"));

  auto plugins = built_site_plugins();
  EXPECT_FALSE(plugins.empty()) << "no site plugins in " << VELLUM_PLUGIN_BUILD_DIR;
  for (const auto& name : plugins)
    EXPECT_TRUE(fs::is_regular_file(root / "usr/lib/vellum/plugins" / (name + ".so"))) << name;

  EXPECT_TRUE(fs::is_regular_file(root / "etc/vellum/vellum.toml"));
  EXPECT_EQ(read_file(root / "etc/vellum/vellum.toml"),
            read_file(fs::path(VELLUM_SOURCE_DIR) / "etc/vellum.toml"));
  ASSERT_TRUE(fs::is_directory(root / "etc/vellum/sources.d"));
  EXPECT_TRUE(fs::is_empty(root / "etc/vellum/sources.d"));
  EXPECT_FALSE(fs::exists(root / "usr/etc")) << "the configuration belongs in /etc";

  EXPECT_EQ(find_units(root).size(), 1u);
  EXPECT_TRUE(fs::is_regular_file(root / "usr/include/vellum/plugin.h"));
  fs::path config = find_below(root / "usr/lib", "VellumConfig.cmake");
  ASSERT_FALSE(config.empty()) << "no VellumConfig.cmake below usr/lib";
  EXPECT_TRUE(fs::is_regular_file(config.parent_path() / "VellumConfigVersion.cmake"));
  EXPECT_TRUE(fs::is_regular_file(config.parent_path() / "VellumTargets.cmake"));
  EXPECT_TRUE(fs::is_regular_file(root / "usr/share/doc/vellum/install.md"));

  // Manual pages for the CLI, each of its commands and the daemon; bash completion.
  EXPECT_TRUE(fs::is_regular_file(root / "usr/share/man/man1/vellum.1"));
  EXPECT_TRUE(fs::is_regular_file(root / "usr/share/man/man1/vellum-restore.1"));
  EXPECT_TRUE(fs::is_regular_file(root / "usr/share/man/man8/vellumd.8"));
  EXPECT_NE(read_file(root / "usr/share/bash-completion/completions/vellum").find("complete -F"),
            std::string::npos);
}

TEST(Install, ShippedConfigurationPassesCheckConfig) {
  TempDir tmp("install-config");
  const fs::path& root = tmp.path();
  ASSERT_EQ(install_build_tree(root, "/usr"), "");
  auto [rc, out] =
      shell(shell_quote((root / "usr/bin/vellumd").string()) + " --check-config --config " +
            shell_quote((root / "etc/vellum/vellum.toml").string()) + " 2>&1");
  EXPECT_EQ(rc, 0) << out;

  std::tie(rc, out) = shell(shell_quote((root / "usr/bin/vellumd").string()) + " --version");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, std::string("vellumd ") + VELLUM_VERSION + "\n");
}

TEST(Install, InstalledVellumRunsTheInstalledCaptureProgram) {
  TempDir tmp("install-capture");
  fs::path root = tmp / "root";
  ASSERT_EQ(install_build_tree(root, "/usr"), "");
  // Port 9 (discard) on loopback: nothing is fetched, but vellum-capture has to run to say so.
  auto [rc, out] =
      shell("cd " + shell_quote(tmp.path().string()) + " && " +
            shell_quote((root / "usr/bin/vellum").string()) + " --archive " +
            shell_quote((tmp / "archive").string()) + " archive http://127.0.0.1:9/ 2>&1");
  EXPECT_NE(rc, 0) << out;
  EXPECT_EQ(out.find("cannot find vellum-capture"), std::string::npos) << out;
  EXPECT_NE(out.find("http://127.0.0.1:9/"), std::string::npos) << out;
}

// The programs look for plugins in the directory the installation put them in, wherever the
// tree was installed (here a scratch root; in the package /usr/lib/vellum/plugins).
TEST(Install, InstalledVellumFindsTheInstalledPlugins) {
  TempDir tmp("install-plugins");
  fs::path root = tmp / "root";
  ASSERT_EQ(install_build_tree(root, "/usr"), "");
  auto [rc, out] =
      shell("cd " + shell_quote(tmp.path().string()) + " && env -u VELLUM_PLUGIN_PATH " +
            shell_quote((root / "usr/bin/vellum").string()) + " plugins 2>&1");
  EXPECT_EQ(rc, 0) << out;
  for (const auto& name : built_site_plugins()) {
    fs::path installed = root / "usr/lib/vellum/plugins" / (name + ".so");
    EXPECT_NE(out.find(installed.string()), std::string::npos)
        << "`vellum plugins` run from the installation did not list " << installed << ":\n"
        << out;
  }
}

TEST(Install, OtherPrefixesKeepTheConfigurationBelowThemAndNeverReplaceIt) {
  TempDir tmp("install-local");
  const fs::path& root = tmp.path();
  ASSERT_EQ(install_build_tree(root, "/usr/local"), "");

  fs::path config = root / "usr/local/etc/vellum/vellum.toml";
  ASSERT_TRUE(fs::is_regular_file(config));
  EXPECT_FALSE(fs::exists(root / "etc")) << "an install under /usr/local wrote to /etc";
  auto units = find_units(root);
  ASSERT_EQ(units.size(), 1u);
  EXPECT_EQ(units.front(), fs::path("usr/local/lib/systemd/system/vellumd.service"));
  UnitSettings s = parse_unit(read_file(root / units.front()));
  EXPECT_EQ(unit_values(s, "ExecStart"),
            std::vector<std::string>{
                "/usr/local/bin/vellumd --config /usr/local/etc/vellum/vellum.toml"});

  // An administrator's edit survives installing again.
  std::string edited = read_file(config) + "\n# edited by the administrator\n";
  write_file(config, edited);
  ASSERT_EQ(install_build_tree(root, "/usr/local"), "");
  EXPECT_EQ(read_file(config), edited);
}
