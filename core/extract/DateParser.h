// Normalises the many date forms found in article metadata to UTC ISO 8601.
#pragma once

#include <string>
#include <string_view>

namespace vellum::extract {

// "2026-04-08T21:39:31+05:30", "Tue, 08 Apr 2026 16:09:31 GMT", "April 8, 2026 4:09 PM EDT",
// "2026-04-08", unix seconds ... -> "2026-04-08T16:09:31Z". Date-only values get 00:00:00.
// Empty when the text holds no recognisable date.
std::string normalize_date(std::string_view text);

}  // namespace vellum::extract
