#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "daemon/Frontier.h"

using namespace vellum::daemon;
using namespace std::chrono_literals;

namespace {

using TimePoint = Frontier::TimePoint;

// A fake clock: plain time points the tests move forward by hand.
const TimePoint t0 = TimePoint{} + 24h;

FrontierItem item(const std::string& url, const std::string& host, int priority = 0) {
  FrontierItem i;
  i.url = url;
  i.host = host;
  i.priority = priority;
  return i;
}

FrontierLimits limits(int concurrency, int per_host, std::chrono::milliseconds delay) {
  FrontierLimits l;
  l.concurrency = concurrency;
  l.per_host_concurrency = per_host;
  l.per_host_delay = delay;
  return l;
}

}  // namespace

TEST(Frontier, PerHostDelayRunsFromTheEndOfTheLastRequest) {
  Frontier f(limits(16, 1, 1000ms));
  ASSERT_TRUE(f.push(item("http://a.test/1", "a.test:80"), t0));
  ASSERT_TRUE(f.push(item("http://a.test/2", "a.test:80"), t0));

  auto first = f.pop(t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->url, "http://a.test/1");
  // The one host slot is taken: nothing can start until the request ends.
  EXPECT_FALSE(f.pop(t0 + 10s));
  EXPECT_FALSE(f.next_ready(t0 + 10s));

  f.done(*first, t0 + 300ms);
  EXPECT_EQ(f.next_ready(t0 + 300ms), t0 + 1300ms);
  EXPECT_FALSE(f.pop(t0 + 1299ms));
  auto second = f.pop(t0 + 1300ms);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->url, "http://a.test/2");
}

TEST(Frontier, DelayOutlivesTheHostsQueue) {
  // A host whose queue ran empty still waits out its delay for the next URL pushed.
  Frontier f(limits(16, 1, 1000ms));
  ASSERT_TRUE(f.push(item("http://a.test/1", "a.test:80"), t0));
  auto first = f.pop(t0);
  ASSERT_TRUE(first);
  f.done(*first, t0 + 100ms);
  EXPECT_EQ(f.hosts(), 0u);

  ASSERT_TRUE(f.push(item("http://a.test/2", "a.test:80"), t0 + 500ms));
  EXPECT_FALSE(f.pop(t0 + 500ms));
  EXPECT_EQ(f.next_ready(t0 + 500ms), t0 + 1100ms);
  EXPECT_TRUE(f.pop(t0 + 1100ms));
}

TEST(Frontier, PerHostConcurrencyIsRespected) {
  Frontier f(limits(16, 2, 0ms));
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(f.push(item("http://a.test/" + std::to_string(i), "a.test:80"), t0));
  auto a = f.pop(t0);
  auto b = f.pop(t0);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(f.pop(t0));
  EXPECT_FALSE(f.next_ready(t0));
  EXPECT_EQ(f.in_flight(), 2u);
  EXPECT_EQ(f.queued(), 1u);

  f.done(*a, t0 + 1s);
  EXPECT_EQ(f.next_ready(t0 + 1s), t0 + 1s);
  EXPECT_TRUE(f.pop(t0 + 1s));
}

TEST(Frontier, GlobalConcurrencyIsRespected) {
  Frontier f(limits(3, 2, 0ms));
  for (int i = 0; i < 5; ++i) {
    std::string host = "h" + std::to_string(i) + ".test:443";
    ASSERT_TRUE(f.push(item("https://" + host + "/", host), t0));
  }
  std::vector<FrontierItem> started;
  while (auto it = f.pop(t0)) started.push_back(*it);
  EXPECT_EQ(started.size(), 3u);
  EXPECT_FALSE(f.next_ready(t0));

  f.done(started[0], t0 + 1s);
  EXPECT_EQ(f.next_ready(t0 + 1s), t0 + 1s);
  EXPECT_TRUE(f.pop(t0 + 1s));
  EXPECT_FALSE(f.pop(t0 + 1s));
}

TEST(Frontier, ReadyHostsTakeTurns) {
  Frontier f(limits(100, 100, 0ms));
  for (const char* host : {"a", "b", "c"})
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(f.push(item(std::string("http://") + host + "/" + std::to_string(i), host), t0));
  std::string order;
  while (auto it = f.pop(t0)) order += it->host;
  EXPECT_EQ(order, "abcabcabc");
}

