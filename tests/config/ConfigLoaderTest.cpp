// Reading a whole configuration: the main file, sources.d, plugin settings, every value.
#include <gtest/gtest.h>

#include "config/ConfigLoader.h"
#include "config/ConfigSchema.h"
#include "support/TempDir.h"

#include "ConfigCompare.h"

using namespace vellum::config;
using namespace std::chrono_literals;
using vellum::test::TempDir;
using vellum::test::write_file;

namespace {

std::string source(const std::string& name, const std::string& kind = "feed") {
  return "[[source]]\nname = \"" + name + "\"\nkind = \"" + kind +
         "\"\nurl = \"https://news.example.com/" + name + ".xml\"\n";
}

std::vector<std::string> names(const Config& c) {
  std::vector<std::string> out;
  for (const auto& s : c.sources) out.push_back(s.name);
  return out;
}

}  // namespace

TEST(ConfigLoader, ReadsSourcesDirectoryInNameOrderAfterTheMainFile) {
  TempDir dir("config");
  write_file(dir / "vellum.toml", "[fetch]\nconcurrency = 8\n\n" + source("main"));
  std::filesystem::create_directory(dir / "sources.d");
  write_file(dir / "sources.d" / "20-world.toml", source("world") + "\n" + source("sport"));
  write_file(dir / "sources.d" / "10-local.toml", source("local"));
  write_file(dir / "sources.d" / "README", "not TOML, not read");
  write_file(dir / "sources.d" / "30-old.toml.disabled", "not read either");
  std::filesystem::create_directory(dir / "sources.d" / "40-dir.toml");

  Config c = load_config(dir / "vellum.toml");
  EXPECT_EQ(names(c), (std::vector<std::string>{"main", "local", "world", "sport"}));
  EXPECT_EQ(vellum::config::test::strings(c.files),
            (std::vector<std::string>{(dir / "vellum.toml").string(),
                                      (dir / "sources.d" / "10-local.toml").string(),
                                      (dir / "sources.d" / "20-world.toml").string()}));
  EXPECT_EQ(c.fetch.concurrency, 8);
  EXPECT_EQ(c.sources[0].origin, (dir / "vellum.toml").string() + ":4:1");
  EXPECT_EQ(c.sources[3].origin, (dir / "sources.d" / "20-world.toml").string() + ":6:1");
  // Keys a source leaves out take their defaults.
  EXPECT_EQ(c.sources[2].interval, 15min);
  EXPECT_TRUE(c.sources[2].enabled);
  EXPECT_FALSE(c.sources[2].robots.has_value());
  EXPECT_FALSE(c.sources[2].revisit.has_value());
}

TEST(ConfigLoader, MissingDefaultSourcesDirectoryIsNoError) {
  TempDir dir("config");
  write_file(dir / "vellum.toml", "[log]\nlevel = \"warn\"\n");
  Config c = load_config(dir / "vellum.toml");
  EXPECT_TRUE(c.sources.empty());
  EXPECT_EQ(c.files.size(), 1u);
  EXPECT_EQ(c.log.level, "warn");
}

TEST(ConfigLoader, SourcesDirectoryCanBeNamedInTheMainFile) {
  TempDir dir("config");
  std::filesystem::create_directory(dir / "feeds");
  std::filesystem::create_directory(dir / "sources.d");
  write_file(dir / "feeds" / "a.toml", source("from-feeds"));
  write_file(dir / "sources.d" / "a.toml", source("from-sources-d"));
  write_file(dir / "vellum.toml", "[daemon]\nsources_dir = \"" + (dir / "feeds").string() + "\"\n");
  Config c = load_config(dir / "vellum.toml");
  EXPECT_EQ(names(c), (std::vector<std::string>{"from-feeds"}));
  EXPECT_EQ(c.daemon.sources_dir, dir / "feeds");
}

