#include "daemon/Frontier.h"

#include <algorithm>

#include "util/Text.h"

namespace vellum::daemon {

namespace {

FrontierLimits sane(FrontierLimits limits) {
  limits.concurrency = std::max(limits.concurrency, 1);
  limits.per_host_concurrency = std::max(limits.per_host_concurrency, 1);
  limits.per_host_delay = std::max(limits.per_host_delay, std::chrono::milliseconds{0});
  return limits;
}

}  // namespace

Frontier::Frontier(FrontierLimits limits) : limits_(sane(limits)) {}

void Frontier::set_limits(FrontierLimits limits) {
  limits_ = sane(limits);
  // Delays and host slots feed every key: file every host again.
  ready_.clear();
  idle_.clear();
  for (auto& [name, h] : hosts_) {
    h.place = Place::none;
    place(h);
  }
}

Frontier::Host& Frontier::host(const std::string& name) {
  auto [it, added] = hosts_.try_emplace(name);
  if (added) {
    it->second.name = name;
    it->second.key.order = ++next_order_;
  }
  return it->second;
}

std::chrono::milliseconds Frontier::delay_of(const Host& h) const {
  return std::max(limits_.per_host_delay, h.crawl_delay);
}

Frontier::TimePoint Frontier::gate_of(const Host& h) const {
  TimePoint gate = h.deferred_until;
  if (h.last_done) gate = std::max(gate, *h.last_done + delay_of(h));
  return gate;
}

void Frontier::place(Host& h) {
  if (h.place == Place::ready) ready_.erase(h.key);
  if (h.place == Place::idle) idle_.erase(h.key);
  h.place = Place::none;

  std::size_t queued = h.ready.size() + h.waiting.size();
  bool active = queued > 0 || h.in_flight > 0;
  if (active != h.active) {
    h.active = active;
    if (active)
      ++active_hosts_;
    else
      --active_hosts_;
  }

  // A host that asks for a Crawl-delay gets one request at a time: a second slot would start
  // at once beside the first and halve the spacing it asked for.
  const int slots = h.crawl_delay.count() > 0 ? 1 : limits_.per_host_concurrency;
  if (queued > 0 && h.in_flight < slots) {
    // Ready once its delays allow, its first item is due, and not before it was last served
    // (which puts a host just served behind the others ready at the same time).
    TimePoint due = h.ready.empty() ? h.waiting.begin()->first.first : h.ready_since;
    h.key.at = std::max({gate_of(h), due, h.served_at});
    h.place = Place::ready;
    ready_.emplace(h.key, &h);
  } else if (!active && h.crawl_delay.count() == 0) {
    // A host with its own delay is kept for good; others only until their gate passes.
    h.key.at = gate_of(h);
    h.place = Place::idle;
    idle_.emplace(h.key, &h);
  }
}

void Frontier::prune(TimePoint now) {
  while (!idle_.empty() && idle_.begin()->first.at <= now) {
    std::string name = idle_.begin()->second->name;
    idle_.erase(idle_.begin());
    hosts_.erase(name);
  }
}

bool Frontier::push(FrontierItem item, TimePoint now, TimePoint not_before) {
  prune(now);
  if (item.url.empty() || urls_.contains(item.url) || queued_ >= limits_.max_queued) return false;
  item.host = util::to_lower(item.host);
  item.id = ++next_id_;
  Host& h = host(item.host);
  urls_.insert(item.url);
  ++queued_;
  if (not_before <= now) {
    if (h.ready.empty()) h.ready_since = now;
    h.ready.emplace(std::pair{-item.priority, item.id}, std::move(item));
  } else {
    h.waiting.emplace(std::pair{not_before, item.id}, std::move(item));
  }
  place(h);
  return true;
}

std::optional<FrontierItem> Frontier::pop(TimePoint now) {
  prune(now);
  if (in_flight_.size() >= static_cast<std::size_t>(limits_.concurrency)) return std::nullopt;
  if (ready_.empty() || ready_.begin()->first.at > now) return std::nullopt;
  Host& h = *ready_.begin()->second;
  ready_.erase(ready_.begin());  // filed again below, under a new key
  h.place = Place::none;

  // Items whose own wait has ended join the others; the key guarantees at least one is due.
  while (!h.waiting.empty() && h.waiting.begin()->first.first <= now) {
    auto node = h.waiting.extract(h.waiting.begin());
    if (h.ready.empty()) h.ready_since = node.key().first;
    FrontierItem& moved = node.mapped();
    h.ready.emplace(std::pair{-moved.priority, moved.id}, std::move(moved));
  }
  if (h.ready.empty()) {  // unreachable while keys are kept right
    place(h);
    return std::nullopt;
  }

  FrontierItem item = std::move(h.ready.begin()->second);
  h.ready.erase(h.ready.begin());
  --queued_;
  ++h.in_flight;
  h.served_at = now;
  h.key.order = ++next_order_;
  in_flight_.emplace(item.id, Flight{&h, item.url});
  place(h);
  return item;
}

std::optional<Frontier::TimePoint> Frontier::next_ready(TimePoint now) const {
  if (in_flight_.size() >= static_cast<std::size_t>(limits_.concurrency)) return std::nullopt;
  if (ready_.empty()) return std::nullopt;
  return std::max(ready_.begin()->first.at, now);
}

void Frontier::done(const FrontierItem& item, TimePoint now) {
  auto it = in_flight_.find(item.id);
  if (it == in_flight_.end()) return;
  Host& h = *it->second.host;
  urls_.erase(it->second.url);
  in_flight_.erase(it);
  --h.in_flight;
  h.last_done = h.last_done ? std::max(*h.last_done, now) : now;
  place(h);
  prune(now);
}

void Frontier::set_host_delay(const std::string& name, std::chrono::milliseconds delay) {
  Host& h = host(util::to_lower(name));
  h.crawl_delay = std::max(delay, std::chrono::milliseconds{0});
  place(h);
}

void Frontier::defer_host(const std::string& name, TimePoint until) {
  Host& h = host(util::to_lower(name));
  h.deferred_until = std::max(h.deferred_until, until);
  place(h);
}

std::vector<FrontierItem> Frontier::drain_queued() {
  std::vector<FrontierItem> out;
  out.reserve(queued_);
  for (auto& [name, h] : hosts_) {
    for (auto& [key, item] : h.ready) out.push_back(std::move(item));
    for (auto& [key, item] : h.waiting) out.push_back(std::move(item));
    h.ready.clear();
    h.waiting.clear();
    place(h);
  }
  for (const FrontierItem& item : out) urls_.erase(item.url);
  queued_ = 0;
  return out;
}

std::vector<Frontier::HostStats> Frontier::host_stats() const {
  std::vector<HostStats> out;
  out.reserve(active_hosts_);
  for (const auto& [name, h] : hosts_) {
    if (!h.active) continue;
    HostStats s;
    s.host = name;
    s.queued = h.ready.size() + h.waiting.size();
    s.in_flight = h.in_flight;
    if (h.place == Place::ready) s.ready_at = h.key.at;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const HostStats& a, const HostStats& b) { return a.host < b.host; });
  return out;
}

}  // namespace vellum::daemon