TEST(Frontier, TheHostReadyLongestGoesFirst) {
  Frontier f(limits(16, 1, 1000ms));
  ASSERT_TRUE(f.push(item("http://a/1", "a"), t0));
  ASSERT_TRUE(f.push(item("http://b/1", "b"), t0));
  auto a = f.pop(t0);
  auto b = f.pop(t0);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(f.push(item("http://a/2", "a"), t0));
  ASSERT_TRUE(f.push(item("http://b/2", "b"), t0));
  f.done(*a, t0 + 1000ms);  // a may start again at +2000ms
  f.done(*b, t0 + 500ms);   // b at +1500ms
  EXPECT_EQ(f.next_ready(t0 + 1000ms), t0 + 1500ms);
  auto next = f.pop(t0 + 3s);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->host, "b");
  next = f.pop(t0 + 3s);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->host, "a");
}

TEST(Frontier, HigherPriorityFirstWithinAHostThenFirstInFirstOut) {
  Frontier f(limits(16, 16, 0ms));
  ASSERT_TRUE(f.push(item("http://a/revisit1", "a", 0), t0));
  ASSERT_TRUE(f.push(item("http://a/new1", "a", 1), t0));
  ASSERT_TRUE(f.push(item("http://a/revisit2", "a", 0), t0));
  ASSERT_TRUE(f.push(item("http://a/new2", "a", 1), t0));
  std::vector<std::string> order;
  while (auto it = f.pop(t0)) order.push_back(it->url);
  EXPECT_EQ(order, (std::vector<std::string>{"http://a/new1", "http://a/new2", "http://a/revisit1",
                                             "http://a/revisit2"}));
}

TEST(Frontier, DuplicatesAreRefusedWhileQueuedOrInFlight) {
  Frontier f(limits(16, 2, 0ms));
  ASSERT_TRUE(f.push(item("http://a/x", "a"), t0));
  EXPECT_FALSE(f.push(item("http://a/x", "a", 1), t0));  // queued
  EXPECT_EQ(f.queued(), 1u);
  auto x = f.pop(t0);
  ASSERT_TRUE(x);
  EXPECT_FALSE(f.push(item("http://a/x", "a"), t0));  // in flight
  EXPECT_EQ(f.queued(), 0u);
  f.done(*x, t0 + 1s);
  EXPECT_TRUE(f.push(item("http://a/x", "a"), t0 + 1s));  // finished: may be queued again
  EXPECT_FALSE(f.push(item("", "a"), t0 + 1s));
}

TEST(Frontier, PushAssignsDistinctIds) {
  Frontier f(limits(16, 16, 0ms));
  ASSERT_TRUE(f.push(item("http://a/1", "a"), t0));
  ASSERT_TRUE(f.push(item("http://a/2", "a"), t0));
  auto one = f.pop(t0);
  auto two = f.pop(t0);
  ASSERT_TRUE(one && two);
  EXPECT_NE(one->id, two->id);
  // done() twice for one item frees its slots once.
  f.done(*one, t0);
  f.done(*one, t0);
  EXPECT_EQ(f.in_flight(), 1u);
}

TEST(Frontier, DeferHostBlocksUntilTheTimeGiven) {
  Frontier f(limits(16, 2, 0ms));
  ASSERT_TRUE(f.push(item("http://a/1", "a:80"), t0));
  ASSERT_TRUE(f.push(item("http://b/1", "b:80"), t0));
  f.defer_host("a:80", t0 + 60s);

  auto only = f.pop(t0);
  ASSERT_TRUE(only);
  EXPECT_EQ(only->host, "b:80");  // other hosts are not held up
  EXPECT_FALSE(f.pop(t0));
  EXPECT_EQ(f.next_ready(t0), t0 + 60s);

  f.defer_host("a:80", t0 + 10s);  // a shorter wait does not cut the longer one
  EXPECT_FALSE(f.pop(t0 + 59s));
  EXPECT_EQ(f.next_ready(t0 + 59s), t0 + 60s);
  EXPECT_TRUE(f.pop(t0 + 60s));
}

