// The plugin host with real .so files: the template plugin loads and runs; deliberately broken
// plugins are each refused or contained with their own message.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "plugins/PluginHost.h"
#include "support/TempDir.h"

using namespace vellum;
using namespace vellum::plugins;
namespace fs = std::filesystem;

namespace {

fs::path fixture(const std::string& name) {
  return fs::path(VELLUM_TEST_PLUGIN_DIR) / (name + ".so");
}

Page page_for(const std::string& url, const std::string& html) {
  Page p;
  p.url = p.final_url = url;
  p.status = 200;
  p.html = html;
  p.document = Document::parse(html, url);
  for (const auto& m : p.document->select("meta[content]")) {
    std::string key = m.has_attr("name") ? m.attr("name") : m.attr("property");
    if (!key.empty()) p.meta.emplace(key, m.attr("content"));
  }
  return p;
}

std::string refusal(PluginHost& host, const fs::path& file) {
  try {
    host.load_file(file, true);
  } catch (const PluginError& e) {
    return e.what();
  }
  return "(loaded)";
}

}  // namespace

TEST(PluginHost, LoadsAndRunsTheTemplatePlugin) {
  PluginHost host({});
  auto p = host.load_file(fixture("hello"), true);
  EXPECT_EQ(p->info().name, "hello");
  EXPECT_EQ(p->info().version, "1.0.0");
  ASSERT_EQ(p->info().hosts, std::vector<std::string>{"hello.example"});
  auto article = p->extract(page_for(
      "http://hello.example/a",
      "<html><head><meta name=author content='Ada Lovelace'>"
      "<meta property='article:published_time' content='2026-04-08T16:09:31Z'></head>"
      "<body><h1>Hello  world</h1><article><p>First.</p><p>Second <b>part</b>.</p></article>"
      "</body></html>"));
  ASSERT_TRUE(article);
  EXPECT_EQ(article->title, "Hello world");
  EXPECT_EQ(article->authors, std::vector<std::string>{"Ada Lovelace"});
  EXPECT_EQ(article->body_text(), "First.\n\nSecond part.");
}

TEST(PluginHost, ExtractorKeepsItsLibraryAlive) {
  std::shared_ptr<LoadedPlugin> p;
  {
    PluginHost host({});
    p = host.load_file(fixture("hello"), true);
  }  // the host is gone; the plugin's code must still be mapped
  auto article = p->extract(page_for("http://hello.example/", "<h1>Still here</h1>"));
  ASSERT_TRUE(article);
  EXPECT_EQ(article->title, "Still here");
}

