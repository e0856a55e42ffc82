// Plugins in worker processes (vellum-extract-worker): a plugin that crashes, aborts, hangs or
// exhausts memory costs its page the plugin article and nothing else; routing, configuration
// and logging are the same as in-process.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include "extract/Extraction.h"
#include "plugins/PluginHost.h"
#include "plugins/WorkerProtocol.h"

using namespace vellum;
using namespace vellum::plugins;
namespace fs = std::filesystem;

namespace {

HostOptions isolated_options(unsigned workers = 1) {
  HostOptions o;
  o.dirs = {VELLUM_TEST_PLUGIN_DIR};
  o.isolation.enabled = true;
  o.isolation.worker_program = VELLUM_EXTRACT_WORKER_PATH;
  o.isolation.page_timeout = std::chrono::seconds(2);
  o.isolation.memory_limit = 512ull << 20;
  o.isolation.max_workers = workers;
  return o;
}

extract::PageInput page_input(const std::string& url) {
  extract::PageInput in;
  in.url = url;
  in.headers = {{"Content-Type", "text/html; charset=utf-8"}};
  in.body =
      "<html><head><title>Generic title</title><meta name=author content='Ada Lovelace'></head>"
      "<body><h1>Hello  world</h1><article><p>First paragraph of the story, long enough to be "
      "kept by the generic extractor as body text.</p><p>Second.</p></article></body></html>";
  return in;
}

// This process's children, and how many of them are zombies.
struct Children {
  int alive = 0;
  int zombies = 0;
};
Children children() {
  Children c;
  std::string self = std::to_string(::getpid());
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state, ppid;
    rest >> state >> ppid;
    if (ppid != self) continue;
    ++c.alive;
    if (state == "Z") ++c.zombies;
  }
  return c;
}

bool maps_contain(const std::string& needle) {
  std::ifstream in("/proc/self/maps");
  std::string line;
  while (std::getline(in, line))
    if (line.find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(WorkerProtocol, ArticleRoundTripKeepsEveryField) {
  Article a;
  a.title = "Title \xe2\x80\x94 with a dash";
  a.authors = {"Ada Lovelace", "Charles Babbage"};
  a.published = "2026-04-08T16:09:31Z";
  a.modified = "2026-04-09T08:00:00Z";
  a.language = "en-GB";
  a.canonical_url = "https://example.com/a";
  a.lead = "The lead.";
  a.key_points = {"One", "Two"};
  a.sections = {{"", {"First.", "Second."}}, {"More", {"Third."}}};
  a.images = {{"https://example.com/i.jpg", "A caption", "A credit"},
              {"https://e.com/2.png", "", ""}};
  a.tags = {"news", "science"};
  auto text = wire::article_to_json(a).dump();
  Article b = wire::article_from_json(nlohmann::json::parse(text));
  EXPECT_EQ(b.title, a.title);
  EXPECT_EQ(b.authors, a.authors);
  EXPECT_EQ(b.published, a.published);
  EXPECT_EQ(b.modified, a.modified);
  EXPECT_EQ(b.language, a.language);
  EXPECT_EQ(b.canonical_url, a.canonical_url);
  EXPECT_EQ(b.lead, a.lead);
  EXPECT_EQ(b.key_points, a.key_points);
  ASSERT_EQ(b.sections.size(), 2u);
  EXPECT_EQ(b.sections[1].heading, "More");
  EXPECT_EQ(b.sections[0].paragraphs, a.sections[0].paragraphs);
  ASSERT_EQ(b.images.size(), 2u);
  EXPECT_EQ(b.images[0].caption, "A caption");
  EXPECT_EQ(b.images[0].credit, "A credit");
  EXPECT_EQ(b.images[1].url, "https://e.com/2.png");
  EXPECT_EQ(b.tags, a.tags);
  EXPECT_EQ(wire::article_to_json(b), wire::article_to_json(a));
  // An empty article stays empty.
  EXPECT_EQ(wire::article_to_json(wire::article_from_json(wire::article_to_json(Article{}))),
            wire::article_to_json(Article{}));
}

TEST(WorkerProtocol, LogMessagesKeepTheirLevel) {
  std::vector<std::tuple<LogLevel, std::string, std::string>> got;
  HostOptions o;
  o.log = [&](LogLevel l, const std::string& logger, const std::string& m) {
    got.emplace_back(l, logger, m);
  };
  for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error})
    wire::forward_log(wire::log_to_json(l, "plugin.x", "m"), o);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(std::get<0>(got[0]), LogLevel::debug);
  EXPECT_EQ(std::get<0>(got[1]), LogLevel::info);
  EXPECT_EQ(std::get<0>(got[2]), LogLevel::warn);
  EXPECT_EQ(std::get<0>(got[3]), LogLevel::error);
  EXPECT_EQ(std::get<1>(got[3]), "plugin.x");
  EXPECT_EQ(std::get<2>(got[3]), "m");
  wire::forward_log({{"type", "log"}, {"level", "shouting"}}, o);
  EXPECT_EQ(std::get<0>(got.back()), LogLevel::debug);
}

