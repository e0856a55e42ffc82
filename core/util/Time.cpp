#include "util/Time.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace vellum::util {

namespace {

struct Fields {
  int year, month, day, hour, minute, second;
  long micros;
};

Fields split(TimePoint t) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(t);
  year_month_day ymd{days};
  auto rest = t - days;
  auto h = duration_cast<hours>(rest);
  rest -= h;
  auto m = duration_cast<minutes>(rest);
  rest -= m;
  auto s = duration_cast<seconds>(rest);
  rest -= s;
  return {int(ymd.year()),          int(unsigned(ymd.month())),
          int(unsigned(ymd.day())), int(h.count()),
          int(m.count()),           int(s.count()),
          long(rest.count())};
}

std::optional<TimePoint> make(int y, int mo, int d, int h, int mi, int s, long us) {
  using namespace std::chrono;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!ymd.ok()) return std::nullopt;
  return TimePoint{sys_days{ymd}.time_since_epoch() + hours{h} + minutes{mi} + seconds{s} +
                   microseconds{us}};
}

int digits(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

}  // namespace

TimePoint now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(Clock::now());
}

std::string warc_date(TimePoint t) {
  Fields f = split(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", f.year, f.month, f.day,
                f.hour, f.minute, f.second, f.micros);
  return buf;
}

std::string file_stamp(TimePoint t) {
  Fields f = split(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d%03ld", f.year, f.month, f.day, f.hour,
                f.minute, f.second, f.micros / 1000);
  return buf;
}

std::string stamp14(TimePoint t) {
  return file_stamp(t).substr(0, 14);
}

std::optional<TimePoint> parse_warc_date(std::string_view s) {
  // YYYY-MM-DD[Thh:mm[:ss[.f+]]][Z]
  auto is_d = [&](std::size_t i) { return i < s.size() && std::isdigit((unsigned char)s[i]); };
  if (s.size() < 10 || !is_d(0) || !is_d(1) || !is_d(2) || !is_d(3) || s[4] != '-' || s[7] != '-' ||
      !is_d(5) || !is_d(6) || !is_d(8) || !is_d(9))
    return std::nullopt;
  int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2), h = 0, mi = 0, sec = 0;
  long us = 0;
  std::size_t i = 10;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    if (s.size() < i + 6 || !is_d(i + 1) || !is_d(i + 2) || s[i + 3] != ':' || !is_d(i + 4) ||
        !is_d(i + 5))
      return std::nullopt;
    h = digits(s, i + 1, 2);
    mi = digits(s, i + 4, 2);
    i += 6;
    if (i < s.size() && s[i] == ':') {
      if (!is_d(i + 1) || !is_d(i + 2)) return std::nullopt;
      sec = digits(s, i + 1, 2);
      i += 3;
      if (i < s.size() && s[i] == '.') {
        ++i;
        long scale = 100000;
        while (is_d(i)) {
          us += (s[i] - '0') * scale;
          scale /= 10;
          ++i;
        }
      }
    }
  }
  // UTC ("Z", or nothing), or an offset from it ("+02:00", as W3C-DTF allows).
  long offset_minutes = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && is_d(i + 1) && is_d(i + 2) &&
             s[i + 3] == ':' && is_d(i + 4) && is_d(i + 5)) {
    offset_minutes = digits(s, i + 1, 2) * 60 + digits(s, i + 4, 2);
    if (s[i] == '-') offset_minutes = -offset_minutes;
    i += 6;
  }
  if (i != s.size()) return std::nullopt;
  auto t = make(y, mo, d, h, mi, sec, us);
  if (!t) return std::nullopt;
  return *t - std::chrono::minutes(offset_minutes);
}

namespace {

// A 4- to 17-digit stamp as the first (end = false) or last (end = true) moment of the period
// it names; other text as parse_warc_date.
std::optional<TimePoint> parse_stamp(std::string_view s, bool end) {
  bool all_digits = !s.empty();
  for (char c : s) all_digits = all_digits && std::isdigit((unsigned char)c);
  if (!all_digits) {
    auto t = parse_warc_date(s);
    if (!t || !end || s.find('.') != std::string_view::npos) return t;
    // As an upper bound, a date or time names its whole day, minute or second, as the digit
    // form does: "…T03:52:10Z" takes in a capture made at 03:52:10.29.
    // Only the time's colons count, not an offset's ("16:09+02:00" names a minute).
    std::string_view time_part;
    if (auto at = s.find_first_of("Tt "); at != std::string_view::npos) {
      time_part = s.substr(at + 1);
      time_part = time_part.substr(0, time_part.find_first_of("Zz+-"));
    }
    std::size_t colons =
        static_cast<std::size_t>(std::count(time_part.begin(), time_part.end(), ':'));
    using namespace std::chrono;
    microseconds period = colons >= 2   ? microseconds(seconds(1))
                          : colons == 1 ? microseconds(minutes(1))
                                        : microseconds(days(1));
    return *t + period - microseconds(1);
  }
  // Whole fields only: year, then two digits each down to the second, or three for the
  // millisecond ("1999010" would be a month and half a day).
  if (s.size() < 4 || s.size() > 17 || (s.size() % 2 != 0 && s.size() != 17) || s.size() == 16)
    return std::nullopt;
  // Fill the missing fields with the earliest or latest value each allows.
  static const std::string kFirst = "00000101000000000", kLast = "99991231235959999";
  std::string full(s);
  full += (end ? kLast : kFirst).substr(full.size());
  int y = digits(full, 0, 4), mo = digits(full, 4, 2), d = digits(full, 6, 2);
  int h = digits(full, 8, 2), mi = digits(full, 10, 2), sec = digits(full, 12, 2);
  long ms = digits(full, 14, 3);
  if (mo < 1 || mo > 12) return std::nullopt;
  if (end && s.size() < 8) {
    using namespace std::chrono;
    d = int(unsigned(year_month_day_last{year{y}, month_day_last{month{unsigned(mo)}}}.day()));
  }
  // A 17-digit stamp names one millisecond.
  long us = end ? (s.size() == 17 ? ms * 1000 + 999 : 999999) : ms * 1000;
  return make(y, mo, d, h, mi, sec, us);
}

}  // namespace

std::optional<TimePoint> parse_ref_time(std::string_view s) {
  return parse_stamp(s, true);
}

std::optional<TimePoint> parse_ref_time_start(std::string_view s) {
  return parse_stamp(s, false);
}

}  // namespace vellum::util
