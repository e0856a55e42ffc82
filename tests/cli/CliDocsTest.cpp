// What users get beyond --help: a manual page for every command that documents every option,
// pages that groff renders without complaint, bash completion that completes commands, options
// and their values, and the documented exit statuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum::test;
namespace fs = std::filesystem;

namespace {

std::string vellum_cmd() {
  return shell_quote(VELLUM_CLI_PATH);
}

// The commands `vellum --help` lists under "Subcommands:".
std::vector<std::string> listed_commands() {
  auto [rc, out] = shell(vellum_cmd() + " --help");
  EXPECT_EQ(rc, 0);
  std::vector<std::string> cmds;
  std::istringstream in(out);
  bool in_list = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Subcommands:")) {
      in_list = true;
      continue;
    }
    if (!in_list || line.size() < 3 || line[0] != ' ') continue;
    std::istringstream words(line);
    std::string first;
    words >> first;
    cmds.push_back(first);
  }
  return cmds;
}

// The long options `vellum COMMAND --help` shows.
std::set<std::string> long_options(const std::string& command) {
  auto [rc, out] = shell(vellum_cmd() + " " + command + " --help");
  EXPECT_EQ(rc, 0) << command;
  std::set<std::string> opts;
  std::istringstream in(out);
  for (std::string word; in >> word;) {
    if (!word.starts_with("--") || word.size() < 3) continue;
    std::string name = word.substr(2);
    while (!name.empty() && !std::isalnum(static_cast<unsigned char>(name.back()))) name.pop_back();
    if (name.find_first_of(",=[{") == std::string::npos) opts.insert(name);
  }
  return opts;
}

std::string roff_option(const std::string& name) {
  std::string s = "\\-\\-";
  for (char c : name) s += c == '-' ? std::string("\\-") : std::string(1, c);
  return s;
}

// What the completion function offers for a command line ending in `words` (the last one being
// the word under the cursor).
std::string complete(const fs::path& script, const std::string& words) {
  std::string cmd = "bash -c " + shell_quote("source " + shell_quote(script.string()) +
                                             "; COMP_WORDS=(vellum " + words +
                                             "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
                                             "_vellum; printf '%s\\n' \"${COMPREPLY[@]}\"");
  return shell(cmd).second;
}

class CliDocs : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [rc, out] =
        shell(vellum_cmd() + " --generate-docs " + shell_quote(tmp_.path().string()) + " 2>&1");
    ASSERT_EQ(rc, 0) << out;
  }
  TempDir tmp_{"clidocs"};
};

}  // namespace

TEST_F(CliDocs, EveryCommandHasAManualPageDocumentingEachOfItsOptions) {
  auto commands = listed_commands();
  ASSERT_GE(commands.size(), 10u);
  std::string top = read_file(tmp_ / "man1/vellum.1");
  for (const auto& c : commands) {
    SCOPED_TRACE(c);
    fs::path page = tmp_ / "man1" / ("vellum-" + c + ".1");
    ASSERT_TRUE(fs::is_regular_file(page));
    std::string text = read_file(page);
    EXPECT_NE(top.find("\\fB" + c + "\\fR"), std::string::npos) << "vellum(1) does not list it";
    EXPECT_NE(text.find(".SH DESCRIPTION"), std::string::npos);
    for (const auto& opt : long_options(c)) {
      std::string r = roff_option(opt);
      EXPECT_TRUE(text.find(r) != std::string::npos || top.find(r) != std::string::npos)
          << "--" << opt << " is in `vellum " << c << " --help` but in neither manual page";
    }
  }
  EXPECT_NE(top.find(".SH EXIT STATUS"), std::string::npos);
  // The hidden option that writes these pages is not itself documented.
  EXPECT_EQ(top.find("generate"), std::string::npos);
}

TEST_F(CliDocs, GroffRendersEveryPageWithoutWarnings) {
  if (!on_path("groff")) GTEST_SKIP() << "groff is not installed";
  fs::path vellumd_page = tmp_ / "vellumd.8";
  auto [rc, out] = shell(shell_quote(VELLUMD_PATH) + " --generate-man " +
                         shell_quote(vellumd_page.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  std::vector<fs::path> pages{vellumd_page};
  for (const auto& e : fs::directory_iterator(tmp_ / "man1")) pages.push_back(e.path());
  for (const auto& p : pages) {
    auto [grc, warnings] = shell("groff -man -ww -z -Tutf8 " + shell_quote(p.string()) + " 2>&1");
    EXPECT_EQ(grc, 0) << p.filename();
    EXPECT_EQ(warnings, "") << p.filename();
  }
  std::string daemon = read_file(vellumd_page);
  for (const char* opt : {"check\\-config", "print\\-default\\-config", "config"})
    EXPECT_NE(daemon.find(std::string("\\-\\-") + opt), std::string::npos) << opt;
  EXPECT_NE(daemon.find(".SH SIGNALS"), std::string::npos);
}

TEST_F(CliDocs, BashCompletionCompletesCommandsOptionsAndValues) {
  ASSERT_TRUE(on_path("bash"));
  fs::path script = tmp_ / "bash-completion/vellum";
  ASSERT_TRUE(fs::is_regular_file(script));
  EXPECT_EQ(complete(script, "rest"), "restore\n");
  EXPECT_EQ(complete(script, "restore --fo"), "--format\n");
  EXPECT_EQ(complete(script, "restore --format m"), "markdown\n");
  EXPECT_EQ(complete(script, "archive --compression g"), "gzip\n");
  // Global options are offered after a command too.
  EXPECT_EQ(complete(script, "list --arch"), "--archive\n");
  // A file-taking option completes file names.
  fs::create_directories(tmp_ / "files");
  write_file(tmp_ / "files/urls-today.txt", "");
  std::string got = complete(script, "archive -i " + (tmp_ / "files/urls-").string());
  EXPECT_EQ(got, (tmp_ / "files/urls-today.txt").string() + "\n");
}

TEST(CliExitStatus, UsageErrorsAreTwoFailuresOneNoDaemonThree) {
  TempDir tmp("exit");
  std::string archive = " --archive " + shell_quote((tmp / "archive").string());
  EXPECT_EQ(shell(vellum_cmd() + " --no-such-option list 2>/dev/null").first, 2);
  EXPECT_EQ(shell(vellum_cmd() + " no-such-command 2>/dev/null").first, 2);
  EXPECT_EQ(shell(vellum_cmd() + " 2>/dev/null").first, 2);
  EXPECT_EQ(shell(vellum_cmd() + " restore --format pdf x 2>/dev/null").first, 2);
  // With --json a usage error is also an object on stdout.
  auto [urc, uout] = shell(vellum_cmd() + " --json restore --format pdf x 2>/dev/null");
  EXPECT_EQ(urc, 2);
  EXPECT_NE(nlohmann::json::parse(uout)["error"].get<std::string>().find("pdf"), std::string::npos)
      << uout;

  // A failure: one line on stderr; with --json also an object on stdout.
  auto [rc, out] = shell(vellum_cmd() + archive + " --json restore https://example.com/ 2>&1 1>" +
                         shell_quote((tmp / "stdout").string()));
  EXPECT_EQ(rc, 1);
  EXPECT_TRUE(out.starts_with("vellum: ")) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  auto j = nlohmann::json::parse(read_file(tmp / "stdout"));
  EXPECT_EQ(j["error"], out.substr(8, out.size() - 9));

  // No daemon at the socket.
  std::tie(rc, out) = shell(vellum_cmd() + " --socket " +
                            shell_quote((tmp / "nobody.sock").string()) + " status 2>&1");
  EXPECT_EQ(rc, 3) << out;
}
