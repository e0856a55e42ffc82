// Normalises the many date forms found in article metadata to UTC ISO 8601.
#pragma once

#include <string>
#include <string_view>

namespace vellum::extract {

// "2026-04-08T21:39:31+05:30", "Tue, 08 Apr 2026 16:09:31 GMT", "April 8, 2026 4:09 PM EDT",
// "2026-04-08", unix seconds ... -> "2026-04-08T16:09:31Z". Date-only values get 00:00:00.
// Empty when the text holds no recognisable date. Month names in English, German, French,
// Spanish, Italian, Portuguese and Dutch; "2024年5月1日" and "2024년 5월 1일". A slashed date is
// month first ("5/1/2024", as in the US) unless `day_first` or the first number is over 12.
std::string normalize_date(std::string_view text, bool day_first = false);

// Whether pages in `language` (a BCP 47 tag: "en-GB", "fr") write the day before the month:
// every language but US English ("en", "en-US") and pages that say none.
bool writes_day_first(std::string_view language);

}  // namespace vellum::extract
