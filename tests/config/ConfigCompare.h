// Field-by-field comparison of two configurations, so that a failure names the field that
// differs.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/Config.h"

namespace vellum::config::test {

inline std::vector<std::string> strings(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.string());
  return out;
}

inline std::vector<long long> millis(const std::vector<Duration>& list) {
  std::vector<long long> out;
  for (const auto& d : list) out.push_back(d.count());
  return out;
}

inline void expect_same_source(const SourceConfig& a, const SourceConfig& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.interval.count(), b.interval.count());
  EXPECT_EQ(a.link_pattern, b.link_pattern);
  EXPECT_EQ(a.plugin, b.plugin);
  EXPECT_EQ(a.robots, b.robots);
  EXPECT_EQ(a.revisit.has_value(), b.revisit.has_value());
  if (a.revisit && b.revisit) {
    EXPECT_EQ(millis(*a.revisit), millis(*b.revisit));
  }
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_EQ(a.cookie_file.string(), b.cookie_file.string());
  EXPECT_EQ(a.enabled, b.enabled);
}

// Every field but Config::files and the sources' origins (where they were read from).
inline void expect_same_settings(const Config& a, const Config& b) {
  EXPECT_EQ(a.archive.dir.string(), b.archive.dir.string());
  EXPECT_EQ(a.archive.compression, b.archive.compression);
  EXPECT_EQ(a.archive.level, b.archive.level);
  EXPECT_EQ(a.archive.rotate_size, b.archive.rotate_size);
  EXPECT_EQ(a.archive.prefix, b.archive.prefix);
  EXPECT_EQ(a.archive.sync, b.archive.sync);
  EXPECT_EQ(a.archive.extract, b.archive.extract);

  EXPECT_EQ(strings(a.plugins.dirs), strings(b.plugins.dirs));
  EXPECT_EQ(a.plugins.config, b.plugins.config);

  EXPECT_EQ(a.fetch.user_agent, b.fetch.user_agent);
  EXPECT_EQ(a.fetch.concurrency, b.fetch.concurrency);
  EXPECT_EQ(a.fetch.per_host_concurrency, b.fetch.per_host_concurrency);
  EXPECT_EQ(a.fetch.per_host_delay.count(), b.fetch.per_host_delay.count());
  EXPECT_EQ(a.fetch.connect_timeout.count(), b.fetch.connect_timeout.count());
  EXPECT_EQ(a.fetch.timeout.count(), b.fetch.timeout.count());
  EXPECT_EQ(a.fetch.max_size, b.fetch.max_size);
  EXPECT_EQ(a.fetch.max_document_size, b.fetch.max_document_size);
  EXPECT_EQ(a.fetch.max_redirects, b.fetch.max_redirects);
  EXPECT_EQ(a.fetch.resolve, b.fetch.resolve);
  EXPECT_EQ(a.fetch.ca_file.string(), b.fetch.ca_file.string());
  EXPECT_EQ(a.fetch.allow_private_networks, b.fetch.allow_private_networks);
  EXPECT_EQ(a.fetch.robots, b.fetch.robots);
  EXPECT_EQ(a.fetch.robots_cache.count(), b.fetch.robots_cache.count());
  EXPECT_EQ(a.fetch.retries, b.fetch.retries);
  EXPECT_EQ(a.fetch.backoff_initial.count(), b.fetch.backoff_initial.count());
  EXPECT_EQ(a.fetch.backoff_max.count(), b.fetch.backoff_max.count());

  EXPECT_EQ(a.schedule.jitter, b.schedule.jitter);
  EXPECT_EQ(millis(a.schedule.revisit), millis(b.schedule.revisit));
  EXPECT_EQ(a.schedule.max_new_per_run, b.schedule.max_new_per_run);

  EXPECT_EQ(a.daemon.state_file.string(), b.daemon.state_file.string());
  EXPECT_EQ(a.daemon.socket.string(), b.daemon.socket.string());
  EXPECT_EQ(a.daemon.sources_dir.string(), b.daemon.sources_dir.string());
  EXPECT_EQ(a.daemon.drain_timeout.count(), b.daemon.drain_timeout.count());

  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.log.target, b.log.target);
  EXPECT_EQ(a.metrics.enabled, b.metrics.enabled);
  EXPECT_EQ(a.metrics.listen, b.metrics.listen);

  ASSERT_EQ(a.sources.size(), b.sources.size());
  for (std::size_t i = 0; i < a.sources.size(); ++i) {
    SCOPED_TRACE("source " + std::to_string(i));
    expect_same_source(a.sources[i], b.sources[i]);
  }
}

}  // namespace vellum::config::test