TEST(Frontier, DeferringAHostWithNothingQueuedHoldsLaterPushes) {
  Frontier f(limits(16, 2, 0ms));
  f.defer_host("A.test:443", t0 + 30s);  // host keys are compared in lower case
  ASSERT_TRUE(f.push(item("https://a.test/", "a.test:443"), t0 + 1s));
  EXPECT_FALSE(f.pop(t0 + 1s));
  EXPECT_EQ(f.next_ready(t0 + 1s), t0 + 30s);
  EXPECT_TRUE(f.pop(t0 + 30s));
}

TEST(Frontier, NextReadyInEachCase) {
  Frontier f(limits(16, 1, 2000ms));
  EXPECT_FALSE(f.next_ready(t0));  // empty

  ASSERT_TRUE(f.push(item("http://a/1", "a"), t0));
  EXPECT_EQ(f.next_ready(t0), t0);  // ready now

  ASSERT_TRUE(f.push(item("http://b/1", "b"), t0, t0 + 45s));  // held back by itself
  auto a = f.pop(t0);
  ASSERT_TRUE(a);
  EXPECT_EQ(f.next_ready(t0), t0 + 45s);

  ASSERT_TRUE(f.push(item("http://a/2", "a"), t0));
  EXPECT_EQ(f.next_ready(t0), t0 + 45s);  // a waits on its request in flight
  f.done(*a, t0 + 1s);
  EXPECT_EQ(f.next_ready(t0 + 1s), t0 + 3s);  // then on its delay

  auto a2 = f.pop(t0 + 3s);
  ASSERT_TRUE(a2);
  EXPECT_EQ(a2->url, "http://a/2");
  auto b = f.pop(t0 + 45s);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->url, "http://b/1");
  EXPECT_FALSE(f.next_ready(t0 + 45s));  // only requests in flight remain
}

TEST(Frontier, AnItemHeldBackDoesNotHoldBackItsHost) {
  Frontier f(limits(16, 1, 0ms));
  ASSERT_TRUE(f.push(item("http://a/retry", "a", 1), t0, t0 + 30s));
  ASSERT_TRUE(f.push(item("http://a/fresh", "a", 0), t0));
  auto fresh = f.pop(t0);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->url, "http://a/fresh");
  f.done(*fresh, t0 + 1s);
  EXPECT_FALSE(f.pop(t0 + 29s));
  EXPECT_EQ(f.next_ready(t0 + 29s), t0 + 30s);
  auto retry = f.pop(t0 + 30s);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->url, "http://a/retry");
}

TEST(Frontier, CrawlDelayRaisesOneHostsDelay) {
  Frontier f(limits(16, 1, 1000ms));
  f.set_host_delay("slow:80", 5000ms);
  f.set_host_delay("fast:80", 200ms);  // below the configured delay: the configured one holds
  for (const char* host : {"slow:80", "fast:80"}) {
    ASSERT_TRUE(f.push(item(std::string("http://") + host + "/1", host), t0));
    ASSERT_TRUE(f.push(item(std::string("http://") + host + "/2", host), t0));
  }
  std::map<std::string, FrontierItem> started;
  while (auto it = f.pop(t0)) started[it->host] = *it;
  ASSERT_EQ(started.size(), 2u);
  f.done(started["slow:80"], t0 + 1s);
  f.done(started["fast:80"], t0 + 1s);

  auto next = f.pop(t0 + 2s);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->host, "fast:80");
  EXPECT_FALSE(f.pop(t0 + 5999ms));
  EXPECT_EQ(f.next_ready(t0 + 5999ms), t0 + 6s);
  next = f.pop(t0 + 6s);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->host, "slow:80");
}

TEST(Frontier, AHostWithACrawlDelayGetsOneRequestAtATime) {
  Frontier f(limits(16, 4, 1000ms));
  f.set_host_delay("slow:80", 10s);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(f.push(item("http://slow/" + std::to_string(i), "slow:80"), t0));
  auto one = f.pop(t0);
  ASSERT_TRUE(one);
  EXPECT_FALSE(f.pop(t0)) << "a second slot would start beside the first";
  f.done(*one, t0 + 1s);
  EXPECT_FALSE(f.pop(t0 + 10999ms));
  EXPECT_TRUE(f.pop(t0 + 11s));
  // Without the delay the host has its slots back.
  f.set_host_delay("slow:80", 0ms);
  f.set_limits(limits(16, 4, 0ms));
  EXPECT_TRUE(f.pop(t0 + 11s));
}

