// The frontier: which URL vellumd fetches next, and when, so that no host is asked too often.
// A plain data structure on an injected clock: the daemon's event loop passes `now` into every
// call and arms its timer with next_ready(). Single-threaded, no I/O.
//
// Politeness rules it enforces, per host ("host:port"):
//  - at most `per_host_concurrency` requests in flight (and `concurrency` over all hosts); one
//    to a host with a robots.txt Crawl-delay;
//  - a gap of at least the host's delay between the end of one request and the start of the
//    next (`per_host_delay`, raised for a host by its robots.txt Crawl-delay);
//  - nothing before a time set by defer_host (429, Retry-After, repeated failures).
// Hosts wait in an ordered set keyed by the time they may next start, so push and pop cost
// O(log n) however many hosts there are. Among hosts ready at once, the one ready longest (or
// served longest ago) goes first, which serves ready hosts in turn.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace vellum::daemon {

// One URL to fetch.
struct FrontierItem {
  std::string url;
  std::string host;    // "host:port", the politeness key (stored lower-case)
  std::string source;  // name of the source that found it; empty when enqueued by hand
  int priority = 0;    // higher first within a host: 1 = new article, 0 = revisit or refresh
  int attempt = 0;     // 0 for the first try; the daemon counts retries here
  bool respect_robots = true;
  std::string plugin;  // plugin forced for this page; empty: routed by URL
  // Its robots.txt was fetched for it just now: the rules held are used even when they have
  // expired meanwhile (a host delay longer than fetch.robots_cache would refetch for ever).
  bool robots_just_fetched = false;
  std::uint64_t id = 0;  // assigned by Frontier::push
};

struct FrontierLimits {
  int concurrency = 16;  // requests in flight over all hosts
  int per_host_concurrency = 2;
  std::chrono::milliseconds per_host_delay{1000};  // end of one request to start of the next
  std::size_t max_queued = 1'000'000;              // items waiting to start; push refuses more
};

class Frontier {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;

  // Limits below 1 for either concurrency are taken as 1.
  explicit Frontier(FrontierLimits limits = {});

  // New limits (SIGHUP reload). They apply to later pops; requests in flight are left alone.
  void set_limits(FrontierLimits limits);
  const FrontierLimits& limits() const { return limits_; }

  // Queues `item` (its id is assigned here). `not_before` holds this one item back until then
  // (a retry after backoff) without holding back the host's other items. False, doing nothing,
  // when the URL is already queued or in flight, when it is empty, or when max_queued items are
  // waiting (the daemon then keeps the URL in its state store for later).
  bool push(FrontierItem item, TimePoint now, TimePoint not_before = {});

  // The next item allowed to start at `now`, marked in flight; nullopt when none may start yet.
  // Within a host: higher priority first, first in first out within a priority.
  std::optional<FrontierItem> pop(TimePoint now);

  // When pop() can next return an item: `now` when it can already, a later time when every
  // queued item waits on a delay, nullopt when nothing is queued or every queued item waits for
  // a request in flight to finish (call again after done()).
  std::optional<TimePoint> next_ready(TimePoint now) const;

  // The request for `item` (as returned by pop) finished, whatever its outcome: frees its slots
  // and starts the host's delay. Unknown or already finished items are ignored.
  void done(const FrontierItem& item, TimePoint now);

  // The host's own delay (robots.txt Crawl-delay); the host waits max(per_host_delay, delay),
  // and while it has one, gets one request at a time.
  // Remembered for the life of the frontier; zero forgets it.
  void set_host_delay(const std::string& host, std::chrono::milliseconds delay);

  // Nothing starts to `host` before `until`. A later call can extend the wait, not shorten it.
  void defer_host(const std::string& host, TimePoint until);

  std::size_t queued() const { return queued_; }               // waiting to start
  std::size_t in_flight() const { return in_flight_.size(); }  // popped, not yet done
  std::size_t hosts() const { return active_hosts_; }          // with items queued or in flight

  // Removes and returns every item not started (shutdown: the daemon persists them), grouped
  // by host, each host's items in the order they would have been fetched. Items in flight stay
  // in flight until done().
  std::vector<FrontierItem> drain_queued();

  struct HostStats {
    std::string host;
    std::size_t queued = 0;
    int in_flight = 0;
    // When the host may next start a request (possibly already past); nullopt when it has
    // nothing queued or waits for its requests in flight.
    std::optional<TimePoint> ready_at;
  };
  // Hosts with items queued or in flight, sorted by name (for `vellum status`).
  std::vector<HostStats> host_stats() const;

 private:
  // A host's place in ready_ or idle_: the time, then a sequence number unique to the host
  // (renewed each time it is served, so that hosts ready together take turns).
  struct Key {
    TimePoint at;
    std::uint64_t order = 0;
    auto operator<=>(const Key&) const = default;
  };
  enum class Place { none, ready, idle };

  struct Host {
    std::string name;
    // Items that may start once the host may: by (-priority, id).
    std::map<std::pair<int, std::uint64_t>, FrontierItem> ready;
    // Items held back by their own not_before, by (not_before, id); moved to `ready` when due.
    std::map<std::pair<TimePoint, std::uint64_t>, FrontierItem> waiting;
    TimePoint ready_since{};  // when `ready` last became non-empty
    int in_flight = 0;
    std::optional<TimePoint> last_done;  // end of the latest request
    TimePoint deferred_until = TimePoint::min();
    std::chrono::milliseconds crawl_delay{0};  // 0: none
    TimePoint served_at = TimePoint::min();    // start of the latest request
    bool active = false;                       // has items queued or in flight
    Place place = Place::none;
    Key key;
  };

  Host& host(const std::string& name);
  std::chrono::milliseconds delay_of(const Host& h) const;
  TimePoint gate_of(const Host& h) const;  // earliest start the host's delays allow
  void place(Host& h);                     // (re)files h in ready_ / idle_ after any change
  void prune(TimePoint now);               // forgets idle hosts whose delays have run out

  FrontierLimits limits_;
  std::unordered_map<std::string, Host> hosts_;  // nodes are stable: ready_ and idle_ point in
  // Hosts with queued items and a free host slot, by the time they may start.
  std::map<Key, Host*> ready_;
  // Hosts with nothing queued or in flight, kept until their delay or deferral has passed so
  // that a URL pushed meanwhile still waits for it.
  std::map<Key, Host*> idle_;
  std::unordered_set<std::string> urls_;  // queued or in flight: duplicates are refused
  struct Flight {
    Host* host;
    std::string url;
  };
  std::unordered_map<std::uint64_t, Flight> in_flight_;  // by item id
  std::size_t queued_ = 0;
  std::size_t active_hosts_ = 0;
  std::uint64_t next_id_ = 0;
  std::uint64_t next_order_ = 0;
};

}  // namespace vellum::daemon
