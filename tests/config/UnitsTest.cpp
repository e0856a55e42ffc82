#include <gtest/gtest.h>

#include "config/Units.h"

using namespace vellum::config;
using std::chrono::milliseconds;

TEST(Duration, ReadsEveryUnitAndCombinations) {
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("45s"), milliseconds(45'000));
  EXPECT_EQ(parse_duration("15m"), milliseconds(900'000));
  EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(parse_duration("2d"), milliseconds(172'800'000));
  EXPECT_EQ(parse_duration("1d2h3m4s5ms"), milliseconds(93'784'005));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
  EXPECT_EQ(parse_duration("90m"), milliseconds(5'400'000));  // a unit may exceed the next
}

TEST(Duration, RejectsWhatIsNotADuration) {
  for (const char* bad :
       {"", "30", "15", "m", "15x", "1.5h", "-5s", "+5s", "5 s", " 5s", "5s ", "30m1h", "1m30m",
        "5S", "1w", "1h30", "ms5", "9999999999999999999999d", "106751991168d"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(Duration, FormatsTheShortestFormAndReadsItBack) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(500)), "500ms");
  EXPECT_EQ(format_duration(milliseconds(1'500)), "1s500ms");
  EXPECT_EQ(format_duration(milliseconds(900'000)), "15m");
  EXPECT_EQ(format_duration(milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(format_duration(milliseconds(86'400'000)), "1d");
  EXPECT_EQ(format_duration(milliseconds(7 * 86'400'000LL)), "7d");
  for (long long ms : {1LL, 999LL, 60'001LL, 3'600'000LL, 93'784'005LL, 123'456'789'012LL})
    EXPECT_EQ(parse_duration(format_duration(milliseconds(ms))), milliseconds(ms)) << ms;
}

TEST(Size, ReadsBinaryAndDecimalUnitsAndPlainBytes) {
  EXPECT_EQ(parse_size("512B"), 512u);
  EXPECT_EQ(parse_size("64KiB"), 64u << 10);
  EXPECT_EQ(parse_size("256MiB"), 256u << 20);
  EXPECT_EQ(parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(parse_size("2TiB"), 2ull << 40);
  EXPECT_EQ(parse_size("10MB"), 10'000'000u);
  EXPECT_EQ(parse_size("5kB"), 5'000u);
  EXPECT_EQ(parse_size("5KB"), 5'000u);
  EXPECT_EQ(parse_size("3GB"), 3'000'000'000u);
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("1 GiB"), 1ull << 30);
  EXPECT_EQ(parse_size("0"), 0u);
}

TEST(Size, RejectsWhatIsNotASize) {
  for (const char* bad : {"", "GiB", "1.5GiB", "-1", "10mb", "10 ", "1  GiB", "1Gib", "1GiB ",
                          "20000000TiB", "99999999999999999999"}) {
    EXPECT_FALSE(parse_size(bad)) << bad;
  }
}

TEST(Size, FormatsTheShortestExactFormAndReadsItBack) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(1ull << 30), "1GiB");
  EXPECT_EQ(format_size(256ull << 20), "256MiB");
  EXPECT_EQ(format_size(10'000'000), "10MB");
  EXPECT_EQ(format_size(1'500), "1500B");
  EXPECT_EQ(format_size(1'024), "1KiB");
  for (std::uint64_t n : {1ull, 1'000ull, 1'536ull, 1'048'577ull, 64ull << 20, 7'000'000'000ull})
    EXPECT_EQ(parse_size(format_size(n)), n) << n;
}
