#include <gtest/gtest.h>

#include "extract/DateParser.h"

namespace vellum::extract {
namespace {

struct DateCase {
  const char* in;
  const char* want;
};

TEST(DateParser, NormalisesCommonForms) {
  const DateCase cases[] = {
      {"2026-04-08T16:09:31Z", "2026-04-08T16:09:31Z"},
      {"2026-04-08T21:39:31+05:30", "2026-04-08T16:09:31Z"},
      {"2026-04-08T12:09:31-0400", "2026-04-08T16:09:31Z"},
      {"2026-04-08T16:09Z", "2026-04-08T16:09:00Z"},
      {"2026-04-08T16:09:31.123456+00:00", "2026-04-08T16:09:31Z"},
      {"2026-04-08 16:09:31", "2026-04-08T16:09:31Z"},
      {"2026-04-08", "2026-04-08T00:00:00Z"},
      {"2026/04/08", "2026-04-08T00:00:00Z"},
      {"Tue, 08 Apr 2026 16:09:31 GMT", "2026-04-08T16:09:31Z"},
      {"Tue, 08 Apr 2026 18:09:31 +0200", "2026-04-08T16:09:31Z"},
      {"April 8, 2026", "2026-04-08T00:00:00Z"},
      {"8 April 2026 16:09", "2026-04-08T16:09:00Z"},
      {"April 8, 2026 12:09 PM EDT", "2026-04-08T16:09:00Z"},
      {"Sept. 30, 2025", "2025-09-30T00:00:00Z"},
      {"2026-01-01T01:00:00+02:00", "2025-12-31T23:00:00Z"},
      {"1775664571", "2026-04-08T16:09:31Z"},
      {"  2024-02-29T10:00:00Z ", "2024-02-29T10:00:00Z"},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_date(c.in), c.want) << "input: " << c.in;
}

TEST(DateParser, RejectsNonDates) {
  EXPECT_EQ(normalize_date(""), "");
  EXPECT_EQ(normalize_date("yesterday"), "");
  EXPECT_EQ(normalize_date("2023-02-30"), "");
  EXPECT_EQ(normalize_date("2023-13-01T00:00:00Z"), "");
  EXPECT_EQ(normalize_date("Breaking news"), "");
}

}  // namespace
}  // namespace vellum::extract