TEST(ConfigLoader, PluginTablesArriveAsJson) {
  Config c = load_config_string(
      "[plugins]\n"
      "dirs = [\"/usr/local/lib/vellum/plugins\", \"plugins\"]\n"
      "\n"
      "[plugins.config.bbc]\n"
      "api_key = \"k-123\"\n"
      "sections = [\"news\", \"sport\"]\n"
      "max_pages = 3\n"
      "ratio = 0.5\n"
      "strict = true\n"
      "since = 2026-04-08\n"
      "\n"
      "[plugins.config.bbc.limits]\n"
      "per_day = 1000\n"
      "\n"
      "[plugins.config.reuters]\n",
      "plugins.toml");
  EXPECT_EQ(vellum::config::test::strings(c.plugins.dirs),
            (std::vector<std::string>{"/usr/local/lib/vellum/plugins", "plugins"}));
  ASSERT_EQ(c.plugins.config.size(), 2u);
  EXPECT_EQ(c.plugins.config.at("bbc"), nlohmann::json::parse(R"({
    "api_key": "k-123", "sections": ["news", "sport"], "max_pages": 3, "ratio": 0.5,
    "strict": true, "since": "2026-04-08", "limits": {"per_day": 1000}})"));
  EXPECT_EQ(c.plugins.config.at("reuters"), nlohmann::json::object());
}

TEST(ConfigLoader, PluginConfigHoldsOnlyTables) {
  try {
    load_config_string("[plugins.config]\nbbc = 3\n", "p.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "p.toml:2:7: plugins.config.bbc: found integer 3, expected a table "
              "[plugins.config.bbc]");
  }
}

TEST(ConfigLoader, RelativePathsStayAsWritten) {
  Config c = load_config_string(
      "[archive]\ndir = \"../archive\"\n[daemon]\nstate_file = \"state/db.sqlite3\"\n", "t");
  EXPECT_EQ(c.archive.dir, "../archive");
  EXPECT_EQ(c.daemon.state_file, "state/db.sqlite3");
}

