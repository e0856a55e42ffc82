// The Debian package, built with cpack from the tree under test: its control fields and
// maintainer scripts, its dependencies measured against the binaries it ships, and its contents
// unpacked into a scratch root, where the shipped configuration must pass
// `vellumd --check-config`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "install/InstallSupport.h"
#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum::test;
namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\n");
  auto e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!trim(line).empty()) lines.push_back(trim(line));
  return lines;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(trim(part));
  return parts;
}

// "Key: value" control fields; continuation lines are appended to the value.
std::map<std::string, std::string> control_fields(const std::string& text) {
  std::map<std::string, std::string> fields;
  std::string last;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !last.empty()) {
      fields[last] += "\n" + line;
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    last = line.substr(0, colon);
    fields[last] = trim(line.substr(colon + 1));
  }
  return fields;
}

// Package names in a Depends field, without version constraints.
std::set<std::string> depends_names(const std::string& depends) {
  std::set<std::string> names;
  for (const auto& item : split(depends, ','))
    names.insert(trim(item.substr(0, item.find_first_of(" (|"))));
  return names;
}

// The Debian package that owns `path`, asking under its /usr and its / name (merged /usr).
std::string owning_package(const fs::path& path) {
  std::vector<std::string> candidates = {path.string()};
  std::string s = path.string();
  candidates.push_back(s.starts_with("/usr/") ? s.substr(4) : "/usr" + s);
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  if (!ec) candidates.push_back(real.string());
  for (const auto& c : candidates) {
    auto [rc, out] = shell("dpkg -S " + shell_quote(c) + " 2>/dev/null");
    if (rc != 0) continue;
    // "zlib1g:amd64: /lib/x86_64-linux-gnu/libz.so.1"
    std::string first = out.substr(0, out.find('\n'));
    std::string pkgs = first.substr(0, first.rfind(": "));
    std::string pkg = split(pkgs, ',').front();
    return pkg.substr(0, pkg.find(':'));
  }
  return {};
}

// Shared libraries `elf` names directly (DT_NEEDED), each with the file the loader picks.
std::map<std::string, fs::path> needed_libraries(const fs::path& elf, std::string* error) {
  std::map<std::string, fs::path> libs;
  auto [rc, out] = shell("readelf -d " + shell_quote(elf.string()) + " 2>&1");
  if (rc != 0) {
    *error = "readelf -d " + elf.string() + " failed: " + out;
    return libs;
  }
  for (const auto& line : lines_of(out)) {
    if (line.find("(NEEDED)") == std::string::npos) continue;
    auto open = line.find('[');
    auto close = line.find(']', open);
    if (open != std::string::npos && close != std::string::npos)
      libs[line.substr(open + 1, close - open - 1)] = fs::path();
  }
  auto [ldd_rc, ldd] = shell("ldd " + shell_quote(elf.string()) + " 2>&1");
  for (const auto& line : lines_of(ldd)) {
    // "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)"
    auto arrow = line.find(" => ");
    if (arrow == std::string::npos) continue;
    std::string soname = line.substr(0, arrow);
    std::string rest = line.substr(arrow + 4);
    auto it = libs.find(soname);
    if (it != libs.end() && !rest.empty() && rest[0] == '/')
      it->second = rest.substr(0, rest.find(' '));
  }
  return libs;
}

bool is_elf(const fs::path& p) {
  std::string head;
  try {
    head = read_file(p).substr(0, 4);
  } catch (const std::exception&) {
    return false;
  }
  return head ==
         "\x7f"
         "ELF";
}

}  // namespace

