// Every kind of configuration error, with the exact FILE:LINE:COLUMN it is reported at.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <regex>
#include <tuple>

#include "config/ConfigLoader.h"
#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum::config;
using vellum::test::TempDir;
using vellum::test::write_file;

namespace {

// The ConfigError message for `toml` read as test.toml.
std::string error_of(std::string_view toml) {
  try {
    load_config_string(toml, "test.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

constexpr const char* kPageSource =
    "[[source]]\n"
    "name = \"listing\"\n"
    "kind = \"page\"\n"
    "url = \"https://news.example.com/latest\"\n";

}  // namespace

TEST(ConfigErrors, UnknownKeyListsTheValidKeysAndSuggestsTheClosest) {
  EXPECT_EQ(error_of("[fetch]\nconcurrency = 4\nconcurency = 4\n"),
            "test.toml:3:1: unknown key 'concurency' in [fetch] (did you mean 'concurrency'?); "
            "valid keys: user_agent, concurrency, per_host_concurrency, per_host_delay, "
            "connect_timeout, timeout, max_size, max_document_size, max_redirects, resolve, "
            "ca_file, allow_private_networks, robots, robots_cache, retries, backoff_initial, "
            "backoff_max");
  EXPECT_EQ(error_of("[log]\n  colour = true\n"),
            "test.toml:2:3: unknown key 'colour' in [log]; valid keys: level, target");
  EXPECT_EQ(error_of(std::string(kPageSource) + "link_pattern = \"x\"\nintervall = \"1h\"\n"),
            "test.toml:6:1: unknown key 'intervall' in [[source]] (did you mean 'interval'?); "
            "valid keys: name, kind, url, interval, link_pattern, plugin, robots, revisit, "
            "headers, cookie_file, enabled");
}

TEST(ConfigErrors, UnknownSectionOrKeyOutsideASection) {
  EXPECT_EQ(error_of("\n[fetcher]\nconcurrency = 4\n"),
            "test.toml:2:2: unknown section [fetcher] (did you mean [fetch]?); valid sections: "
            "[archive], [plugins], [fetch], [schedule], [daemon], [log], [metrics], [[source]]");
  EXPECT_EQ(error_of("concurrency = 4\n"),
            "test.toml:1:1: key 'concurrency' outside any section; it belongs in [fetch]");
}

TEST(ConfigErrors, DuplicateKeysAndTablesAreTomlErrors) {
  EXPECT_EQ(error_of("[fetch]\nconcurrency = 4\nconcurrency = 8\n"),
            "test.toml:3:15: invalid TOML in key-value pair: cannot redefine existing integer "
            "'concurrency' (each key and table may be defined only once)");
  EXPECT_EQ(error_of("[log]\nlevel = \"info\"\n\n[log]\ntarget = \"stderr\"\n"),
            "test.toml:4:1: invalid TOML in table header: cannot redefine existing table 'log' "
            "(each key and table may be defined only once)");
}

TEST(ConfigErrors, SyntaxErrorsKeepTheirPosition) {
  EXPECT_EQ(error_of("[archive]\ndir = \n"),
            "test.toml:2:7: invalid TOML in key-value pair: expected value, saw '\\n'");
}

TEST(ConfigErrors, WrongTypeSaysWhatWasFoundAndExpected) {
  EXPECT_EQ(error_of("[fetch]\nconcurrency = \"16\"\n"),
            "test.toml:2:15: fetch.concurrency: found string \"16\", expected an integer");
  EXPECT_EQ(error_of("[archive]\nextract = \"yes\"\n"),
            "test.toml:2:11: archive.extract: found string \"yes\", expected true or false");
  EXPECT_EQ(error_of("[plugins]\ndirs = [\"a\", 2]\n"),
            "test.toml:2:14: plugins.dirs[1]: found integer 2, expected a string");
  EXPECT_EQ(error_of("[archive]\ncompression = \"lz4\"\n"),
            "test.toml:2:15: archive.compression: found \"lz4\", expected one of \"zstd\", "
            "\"gzip\", \"none\"");
  EXPECT_EQ(error_of("[archive]\nrotate_size = \"1 gigabyte\"\n"),
            "test.toml:2:15: archive.rotate_size: found \"1 gigabyte\", expected a size such as "
            "\"512B\", \"64KiB\", \"256MiB\", \"1GiB\" or \"10MB\", or a number of bytes");
  EXPECT_EQ(error_of("archive = 5\n"),
            "test.toml:1:11: found integer 5, expected the table [archive]");
}

TEST(ConfigErrors, OutOfRangeSaysTheRange) {
  EXPECT_EQ(error_of("[fetch]\nper_host_concurrency = 65\n"),
            "test.toml:2:24: fetch.per_host_concurrency: found 65, expected 1 to 64");
  EXPECT_EQ(error_of("[fetch]\nretries = 21\n"),
            "test.toml:2:11: fetch.retries: found 21, expected 0 to 20");
  EXPECT_EQ(error_of("[schedule]\njitter = 0.75\n"),
            "test.toml:2:10: schedule.jitter: found 0.75, expected 0 to 0.5");
  EXPECT_EQ(error_of("[fetch]\ntimeout = \"0s\"\n"),
            "test.toml:2:11: fetch.timeout: found \"0s\", expected more than 0s");
  EXPECT_EQ(error_of("[archive]\nrotate_size = 4096\n"),
            "test.toml:2:15: archive.rotate_size: found 4096, expected at least 1MiB");
}

TEST(ConfigErrors, CompressionLevelDependsOnTheCompression) {
  EXPECT_EQ(error_of("[archive]\ncompression = \"gzip\"\nlevel = 12\n"),
            "test.toml:3:9: archive.level: found 12, expected 1 to 9 for compression = \"gzip\"");
  EXPECT_EQ(error_of("[archive]\nlevel = 23\n"),
            "test.toml:2:9: archive.level: found 23, expected 1 to 22 for compression = \"zstd\"");
  EXPECT_EQ(load_config_string("[archive]\ncompression = \"gzip\"\nlevel = 9\n", "t").archive.level,
            9);
  EXPECT_EQ(load_config_string("[archive]\ncompression = \"none\"\nlevel = 0\n", "t").archive.level,
            0);
}

TEST(ConfigErrors, DurationsNeedAUnit) {
  EXPECT_EQ(error_of("[fetch]\ntimeout = 30\n"),
            "test.toml:2:11: fetch.timeout: found integer 30, expected a duration string with its "
            "unit, such as \"30s\" or \"30ms\"");
  EXPECT_EQ(error_of("[fetch]\ntimeout = \"30 sec\"\n"),
            "test.toml:2:11: fetch.timeout: found \"30 sec\", expected a duration such as "
            "\"500ms\", \"45s\", \"15m\", \"1h30m\" or \"2d\" (units ms, s, m, h, d)");
  EXPECT_EQ(error_of("[schedule]\nrevisit = [\"1h\", \"1x\"]\n"),
            "test.toml:2:18: schedule.revisit[1]: found \"1x\", expected a duration such as "
            "\"500ms\", \"45s\", \"15m\", \"1h30m\" or \"2d\" (units ms, s, m, h, d)");
  EXPECT_EQ(error_of("[schedule]\nrevisit = [\"1d\", \"1h\"]\n"),
            "test.toml:2:11: schedule.revisit: found [\"1d\", \"1h\"], expected delays in "
            "increasing order");
  // Past what a timer can count: refused, not wrapped round to "at once".
  EXPECT_EQ(error_of("[daemon]\ndrain_timeout = \"99999999999h\"\n"),
            "test.toml:2:17: daemon.drain_timeout: found \"99999999999h\", expected at most "
            "\"36500d\" (100 years)");
  EXPECT_EQ(load_config_string("[schedule]\nrevisit = [\"1h\", \"36500d\"]\n", "t")
                .schedule.revisit.back(),
            std::chrono::hours(24 * 36500));
}

// The `vellum` CLI takes its defaults from the main file alone: a source file with an error
// (which vellumd reports, keeping its running configuration) does not keep it from the daemon.
TEST(ConfigErrors, TheCliSettingsAreReadPastASourceFileWithAnError) {
  TempDir dir("cfg-settings");
  const auto file = dir / "vellum.toml";
  write_file(file, "[archive]\ndir = \"/srv/news-archive\"\n");
  std::filesystem::create_directories(dir / "sources.d");
  write_file(dir / "sources.d" / "typo.toml",
             "[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"https://a.example/f\"\n"
             "interval = 15\n");
  EXPECT_THROW(load_config(file, Reader::daemon), ConfigError);
  EXPECT_THROW(load_config(file, Reader::cli), ConfigError);
  const Config c = load_config(file, Reader::settings);
  EXPECT_EQ(c.archive.dir, "/srv/news-archive");
  EXPECT_TRUE(c.sources.empty());
}

TEST(ConfigErrors, ACookieOrCaFileVellumdCannotReadIsAnErrorForVellumd) {
  TempDir dir("cfg-files");
  write_file(dir / "cookies.txt", "# Netscape HTTP Cookie File\n");
  const auto fifo = dir / "cookies.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto file = dir / "vellum.toml";
  // The error vellumd gets for `toml`, and that the CLI, which opens none of these files, gets
  // none.
  auto daemon_error = [&](const std::string& toml) {
    write_file(file, toml);
    EXPECT_NO_THROW(load_config(file, Reader::cli));
    try {
      load_config(file, Reader::daemon);
    } catch (const ConfigError& e) {
      std::string m = e.what();
      return m.substr(m.find(':') + 1);
    }
    return std::string("(no error)");
  };
  const std::string source =
      "[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"https://news.example.com/feed\"\n";
  EXPECT_EQ(daemon_error(source + "cookie_file = \"cookies-missing.txt\"\n"),
            "5:15: source.cookie_file: found \"cookies-missing.txt\", expected a file vellumd can "
            "read (No such file or directory; a relative path is taken from vellumd's working "
            "directory, /var/lib/vellum under the shipped systemd unit)");
  EXPECT_EQ(daemon_error(source + "cookie_file = \"" + dir.path().string() + "\"\n"),
            "5:15: source.cookie_file: found \"" + dir.path().string() +
                "\", expected a file vellumd can read (not a regular file)");
  // A named pipe is refused without waiting for a writer.
  EXPECT_EQ(daemon_error(source + "cookie_file = \"" + fifo.string() + "\"\n"),
            "5:15: source.cookie_file: found \"" + fifo.string() +
                "\", expected a file vellumd can read (not a regular file)");
  EXPECT_EQ(daemon_error("[fetch]\nca_file = \"/nonexistent/ca.pem\"\n"),
            "2:11: fetch.ca_file: found \"/nonexistent/ca.pem\", expected a file vellumd can read "
            "(No such file or directory)");
  EXPECT_EQ(daemon_error(source + "cookie_file = \"" + (dir / "cookies.txt").string() + "\"\n"),
            "(no error)");

  // The programs: vellumd's check refuses the pipe at once; the CLI reads the configuration.
  write_file(file, "[archive]\ndir = \"" + (dir / "archive").string() + "\"\n" + source +
                       "cookie_file = \"" + fifo.string() + "\"\n");
  auto [rc, out] = vellum::test::shell("timeout 20 " + vellum::test::shell_quote(VELLUMD_PATH) +
                                       " --check-config --config " +
                                       vellum::test::shell_quote(file.string()) + " 2>&1");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("source.cookie_file: found \"" + fifo.string() +
                     "\", expected a file vellumd can read (not a regular file)"),
            std::string::npos)
      << out;
  std::tie(rc, out) =
      vellum::test::shell(vellum::test::shell_quote(VELLUM_CLI_PATH) + " --config " +
                          vellum::test::shell_quote(file.string()) + " plugins 2>&1");
  EXPECT_EQ(rc, 0) << out;
}

TEST(ConfigErrors, RevisitOnASingleUrlSourceIsAnError) {
  EXPECT_EQ(error_of("[[source]]\nname = \"front\"\nkind = \"url\"\nurl = "
                     "\"https://news.example.com/\"\nrevisit = [\"1h\"]\n"),
            "test.toml:5:11: source.revisit: only used with kinds feed, sitemap and page (the "
            "pages they lead to are revisited), and this source has kind = \"url\", whose page "
            "is captured on every run; remove revisit or set interval");
}

TEST(ConfigErrors, BadRegexQuotesTheRegexError) {
  std::string regex_says;
  try {
    std::regex re("(unclosed", std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    regex_says = e.what();
  }
  ASSERT_FALSE(regex_says.empty());
  EXPECT_EQ(error_of(std::string(kPageSource) + "link_pattern = \"(unclosed\"\n"),
            "test.toml:5:16: source.link_pattern: found \"(unclosed\", expected a valid ECMAScript "
            "regular expression (std::regex says: " +
                regex_says + ")");
}

TEST(ConfigErrors, PageSourcesNeedALinkPatternAndOnlyTheyMayHaveOne) {
  EXPECT_EQ(error_of(std::string("\n") + kPageSource),
            "test.toml:2:1: source \"listing\" has kind = \"page\" but no link_pattern; add "
            "link_pattern, the regular expression that the links to capture match");
  EXPECT_EQ(error_of("[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = "
                     "\"https://news.example.com/rss\"\nlink_pattern = \"/2026/\"\n"),
            "test.toml:5:16: source.link_pattern: only used with kind = \"page\", and this source "
            "has kind = \"feed\"; remove link_pattern");
}

TEST(ConfigErrors, SourcesNeedNameKindAndAnHttpUrl) {
  EXPECT_EQ(
      error_of("[[source]]\nkind = \"feed\"\n"),
      "test.toml:1:1: [[source]] without name and url; every source needs a name, kind and url");
  EXPECT_EQ(
      error_of("[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"ftp://example.com/feed\"\n"),
      "test.toml:4:7: source.url: found \"ftp://example.com/feed\", expected an absolute "
      "http:// or https:// URL");
  EXPECT_EQ(error_of("[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"news.example.com/rss\"\n"),
            "test.toml:4:7: source.url: found \"news.example.com/rss\", expected an absolute "
            "http:// or https:// URL");
  // Read as the fetcher reads it: a host it cannot send is refused here, with the reason.
  EXPECT_EQ(error_of("[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"http://a b/\"\n"),
            "test.toml:4:7: source.url: found \"http://a b/\", expected an absolute http:// or "
            "https:// URL (the host name holds a space or a control character)");
  EXPECT_EQ(error_of("[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = "
                     "\"https://news.example.com/rss\"\ninterval = \"500ms\"\n"),
            "test.toml:5:12: source.interval: found \"500ms\", expected at least 1s");
  EXPECT_EQ(error_of("[source]\nname = \"f\"\n"),
            "test.toml:1:1: found a table, expected [[source]] tables (write [[source]] with two "
            "brackets)");
}

// Every header field that is wrong is named at once, not only the first.
TEST(ConfigErrors, EveryBadHeaderFieldIsNamed) {
  const std::string e = error_of(
      "[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"https://example.com/feed\"\n"
      "[source.headers]\n\"Bad Name\" = \"x\"\n\"X-Ok\" = \"line\\nbreak\"\n\"X:y\" = \"z\"\n");
  EXPECT_NE(e.find("header name 'Bad Name'; the value of header 'X-Ok' holds a line break or NUL; "
                   "header name 'X:y'"),
            std::string::npos)
      << e;
}

TEST(ConfigErrors, MetricsListenOnlyOnLoopback) {
  EXPECT_EQ(error_of("[metrics]\nlisten = \"0.0.0.0:9464\"\n"),
            "test.toml:2:10: metrics.listen: found \"0.0.0.0:9464\", expected a loopback address "
            "and port: 127.x.x.x:PORT, [::1]:PORT or localhost:PORT (metrics are served without "
            "authentication, so only this machine may reach them)");
  for (const char* ok : {"127.0.0.1:9464", "127.1.2.3:80", "[::1]:9464", "localhost:1"})
    EXPECT_EQ(
        load_config_string(std::string("[metrics]\nlisten = \"") + ok + "\"\n", "t").metrics.listen,
        ok);
  for (const char* bad : {"127.0.0.1", "[::]:9464", "192.168.1.4:9464", "localhost:0",
                          "127.0.0.1:65536", "example.com:9464", ":9464"})
    EXPECT_NE(error_of(std::string("[metrics]\nlisten = \"") + bad + "\"\n").find("loopback"),
              std::string::npos)
        << bad;
}

TEST(ConfigErrors, ResolveEntriesAreHostPortAddress) {
  EXPECT_EQ(error_of("[fetch]\nresolve = [\"a.example:443:192.0.2.1\", \"b.example:443\"]\n"),
            "test.toml:2:39: fetch.resolve[1]: found \"b.example:443\", expected HOST:PORT:ADDR, "
            "e.g. \"news.example.com:443:192.0.2.10\"");
  Config c = load_config_string(
      "[fetch]\nresolve = [\"a.example:443:192.0.2.1\", \"b.example:80:[2001:db8::1]\", "
      "\"c.example:8080:192.0.2.1,192.0.2.2\"]\n",
      "t");
  EXPECT_EQ(c.fetch.resolve.size(), 3u);
  for (const char* bad : {"a.example:0:192.0.2.1", ":443:192.0.2.1", "a.example:443:not-an-ip",
                          "a.example:https:192.0.2.1", "a.example:443:"})
    EXPECT_NE(error_of(std::string("[fetch]\nresolve = [\"") + bad + "\"]\n")
                  .find("expected HOST:PORT:ADDR"),
              std::string::npos)
        << bad;
}

TEST(ConfigErrors, UserAgentMustBePrintable) {
  EXPECT_EQ(error_of("[fetch]\nuser_agent = \"  \"\n"),
            "test.toml:2:14: fetch.user_agent: found \"  \", expected printable ASCII with at "
            "least one non-space character, or empty");
  EXPECT_NE(error_of("[fetch]\nuser_agent = \"Vellum\\u0007\"\n").find("fetch.user_agent"),
            std::string::npos);
}

TEST(ConfigErrors, AllErrorsAreReportedTogetherInFileOrder) {
  // toml++ hands tables over sorted by name; the report follows the file instead.
  std::string text =
      "[log]\n"
      "level = \"loud\"\n"
      "\n"
      "[archive]\n"
      "level = \"high\"\n"
      "rotat_size = \"1GiB\"\n"
      "\n"
      "[fetch]\n"
      "concurrency = 0\n"
      "timeout = 5\n";
  EXPECT_EQ(error_of(text),
            "test.toml:2:9: log.level: found \"loud\", expected one of \"trace\", \"debug\", "
            "\"info\", \"warn\", \"error\"\n"
            "test.toml:5:9: archive.level: found string \"high\", expected an integer\n"
            "test.toml:6:1: unknown key 'rotat_size' in [archive] (did you mean 'rotate_size'?); "
            "valid keys: dir, compression, level, rotate_size, prefix, sync, extract\n"
            "test.toml:9:15: fetch.concurrency: found 0, expected 1 to 1024\n"
            "test.toml:10:11: fetch.timeout: found integer 5, expected a duration string with its "
            "unit, such as \"5s\" or \"5ms\"");
}

TEST(ConfigErrors, DuplicateSourceNameAcrossFilesNamesBothPlaces) {
  TempDir dir("config");
  write_file(dir / "vellum.toml",
             "[archive]\ndir = \"a\"\n\n[[source]]\nname = \"bbc\"\nkind = \"feed\"\n"
             "url = \"https://feeds.bbci.co.uk/news/rss.xml\"\n");
  std::filesystem::create_directory(dir / "sources.d");
  write_file(dir / "sources.d" / "news.toml",
             "# BBC again\n[[source]]\nkind = \"sitemap\"\n  name = \"bbc\"\n"
             "url = \"https://www.bbc.com/sitemaps/news.xml\"\n");
  std::string main = (dir / "vellum.toml").string();
  std::string news = (dir / "sources.d" / "news.toml").string();
  try {
    load_config(dir / "vellum.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              news + ":4:10: duplicate source name \"bbc\"; first declared at " + main +
                  ":4:1; give each source its own name");
  }
}

TEST(ConfigErrors, SourcesDirectoryFilesHoldOnlySources) {
  TempDir dir("config");
  write_file(dir / "vellum.toml", "[log]\nlevel = \"debug\"\n");
  std::filesystem::create_directory(dir / "sources.d");
  write_file(dir / "sources.d" / "a.toml",
             "[[source]]\nname = \"x\"\nkind = \"url\"\nurl = \"https://example.com/\"\n\n"
             "[fetch]\nconcurrency = 2\n");
  write_file(dir / "sources.d" / "b.toml", "interval = \"1h\"\n");
  std::string main = (dir / "vellum.toml").string();
  try {
    load_config(dir / "vellum.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "sources.d" / "a.toml").string() +
                  ":6:2: [fetch] is not allowed in a sources directory file, which may hold only "
                  "[[source]] tables; move it to " +
                  main + "\n" + (dir / "sources.d" / "b.toml").string() +
                  ":1:1: key 'interval' is not allowed in a sources directory file, which may "
                  "hold only [[source]] tables; move it to " +
                  main);
  }
}

TEST(ConfigErrors, ErrorsOfEveryFileComeTogether) {
  TempDir dir("config");
  write_file(dir / "vellum.toml", "[fetch]\nretries = -1\n");
  std::filesystem::create_directory(dir / "sources.d");
  write_file(dir / "sources.d" / "1.toml",
             "[[source]]\nname = \"x\"\nkind = \"rss\"\n"
             "url = \"https://example.com/\"\n");
  write_file(dir / "sources.d" / "2.toml", "[[source]\n");
  try {
    load_config(dir / "vellum.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_EQ(std::count(what.begin(), what.end(), '\n'), 2) << what;
    EXPECT_EQ(what.find((dir / "vellum.toml").string() + ":2:11: fetch.retries: found -1"), 0u)
        << what;
    EXPECT_NE(
        what.find((dir / "sources.d" / "1.toml").string() + ":3:8: source.kind: found \"rss\""),
        std::string::npos)
        << what;
    EXPECT_NE(what.find((dir / "sources.d" / "2.toml").string() + ":1:"), std::string::npos)
        << what;
  }
}

TEST(ConfigErrors, MissingMainFileSaysWhereItLookedAndHowToStart) {
  TempDir dir("config");
  std::string missing = (dir / "nope.toml").string();
  try {
    load_config(dir / "nope.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              missing +
                  ": no such file; vellumd reads its configuration from here. To start, copy "
                  "etc/vellum.toml (shipped with Vellum: every key at its default) to " +
                  missing + ", or name another file with --config FILE");
  }
}

TEST(ConfigErrors, ExplicitSourcesDirectoryMustExist) {
  TempDir dir("config");
  std::string missing = (dir / "feeds").string();
  write_file(dir / "vellum.toml", "[daemon]\nsources_dir = \"" + missing + "\"\n");
  try {
    load_config(dir / "vellum.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find((dir / "vellum.toml").string() + ":2:15: daemon.sources_dir: \"" + missing +
                        "\" is not a directory"),
              0u)
        << what;
  }
}
