#include "daemon/RetryPolicy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "util/Text.h"

namespace vellum::daemon {

namespace {

using std::chrono::milliseconds;
using SysTime = std::chrono::system_clock::time_point;

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> kLongDays = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Reads one HTTP date left to right; every step fails without consuming on a mismatch.
class DateReader {
 public:
  explicit DateReader(std::string_view s) : s_(s) {}

  bool at_end() const { return i_ == s_.size(); }
  bool peek(char c) const { return i_ < s_.size() && s_[i_] == c; }

  bool skip(std::string_view text) {
    if (s_.size() - i_ < text.size() || !util::iequals(s_.substr(i_, text.size()), text))
      return false;
    i_ += text.size();
    return true;
  }

  // Exactly n digits.
  bool number(std::size_t n, int& out) {
    if (s_.size() - i_ < n) return false;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      char c = s_[i_ + k];
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      v = v * 10 + (c - '0');
    }
    i_ += n;
    out = v;
    return true;
  }

  // A run of letters.
  std::string_view word() {
    std::size_t start = i_;
    while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) ++i_;
    return s_.substr(start, i_ - start);
  }

  // Month name ("Nov") as 1..12, or 0.
  int month() {
    std::string_view w = word();
    for (std::size_t m = 0; m < kMonths.size(); ++m)
      if (util::iequals(w, kMonths[m])) return static_cast<int>(m) + 1;
    return 0;
  }

  // "hh:mm:ss"
  bool time_of_day(int& h, int& m, int& s) {
    return number(2, h) && skip(":") && number(2, m) && skip(":") && number(2, s);
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

bool one_of(std::string_view w, const auto& names) {
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view n) { return util::iequals(w, n); });
}

std::optional<SysTime> make_time(int year, int month, int day, int h, int m, int s) {
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                     std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok() || h > 23 || m > 59 || s > 60) return std::nullopt;
  return SysTime{sys_days{ymd}.time_since_epoch() + hours{h} + minutes{m} + seconds{s}};
}

// RFC 9110: a two-digit year more than 50 years in the future means the most recent past year
// with those digits.
int full_year(int two_digits) {
  using namespace std::chrono;
  int current = static_cast<int>(year_month_day{floor<days>(system_clock::now())}.year());
  int year = current / 100 * 100 + two_digits;
  if (year > current + 50) year -= 100;
  return year;
}

bool retryable(int status) {
  return status == 0 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

// initial * 2^attempt without overflowing, capped at `cap`.
milliseconds backoff(milliseconds initial, int attempt, milliseconds cap) {
  milliseconds d = std::max(initial, milliseconds{0});
  for (int i = 0; i < attempt && d < cap; ++i) d *= 2;
  return std::min(d, cap);
}

// The wait a Retry-After value asks for; nullopt when it asks for none or cannot be read.
std::optional<milliseconds> retry_after_delay(std::string_view value, SysTime now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    // delta-seconds; anything beyond a century is as good as a century (the cap applies next).
    constexpr std::int64_t kCentury = 100LL * 366 * 86'400;
    std::int64_t seconds = 0;
    for (char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kCentury) {
        seconds = kCentury;
        break;
      }
    }
    return milliseconds{seconds * 1000};
  }
  auto when = parse_http_date(value);
  if (!when || *when <= now) return std::nullopt;
  return std::chrono::ceil<milliseconds>(*when - now);
}

}  // namespace

std::optional<SysTime> parse_http_date(std::string_view text) {
  DateReader r(trim(text));
  std::string_view weekday = r.word();
  int year = 0, month = 0, day = 0, h = 0, m = 0, s = 0;
  if (r.skip(", ")) {
    if (!r.number(2, day)) return std::nullopt;
    if (r.skip(" ")) {
      // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
      if (!one_of(weekday, kDays) || !(month = r.month()) || !r.skip(" ") || !r.number(4, year) ||
          !r.skip(" ") || !r.time_of_day(h, m, s) || !r.skip(" GMT"))
        return std::nullopt;
    } else {
      // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
      int yy = 0;
      if (!one_of(weekday, kLongDays) || !r.skip("-") || !(month = r.month()) || !r.skip("-") ||
          !r.number(2, yy) || !r.skip(" ") || !r.time_of_day(h, m, s) || !r.skip(" GMT"))
        return std::nullopt;
      year = full_year(yy);
    }
  } else {
    // asctime: "Sun Nov  6 08:49:37 1994" (the day padded with a space)
    if (!one_of(weekday, kDays) || !r.skip(" ") || !(month = r.month()) || !r.skip(" "))
      return std::nullopt;
    if (!(r.skip(" ") ? r.number(1, day) : r.number(2, day))) return std::nullopt;
    if (!r.skip(" ") || !r.time_of_day(h, m, s) || !r.skip(" ") || !r.number(4, year))
      return std::nullopt;
  }
  if (!r.at_end()) return std::nullopt;
  return make_time(year, month, day, h, m, s);
}

RetryDecision decide(int http_status, const std::string& retry_after, int attempt,
                     const RetryLimits& limits, SysTime now) {
  RetryDecision d;
  if (!retryable(http_status)) {
    if (http_status < 100 || http_status >= 400)
      d.reason = "HTTP " + std::to_string(http_status) + " is not retried";
    return d;
  }
  std::string outcome = http_status == 0 ? "no response" : "HTTP " + std::to_string(http_status);
  milliseconds cap = std::max(limits.max, milliseconds{0});
  d.delay = backoff(limits.initial, std::max(attempt, 0), cap);
  if (auto asked = retry_after_delay(retry_after, now))
    d.delay = std::min(std::max(d.delay, *asked), cap);
  d.defer_host = http_status == 429 || http_status == 503;
  if (attempt >= limits.retries) {
    int n = std::max(limits.retries, 0);
    d.reason = n == 0   ? "gave up without retrying: " + outcome
               : n == 1 ? "gave up after 1 retry: " + outcome
                        : "gave up after " + std::to_string(n) + " retries: " + outcome;
    return d;
  }
  d.retry = true;
  d.reason = outcome;
  return d;
}

}  // namespace vellum::daemon
