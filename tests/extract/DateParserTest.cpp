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

// Forms that were read to the wrong instant: an hour without minutes, one-digit offsets, the
// US generic zones in summer.
TEST(DateParser, HoursWithoutMinutesOffsetsAndSummerTime) {
  const DateCase cases[] = {
      {"April 8, 2026, 8 PM EDT", "2026-04-09T00:00:00Z"},
      {"April 8, 2026 3 p.m.", "2026-04-08T15:00:00Z"},
      {"April 8, 2026 12 AM", "2026-04-08T00:00:00Z"},
      {"Apr 8, 2026 16:09 GMT-4", "2026-04-08T20:09:00Z"},
      {"Apr 8, 2026 21:39 UTC+5:30", "2026-04-08T16:09:00Z"},
      {"Jul 4, 2026 10:00 ET", "2026-07-04T14:00:00Z"},
      {"Jan 4, 2026 10:00 ET", "2026-01-04T15:00:00Z"},
      {"Mar 8, 2026 10:00 PT", "2026-03-08T17:00:00Z"},  // the second Sunday of March
      {"Mar 7, 2026 10:00 PT", "2026-03-07T18:00:00Z"},
      {"Nov 1, 2026 10:00 ET", "2026-11-01T15:00:00Z"},  // the first Sunday of November
      // A date alone says nothing about the hour, whatever "pm" or zone follows.
      {"April 8, 2026 PM", "2026-04-08T00:00:00Z"},
      // ISO dates with a zone's name after them read it as the free forms do.
      {"2024-03-15T10:00:00 ET", "2024-03-15T14:00:00Z"},
      {"2024-01-15T10:00:00 ET", "2024-01-15T15:00:00Z"},
      {"2024-05-01T10:00:00 GMT+2", "2024-05-01T08:00:00Z"},
      {"2024-05-01 10:00 CEST", "2024-05-01T08:00:00Z"},
      {"1. Mai 2024 um 10:00 Uhr MESZ", "2024-05-01T08:00:00Z"},
      {"1. Dezember 2024 um 10:00 Uhr MEZ", "2024-12-01T09:00:00Z"},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_date(c.in), c.want) << "input: " << c.in;
  EXPECT_EQ(normalize_date("2025-02-29T10:00:00Z"), "") << "2025 is no leap year";
  EXPECT_EQ(normalize_date("2100-02-29"), "") << "2100 is no leap year";
  EXPECT_EQ(normalize_date("2000-02-29"), "2000-02-29T00:00:00Z");
}

// Month names of other languages, Chinese, Japanese and Korean dates, and the day first on
// pages whose language writes it first.
TEST(DateParser, OtherLanguagesAndDayFirst) {
  const struct {
    const char* in;
    const char* want;
  } cases[] = {
      {"1. Mai 2024", "2024-05-01T00:00:00Z"},
      {"3. M\xC3\xA4rz 2024, 14:03 Uhr", "2024-03-03T14:03:00Z"},
      {"1 mai 2024", "2024-05-01T00:00:00Z"},
      {"12 d\xC3\xA9"
       "cembre 2023 \xC3\xA0 09:15",
       "2023-12-12T09:15:00Z"},
      {"15 ao\xC3\xBBt 2024", "2024-08-15T00:00:00Z"},
      {"1 de mayo de 2024", "2024-05-01T00:00:00Z"},
      {"21 settembre 2024", "2024-09-21T00:00:00Z"},
      {"7 de mar\xC3\xA7o de 2024", "2024-03-07T00:00:00Z"},
      {"1 mei 2024", "2024-05-01T00:00:00Z"},
      // "mar." before the day is Tuesday (mardi, martes, martedì); the month follows.
      {"Publicado el mar. 14 may. 2024 10:00", "2024-05-14T10:00:00Z"},
      {"mar. 14 mai 2024", "2024-05-14T00:00:00Z"},
      {"14 mar. 2024", "2024-03-14T00:00:00Z"},
      {"1 mai\xC2\xA0"
       "2024",
       "2024-05-01T00:00:00Z"},  // a no-break space
      {"May\xC2\xA0"
       "1, 2024",
       "2024-05-01T00:00:00Z"},
      {"2024\xE5\xB9\xB4"
       "5\xE6\x9C\x88"
       "1\xE6\x97\xA5 14:03",
       "2024-05-01T14:03:00Z"},
      {"2024\xEB\x85\x84 5\xEC\x9B\x94 1\xEC\x9D\xBC", "2024-05-01T00:00:00Z"},
      // Abbreviated months of German, Spanish, Italian, Dutch and Portuguese pages; French
      // times written "10h30"; ISO 8601's basic format.
      {"12. Okt. 2024, 14:30 Uhr", "2024-10-12T14:30:00Z"},
      {"3. Dez. 2024", "2024-12-03T00:00:00Z"},
      {"5. J\xC3\xA4n. 2024", "2024-01-05T00:00:00Z"},
      {"1 ene. 2024", "2024-01-01T00:00:00Z"},
      {"15 ott 2024", "2024-10-15T00:00:00Z"},
      {"4 giu 2024", "2024-06-04T00:00:00Z"},
      {"15 okt. 2024", "2024-10-15T00:00:00Z"},
      {"2 mrt 2024", "2024-03-02T00:00:00Z"},
      {"9 fev 2024", "2024-02-09T00:00:00Z"},
      {"15 f\xC3\xA9vr. 2024 \xC3\xA0 10h30", "2024-02-15T10:30:00Z"},
      {"20240315T100000Z", "2024-03-15T10:00:00Z"},
      {"2024-03-15 10h30", "2024-03-15T10:30:00Z"},
      {"20240315T100000+0100", "2024-03-15T09:00:00Z"},
  };
  for (const auto& c : cases) EXPECT_EQ(normalize_date(c.in), c.want) << "input: " << c.in;
  EXPECT_EQ(normalize_date("01/05/2024"), "2024-01-05T00:00:00Z");
  EXPECT_EQ(normalize_date("01/05/2024", true), "2024-05-01T00:00:00Z");
  EXPECT_EQ(normalize_date("13/05/2024"), "2024-05-13T00:00:00Z");
  EXPECT_EQ(normalize_date("05/13/2024", true), "2024-05-13T00:00:00Z");
  EXPECT_FALSE(writes_day_first("en-US"));
  EXPECT_FALSE(writes_day_first("en"));
  EXPECT_FALSE(writes_day_first(""));
  EXPECT_TRUE(writes_day_first("en-GB"));
  EXPECT_TRUE(writes_day_first("es"));
}

TEST(DateParser, RejectsNonDates) {
  EXPECT_EQ(normalize_date(""), "");
  EXPECT_EQ(normalize_date("yesterday"), "");
  EXPECT_EQ(normalize_date("2023-02-30"), "");
  EXPECT_EQ(normalize_date("2023-13-01T00:00:00Z"), "");
  EXPECT_EQ(normalize_date("Breaking news"), "");
  EXPECT_EQ(normalize_date("3 hours ago"), "");
  EXPECT_EQ(normalize_date("20240315T10"), "");
}

}  // namespace
}  // namespace vellum::extract