TEST(WorkerProtocol, FramesCarryHeaderAndBody) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  std::string body(300'000, 'x');  // more than a socket buffer: written while read
  std::thread writer([&] {
    EXPECT_EQ(wire::write_frame(sv[0], {{{"type", "call"}, {"n", 1}}, body}).status,
              wire::IoStatus::ok);
    ::close(sv[0]);
  });
  wire::Frame f;
  ASSERT_EQ(wire::read_frame(sv[1], f).status, wire::IoStatus::ok);
  EXPECT_EQ(f.header["type"], "call");
  EXPECT_EQ(f.body, body);
  writer.join();
  EXPECT_EQ(wire::read_frame(sv[1], f).status, wire::IoStatus::eof);
  ::close(sv[1]);
  // Nothing arrives: the deadline ends the wait.
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto r =
      wire::read_frame(sv[1], f, std::chrono::steady_clock::now() + std::chrono::milliseconds(50));
  EXPECT_EQ(r.status, wire::IoStatus::timeout);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST(IsolatedPluginHost, RoutesConfiguresAndLogsAsInProcess) {
  auto o = isolated_options();
  std::vector<std::string> logs;
  std::mutex logs_mu;
  o.log = [&](LogLevel, const std::string& logger, const std::string& m) {
    std::lock_guard lk(logs_mu);
    logs.push_back(logger + ": " + m);
  };
  o.config = [](const std::string& name) {
    return name == "specific" ? nlohmann::json{{"title_prefix", "S:"}} : nlohmann::json::object();
  };
  PluginHost host(o);
  auto problems = host.load_all();
  // The plugins' code is mapped by the worker only.
  EXPECT_FALSE(maps_contain("/hang.so"));
  EXPECT_FALSE(maps_contain("/segv.so"));
  // The same refusals as an in-process load of the same directory.
  PluginHost in_process({{VELLUM_TEST_PLUGIN_DIR}, {}, {}});
  EXPECT_EQ(problems, in_process.load_all());
  std::vector<std::string> names, expected;
  for (const auto& p : host.plugins()) names.push_back(p->info().name);
  for (const auto& p : in_process.plugins()) expected.push_back(p->info().name);
  EXPECT_EQ(names, expected);
  for (std::string url :
       {"https://www.example.com/news/1", "https://sub.example.com/x",
        "https://example.com/special/2", "http://hello.example/", "https://unrelated.test/",
        "https://notexample.com/", "http://segv.example/"}) {
    auto a = host.route(url), b = in_process.route(url);
    ASSERT_EQ(bool(a), bool(b)) << url;
    if (a) {
      EXPECT_EQ(a->info().name, b->info().name) << url;
    }
  }
  extract::PageInput in = page_input("https://example.com/special/2");
  auto r = extract::run_extraction(in, &host);
  ASSERT_TRUE(r.article);
  EXPECT_EQ(r.extractor.name, "specific");
  EXPECT_EQ(r.extractor.plugin_error, "");
  EXPECT_EQ(r.article->title, "S:https://example.com/special/2");
  std::lock_guard lk(logs_mu);
  ASSERT_FALSE(logs.empty());
  EXPECT_EQ(logs.back(), "plugin.specific: extracting https://example.com/special/2");
}

// What a plugin returns is tidied the same way in a worker as in the host's process: bytes that
// are not UTF-8 become the same U+FFFD characters either way.
TEST(IsolatedPluginHost, AnArticleIsStoredTheSameIsolatedOrNot) {
  auto o = isolated_options();
  o.config = [](const std::string&) { return nlohmann::json{{"bad_utf8", true}}; };
  PluginHost isolated(o);
  isolated.load_all();
  HostOptions in_process_options{{VELLUM_TEST_PLUGIN_DIR}, {}, {}};
  in_process_options.config = o.config;
  PluginHost in_process(in_process_options);
  in_process.load_all();
  const extract::PageInput in = page_input("https://example.com/special/2");
  const auto a = extract::run_extraction(in, &isolated);
  const auto b = extract::run_extraction(in, &in_process);
  ASSERT_TRUE(a.article && b.article);
  ASSERT_EQ(a.extractor.name, "specific");
  EXPECT_EQ(a.article->authors, b.article->authors);
  ASSERT_EQ(b.article->authors.size(), 1u);
  EXPECT_EQ(b.article->authors[0].find("Au\xEF\xBF\xBD"), 0u) << b.article->authors[0];
}

TEST(IsolatedPluginHost, EachFaultCostsOnePageAndTheWorkerIsReplaced) {
  auto o = isolated_options();
  PluginHost host(o);
  host.load_all();
  struct Case {
    std::string url;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"http://segv.example/a", "crashed on this page (SIGSEGV"},
      {"http://abort.example/a", "crashed on this page (SIGABRT"},
      {"http://hang.example/a", "did not finish this page within 2s"},
      {"http://hog.example/a", "ran out of memory on this page (worker limit 512MiB"},
      {"http://throws.example/a", "threw from extract: boom: layout changed"},
  };
  auto healthy = page_input("http://hello.example/ok");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
#if defined(__SANITIZE_ADDRESS__)
    // The worker's address-space limit is off under AddressSanitizer (see ExtractWorker.cpp),
    // so a plugin that allocates without bound would take the machine's memory.
    if (c.url.find("hog.") != std::string::npos) continue;
#endif
    auto started = std::chrono::steady_clock::now();
    auto r = extract::run_extraction(page_input(c.url), &host);
    auto took = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(r.article);
    EXPECT_EQ(r.extractor.name, "generic");
    EXPECT_NE(r.extractor.plugin_error.find(c.expected), std::string::npos)
        << r.extractor.plugin_error;
    EXPECT_EQ(r.article->title, "Hello world");
    EXPECT_LT(took, std::chrono::seconds(5));
    // The next page through a good plugin works, on a fresh worker where one was lost.
    auto h = extract::run_extraction(healthy, &host);
    ASSERT_TRUE(h.article);
    EXPECT_EQ(h.extractor.name, "hello");
    EXPECT_EQ(h.extractor.plugin_error, "");
    EXPECT_EQ(h.article->title, "Hello world");
    EXPECT_EQ(children().zombies, 0);
    EXPECT_EQ(children().alive, 1);  // max_workers = 1
  }
}