TEST(Frontier, CrawlDelayIsKeptWhileTheHostIsIdle) {
  Frontier f(limits(16, 1, 1000ms));
  f.set_host_delay("slow:80", 10s);
  ASSERT_TRUE(f.push(item("http://slow/1", "slow:80"), t0));
  auto one = f.pop(t0);
  ASSERT_TRUE(one);
  f.done(*one, t0);
  // Long after, with the queue empty in between, the host's own delay still applies.
  ASSERT_TRUE(f.push(item("http://slow/2", "slow:80"), t0 + 1h));
  auto two = f.pop(t0 + 1h);
  ASSERT_TRUE(two);
  f.done(*two, t0 + 1h);
  ASSERT_TRUE(f.push(item("http://slow/3", "slow:80"), t0 + 1h));
  EXPECT_EQ(f.next_ready(t0 + 1h), t0 + 1h + 10s);
}

TEST(Frontier, NewLimitsApplyToLaterPops) {
  Frontier f(limits(16, 1, 1000ms));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(f.push(item("http://a/" + std::to_string(i), "a"), t0));
  auto first = f.pop(t0);
  ASSERT_TRUE(first);
  EXPECT_FALSE(f.pop(t0));

  f.set_limits(limits(16, 3, 1000ms));  // more slots per host
  EXPECT_TRUE(f.pop(t0));
  EXPECT_TRUE(f.pop(t0));
  EXPECT_FALSE(f.pop(t0));

  f.done(*first, t0 + 1s);
  f.set_limits(limits(16, 3, 5000ms));  // a longer delay counts from the same request end
  EXPECT_EQ(f.next_ready(t0 + 1s), t0 + 6s);
  f.set_limits(limits(2, 3, 0ms));  // fewer slots overall than in flight: nothing starts
  EXPECT_FALSE(f.pop(t0 + 10s));
  EXPECT_FALSE(f.next_ready(t0 + 10s));
}

TEST(Frontier, MaxQueuedRefusesMore) {
  FrontierLimits l = limits(16, 1, 0ms);
  l.max_queued = 3;
  Frontier f(l);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.push(item("http://a/" + std::to_string(i), "a"), t0));
  EXPECT_FALSE(f.push(item("http://a/3", "a"), t0));
  EXPECT_EQ(f.queued(), 3u);
  ASSERT_TRUE(f.pop(t0));  // started items no longer count as queued
  EXPECT_TRUE(f.push(item("http://a/3", "a"), t0));
}

TEST(Frontier, DrainQueuedReturnsEverythingNotStarted) {
  Frontier f(limits(16, 1, 1000ms));
  std::set<std::string> pushed;
  for (const char* host : {"a", "b", "c"})
    for (int i = 0; i < 3; ++i) {
      std::string url = std::string("http://") + host + "/" + std::to_string(i);
      FrontierItem it = item(url, host, i % 2);
      it.source = "feed-" + std::string(host);
      it.attempt = i;
      ASSERT_TRUE(f.push(it, t0, i == 2 ? t0 + 1h : TimePoint{}));
      pushed.insert(url);
    }
  auto started = f.pop(t0);
  ASSERT_TRUE(started);

  std::vector<FrontierItem> left = f.drain_queued();
  std::set<std::string> urls;
  for (const FrontierItem& it : left) {
    urls.insert(it.url);
    EXPECT_EQ(it.source, "feed-" + it.host);  // items come back whole
    EXPECT_EQ(it.priority, it.attempt % 2);
  }
  pushed.erase(started->url);
  EXPECT_EQ(urls, pushed);
  EXPECT_EQ(f.queued(), 0u);
  EXPECT_EQ(f.in_flight(), 1u);
  EXPECT_FALSE(f.next_ready(t0));

  // Drained URLs may be pushed again; the one in flight still may not.
  EXPECT_TRUE(f.push(left.front(), t0));
  EXPECT_FALSE(f.push(*started, t0));
  f.done(*started, t0 + 1s);
  EXPECT_EQ(f.in_flight(), 0u);
}