TEST(DebianPackage, CpackBuildsACompleteInstallablePackage) {
  std::string cpack = build_cache_value("CMAKE_CPACK_COMMAND");
  if (cpack.empty() || access(cpack.c_str(), X_OK) != 0)
    GTEST_SKIP() << "cpack is not available (CMAKE_CPACK_COMMAND in the build tree: '" << cpack
                 << "'); the package was not built";
  if (!on_path("dpkg-deb") || !on_path("dpkg"))
    GTEST_SKIP() << "dpkg-deb is not installed; the Debian package cannot be built or read here";

  TempDir tmp("deb");
  // cpack normally runs `make preinstall` first, which would build the whole tree while other
  // tests run. The tree is built already (test_install depends on everything installed), so
  // name a generator without a preinstall step: cpack then just installs and packages.
  auto [rc, out] = shell("cd " + shell_quote(tmp.path().string()) + " && " + shell_quote(cpack) +
                         " -G DEB -B " + shell_quote((tmp / "out").string()) + " --config " +
                         shell_quote((fs::path(VELLUM_BINARY_DIR) / "CPackConfig.cmake").string()) +
                         " -D CPACK_CMAKE_GENERATOR=Ninja 2>&1");
  ASSERT_EQ(rc, 0) << out;

  std::string arch = trim(shell("dpkg --print-architecture").second);
  fs::path deb = tmp / "out" / ("vellum_" + std::string(VELLUM_VERSION) + "_" + arch + ".deb");
  ASSERT_TRUE(fs::is_regular_file(deb)) << "cpack did not write " << deb << ":\n" << out;

  // ---- Control fields ----
  std::tie(rc, out) = shell("dpkg-deb -f " + shell_quote(deb.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  auto fields = control_fields(out);
  EXPECT_EQ(fields["Package"], "vellum");
  EXPECT_EQ(fields["Version"], VELLUM_VERSION);
  EXPECT_EQ(fields["Architecture"], arch);
  EXPECT_EQ(fields["Section"], "web");
  EXPECT_NE(fields["Maintainer"].find('<'), std::string::npos) << fields["Maintainer"];
  EXPECT_TRUE(fields["Homepage"].starts_with("https://")) << fields["Homepage"];
  EXPECT_FALSE(fields["Description"].empty());
  for (const auto& line : lines_of(fields["Description"]))
    EXPECT_LE(line.size(), 80u) << "description line too long: " << line;
  std::set<std::string> depends = depends_names(fields["Depends"]);
  EXPECT_TRUE(depends.count("adduser")) << "postinst runs adduser: " << fields["Depends"];
  EXPECT_TRUE(depends.count("procps")) << "ExecReload= runs /bin/kill: " << fields["Depends"];

  // ---- Maintainer scripts and conffiles ----
  fs::path control = tmp / "control";
  std::tie(rc, out) = shell("dpkg-deb -e " + shell_quote(deb.string()) + " " +
                            shell_quote(control.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(lines_of(read_file(control / "conffiles")),
            std::vector<std::string>{"/etc/vellum/vellum.toml"});
  for (const char* script : {"postinst", "prerm", "postrm"}) {
    fs::path p = control / script;
    ASSERT_TRUE(fs::is_regular_file(p)) << script;
    EXPECT_EQ(access(p.c_str(), X_OK), 0) << script << " is not executable";
    auto [sh_rc, sh_out] = shell("sh -n " + shell_quote(p.string()) + " 2>&1");
    EXPECT_EQ(sh_rc, 0) << script << ": " << sh_out;
  }

  // postinst creates the vellum user and group only when missing. It runs here with stand-ins
  // for getent, adduser, addgroup and systemctl that record how they were called.
  fs::path bin = tmp / "fake-bin";
  fs::create_directories(bin);
  fs::path log = tmp / "calls.log";
  for (const char* tool : {"adduser", "addgroup", "systemctl"}) {
    write_file(bin / tool, "#!/bin/sh\necho \"" + std::string(tool) + " $*\" >> " +
                               shell_quote(log.string()) + "\n");
    fs::permissions(bin / tool, fs::perms::owner_all);
  }
  auto run_postinst = [&](bool user_exists) {
    write_file(bin / "getent", std::string("#!/bin/sh\nexit ") + (user_exists ? "0" : "2") + "\n");
    fs::permissions(bin / "getent", fs::perms::owner_all);
    fs::remove(log);
    auto [p_rc, p_out] = shell("PATH=" + shell_quote(bin.string()) + ":$PATH " +
                               shell_quote((control / "postinst").string()) + " configure 2>&1");
    EXPECT_EQ(p_rc, 0) << p_out;
    return fs::exists(log) ? read_file(log) : std::string();
  };
  std::string calls = run_postinst(false);
  EXPECT_NE(calls.find("addgroup --system --quiet vellum\n"), std::string::npos) << calls;
  EXPECT_NE(calls.find("adduser --system --quiet --ingroup vellum --home /var/lib/vellum "
                       "--no-create-home --shell /usr/sbin/nologin vellum\n"),
            std::string::npos)
      << calls;
  bool systemd_running = fs::is_directory("/run/systemd/system");
  EXPECT_EQ(calls.find("systemctl daemon-reload") != std::string::npos, systemd_running) << calls;
  EXPECT_EQ(calls.find("systemctl start"), std::string::npos) << "postinst must not start vellumd";
  EXPECT_EQ(calls.find("systemctl enable"), std::string::npos) << "postinst must not enable it";
  calls = run_postinst(true);
  EXPECT_EQ(calls.find("adduser"), std::string::npos) << calls;
  EXPECT_EQ(calls.find("addgroup"), std::string::npos) << calls;

  // ---- Contents ----
  std::tie(rc, out) = shell("dpkg-deb -c " + shell_quote(deb.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  for (const auto& line : lines_of(out)) {
    EXPECT_NE(line.find(" root/root "), std::string::npos) << "not owned by root: " << line;
    EXPECT_EQ(line.find(" ./usr/local"), std::string::npos) << "a package never uses /usr/local";
  }

  fs::path root = tmp / "root";
  std::tie(rc, out) = shell("dpkg-deb -x " + shell_quote(deb.string()) + " " +
                            shell_quote(root.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  for (const char* program :
       {"usr/bin/vellum", "usr/bin/vellumd", "usr/libexec/vellum/vellum-capture",
        "usr/libexec/vellum/vellum-extract-worker"})
    EXPECT_EQ(access((root / program).c_str(), X_OK), 0) << program;
  for (const auto& name : built_site_plugins())
    EXPECT_TRUE(fs::is_regular_file(root / "usr/lib/vellum/plugins" / (name + ".so"))) << name;
  EXPECT_TRUE(fs::is_regular_file(root / "etc/vellum/vellum.toml"));
  EXPECT_TRUE(fs::is_directory(root / "etc/vellum/sources.d"));
  EXPECT_TRUE(fs::is_regular_file(root / "usr/include/vellum/plugin.h"));
  bool cmake_package = false;
  for (const char* dir : {"usr/lib/cmake/Vellum", "usr/lib64/cmake/Vellum"})
    cmake_package |= fs::is_regular_file(root / dir / "VellumConfig.cmake");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "usr/lib", ec))
    cmake_package |= fs::is_regular_file(entry.path() / "cmake/Vellum/VellumConfig.cmake");
  EXPECT_TRUE(cmake_package) << "no cmake/Vellum/VellumConfig.cmake in usr/lib";
  EXPECT_TRUE(fs::is_regular_file(root / "usr/share/man/man1/vellum.1"));
  EXPECT_TRUE(fs::is_regular_file(root / "usr/share/man/man8/vellumd.8"));
  EXPECT_TRUE(fs::is_regular_file(root / "usr/share/bash-completion/completions/vellum"));

  auto units = find_units(root);
  ASSERT_EQ(units.size(), 1u);
  UnitSettings unit = parse_unit(read_file(root / units.front()));
  EXPECT_EQ(unit_values(unit, "ExecStart"),
            std::vector<std::string>{"/usr/bin/vellumd --config /etc/vellum/vellum.toml"});

  // The configuration as shipped is valid.
  std::tie(rc, out) =
      shell(shell_quote((root / "usr/bin/vellumd").string()) + " --check-config --config " +
            shell_quote((root / "etc/vellum/vellum.toml").string()) + " 2>&1");
  EXPECT_EQ(rc, 0) << out;

  // dpkg itself unpacks it into an empty system (its own database under a scratch root; no
  // maintainer script runs at this stage) and registers the configuration as a conffile.
  fs::path system = tmp / "system";
  fs::create_directories(system / "var/lib/dpkg/info");
  fs::create_directories(system / "var/lib/dpkg/updates");
  write_file(system / "var/lib/dpkg/status", "");
  std::tie(rc, out) = shell("dpkg --root=" + shell_quote(system.string()) +
                            " --force-depends --force-not-root --log=/dev/null --unpack " +
                            shell_quote(deb.string()) + " 2>&1");
  EXPECT_EQ(rc, 0) << out;
  std::string status = read_file(system / "var/lib/dpkg/status");
  EXPECT_NE(status.find("Status: install ok unpacked"), std::string::npos) << status;
  EXPECT_NE(status.find("Conffiles:\n /etc/vellum/vellum.toml "), std::string::npos) << status;
  EXPECT_TRUE(fs::is_regular_file(system / "usr/bin/vellumd"));

  // ---- Depends covers every library the shipped binaries link ----
  std::vector<fs::path> elves;
  for (const char* dir : {"usr/bin", "usr/libexec/vellum", "usr/lib/vellum/plugins"})
    for (const auto& entry : fs::directory_iterator(root / dir, ec))
      if (is_elf(entry.path())) elves.push_back(entry.path());
  EXPECT_GE(elves.size(), 3u);
  for (const auto& elf : elves) {
    std::string error;
    auto libs = needed_libraries(elf, &error);
    ASSERT_EQ(error, "");
    for (const auto& [soname, path] : libs) {
      ASSERT_FALSE(path.empty()) << elf << " needs " << soname << ", which is not installed here";
      std::string pkg = owning_package(path);
      ASSERT_FALSE(pkg.empty()) << "no Debian package owns " << path << " (" << soname << ")";
      EXPECT_TRUE(depends.count(pkg))
          << elf.lexically_relative(root) << " needs " << soname << " from " << pkg
          << ", which Depends does not name: " << fields["Depends"];
    }
    // Shipped stripped: debugging information stays in the build tree.
    auto [s_rc, sections] = shell("readelf -S " + shell_quote(elf.string()) + " 2>&1");
    EXPECT_EQ(sections.find(".debug_info"), std::string::npos) << elf << " is not stripped";
  }
}