TEST(IsolatedPluginHost, PagesRunInParallelWorkersAndNoneOutliveTheHost) {
  {
    PluginHost host(isolated_options(3));
    host.load_all();
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 5; ++i) {
          auto r = extract::run_extraction(
              page_input(t == 0 && i == 2 ? "http://segv.example/x" : "http://hello.example/y"),
              &host);
          if (r.article && (r.extractor.name == "hello" || !r.extractor.plugin_error.empty())) ++ok;
        }
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok, 15);
    EXPECT_LE(children().alive, 3);
    EXPECT_EQ(children().zombies, 0);
  }
  EXPECT_EQ(children().alive, 0);
  int status = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);  // no child left to reap
}

// An idle daemon keeps no workers: they are stopped on request and started again on demand.
TEST(IsolatedPluginHost, IdleWorkersStopAndTheNextPageStartsOne) {
  PluginHost host(isolated_options());
  host.load_all();
  auto page = page_input("http://hello.example/ok");
  ASSERT_EQ(extract::run_extraction(page, &host).extractor.name, "hello");
  ASSERT_EQ(children().alive, 1);
  EXPECT_EQ(host.stop_idle_workers(), 1u);
  EXPECT_EQ(children().alive, 0);
  EXPECT_EQ(children().zombies, 0);
  auto again = extract::run_extraction(page, &host);
  EXPECT_EQ(again.extractor.name, "hello");
  EXPECT_EQ(again.extractor.plugin_error, "");
  EXPECT_EQ(children().alive, 1);
}

TEST(IsolatedPluginHost, AMissingWorkerProgramIsOneProblemAndNoPlugins) {
  auto o = isolated_options();
  o.isolation.worker_program = "/nonexistent/vellum-extract-worker";
  PluginHost host(o);
  auto problems = host.load_all();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("cannot start the plugin worker /nonexistent/vellum-extract-worker"),
            std::string::npos)
      << problems[0];
  EXPECT_TRUE(host.plugins().empty());
  auto r = extract::run_extraction(page_input("http://hello.example/"), &host);
  EXPECT_EQ(r.extractor.name, "generic");
}