TEST(Frontier, CountsAndHostStats) {
  Frontier f(limits(16, 1, 1000ms));
  ASSERT_TRUE(f.push(item("http://a/1", "a"), t0));
  ASSERT_TRUE(f.push(item("http://a/2", "a"), t0));
  ASSERT_TRUE(f.push(item("http://b/1", "b"), t0));
  ASSERT_TRUE(f.push(item("http://c/1", "c"), t0, t0 + 1min));
  EXPECT_EQ(f.hosts(), 3u);
  EXPECT_EQ(f.queued(), 4u);

  auto a = f.pop(t0);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->host, "a");
  auto stats = f.host_stats();
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].host, "a");
  EXPECT_EQ(stats[0].queued, 1u);
  EXPECT_EQ(stats[0].in_flight, 1);
  EXPECT_FALSE(stats[0].ready_at);  // waits for its request in flight
  EXPECT_EQ(stats[1].host, "b");
  EXPECT_EQ(stats[1].ready_at, t0);
  EXPECT_EQ(stats[2].host, "c");
  EXPECT_EQ(stats[2].ready_at, t0 + 1min);

  f.done(*a, t0 + 1s);
  stats = f.host_stats();
  EXPECT_EQ(stats[0].in_flight, 0);
  EXPECT_EQ(stats[0].ready_at, t0 + 2s);
  EXPECT_EQ(f.in_flight(), 0u);
}

namespace {

// Runs the frontier like the daemon's loop: start all that may start, finish each request
// `duration` later, jump the clock to the next event. Checks every politeness rule on the way.
struct Simulation {
  Frontier& frontier;
  FrontierLimits limits;
  std::chrono::milliseconds duration;

  std::size_t run(TimePoint now) {
    std::multimap<TimePoint, FrontierItem> running;  // by end time
    std::map<std::string, TimePoint> last_end;
    std::map<std::string, int> per_host;
    std::size_t finished = 0;
    while (true) {
      while (auto it = frontier.pop(now)) {
        auto end = last_end.find(it->host);
        if (end != last_end.end()) {
          EXPECT_GE(now - end->second, limits.per_host_delay);
        }
        EXPECT_LE(++per_host[it->host], limits.per_host_concurrency);
        EXPECT_LE(running.size() + 1, static_cast<std::size_t>(limits.concurrency));
        running.emplace(now + duration, std::move(*it));
      }
      auto next = frontier.next_ready(now);
      if (running.empty() && !next) break;
      if (next && *next <= now) {
        ADD_FAILURE() << "next_ready says ready now but pop gave nothing";
        break;
      }
      if (!running.empty() && (!next || running.begin()->first <= *next)) {
        now = running.begin()->first;
        FrontierItem done = std::move(running.begin()->second);
        running.erase(running.begin());
        frontier.done(done, now);
        --per_host[done.host];
        last_end[done.host] = now;
        ++finished;
      } else {
        now = *next;
      }
    }
    return finished;
  }
};

}  // namespace

TEST(Frontier, ManyHostsStayFastAndPolite) {
  FrontierLimits l = limits(16, 2, 1000ms);
  Frontier f(l);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20'000; ++i) {
    std::string host = "h" + std::to_string(i % 1000) + ".test:443";
    ASSERT_TRUE(f.push(item("https://" + host + "/" + std::to_string(i), host, i % 2), t0));
  }
  EXPECT_EQ(f.hosts(), 1000u);
  Simulation sim{f, l, 150ms};
  EXPECT_EQ(sim.run(t0), 20'000u);
  EXPECT_EQ(f.queued(), 0u);
  EXPECT_EQ(f.in_flight(), 0u);
  EXPECT_EQ(f.hosts(), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST(Frontier, OneBusyHostStaysFastAndPolite) {
  FrontierLimits l = limits(16, 2, 1000ms);
  Frontier f(l);
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 20'000; ++i)
    ASSERT_TRUE(f.push(item("https://one.test/" + std::to_string(i), "one.test:443", i % 3), t0));
  Simulation sim{f, l, 50ms};
  EXPECT_EQ(sim.run(t0), 20'000u);
  EXPECT_EQ(f.queued(), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}
