// Timestamps in the forms WARC files, file names and the CLI use.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vellum::util {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::microseconds>;

TimePoint now();

// "2026-11-26T02:11:17.123456Z" (WARC-Date with microseconds, always UTC).
std::string warc_date(TimePoint t);

// "20261126021117123" (file names: milliseconds).
std::string file_stamp(TimePoint t);

// "20261126021117" (14-digit form used in URL@TIMESTAMP references and listings).
std::string stamp14(TimePoint t);

// Parses a WARC-Date ("YYYY-MM-DDThh:mm:ss[.fraction]Z", also without seconds or time, and
// with an offset such as "+02:00" in place of the "Z", as W3C-DTF allows).
std::optional<TimePoint> parse_warc_date(std::string_view s);

// Parses a reference timestamp: 4 to 17 digits (missing trailing fields taken as the latest
// moment they allow, so "2026" means the end of 2026) or an ISO 8601 date as parse_warc_date.
std::optional<TimePoint> parse_ref_time(std::string_view s);

// The same, taking the first moment of the period named ("2026" is 2026-01-01T00:00:00Z): for
// lower bounds such as `vellum list --since`.
std::optional<TimePoint> parse_ref_time_start(std::string_view s);

}  // namespace vellum::util