TEST(PluginHost, RefusesAFileWithoutEntryPoint) {
  PluginHost host({});
  std::string msg = refusal(host, fixture("no_entry"));
  EXPECT_NE(msg.find("found no exported symbol 'vellum_plugin_v1'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
}

TEST(PluginHost, RefusesAWrongAbiVersion) {
  PluginHost host({});
  std::string msg = refusal(host, fixture("wrong_abi"));
  EXPECT_NE(msg.find("found plugin ABI version 99, expected 1"), std::string::npos) << msg;
}

TEST(PluginHost, RefusesAWrongBuildTag) {
  PluginHost host({});
  std::string msg = refusal(host, fixture("wrong_tag"));
  EXPECT_NE(
      msg.find("found build tag 'gcc-4/libstdc++-old/sdk-0.1', expected '" VELLUM_BUILD_TAG "'"),
      std::string::npos)
      << msg;
}

TEST(PluginHost, ContainsAThrowingFactory) {
  PluginHost host({});
  std::string msg = refusal(host, fixture("create_throws"));
  EXPECT_NE(msg.find("plugin 'create_throws'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("threw from create: cannot start: missing resource"), std::string::npos)
      << msg;
}

// A host claim that is no host name (a wildcard, here) could never match: the plugin is refused
// with what was found, before it is created.
TEST(PluginHost, RefusesAHostClaimThatIsNoHostName) {
  PluginHost host({});
  try {
    host.load_file(fixture("bad_host"), true);
    FAIL() << "a wildcard host claim was accepted";
  } catch (const PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("found the host '*.example.com', expected a host name "
                                         "such as example.com"),
              std::string::npos)
        << e.what();
  }
}

TEST(PluginHost, ContainsAThrowingExtract) {
  PluginHost host({});
  auto p = host.load_file(fixture("extract_throws"), true);
  try {
    p->extract(page_for("http://throws.example/", "<p>x</p>"));
    FAIL() << "expected a PluginError";
  } catch (const PluginError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("plugin 'extract_throws'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(fixture("extract_throws").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("threw from extract: boom: layout changed"), std::string::npos) << msg;
  }
}

TEST(PluginHost, RefusesAFileThatIsNotElf) {
  test::TempDir tmp("plug");
  fs::path fake = tmp / "fake.so";
  test::write_file(fake, "#!/bin/sh\necho not a library\n");
  PluginHost host({});
  std::string msg = refusal(host, fake);
  EXPECT_NE(msg.find("expected an ELF shared library"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'#!/b"), std::string::npos) << msg;
  EXPECT_NE(refusal(host, tmp / "missing.so").find("found nothing"), std::string::npos);
}

// An ELF file built for another machine is named as such, before its symbols are read.
TEST(PluginHost, RefusesAnElfFileForAnotherMachine) {
  test::TempDir tmp("plug");
  fs::path other = tmp / "i386.so";
  std::string header(64, '\0');
  header.replace(0, 4,
                 "\x7f"
                 "ELF");
  header[4] = 1;   // 32-bit
  header[5] = 1;   // little-endian
  header[6] = 1;   // ELF version
  header[16] = 3;  // a shared object
  header[18] = 3;  // for x86 (i386)
  test::write_file(other, header);
  PluginHost host({});
  const std::string msg = refusal(host, other);
  EXPECT_NE(msg.find("found an ELF file for 32-bit x86, expected an ELF shared library built for "
                     "this machine ("),
            std::string::npos)
      << msg;
}

TEST(PluginHost, LoadsOnlyFromPluginDirectories) {
  PluginHost host({{fs::path(VELLUM_TEST_PLUGIN_DIR) / "elsewhere"}, {}, {}});
  try {
    host.load_file(fixture("hello"));
    FAIL() << "loaded a plugin from outside the plugin directories";
  } catch (const PluginError& e) {
    EXPECT_NE(std::string(e.what()).find("outside the plugin directories"), std::string::npos);
  }
}

TEST(PluginHost, LoadAllReportsEachBadFileAndKeepsTheGoodOnes) {
  test::TempDir dir("plugdir");
  for (std::string n : {"hello", "no_entry", "wrong_abi", "wrong_tag", "create_throws", "general"})
    fs::copy_file(fixture(n), dir / (n + ".so"));
  test::write_file(dir / "notes.txt", "ignored: not a .so");
  std::vector<std::string> logged;
  HostOptions o;
  o.dirs = {dir.path()};
  PluginHost host(o);
  auto problems = host.load_all();
  EXPECT_EQ(problems.size(), 4u);
  std::vector<std::string> names;
  for (const auto& p : host.plugins()) names.push_back(p->info().name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"general", "hello"}));
}

// Plugins run with the daemon's rights: a file or directory that others can change is refused.
TEST(PluginHost, RefusesPluginsThatOthersCanReplace) {
  test::TempDir dir("plugperm");
  fs::path so = dir / "hello.so";
  fs::copy_file(fixture("hello"), so);
  auto load_error = [&]() -> std::string {
    PluginHost host({{dir.path()}, {}, {}});
    try {
      host.load_file(so);
    } catch (const PluginError& e) {
      return e.what();
    }
    return "(loaded)";
  };
  fs::permissions(dir.path(), fs::perms(0755));
  fs::permissions(so, fs::perms(0644));
  ASSERT_EQ(load_error(), "(loaded)");

  fs::permissions(so, fs::perms(0666));
  std::string why = load_error();
  EXPECT_NE(why.find("plugin file that every user can write to (mode 0666)"), std::string::npos)
      << why;
  fs::permissions(so, fs::perms(0644));

  fs::permissions(dir.path(), fs::perms(01777));  // like /tmp: sticky, but open to everyone
  why = load_error();
  EXPECT_NE(why.find("plugin directory that every user can write to (mode 1777)"),
            std::string::npos)
      << why;
  fs::permissions(dir.path(), fs::perms(0755));

  // load_all() reports the refusal and loads nothing from such a file.
  fs::permissions(so, fs::perms(0666));
  PluginHost host({{dir.path()}, {}, {}});
  auto problems = host.load_all();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(host.plugins().empty());
  fs::permissions(so, fs::perms(0644));

  if (::geteuid() != 0) GTEST_SKIP() << "changing a file's owner needs root";
  ASSERT_EQ(::chown(so.c_str(), 65534, 65534), 0);  // nobody
  why = load_error();
  EXPECT_NE(why.find("owned by uid 65534, expected one owned by root or uid 0"), std::string::npos)
      << why;
}

TEST(PluginHost, MostSpecificClaimWins) {
  HostOptions o;
  o.dirs = {VELLUM_TEST_PLUGIN_DIR};
  std::vector<std::string> logs;
  o.log = [&](LogLevel, const std::string& logger, const std::string& m) {
    logs.push_back(logger + ": " + m);
  };
  o.config = [](const std::string& name) {
    return name == "specific" ? nlohmann::json{{"title_prefix", "S:"}} : nlohmann::json::object();
  };
  PluginHost host(o);
  host.load_all();
  ASSERT_TRUE(host.route("https://www.example.com/news/1"));
  EXPECT_EQ(host.route("https://www.example.com/news/1")->info().name, "general");
  EXPECT_EQ(host.route("https://sub.example.com/x")->info().name, "general");
  EXPECT_EQ(host.route("https://example.com/special/2")->info().name, "specific");
  EXPECT_EQ(host.route("http://hello.example/")->info().name, "hello");
  EXPECT_FALSE(host.route("https://unrelated.test/"));
  EXPECT_FALSE(host.route("https://notexample.com/"));
  // Host services reach the plugin: its config table and a logger named after it.
  auto a = host.by_name("specific")->extract(page_for("https://example.com/special/2", "<p/>"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->title, "S:https://example.com/special/2");
  ASSERT_FALSE(logs.empty());
  EXPECT_EQ(logs.back(), "plugin.specific: extracting https://example.com/special/2");
  // What a plugin logs may quote a page: its control characters reach the log as %XX.
  host.by_name("specific")->extract(page_for("https://example.com/special/\x1b[2J", "<p/>"));
  EXPECT_EQ(logs.back(), "plugin.specific: extracting https://example.com/special/%1B[2J");
}

// A plugin directory the user named (--plugin-dir, plugins.dirs, VELLUM_PLUGIN_PATH) that is
// not one is reported; the default directories, which need not exist, are not.
TEST(PluginHost, ANamedPluginDirectoryThatIsNoneIsReported) {
  vellum::test::TempDir tmp("plugin-dirs");
  const fs::path missing = tmp / "missing", file = tmp / "file";
  { std::ofstream(file) << "x"; }
  HostOptions named;
  named.dirs = {missing, file};
  named.dirs_named = true;
  PluginHost host(named);
  EXPECT_EQ(host.load_all(), (std::vector<std::string>{
                                 missing.string() + ": found nothing, expected a plugin directory",
                                 file.string() + ": found a regular file, expected a plugin "
                                                 "directory"}));
  HostOptions defaults;
  defaults.dirs = {missing};
  PluginHost quiet(defaults);
  EXPECT_TRUE(quiet.load_all().empty());
}
