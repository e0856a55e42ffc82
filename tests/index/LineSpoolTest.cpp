// LineSpool: lines held in a temporary database come back sorted as std::sort orders them, or
// in the order they were added, byte for byte, also when they outgrow SQLite's page cache.
#include "index/LineSpool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace vellum::index {
namespace {

using namespace std::string_literals;

struct Line {
  std::string key, rank, line;
  bool operator<(const Line& o) const {
    return std::tie(key, rank, line) < std::tie(o.key, o.rank, o.line);
  }
};

std::vector<std::string> sorted_from(LineSpool& spool) {
  std::vector<std::string> out;
  spool.each_sorted([&](std::string_view l) { out.emplace_back(l); });
  return out;
}

TEST(LineSpool, SortsByKeyThenRankThenLineByteByByte) {
  // Keys that are prefixes of others, bytes past 0x7f (signed as char), an empty key and a
  // zero byte: each placed as std::string's operator< places it.
  std::vector<Line> lines{{"com,example)/a", "20260101000000", "x"},
                          {"com,example)/", "20260101000000", "y"},
                          {"com,example)/\xc3\xa9", "20250101000000", "z"},
                          {"", "1", "empty key"},
                          {"com,example)/a", "20250101000000", "earlier"},
                          {"com,example)/a", "20250101000000", "b\0same"s},
                          {"com,example)/a", "20250101000000", "a\0same"s},
                          {"com,example)/a\x7f", "0", "del"}};
  LineSpool spool;
  for (const auto& l : lines) spool.add_sorted(l.key, l.rank, l.line);
  std::sort(lines.begin(), lines.end());
  std::vector<std::string> want;
  for (const auto& l : lines) want.push_back(l.line);
  EXPECT_EQ(sorted_from(spool), want);
}

TEST(LineSpool, ManyLinesPastThePageCacheComeBackWhole) {
  // About 40 MB of lines, five times the page cache the spool keeps in memory.
  std::mt19937 rng(7);
  std::vector<Line> lines;
  LineSpool spool;
  for (int i = 0; i < 200000; ++i) {
    Line l;
    l.key = "com,site" + std::to_string(rng() % 5000) + ")/" + std::to_string(rng());
    l.rank = std::to_string(20200101000000ULL + rng() % 1000);
    l.line = l.key + " " + l.rank + " " + std::string(150, static_cast<char>('a' + i % 26));
    spool.add_sorted(l.key, l.rank, l.line);
    spool.add(std::to_string(i));
    lines.push_back(std::move(l));
  }
  std::sort(lines.begin(), lines.end());
  const auto got = sorted_from(spool);
  ASSERT_EQ(got.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(got[i], lines[i].line) << "line " << i;
  int next = 0;
  spool.each([&](std::string_view l) { ASSERT_EQ(l, std::to_string(next++)); });
  EXPECT_EQ(next, 200000);
}

TEST(LineSpool, EmptySpoolReadsNothing) {
  LineSpool spool;
  int n = 0;
  spool.each_sorted([&](std::string_view) { ++n; });
  spool.each([&](std::string_view) { ++n; });
  EXPECT_EQ(n, 0);
  spool.add("");
  spool.each([&](std::string_view l) {
    EXPECT_EQ(l, "");
    ++n;
  });
  EXPECT_EQ(n, 1) << "an empty line is a line";
}

}  // namespace
}  // namespace vellum::index