TEST(ConfigLoader, AFullConfigurationLoadsWithEveryValueAsWritten) {
  const char* text = R"toml(# A production configuration.
[archive]
dir = "/var/lib/vellum"
compression = "gzip"
level = 6
rotate_size = "512MiB"
prefix = "newsroom"
sync = "never"
extract = false

[plugins]
dirs = ["/usr/lib/vellum/plugins", "/opt/vellum/plugins"]

[plugins.config.bbc]
edition = "uk"

[fetch]
user_agent = "Vellum/0.1 (+https://archive.example.org/contact)"
concurrency = 64
per_host_concurrency = 4
per_host_delay = "250ms"
connect_timeout = "5s"
timeout = "1m30s"
max_size = "10MB"
max_document_size = 1048576
max_redirects = 5
resolve = ["news.example.com:443:192.0.2.10"]
ca_file = "/etc/ssl/certs/ca-certificates.crt"
allow_private_networks = true
robots = false
robots_cache = "12h"
retries = 3
backoff_initial = "10s"
backoff_max = "1h"

[schedule]
jitter = 0.25
revisit = ["30m", "6h", "2d", "30d"]
max_new_per_run = 50

[daemon]
state_file = "/var/lib/vellum/state.sqlite3"
socket = "/run/vellum/control.sock"
sources_dir = ""
drain_timeout = "1m"

[log]
level = "debug"
target = "journal"

[metrics]
enabled = true
listen = "[::1]:9100"

[[source]]
name = "bbc-world"
kind = "feed"
url = "https://feeds.bbci.co.uk/news/world/rss.xml"
interval = "10m"
plugin = "bbc"
robots = true
revisit = ["1h", "1d"]
headers = { "Accept-Language" = "en-GB", "X-Archive" = "vellum", "Cache-Control" = "no-cache" }
cookie_file = "cookies/bbc.txt"
enabled = true

[[source]]
name = "tnw-latest"
kind = "page"
url = "https://thenextweb.com/latest"
interval = "1h30m"
link_pattern = "^https://thenextweb\\.com/news/[a-z0-9-]+$"
enabled = false
)toml";
  // The cookie file must exist: it is written where the configuration says it is.
  TempDir dir("full-config");
  const std::string cookies = (dir / "bbc.txt").string();
  write_file(cookies, "# Netscape HTTP Cookie File\n");
  std::string toml = text;
  toml.replace(toml.find("cookies/bbc.txt"), std::string("cookies/bbc.txt").size(), cookies);
  Config c = load_config_string(toml, "full.toml");

  Config expected;
  expected.archive = {"/var/lib/vellum", "gzip", 6, 512ull << 20, "newsroom", "never", false};
  expected.plugins.dirs = {"/usr/lib/vellum/plugins", "/opt/vellum/plugins"};
  expected.plugins.config["bbc"] = {{"edition", "uk"}};
  auto& f = expected.fetch;
  f.user_agent = "Vellum/0.1 (+https://archive.example.org/contact)";
  f.concurrency = 64;
  f.per_host_concurrency = 4;
  f.per_host_delay = 250ms;
  f.connect_timeout = 5s;
  f.timeout = 90s;
  f.max_size = 10'000'000;
  f.max_document_size = 1'048'576;
  f.max_redirects = 5;
  f.resolve = {"news.example.com:443:192.0.2.10"};
  f.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  f.allow_private_networks = true;
  f.robots = false;
  f.robots_cache = 12h;
  f.retries = 3;
  f.backoff_initial = 10s;
  f.backoff_max = 1h;
  expected.schedule.jitter = 0.25;
  expected.schedule.revisit = {30min, 6h, 48h, 720h};
  expected.schedule.max_new_per_run = 50;
  expected.daemon = {"/var/lib/vellum/state.sqlite3", "/run/vellum/control.sock", "", 1min};
  expected.log = {"debug", "journal"};
  expected.metrics = {true, "[::1]:9100"};

  SourceConfig bbc;
  bbc.name = "bbc-world";
  bbc.kind = "feed";
  bbc.url = "https://feeds.bbci.co.uk/news/world/rss.xml";
  bbc.interval = 10min;
  bbc.plugin = "bbc";
  bbc.robots = true;
  bbc.revisit = std::vector<Duration>{1h, 24h};
  bbc.headers = {
      {"Accept-Language", "en-GB"}, {"X-Archive", "vellum"}, {"Cache-Control", "no-cache"}};
  bbc.cookie_file = cookies;
  SourceConfig tnw;
  tnw.name = "tnw-latest";
  tnw.kind = "page";
  tnw.url = "https://thenextweb.com/latest";
  tnw.interval = 90min;
  tnw.link_pattern = R"(^https://thenextweb\.com/news/[a-z0-9-]+$)";
  tnw.enabled = false;
  expected.sources = {bbc, tnw};

  vellum::config::test::expect_same_settings(c, expected);
  EXPECT_EQ(c.files, (std::vector<std::filesystem::path>{"full.toml"}));
  EXPECT_EQ(c.sources[0].origin, "full.toml:55:1");
  EXPECT_EQ(c.sources[1].origin, "full.toml:67:1");
}

TEST(ConfigLoader, DescribeSummarisesWhatTheDaemonWillUse) {
  Config c = load_config_string(
      "[archive]\ndir = \"/srv/archive\"\n[plugins]\ndirs = [\"/opt/p\"]\n" + source("a") +
          source("b") + source("c", "sitemap") + source("d", "url") + "enabled = false\n",
      "vellum.toml");
  EXPECT_EQ(describe(c),
            "configuration: vellum.toml\n"
            "archive: /srv/archive (zstd level 3, WARC files rotated at 1GiB, sync always, "
            "articles extracted)\n"
            "plugin directories: /opt/p\n"
            "sources: 3 enabled (feed 2, sitemap 1), 1 disabled\n"
            "state file: /srv/archive/state.sqlite3\n"
            "control socket: vellumd.sock in $RUNTIME_DIRECTORY, else /srv/archive/vellumd.sock\n"
            "metrics: off\n");
}

TEST(ConfigLoader, HeadersKeepTheOrderWritten) {
  Config c = load_config_string(source("s") +
                                    "[source.headers]\nZ-Last = \"1\"\nA-First = \"2\"\n"
                                    "M-Middle = \"3\"\n",
                                "t");
  ASSERT_EQ(c.sources.size(), 1u);
  EXPECT_EQ(c.sources[0].headers, (Headers{{"Z-Last", "1"}, {"A-First", "2"}, {"M-Middle", "3"}}));
}
