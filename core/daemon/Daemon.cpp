#include "daemon/Daemon.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <set>
#include <unordered_map>

#include "archive/ArchiveWriter.h"
#include "archive/CaptureArticle.h"
#include "config/ConfigLoader.h"
#include "config/Units.h"
#include "daemon/ControlServer.h"
#include "daemon/DaemonPaths.h"
#include "daemon/Frontier.h"
#include "daemon/MetricsServer.h"
#include "daemon/NetworkGuard.h"
#include "daemon/Notifier.h"
#include "daemon/RetryPolicy.h"
#include "daemon/StateStore.h"
#include "extract/PageBuilder.h"
#include "fetch/Fetcher.h"
#include "plugins/InstalledPluginDir.h"
#include "plugins/PluginHost.h"
#include "sources/FeedParser.h"
#include "sources/LinkFinder.h"
#include "sources/Robots.h"
#include "util/Text.h"
#include "util/Time.h"
#include "util/Url.h"
#include "warc/Compression.h"
#include "warc/HttpMessage.h"

namespace vellum::daemon {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Frontier priorities: discovery documents first, then new articles, then revisits.
constexpr int kDiscovery = 2;
constexpr int kNewPage = 1;
constexpr int kRevisit = 0;

constexpr std::size_t kRefillLow = 2'000;            // refill the frontier below this many queued
constexpr std::size_t kRefillBatch = 5'000;          // URLs taken from the state store at once
constexpr std::size_t kMaxDocumentsPerRun = 10'000;  // a source's sitemaps read in one run
constexpr std::uint64_t kRobotsCap = 512 << 10;      // robots.txt bytes read (RFC 9309: >= 500 KiB)
constexpr const char* kRobotsToken = "vellum";

// "scheme://host" with the port only when it is not the scheme's default.
std::string origin_of(const util::Url& u) {
  std::string o = u.scheme + "://" + u.host;
  if (u.port > 0 && u.port != (u.scheme == "https" ? 443 : 80)) o += ":" + std::to_string(u.port);
  return o;
}

bool same_origin(const std::string& a, const std::string& b) {
  const auto x = util::parse_request_url(a), y = util::parse_request_url(b);
  return x && y && origin_of(*x) == origin_of(*y);
}

std::string host_key(const util::Url& u) {
  return u.host + ":" + std::to_string(u.effective_port());
}

std::string path_and_query(const util::Url& u) {
  return u.has_query ? u.path + "?" + u.query : u.path;
}

// A duration for people: whole seconds once it is longer than ten.
std::string ms_text(milliseconds d) {
  if (d > milliseconds(10'000))
    d = std::chrono::duration_cast<std::chrono::seconds>(d + milliseconds(500));
  return config::format_duration(d);
}

// The entity body of the last hop, transfer and content coding removed; nullopt with `error`
// set when it cannot be decoded within `cap` bytes.
std::optional<std::string> decoded_body(const fetch::Exchange& hop, std::uint64_t cap,
                                        std::string& error) {
  auto head = warc::parse_http_head(hop.response_head);
  if (!head) {
    error = "the response head does not parse";
    return std::nullopt;
  }
  std::string payload = warc::body_payload(hop.response_body, *head).bytes;
  const std::string ce = warc::body_codings(head->headers);
  if (ce.empty()) return payload;
  return warc::decode_content(payload, ce, cap, &error);
}

std::string header_of(const fetch::Exchange& hop, std::string_view name) {
  auto head = warc::parse_http_head(hop.response_head);
  if (!head) return {};
  const std::string* v = head->header(name);
  return v ? *v : std::string();
}

Millis to_millis(util::TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

// One configured source and the run in progress, if any.
struct SourceRun {
  SourceRun(asio::io_context& io, config::SourceConfig c) : cfg(std::move(c)), timer(io) {}
  config::SourceConfig cfg;
  asio::steady_timer timer;
  bool running = false;
  int pending_docs = 0;             // discovery documents of this run not finished yet
  std::int64_t new_links = 0;       // URLs added by this run
  std::int64_t listed = 0;          // links the run's documents listed
  std::string error;                // first problem of this run
  int status = 0;                   // HTTP status of the source URL in this run
  std::string etag, last_modified;  // validators to keep when the run succeeds
  std::string validators_url;       // the URL they came with (a reload may change cfg.url)
  // Whether the next run may ask for the source URL only if it changed: not when this run
  // stopped at max_new_per_run (the rest of the list is still to be read) or read a sitemap
  // index (its sitemaps change behind an unchanged index).
  bool conditional_next = true;
  std::set<std::string> documents;  // discovery documents of this run, each read once
  Millis next_run = 0;
  int failing = 0;      // runs in a row that failed: the next try comes sooner than the interval
  std::string ran_for;  // planned_for() of the configuration this run started with
};

// What a source's next run is planned for: its kind, URL and interval ("feed http://… 900000";
// a source URL holds no space).
std::string planned_for(const config::SourceConfig& c) {
  return c.kind + " " + c.url + " " + std::to_string(c.interval.count());
}

// Whether two planned_for() keys read the same document (kind and URL; the interval aside).
bool same_document(const std::string& a, const std::string& b) {
  return a.substr(0, a.rfind(' ')) == b.substr(0, b.rfind(' '));
}

// When a source is due, from its state: the run planned, or at once when its kind or URL changed
// since then (as a reload does), or after its new interval when that is shorter.
Millis planned_due(const config::SourceConfig& c, const std::optional<SourceState>& st) {
  if (!st) return 0;
  const std::string now_for = planned_for(c);
  if (st->planned_for.empty() || st->planned_for == now_for) return st->next_run;
  if (!same_document(st->planned_for, now_for)) return 0;
  return st->last_run ? std::min(st->next_run, st->last_run + c.interval.count()) : st->next_run;
}

// A redirect a page's fetch did not follow, and why.
struct RedirectStop {
  std::string target;
  bool disallowed = false;  // by robots.txt; else its robots.txt is not known yet
};

struct RobotsEntry {
  sources::RobotsRules rules;
  Millis fetched = 0;  // trusted until fetch.robots_cache after this, as configured now
};

struct Daemon::Impl {
  explicit Impl(DaemonOptions o)
      : opts(std::move(o)), cfg(config::load_config(opts.config_file, config::Reader::daemon)) {}

  DaemonOptions opts;
  config::Config cfg;

  asio::io_context io;
  asio::signal_set signals{io};
  asio::steady_timer wake{io};          // the frontier's next ready time
  asio::steady_timer refill_timer{io};  // the state store's next due URL
  asio::steady_timer drain_timer{io};
  // Storing threads: started when there is work, joined when the daemon goes idle, so that an
  // idle daemon keeps no per-thread caches (compression contexts, encoding buffers, parser
  // state) and malloc can give their memory back.
  std::unique_ptr<asio::thread_pool> pool;
  std::size_t pool_threads = 2;

  asio::thread_pool& workers() {
    if (!pool) pool = std::make_unique<asio::thread_pool>(pool_threads);
    return *pool;
  }

  // A full archive disk pauses capturing: nothing new is fetched, what is due stays due, and
  // the free space is checked every few seconds; capturing resumes once there is room.
  static constexpr std::uint64_t kResumeFreeBytes = 8ull << 20;
  static constexpr auto kSpaceCheck = std::chrono::seconds(5);
  bool paused_for_space = false;
  std::string pause_reason;
  asio::steady_timer space_timer{io};

  // Runs a write of the state database. When the disk is full, capturing pauses instead and the
  // caller goes on (a source run ends and is due again, a host's waiting pages start): the
  // capture itself is durable and indexed, the URL stays due and is fetched again (a revisit)
  // once there is room, and a restart reconciles the state with the index anyway.
  template <typename Write>
  void update_state(Write&& write) {
    try {
      write();
    } catch (const std::exception& e) {
      if (!archive::out_of_space(e)) throw;
      pause_for_space(std::string("state: ") + e.what());
    }
  }

  void pause_for_space(const std::string& reason) {
    if (paused_for_space) return;
    paused_for_space = true;
    pause_reason = reason;
    spdlog::error("the archive is out of space ({}); capturing paused until {} MiB are free",
                  reason, kResumeFreeBytes >> 20);
    check_space();
  }

  void check_space() {
    struct statvfs st {};
    bool room = ::statvfs(cfg.archive.dir.c_str(), &st) == 0 &&
                static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize >= kResumeFreeBytes;
    if (room || draining) {
      paused_for_space = false;
      pause_reason.clear();
      if (!draining) spdlog::info("the archive has room again; capturing resumed");
      refill();
      return;
    }
    space_timer.expires_after(kSpaceCheck);
    space_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) check_space();
    });
  }

  std::unique_ptr<archive::ArchiveWriter> writer;
  std::unique_ptr<StateStore> state;

  std::mutex host_mu;  // guards `host` (swapped on reload, used by storing threads)
  std::shared_ptr<plugins::PluginHost> host;

  // The plugin host in effect; kept alive by the caller while it uses it, across a reload.
  std::shared_ptr<plugins::PluginHost> current_host() {
    std::lock_guard lk(host_mu);
    return host;
  }
  std::mutex forced_mu;                                 // guards `forced`
  std::unordered_map<std::string, std::string> forced;  // URL -> plugin forced by its source

  std::unique_ptr<fetch::Fetcher> fetcher;
  std::vector<std::unique_ptr<fetch::Fetcher>> retired_fetchers;  // draining after a reload
  Frontier frontier;
  std::map<std::string, std::unique_ptr<SourceRun>> sources;
  std::unordered_map<std::string, RobotsEntry> robots;
  std::unordered_map<std::string, std::vector<FrontierItem>> robots_waiting;  // by origin

  std::unique_ptr<ControlServer> control;
  std::unique_ptr<MetricsServer> metrics;
  std::unique_ptr<Notifier> notifier;

  std::mt19937_64 rng{std::random_device{}()};
  SteadyClock::time_point started = SteadyClock::now();
  bool draining = false;
  bool finished = false;
  std::size_t stores_pending = 0;
  std::size_t fetches = 0;  // requests in flight (pages, documents, robots.txt)

  // Counters for status and metrics.
  std::uint64_t captures = 0, revisits = 0, capture_errors = 0, robots_refused = 0, discovered = 0,
                source_runs = 0, source_failures = 0, reloads = 0, reload_failures = 0;

  // ---- start-up ----

  void start() {
    const auto& c = cfg;
    // Page bodies (hundreds of KiB each) get their own mappings, returned when freed, instead
    // of growing the arenas that a long idle daemon would otherwise keep.
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    archive::ArchiveDir(c.archive.dir).create_for_writing();

    archive::WriterOptions wo;
    wo.dir = c.archive.dir;
    auto compression = warc::parse_compression(c.archive.compression);
    wo.encoder.compression = *compression;  // the loader checked the name
    wo.encoder.level = c.archive.level;
    wo.rotate_bytes = c.archive.rotate_size;
    wo.prefix = c.archive.prefix;
    wo.sync = c.archive.sync == "never" ? archive::SyncPolicy::never : archive::SyncPolicy::always;
    if (c.archive.extract) {
      wo.extract = [this](const fetch::Exchange& hop,
                          const index::CaptureRow& row) -> std::optional<json> {
        std::shared_ptr<plugins::PluginHost> h = current_host();
        std::string plugin;
        {
          std::lock_guard lk(forced_mu);
          if (auto it = forced.find(hop.url); it != forced.end()) plugin = it->second;
        }
        extract::ExtractionResult r;
        auto article = archive::exchange_article(hop, row, h.get(), plugin, r);
        if (!article) spdlog::debug("{}: no article: {}", hop.url, r.skipped);
        if (!r.extractor.plugin_error.empty())
          spdlog::warn("{}: {}; used the generic extractor", hop.url, r.extractor.plugin_error);
        return article;
      };
    }
    pool_threads = std::max(2u, std::thread::hardware_concurrency());
    notifier = std::make_unique<Notifier>(io);
    // Opening an archive whose index is being upgraded or rebuilt can take minutes; each sign
    // of progress buys another half minute from systemd (TimeoutStartSec is 90 s by default).
    wo.busy = [this, told = std::make_shared<std::string>()](const std::string& what) {
      if (what != *told) spdlog::info("start-up: {}", what);
      *told = what;
      notifier->extend_start(what, std::chrono::seconds(30));
    };
    load_plugins();
    writer = archive::ArchiveWriter::open(wo, [](const std::string& m) { spdlog::info("{}", m); });
    state = std::make_unique<StateStore>(state_file_path(c));
    // The sources first: a capture stored before the last stop is marked done with the next
    // visit of its source's revisit plan.
    for (const auto& s : c.sources) add_source(s);
    reconcile_with_index();

    fetcher = std::make_unique<fetch::Fetcher>(io, fetch_options());
    frontier.set_limits(frontier_limits());

    signals.add(SIGTERM);
    signals.add(SIGINT);
    signals.add(SIGHUP);
    wait_signal();

    control = std::make_unique<ControlServer>(
        io, control_socket_path(c),
        [this](const json& req, const PeerCredentials&, ControlServer::Reply reply) {
          handle_control(req, std::move(reply));
        });
    control->start();
    start_metrics();

    refill();
    std::string summary = std::to_string(sources.size()) + " sources, archive " +
                          c.archive.dir.string() + ", control socket " + control->path().string();
    spdlog::info("vellumd {} ready: {}", VELLUM_VERSION, summary);
    notifier->ready(summary);
    notifier->start_watchdog();
  }

  fetch::FetchOptions fetch_options() const {
    const auto& f = cfg.fetch;
    fetch::FetchOptions fo;
    fo.concurrency = f.concurrency;
    fo.connect_timeout = f.connect_timeout;
    fo.total_timeout = f.timeout;
    fo.max_body_bytes = f.max_size;
    fo.max_redirects = f.max_redirects;
    fo.user_agent = f.user_agent;
    fo.resolve = f.resolve;
    fo.ca_file = f.ca_file.string();
    if (!f.allow_private_networks) {
      fo.address_filter = [](const struct sockaddr* sa) { return non_public_reason(sa).empty(); };
    }
    return fo;
  }

  FrontierLimits frontier_limits() const {
    FrontierLimits l;
    l.concurrency = cfg.fetch.concurrency;
    l.per_host_concurrency = cfg.fetch.per_host_concurrency;
    l.per_host_delay = cfg.fetch.per_host_delay;
    return l;
  }

  RetryLimits retry_limits() const {
    return {cfg.fetch.retries, cfg.fetch.backoff_initial, cfg.fetch.backoff_max};
  }

  // "a, b" for the plugins `h` holds; "none".
  static std::string plugin_names(const plugins::PluginHost* h) {
    std::string names;
    if (h)
      for (const auto& p : h->plugins()) names += (names.empty() ? "" : ", ") + p->info().name;
    return names.empty() ? "none" : names;
  }

  void load_plugins() {
    plugins::HostOptions ho;
    ho.dirs = cfg.plugins.dirs;
    ho.dirs_named = !ho.dirs.empty();
    if (ho.dirs.empty()) ho.dirs.push_back(plugins::installed_plugin_dir());
    ho.log = plugins::log_to_spdlog;
    auto tables = cfg.plugins.config;
    ho.config = [tables](const std::string& name) {
      auto it = tables.find(name);
      return it == tables.end() ? json::object() : it->second;
    };
    // Isolated, the plugins run in worker processes, as many as the threads that store
    // captures (each extracts one page at a time). A reload starts new workers with the new
    // directories; the old host's workers finish their page and are stopped when the last
    // capture using it lets go of it.
    ho.isolation.enabled = cfg.plugins.isolate;
    ho.isolation.page_timeout = cfg.plugins.page_timeout;
    ho.isolation.memory_limit = cfg.plugins.worker_memory;
    ho.isolation.max_workers = static_cast<unsigned>(pool_threads);
    auto h = std::make_shared<plugins::PluginHost>(ho);
    for (const auto& problem : h->load_all())
      spdlog::warn("plugin refused: {} (pages it would handle use the generic extractor)", problem);
    std::string names;
    for (const auto& p : h->plugins())
      names += (names.empty() ? "" : ", ") + p->info().name + " " + p->info().version;
    spdlog::info("plugins: {}{}", names.empty() ? std::string("none") : names,
                 cfg.plugins.isolate ? " (isolated in worker processes)" : " (in this process)");
    for (const auto& s : cfg.sources)
      if (!s.plugin.empty() && !h->by_name(s.plugin))
        spdlog::warn(
            "source {}: plugin '{}' is not loaded (loaded: {}); its pages get the "
            "generic extractor",
            s.name, s.plugin, plugin_names(h.get()));
    std::lock_guard lk(host_mu);
    host = std::move(h);
  }

  // A capture stored just before a crash may not have reached the state store: find it in the
  // index so that it is not captured again before it is due.
  void reconcile_with_index() {
    fs::path file = cfg.archive.dir / "index.sqlite3";
    if (!fs::exists(file)) return;
    auto idx = index::Index::open(file, false);
    auto now = unix_millis_now();
    std::size_t fixed = 0;
    StateStore::Transaction tx(*state);
    // A URL handed over a second time (its next visit moved, but still past) is skipped then:
    // its last capture is the index's.
    state->for_each_due(now, [&](const UrlState& u) {
      auto row = idx->latest(util::surt(u.url));
      if (!row) return;
      auto at = util::parse_warc_date(row->date);
      if (!at) return;
      Millis when = to_millis(*at);
      if (when <= std::max(u.last_capture, u.discovered)) return;
      state->mark_captured(u.url, when, next_visit_after(u, when));
      ++fixed;
    });
    tx.commit();
    if (fixed) spdlog::info("{} captures stored before the last stop are now marked done", fixed);
  }

  void start_metrics() {
    if (!cfg.metrics.enabled) return;
    metrics = std::make_unique<MetricsServer>(io, cfg.metrics.listen,
                                              [this] { return render_metrics(); });
    metrics->start();
    spdlog::info("metrics on http://{}/metrics", cfg.metrics.listen);
  }

  // ---- signals, reload, drain ----

  void wait_signal() {
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
      } else if (!draining) {
        spdlog::info("signal {}: draining (no new fetches; finishing {} in flight)", sig,
                     fetches + stores_pending);
        drain();
      } else {
        spdlog::warn("signal {} again: stopping now", sig);
        finish();
      }
      if (!finished) wait_signal();
    });
  }

  void reload() {
    notifier->reloading();
    spdlog::info("reloading {}", opts.config_file.string());
    config::Config next;
    try {
      next = config::load_config(opts.config_file, config::Reader::daemon);
    } catch (const std::exception& e) {
      ++reload_failures;
      spdlog::error("the new configuration is not valid; keeping the running one:\n{}", e.what());
      notifier->ready("reload failed; running with the previous configuration");
      return;
    }
    if (next.archive.dir != cfg.archive.dir || next.daemon.state_file != cfg.daemon.state_file ||
        next.daemon.socket != cfg.daemon.socket)
      spdlog::warn("archive.dir, daemon.state_file and daemon.socket change on restart only");
    next.archive.dir = cfg.archive.dir;
    next.daemon.state_file = cfg.daemon.state_file;
    next.daemon.socket = cfg.daemon.socket;
    cfg = std::move(next);
    ++reloads;

    spdlog::set_level(spdlog::level::from_str(cfg.log.level));
    load_plugins();
    // New requests go to a fetcher with the new options; the old one finishes what it has.
    retired_fetchers.push_back(std::move(fetcher));
    fetcher = std::make_unique<fetch::Fetcher>(io, fetch_options());
    prune_fetchers();
    frontier.set_limits(frontier_limits());

    // Sources: keep the timers of unchanged ones, start new ones, drop removed ones.
    std::map<std::string, const config::SourceConfig*> wanted;
    for (const auto& s : cfg.sources) wanted[s.name] = &s;
    for (auto it = sources.begin(); it != sources.end();) {
      if (!wanted.count(it->first)) {
        it->second->timer.cancel();
        spdlog::info("source {} removed", it->first);
        it = sources.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [name, s] : wanted) {
      auto it = sources.find(name);
      if (it == sources.end()) {
        add_source(*s);
      } else {
        bool moved = it->second->cfg.url != s->url || it->second->cfg.kind != s->kind ||
                     it->second->cfg.interval != s->interval;
        const bool enabled_now = s->enabled && !it->second->cfg.enabled;
        it->second->cfg = *s;
        if (!s->enabled) {
          it->second->timer.cancel();
        } else if (moved && !it->second->running) {
          arm_source(*it->second, unix_millis_now());
        } else if (enabled_now && !it->second->running) {
          arm_source(*it->second, planned_due(*s, state->source(name)));
        }
      }
    }
    metrics.reset();
    try {
      start_metrics();
    } catch (const std::exception& e) {
      spdlog::error("metrics: {}", e.what());
    }
    spdlog::info("reloaded: {} sources", sources.size());
    notifier->ready("reloaded: " + std::to_string(sources.size()) + " sources");
    refill();
  }

  void prune_fetchers() {
    std::erase_if(retired_fetchers,
                  [](const auto& f) { return f->in_flight() == 0 && f->queued() == 0; });
  }

  void drain() {
    draining = true;
    notifier->stopping();
    for (auto& [name, s] : sources) s->timer.cancel();
    wake.cancel();
    refill_timer.cancel();
    space_timer.cancel();
    // The control socket stays open while the work in flight finishes: `vellum status` shows
    // the drain ("draining": true), and enqueue is refused with the reason.
    drain_timer.expires_after(cfg.daemon.drain_timeout);
    drain_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || finished) return;
      spdlog::warn(
          "drain timeout ({}) reached with {} fetches and {} stores in flight; they "
          "stay due and are fetched again after the restart",
          ms_text(cfg.daemon.drain_timeout), fetches, stores_pending);
      finish();
    });
    check_drained();
  }

  void check_drained() {
    if (draining && !finished && fetches == 0 && stores_pending == 0) finish();
  }

  void finish() {
    if (finished) return;
    finished = true;
    boost::system::error_code ec;
    signals.cancel(ec);
    drain_timer.cancel();
    wake.cancel();
    refill_timer.cancel();
    space_timer.cancel();
    for (auto& [name, s] : sources) s->timer.cancel();
    if (control) control->close();
    metrics.reset();
    io.stop();
  }

  // ---- sources ----

  void add_source(const config::SourceConfig& s) {
    auto run = std::make_unique<SourceRun>(io, s);
    const Millis due = planned_due(s, state->source(s.name));
    auto& ref = *run;
    sources[s.name] = std::move(run);
    if (!s.enabled) return;
    arm_source(ref, due);
  }

  void arm_source(SourceRun& s, Millis due) {
    s.next_run = due;
    Millis wait = std::max<Millis>(0, due - unix_millis_now());
    s.timer.expires_after(milliseconds(wait));
    // Found again by name: a reload may have removed the source while this wait was queued.
    s.timer.async_wait([this, name = s.cfg.name](const boost::system::error_code& ec) {
      if (ec || draining) return;
      auto it = sources.find(name);
      if (it != sources.end()) run_source(*it->second);
    });
  }

  Millis jittered(milliseconds interval) {
    double j = cfg.schedule.jitter;
    std::uniform_real_distribution<double> d(1.0 - j, 1.0 + j);
    return static_cast<Millis>(static_cast<double>(interval.count()) * d(rng));
  }

  // A source's own robots setting, else fetch.robots (also for URLs enqueued by hand).
  bool respects_robots(const std::string& source) const {
    auto it = sources.find(source);
    if (it == sources.end()) return cfg.fetch.robots;
    return it->second->cfg.robots.value_or(cfg.fetch.robots);
  }

  void run_source(SourceRun& s) {
    if (s.running || draining || !s.cfg.enabled) return;
    s.running = true;
    s.pending_docs = 0;
    s.new_links = 0;
    s.listed = 0;
    s.error.clear();
    s.status = 0;
    s.conditional_next = true;
    s.documents.clear();
    s.ran_for = planned_for(s.cfg);
    ++source_runs;
    spdlog::debug("source {}: run ({})", s.cfg.name, s.cfg.url);
    if (s.cfg.kind == "url") {
      // The URL itself is captured on every run.
      Millis now = unix_millis_now();
      update_state([&] {
        if (!state->add_url(s.cfg.url, s.cfg.name, now, now, s.cfg.plugin))
          state->set_next_visit(s.cfg.url, now);
      });
      s.listed = 1;
      s.pending_docs = 1;
      source_doc_done(s, {});
      refill();
      return;
    }
    s.pending_docs = 1;
    push_document(s, s.cfg.url);
  }

  void push_document(SourceRun& s, const std::string& url) {
    // A sitemap index that lists itself, or two that list each other, is read once per run.
    if (!s.documents.insert(url).second) {
      spdlog::warn("source {}: {} is listed again in this run; read once", s.cfg.name, url);
      source_doc_done(s, {});
      return;
    }
    if (s.documents.size() > kMaxDocumentsPerRun) {
      if (s.documents.size() == kMaxDocumentsPerRun + 1)
        spdlog::warn("source {}: more than {} documents in one run; {} and the rest are not read",
                     s.cfg.name, kMaxDocumentsPerRun, url);
      source_doc_done(s, {});
      return;
    }
    std::string why;
    auto u = util::parse_request_url(url, &why);
    if (!u) {
      source_doc_done(s, "not an http(s) URL: " + url + (why.empty() ? "" : " (" + why + ")"));
      return;
    }
    FrontierItem item;
    item.url = url;
    item.host = host_key(*u);
    item.source = s.cfg.name;
    item.priority = kDiscovery;
    item.respect_robots = respects_robots(s.cfg.name);
    if (!frontier.push(item, SteadyClock::now())) {
      source_doc_done(s, {});  // already queued or being fetched
      return;
    }
    pump();
  }

  // One discovery document of a run is finished (error empty: fine).
  void source_doc_done(SourceRun& s, const std::string& error) {
    if (!error.empty() && s.error.empty()) s.error = error;
    if (--s.pending_docs > 0) return;
    s.running = false;
    Millis now = unix_millis_now();
    SourceState st = state->source(s.cfg.name).value_or(SourceState{});
    st.name = s.cfg.name;
    st.last_run = now;
    // A reload that changed the source's URL or kind while this run read the old one: the new
    // one is read at once, as when the reload comes between runs.
    const bool changed = !same_document(s.ran_for, planned_for(s.cfg));
    st.planned_for = planned_for(s.cfg);
    if (changed) {
      st.next_run = now;
      const std::string ran = s.ran_for.substr(0, s.ran_for.rfind(' '));
      spdlog::info("source {}: changed while this run read {}; running again", s.cfg.name,
                   util::terminal_safe(ran.substr(ran.find(' ') + 1)));
    } else if (s.error.empty()) {
      s.failing = 0;
      st.next_run = now + jittered(s.cfg.interval);
    } else {
      // Try again sooner than the interval: backoff_initial, doubling, up to the interval.
      auto retry = cfg.fetch.backoff_initial * (1LL << std::min(s.failing, 16));
      ++s.failing;
      st.next_run = now + jittered(std::min<milliseconds>(retry, s.cfg.interval));
    }
    st.last_status = s.status;
    st.last_error = s.error;
    st.runs += 1;
    st.links_found += s.new_links;
    if (s.error.empty()) {
      if (!s.conditional_next) {
        st.etag.clear();
        st.last_modified.clear();
      } else if (s.status != 304) {
        // The document as answered now: its validators, or none when it came without them.
        st.etag = s.etag;
        st.last_modified = s.last_modified;
        st.validators_url = s.validators_url;
      }
    } else {
      st.failures += 1;
      ++source_failures;
    }
    update_state([&] { state->put_source(st); });
    std::string next = ms_text(milliseconds(st.next_run - now));
    if (!s.error.empty()) {
      spdlog::warn("source {}: {}; next try in {}", s.cfg.name, util::terminal_safe(s.error), next);
    } else if (s.cfg.kind == "url") {
      spdlog::info("source {}: page queued for capture; next run in {}", s.cfg.name, next);
    } else if (s.status == 304) {
      spdlog::info("source {}: not modified since the last run; next run in {}", s.cfg.name, next);
    } else {
      spdlog::info("source {}: {} new URLs ({} listed); next run in {}", s.cfg.name, s.new_links,
                   s.listed, next);
    }
    s.etag.clear();
    s.last_modified.clear();
    s.validators_url.clear();
    if (!draining && s.cfg.enabled) arm_source(s, st.next_run);
  }

  void on_document(const FrontierItem& item, fetch::FetchResult r) {
    auto it = sources.find(item.source);
    if (it == sources.end()) return;  // removed by a reload
    SourceRun& s = *it->second;
    const bool root = item.url == s.cfg.url;
    int status = r.hops.empty() ? 0 : r.hops.back().status;
    if (root) s.status = status;
    if (!r.ok()) {
      source_doc_done(s, "fetching " + item.url + " failed: " + explain(r));
      return;
    }
    if (status == 304 && root) {
      source_doc_done(s, {});
      return;
    }
    const auto& hop = r.hops.back();
    if (status == 429 || status == 503) {
      auto d = decide(status, header_of(hop, "Retry-After"), 0, retry_limits(),
                      std::chrono::system_clock::now());
      frontier.defer_host(item.host, SteadyClock::now() + d.delay);
    }
    if (status < 200 || status >= 300) {
      source_doc_done(s, item.url + " answered HTTP " + std::to_string(status));
      return;
    }
    std::string error;
    auto body = decoded_body(hop, cfg.fetch.max_document_size, error);
    if (!body) {
      source_doc_done(s, item.url + ": " + error);
      return;
    }
    if (hop.truncated) {
      source_doc_done(s, item.url + " is larger than fetch.max_document_size (" +
                             config::format_size(cfg.fetch.max_document_size) + ")");
      return;
    }
    if (root) {
      s.etag = header_of(hop, "ETag");
      s.validators_url = item.url;
      s.last_modified = header_of(hop, "Last-Modified");
    }
    // Parsing a large document runs on the pool; its links come back to the loop.
    ++stores_pending;
    asio::post(workers(), [this, source = s.cfg, type = header_of(hop, "Content-Type"),
                           url = r.final_url, body = std::move(*body),
                           cap = cfg.fetch.max_document_size]() {
      sources::Discovery found;
      std::string problem;
      try {
        found = discover(source, url, type, body, cap);
      } catch (const std::exception& e) {
        problem = url + ": " + e.what();
      }
      asio::post(io, [this, name = source.name, url, found = std::move(found), problem]() mutable {
        --stores_pending;
        on_links(name, url, std::move(found), problem);
      });
    });
  }

  // The URLs a source's document leads to. For a listing page the site's plugin knows its
  // links best; without one (or when it lists none) every <a href> is a candidate, and either
  // way link_pattern decides.
  sources::Discovery discover(const config::SourceConfig& source, const std::string& url,
                              const std::string& content_type, const std::string& body,
                              std::uint64_t max_size) {
    if (source.kind != "page") return sources::parse_discovery(body, url, max_size);
    std::regex re(source.link_pattern, std::regex::ECMAScript);
    auto listed = plugin_links(source.plugin, url, content_type, body);
    sources::Discovery found;
    for (auto& l : listed.empty() ? sources::find_links(body, url, re)
                                  : sources::filter_links(listed, url, re))
      found.links.push_back({std::move(l), {}, {}});
    return found;
  }

  // The links the plugin for a listing page (the source's forced one, else the one routing
  // claims for its URL) finds on it; empty without such a plugin, or when it fails (logged).
  std::vector<std::string> plugin_links(const std::string& forced, const std::string& url,
                                        const std::string& content_type, const std::string& html) {
    std::shared_ptr<plugins::PluginHost> h = current_host();
    if (!h) return {};
    auto plugin = forced.empty() ? h->route(url) : h->by_name(forced);
    if (!plugin) return {};
    extract::PageInput in;
    in.url = url;
    if (!content_type.empty()) in.headers.push_back({"Content-Type", content_type});
    in.body = html;
    try {
      // An isolated plugin's worker parses the page itself.
      Page page = plugin->isolated() ? extract::decode_page(in) : extract::build_page(in);
      return plugin->find_links(page);
    } catch (const std::exception& e) {
      spdlog::warn("{}: plugin '{}' could not list its links: {}; used link_pattern alone", url,
                   plugin->info().name, e.what());
      return {};
    }
  }

  // The links `document` gave (its URL, after redirects), for the source named `name`.
  void on_links(const std::string& name, const std::string& document, sources::Discovery found,
                const std::string& problem) {
    auto it = sources.find(name);
    if (it == sources.end()) {  // removed by a reload; its parse freed a store slot all the same
      pump();
      check_drained();
      return;
    }
    SourceRun& s = *it->second;
    // What a document says reaches the log with its control characters escaped, and its links
    // the state in the form they are requested and recorded in: a link with a line break in it
    // can then write no line of its own into the log.
    for (const auto& w : found.warnings)
      spdlog::warn("source {}: {}: {}", name, util::terminal_safe(document),
                   util::terminal_safe(w));
    std::size_t unfetchable = 0;
    std::string first_unfetchable;
    auto to_request_form = [&](std::string& url) {
      std::string why;
      if (auto u = util::parse_request_url(url, &why)) {
        url = u->str();
        return false;
      }
      if (unfetchable++ == 0) first_unfetchable = util::terminal_safe(url) + " (" + why + ")";
      return true;
    };
    std::erase_if(found.links, [&](sources::DiscoveredLink& l) { return to_request_form(l.url); });
    std::erase_if(found.sitemaps, to_request_form);
    if (unfetchable)
      spdlog::warn("source {}: {} links cannot be fetched and were left out, the first: {}", name,
                   unfetchable, first_unfetchable);
    Millis now = unix_millis_now();
    s.listed += static_cast<std::int64_t>(found.links.size());
    std::vector<std::string> added;
    bool committed = false;
    update_state([&] {
      StateStore::Transaction tx(*state);
      for (const auto& link : found.links) {
        if (s.new_links + static_cast<std::int64_t>(added.size()) >= cfg.schedule.max_new_per_run) {
          s.conditional_next = false;
          break;
        }
        if (state->add_url(link.url, name, now, now, s.cfg.plugin)) added.push_back(link.url);
      }
      tx.commit();
      committed = true;
    });
    if (!committed) added.clear();  // rolled back: the next run finds them again
    s.new_links += static_cast<std::int64_t>(added.size());
    discovered += added.size();
    // New articles go to the frontier at once, however many URLs of other sources it holds.
    if (!draining && !paused_for_space)
      for (const auto& url : added) push_new_page(url, name, s.cfg.plugin);
    // A sitemap index lists sitemaps: each is a document of this run.
    if (!found.sitemaps.empty()) s.conditional_next = false;
    for (const auto& child : found.sitemaps) {
      if (draining) break;
      ++s.pending_docs;
      push_document(s, child);
    }
    source_doc_done(s, problem);
    refill();
    check_drained();
    release_memory_when_idle();
  }

  // ---- the frontier ----

  void refill() {
    if (draining) return;
    Millis now = unix_millis_now();
    if (frontier.queued() < kRefillLow) {
      std::size_t want = frontier.queued() + frontier.in_flight() + kRefillBatch;
      for (const auto& u : state->due_urls_by_source(now, want)) push_page(u);
    }
    arm_refill(now);
    pump();
  }

  // Due URLs beyond what the frontier holds are picked up as it empties (item_done); the timer
  // covers URLs that become due later: it is set for the earliest next visit still ahead, again
  // whenever a URL's next visit may have moved (each item done), since one still due now (in
  // the frontier, or in flight) says nothing of when the others are.
  void arm_refill(Millis now) {
    refill_timer.cancel();
    if (draining) return;
    if (auto next = state->next_due_after(now)) {
      refill_timer.expires_after(milliseconds(*next - now));
      refill_timer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) refill();
      });
    }
  }

  // A URL just added to the state (never captured, no failed tries) joins the frontier at once.
  void push_new_page(const std::string& url, const std::string& source, const std::string& plugin) {
    UrlState u;
    u.url = url;
    u.source = source;
    u.plugin = plugin;
    push_page(u);
  }

  void push_page(const UrlState& u) {
    std::string why;
    auto url = util::parse_request_url(u.url, &why);
    if (!url) {
      update_state([&] {
        state->mark_failed(u.url, why.empty() ? "not an http(s) URL" : why, std::nullopt);
      });
      return;
    }
    FrontierItem item;
    item.url = u.url;
    item.host = host_key(*url);
    item.source = u.source;
    item.priority = u.visits == 0 ? kNewPage : kRevisit;
    item.attempt = u.attempts;
    item.respect_robots = respects_robots(u.source);
    item.plugin = u.plugin;
    frontier.push(std::move(item), SteadyClock::now());
  }

  std::size_t max_pending_stores() const {
    return 2 * pool_threads + static_cast<std::size_t>(cfg.fetch.concurrency);
  }

  void pump() {
    if (draining || paused_for_space) return;
    auto now = SteadyClock::now();
    while (stores_pending < max_pending_stores()) {
      auto item = frontier.pop(now);
      if (!item) break;
      start_item(std::move(*item));
    }
    wake.cancel();
    // With the stores full, the next to finish calls pump() again; a timer now would fire at
    // once, over and over, while an item is ready.
    if (stores_pending >= max_pending_stores()) return;
    auto next = frontier.next_ready(now);
    if (next) {
      wake.expires_at(*next);
      wake.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) pump();
      });
    }
  }

  void item_done(const FrontierItem& item) {
    frontier.done(item, SteadyClock::now());
    after_item();
  }

  // An item left the frontier (or went back into it to be retried): its URL's next visit may
  // have moved.
  void after_item() {
    if (frontier.queued() < kRefillLow / 2 && !draining) {
      refill();
    } else {
      arm_refill(unix_millis_now());
      pump();
    }
    check_drained();
    release_memory_when_idle();
  }

  // Between runs the daemon sits idle for minutes: hand the memory a backfill left in malloc's
  // arenas back to the system once nothing is queued, fetched or stored.
  void release_memory_when_idle() {
    if (frontier.queued() || frontier.in_flight() || stores_pending || fetches) return;
    if (pool) {
      // Every task has reported back (stores_pending is 0); the join only waits for the
      // threads to finish unwinding those tasks and exit.
      pool->join();
      pool.reset();
    }
    // Plugin worker processes too: an idle daemon keeps none (about 14 MB each).
    std::shared_ptr<plugins::PluginHost> h = current_host();
    if (h) h->stop_idle_workers();
    malloc_trim(0);
  }

  void start_item(FrontierItem item) {
    if (draining) {  // still due in the state store: fetched after the restart
      frontier.done(item, SteadyClock::now());
      check_drained();
      return;
    }
    auto u = util::parse_request_url(item.url);
    if (item.respect_robots && u) {
      std::string origin = origin_of(*u);
      const RobotsEntry* rules = fresh_robots(origin);
      if (!rules && item.robots_just_fetched)
        if (auto it = robots.find(origin); it != robots.end()) rules = &it->second;
      item.robots_just_fetched = false;
      if (!rules) {
        auto& waiting = robots_waiting[origin];
        waiting.push_back(std::move(item));
        if (waiting.size() == 1) fetch_robots(origin);
        return;
      }
      if (!rules->rules.allowed(path_and_query(*u))) {
        refuse_by_robots(item);
        return;
      }
    }
    fetch_item(std::move(item));
  }

  // The robots.txt rules of `origin` while they are fresh (held, or kept in the state
  // database), else null.
  const RobotsEntry* fresh_robots(const std::string& origin) {
    auto it = robots.find(origin);
    if (it != robots.end() && robots_fresh(it->second.fetched)) return &it->second;
    if (!load_cached_robots(origin)) return nullptr;
    return &robots.find(origin)->second;
  }

  // Whether a robots.txt fetched at `fetched` is still trusted (fetch.robots_cache as it is
  // configured now).
  bool robots_fresh(Millis fetched) const {
    return fetched + cfg.fetch.robots_cache.count() > unix_millis_now();
  }

  bool load_cached_robots(const std::string& origin) {
    auto st = state->robots(origin);
    if (!st || !robots_fresh(st->fetched)) return false;
    install_robots(origin, *st);
    return true;
  }

  void install_robots(const std::string& origin, const RobotsState& st) {
    RobotsEntry e{sources::RobotsRules::from_response(st.status, st.body, kRobotsToken),
                  st.fetched};
    // A Crawl-delay raises the host's delay; a robots.txt without one clears an older one.
    if (auto u = util::parse_request_url(origin + "/"))
      frontier.set_host_delay(host_key(*u), e.rules.crawl_delay().value_or(milliseconds(0)));
    robots[origin] = std::move(e);
  }

  void fetch_robots(const std::string& origin) {
    fetch::RequestOptions req;
    req.max_body_bytes = kRobotsCap;
    ++fetches;
    fetcher->fetch(origin + "/robots.txt", req, [this, origin](fetch::FetchResult r) {
      --fetches;
      auto waiting = std::move(robots_waiting[origin]);
      robots_waiting.erase(origin);
      int status = r.ok() && !r.hops.empty() ? r.hops.back().status : 0;
      std::string body, error;
      if (status >= 200 && status < 300) {
        auto decoded = decoded_body(r.hops.back(), kRobotsCap * 4, error);
        if (decoded) body = std::move(*decoded);
      }
      if (status == 0 || status >= 500 || status == 429) {
        // Unreachable robots.txt means "disallow everything" for now (RFC 9309): the pages
        // wait and are tried again later, like any other failed fetch.
        std::string why = "robots.txt of " + origin + " could not be fetched: " +
                          (status ? "HTTP " + std::to_string(status) : explain(r));
        for (auto& item : waiting) on_failure(std::move(item), status, {}, why);
        return;
      }
      RobotsState st{origin, status, body, unix_millis_now()};
      update_state([&] { state->put_robots(st); });
      install_robots(origin, st);
      // robots.txt was a request to the host like any other: the pages that waited for it
      // wait the host's delay (now with its Crawl-delay) before theirs.
      auto now = SteadyClock::now();
      for (auto& item : waiting) {
        frontier.done(item, now);
        item.robots_just_fetched = true;
        if (draining || frontier.push(item, now)) continue;
        // Not queued again (the queue is full, or the URL was queued meanwhile): a page stays
        // due in the state store for a later refill; a source's document is not kept there,
        // so its run ends with the reason.
        auto it = sources.find(item.source);
        if (item.priority == kDiscovery && it != sources.end())
          source_doc_done(*it->second,
                          item.url + ": not fetched, the fetch queue is full or holds it already");
      }
      pump();
      check_drained();
    });
  }

  void refuse_by_robots(const FrontierItem& item) {
    ++robots_refused;
    std::string why = "disallowed by robots.txt (set robots = false on the source to override)";
    spdlog::info("{}: {}", item.url, why);
    if (item.priority == kDiscovery) {
      auto it = sources.find(item.source);
      frontier.done(item, SteadyClock::now());
      if (it != sources.end()) source_doc_done(*it->second, item.url + ": " + why);
      pump();
      check_drained();
      return;
    }
    update_state([&] { state->mark_given_up(item.url, why, visit_after_failure(item.url)); });
    item_done(item);
  }

  void fetch_item(FrontierItem item) {
    fetch::RequestOptions req;
    auto sit = sources.find(item.source);
    if (sit != sources.end()) {
      const auto& sc = sit->second->cfg;
      // The source's headers are for its own origin: not for a page it lists on another site,
      // nor for a redirect's target queued as a URL of its own. (The cookie file scopes each
      // cookie to its domain itself, as a browser's does.)
      if (same_origin(item.url, sc.url)) req.headers = sc.headers;
      req.cookie_file = sc.cookie_file.string();
      if (item.priority == kDiscovery) {
        req.max_body_bytes = cfg.fetch.max_document_size;
        if (item.url == sc.url) {  // conditional GET of the source document
          if (auto st = state->source(sc.name); st && st->validators_url == sc.url) {
            if (!st->etag.empty()) req.headers.emplace_back("If-None-Match", st->etag);
            if (!st->last_modified.empty())
              req.headers.emplace_back("If-Modified-Since", st->last_modified);
          }
        }
      }
    }
    // A page's redirect is followed only where robots.txt allows; one to a site whose robots.txt
    // is not known yet ends the fetch, and its target is queued as a URL of its own.
    auto stopped = std::make_shared<RedirectStop>();
    if (item.respect_robots && item.priority != kDiscovery)
      req.follow = [this, stopped](const std::string& next) {
        auto u = util::parse_request_url(next);
        if (!u) return true;  // the fetcher reports it
        const RobotsEntry* rules = fresh_robots(origin_of(*u));
        if (!rules) {
          *stopped = {next, false};
          return false;
        }
        if (rules->rules.allowed(path_and_query(*u))) return true;
        *stopped = {next, true};
        return false;
      };
    ++fetches;
    fetcher->fetch(item.url, std::move(req), [this, item, stopped](fetch::FetchResult r) mutable {
      --fetches;
      prune_fetchers();
      if (item.priority == kDiscovery) {
        frontier.done(item, SteadyClock::now());
        on_document(item, std::move(r));
        pump();
        check_drained();
        return;
      }
      if (!stopped->target.empty()) redirect_stopped(item, *stopped);
      on_page(std::move(item), std::move(r));
    });
  }

  // Where a page's redirect was not followed: to a page robots.txt disallows (noted, as a
  // refusal), or to a site whose robots.txt is not known yet (queued, to be checked first).
  void redirect_stopped(const FrontierItem& item, const RedirectStop& stop) {
    if (stop.disallowed) {
      ++robots_refused;
      spdlog::info("{}: not following the redirect to {}: disallowed by robots.txt", item.url,
                   stop.target);
      return;
    }
    Millis now = unix_millis_now();
    bool added = false;
    update_state([&] { added = state->add_url(stop.target, item.source, now, now, item.plugin); });
    if (!added) return;
    spdlog::info("{}: redirect to {} queued as a URL of its own", item.url, stop.target);
    push_new_page(stop.target, item.source, item.plugin);
  }

  // A fetcher error with the private-network guard's refusal explained.
  static std::string explain(const fetch::FetchResult& r) {
    if (r.failure != fetch::FetchResult::Failure::kRefused) return r.error;
    return r.error +
           " (private, loopback and link-local addresses are refused; set "
           "fetch.allow_private_networks = true to allow them)";
  }

  void on_page(FrontierItem item, fetch::FetchResult r) {
    int status = r.hops.empty() ? 0 : r.hops.back().status;
    if (!r.ok() && r.hops.empty()) {
      if (r.failure != fetch::FetchResult::Failure::kTransient) {
        give_up(std::move(item), explain(r));
        return;
      }
      on_failure(std::move(item), 0, {}, r.error);
      return;
    }
    if (r.ok() && (status == 429 || status >= 500)) {
      on_failure(std::move(item), status, header_of(r.hops.back(), "Retry-After"),
                 "HTTP " + std::to_string(status));
      return;
    }
    store(std::move(item), std::move(r));
  }

  // A failure that would only recur (a refused address, a bad URL or redirect): no retry, and
  // the next visit of the URL's revisit plan stays due.
  void give_up(FrontierItem item, const std::string& reason) {
    ++capture_errors;
    spdlog::warn("{}: {}", item.url, reason);
    update_state([&] { state->mark_given_up(item.url, reason, visit_after_failure(item.url)); });
    item_done(item);
  }

  // The visit after one that failed for good: the next of the revisit plan, counted from the
  // first capture, or for a URL never captured from when it was found (a new article whose site
  // was down is tried again an hour later, then a day, ..., not lost); none past the plan's end.
  // The visit of the plan that was pending counts when it is still ahead (a visit asked for by
  // hand failed); one already past (the daemon was down, the queue long) is skipped: the URL
  // would be due again at once, and fail again.
  std::optional<Millis> visit_after_failure(const std::string& url) {
    auto u = state->url(url);
    if (!u) return std::nullopt;
    const auto plan = revisit_plan(u->source);
    const Millis now = unix_millis_now();
    Millis first = u->first_capture ? u->first_capture : u->last_capture;
    if (u->visits == 0) first = u->discovered ? u->discovered : now;
    const auto from = static_cast<std::size_t>(std::max(u->visits - 1, 0));
    for (auto i = from; i < plan.size(); ++i)
      if (first + plan[i].count() > now) return first + plan[i].count();
    return std::nullopt;
  }

  void on_failure(FrontierItem item, int status, const std::string& retry_after,
                  const std::string& reason) {
    auto d =
        decide(status, retry_after, item.attempt, retry_limits(), std::chrono::system_clock::now());
    auto now = SteadyClock::now();
    if (d.defer_host) frontier.defer_host(item.host, now + d.delay);
    ++capture_errors;
    if (item.priority == kDiscovery) {
      frontier.done(item, now);
      auto it = sources.find(item.source);
      if (it != sources.end()) source_doc_done(*it->second, reason);
      pump();
      check_drained();
      return;
    }
    frontier.done(item, now);
    if (d.retry) {
      spdlog::warn("{}: {}; retry {} in {}", item.url, reason, item.attempt + 1, ms_text(d.delay));
      update_state(
          [&] { state->mark_failed(item.url, reason, unix_millis_now() + d.delay.count()); });
      item.attempt += 1;
      frontier.push(item, now, now + d.delay);
    } else {
      spdlog::warn("{}: {}; giving up ({})", item.url, reason, d.reason);
      update_state([&] {
        state->mark_given_up(item.url, reason + "; " + d.reason, visit_after_failure(item.url));
      });
    }
    after_item();
  }

  std::vector<milliseconds> revisit_plan(const std::string& source) const {
    auto it = sources.find(source);
    if (it == sources.end()) return {};            // enqueued by hand: captured once
    if (it->second->cfg.kind == "url") return {};  // the source's own interval re-captures it
    return it->second->cfg.revisit.value_or(cfg.schedule.revisit);
  }

  // When to capture a URL again after a capture at `when` (its visits not yet counted): the
  // next visit of the plan still ahead. Those whose time passed meanwhile (the daemon was down,
  // the queue long) are skipped: one capture stands for them, rather than one each in a row.
  std::optional<Millis> next_visit_after(const UrlState& u, Millis when) const {
    auto plan = revisit_plan(u.source);
    Millis first = u.first_capture ? u.first_capture : when;
    // plan[visits - 1] was the visit this capture made; a first capture made none of the plan.
    for (auto i = static_cast<std::size_t>(u.visits); i < plan.size(); ++i)
      if (first + plan[i].count() > when) return first + plan[i].count();
    return std::nullopt;
  }

  void store(FrontierItem item, fetch::FetchResult r) {
    if (!item.plugin.empty()) {
      std::lock_guard lk(forced_mu);
      for (const auto& hop : r.hops) forced[hop.url] = item.plugin;
    }
    ++stores_pending;
    asio::post(workers(), [this, item = std::move(item), r = std::move(r)]() mutable {
      archive::StoreResult s;
      std::string error;
      bool no_space = false;
      try {
        s = writer->store(r);
      } catch (const std::exception& e) {
        error = e.what();
        no_space = archive::out_of_space(e);
      }
      if (!item.plugin.empty()) {
        std::lock_guard lk(forced_mu);
        for (const auto& hop : r.hops) forced.erase(hop.url);
      }
      asio::post(io, [this, item = std::move(item), s = std::move(s), error, no_space,
                      fetch_error = explain(r), fetch_failure = r.failure]() mutable {
        --stores_pending;
        if (no_space) {
          // Not the URL's fault: it stays due, untouched, and is fetched again once the
          // archive has room.
          ++capture_errors;
          pause_for_space(item.url + ": " + error);
          item_done(item);
          return;
        }
        on_stored(std::move(item), s, error, fetch_error, fetch_failure);
      });
    });
  }

  void on_stored(FrontierItem item, const archive::StoreResult& s, const std::string& error,
                 const std::string& fetch_error, fetch::FetchResult::Failure fetch_failure) {
    Millis now = unix_millis_now();
    if (!error.empty()) {
      ++capture_errors;
      spdlog::error("{}: could not store the capture: {}", item.url, error);
      update_state([&] {
        state->mark_failed(item.url, "could not store the capture: " + error,
                           now + cfg.fetch.backoff_initial.count());
      });
      item_done(item);
      return;
    }
    if (!fetch_error.empty()) {
      // Redirect hops were stored; the chain then failed.
      if (fetch_failure != fetch::FetchResult::Failure::kTransient)
        give_up(std::move(item), fetch_error);
      else
        on_failure(std::move(item), 0, {}, fetch_error);
      return;
    }
    update_state([&] {
      auto u = state->url(item.url);
      if (!u) {  // enqueued by hand before the state knew it
        state->add_url(item.url, item.source, now, now, item.plugin);
        u = state->url(item.url);
      }
      state->mark_captured(item.url, now, u ? next_visit_after(*u, now) : std::nullopt);
    });
    if (!s.hops.empty()) {
      const auto& last = s.hops.back();
      ++captures;
      if (last.revisit) ++revisits;
      spdlog::info("captured {} {} {}{}{}", last.capture_id, last.status, item.url,
                   last.revisit ? " (unchanged: revisit)" : "",
                   last.title.empty() ? "" : "  " + last.title);
    }
    item_done(item);
  }

  // ---- control socket ----

  void handle_control(const json& req, ControlServer::Reply reply) {
    std::string command = req.value("command", "");
    try {
      if (command == "status") {
        reply(status_json());
      } else if (command == "sources") {
        reply(sources_json());
      } else if (command == "enqueue") {
        reply(enqueue(req));
      } else {
        reply({{"ok", false},
               {"error",
                "unknown command '" + command + "'; expected one of: status, sources, enqueue"}});
      }
    } catch (const std::exception& e) {
      reply({{"ok", false}, {"error", e.what()}});
    }
  }

  json source_json(const SourceRun& s) {
    json j{{"name", s.cfg.name},       {"kind", s.cfg.kind},
           {"url", s.cfg.url},         {"interval", ms_text(s.cfg.interval)},
           {"enabled", s.cfg.enabled}, {"running", s.running}};
    if (!s.cfg.plugin.empty()) j["plugin"] = s.cfg.plugin;
    if (!s.cfg.link_pattern.empty()) j["link_pattern"] = s.cfg.link_pattern;
    if (auto st = state->source(s.cfg.name)) {
      j["next_run"] = st->next_run
                          ? json(util::warc_date(util::TimePoint(milliseconds(st->next_run))))
                          : json();
      j["last_run"] = st->last_run
                          ? json(util::warc_date(util::TimePoint(milliseconds(st->last_run))))
                          : json();
      // A url source fetches no document of its own (its page is a capture like any other).
      j["last_status"] = st->last_status ? json(st->last_status) : json();
      j["last_error"] = st->last_error;
      j["runs"] = st->runs;
      j["failures"] = st->failures;
      j["urls_found"] = st->links_found;
    } else {
      j["next_run"] = s.cfg.enabled ? json("now") : json();
    }
    return j;
  }

  json sources_json() {
    json list = json::array();
    for (auto& [name, s] : sources) list.push_back(source_json(*s));
    return {{"ok", true}, {"sources", list}};
  }

  json status_json() {
    auto counts = state->counts(unix_millis_now());
    json hosts = json::array();
    for (const auto& h : frontier.host_stats())
      hosts.push_back({{"host", h.host}, {"queued", h.queued}, {"in_flight", h.in_flight}});
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - started);
    return {{"ok", true},
            {"version", VELLUM_VERSION},
            {"pid", ::getpid()},
            {"uptime_seconds", uptime.count()},
            {"archive", cfg.archive.dir.string()},
            {"draining", draining},
            {"paused", paused_for_space ? json(pause_reason) : json(nullptr)},
            {"queue",
             {{"queued", frontier.queued()},
              {"in_flight", frontier.in_flight()},
              {"storing", stores_pending},
              {"hosts", frontier.hosts()},
              {"due", counts.due}}},
            {"urls",
             {{"known", counts.urls}, {"captured", counts.captured}, {"given_up", counts.failed}}},
            {"captures", captures},
            {"revisits", revisits},
            {"errors", capture_errors},
            {"robots_refused", robots_refused},
            {"sources", sources_json()["sources"]},
            {"busiest_hosts", hosts}};
  }

  json enqueue(const json& req) {
    if (draining) return {{"ok", false}, {"error", "vellumd is shutting down"}};
    if (!req.contains("urls") || !req["urls"].is_array())
      return {{"ok", false}, {"error", "enqueue needs \"urls\": [...]"}};
    json accepted = json::array(), rejected = json::array();
    Millis now = unix_millis_now();
    std::string plugin = req.value("plugin", "");
    if (!plugin.empty()) {
      std::shared_ptr<plugins::PluginHost> h = current_host();
      if (!h || !h->by_name(plugin))
        return {{"ok", false},
                {"error", "no plugin named '" + plugin + "' is loaded (loaded: " +
                              plugin_names(h.get()) + "); nothing was queued"}};
    }
    for (const auto& v : req["urls"]) {
      std::string url = v.is_string() ? v.get<std::string>() : v.dump();
      std::string why;
      auto u = util::parse_request_url(url, &why);
      if (!u) {
        rejected.push_back(
            {{"url", url}, {"error", why.empty() ? "not an absolute http(s) URL" : why}});
        continue;
      }
      url = u->str();  // as it is requested and recorded
      if (!state->add_url(url, "", now, now, plugin)) state->set_next_visit(url, now);
      accepted.push_back(url);
      spdlog::info("enqueued {}", url);
    }
    refill();
    return {{"ok", true}, {"queued", accepted}, {"rejected", rejected}};
  }

  // ---- metrics ----

  std::string render_metrics() {
    MetricsText m;
    m.add_counter("vellum_captures_total", "Captures stored.", static_cast<double>(captures));
    m.add_counter("vellum_revisits_total", "Captures stored as revisit records (unchanged).",
                  static_cast<double>(revisits));
    m.add_counter("vellum_capture_errors_total", "Fetches or stores that failed.",
                  static_cast<double>(capture_errors));
    m.add_counter("vellum_robots_refused_total", "URLs not fetched because robots.txt forbids.",
                  static_cast<double>(robots_refused));
    m.add_counter("vellum_urls_discovered_total", "New URLs found by sources.",
                  static_cast<double>(discovered));
    m.add_counter("vellum_source_runs_total", "Source runs started.",
                  static_cast<double>(source_runs));
    m.add_counter("vellum_source_failures_total", "Source runs that failed.",
                  static_cast<double>(source_failures));
    m.add_counter("vellum_reloads_total", "Configuration reloads applied.",
                  static_cast<double>(reloads));
    m.add_gauge("vellum_frontier_queued", "URLs waiting to be fetched.",
                static_cast<double>(frontier.queued()));
    m.add_gauge("vellum_frontier_in_flight", "Fetches in flight.",
                static_cast<double>(frontier.in_flight()));
    m.add_gauge("vellum_store_pending", "Captures being stored.",
                static_cast<double>(stores_pending));
    m.add_gauge("vellum_sources", "Configured sources.", static_cast<double>(sources.size()));
    return m.str();
  }
};

Daemon::Daemon(DaemonOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Daemon::~Daemon() = default;

const config::Config& Daemon::config() const {
  return impl_->cfg;
}

int Daemon::run() {
  impl_->start();
  for (;;) {
    try {
      impl_->io.run();
      break;
    } catch (const std::exception& e) {
      // Any write of the state or index that found the disk full (a source run recording new
      // URLs, say) pauses capturing instead of stopping the daemon; the loop goes on.
      if (!archive::out_of_space(e)) throw;
      spdlog::error("{}", e.what());
      impl_->pause_for_space(e.what());
    }
  }
  if (impl_->pool) impl_->pool->join();
  impl_->writer->close();
  spdlog::info("vellumd stopped: {} captures this run", impl_->captures);
  return 0;
}

}  // namespace vellum::daemon
