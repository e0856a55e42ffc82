#include "extract/DateParser.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "util/Text.h"

namespace vellum::extract {

namespace {

struct Parts {
  int year = -1, month = -1, day = -1, hour = 0, minute = 0, second = 0;
  int offset_minutes = 0;  // local time = UTC + offset
  bool us_zone = false;    // "ET", "PT", …: standard time in offset_minutes, daylight time
                           // from the second Sunday of March to the first Sunday of November
};

bool leap_year(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Day of the week, 0 = Sunday.
int weekday(int y, int m, int d);

// Days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::string format_epoch(std::int64_t t) {
  std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  std::int64_t secs = t - days * 86400;
  // civil_from_days
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m,
                d, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60));
  return buf;
}

bool valid(const Parts& p) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (p.year < 1900 || p.year > 2200 || p.month < 1 || p.month > 12) return false;
  const int days = mdays[p.month - 1] + (p.month == 2 && leap_year(p.year));
  return p.day >= 1 && p.day <= days && p.hour >= 0 && p.hour <= 24 && p.minute >= 0 &&
         p.minute < 60 && p.second >= 0 && p.second <= 60;
}

int weekday(int y, int m, int d) {
  const std::int64_t days =
      days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));  // 1970-01-01: Thu
  return static_cast<int>(((days % 7) + 7 + 4) % 7);
}

// US daylight saving time (since 2007) on a local date.
bool us_daylight_time(const Parts& p) {
  if (p.month < 3 || p.month > 11) return false;
  if (p.month > 3 && p.month < 11) return true;
  if (p.month == 3) {
    const int second_sunday = 1 + (7 - weekday(p.year, 3, 1)) % 7 + 7;
    return p.day >= second_sunday;
  }
  const int first_sunday = 1 + (7 - weekday(p.year, 11, 1)) % 7;
  return p.day < first_sunday;
}

std::string finish(Parts p) {
  if (!valid(p)) return {};
  if (p.us_zone && us_daylight_time(p)) p.offset_minutes += 60;
  std::int64_t t =
      days_from_civil(p.year, static_cast<unsigned>(p.month), static_cast<unsigned>(p.day)) *
          86400 +
      p.hour * 3600 + p.minute * 60 + std::min(p.second, 59);
  t -= static_cast<std::int64_t>(p.offset_minutes) * 60;
  return format_epoch(t);
}

int month_from_name(std::string_view w) {
  static const char* names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                "jul", "aug", "sep", "oct", "nov", "dec"};
  if (w.size() < 3) return -1;
  std::string l;
  for (char c : w) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 12; ++i)
    if (l.compare(0, 3, names[i]) == 0) {
      // the full name or an abbreviation ("Sept" too)
      static const char* full[] = {"january",   "february", "march",    "april",
                                   "may",       "june",     "july",     "august",
                                   "september", "october",  "november", "december"};
      std::string_view f = full[i];
      if (l.size() <= f.size() && f.compare(0, l.size(), l) == 0) return i + 1;
    }
  // German, French, Spanish, Italian, Portuguese and Dutch names and their usual
  // abbreviations, lower case, in UTF-8.
  static const struct {
    const char* name;
    int month;
  } others[] = {{"januar", 1},
                {"j\xC3\xA4nner", 1},
                {"janvier", 1},
                {"janv", 1},
                {"enero", 1},
                {"gennaio", 1},
                {"janeiro", 1},
                {"januari", 1},
                {"j\xC3\xA4n", 1},
                {"ene", 1},
                {"gen", 1},
                {"fev", 2},
                {"m\xC3\xA4r", 3},
                {"mrt", 3},
                {"abr", 4},
                {"mag", 5},
                {"giu", 6},
                {"lug", 7},
                {"okt", 10},
                {"ott", 10},
                {"dez", 12},
                {"dic", 12},
                {"februar", 2},
                {"f\xC3\xA9vrier", 2},
                {"f\xC3\xA9vr", 2},
                {"febrero", 2},
                {"febbraio", 2},
                {"fevereiro", 2},
                {"februari", 2},
                {"m\xC3\xA4rz", 3},
                {"maerz", 3},
                {"mars", 3},
                {"marzo", 3},
                {"mar\xC3\xA7o", 3},
                {"maart", 3},
                {"avril", 4},
                {"avr", 4},
                {"abril", 4},
                {"aprile", 4},
                {"mai", 5},
                {"mayo", 5},
                {"maggio", 5},
                {"maio", 5},
                {"mei", 5},
                {"juni", 6},
                {"juin", 6},
                {"junio", 6},
                {"giugno", 6},
                {"junho", 6},
                {"juli", 7},
                {"juillet", 7},
                {"juil", 7},
                {"julio", 7},
                {"luglio", 7},
                {"julho", 7},
                {"ao\xC3\xBBt", 8},
                {"aout", 8},
                {"agosto", 8},
                {"augustus", 8},
                {"septembre", 9},
                {"septiembre", 9},
                {"setiembre", 9},
                {"settembre", 9},
                {"setembro", 9},
                {"oktober", 10},
                {"octobre", 10},
                {"octubre", 10},
                {"ottobre", 10},
                {"outubro", 10},
                {"dezember", 12},
                {"d\xC3\xA9"
                 "cembre",
                 12},
                {"d\xC3\xA9"
                 "c",
                 12},
                {"diciembre", 12},
                {"dicembre", 12},
                {"dezembro", 12},
                {"noviembre", 11},
                {"novembre", 11},
                {"novembro", 11}};
  for (const auto& o : others)
    if (l == o.name) return o.month;
  return -1;
}

// "年", "月", "日" of Chinese and Japanese dates, "년", "월", "일" of Korean ones, after a number.
enum class CjkUnit { none, year, month, day };
CjkUnit cjk_unit(std::string_view rest, std::size_t& length) {
  static const struct {
    const char* mark;
    CjkUnit unit;
  } units[] = {{"\xE5\xB9\xB4", CjkUnit::year},  {"\xE6\x9C\x88", CjkUnit::month},
               {"\xE6\x97\xA5", CjkUnit::day},   {"\xEB\x85\x84", CjkUnit::year},
               {"\xEC\x9B\x94", CjkUnit::month}, {"\xEC\x9D\xBC", CjkUnit::day}};
  for (const auto& u : units)
    if (rest.starts_with(u.mark)) {
      length = 3;
      return u.unit;
    }
  return CjkUnit::none;
}

// Offsets of common zone abbreviations, in minutes.
std::optional<int> zone_offset(std::string_view w) {
  std::string u;
  for (char c : w) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  struct Z {
    const char* n;
    int off;
  };
  static const Z zones[] = {
      {"Z", 0},      {"UT", 0},     {"UTC", 0},    {"GMT", 0},    {"EST", -300}, {"EDT", -240},
      {"CST", -360}, {"CDT", -300}, {"MST", -420}, {"MDT", -360}, {"PST", -480}, {"PDT", -420},
      {"BST", 60},   {"CET", 60},   {"CEST", 120}, {"EET", 120},  {"EEST", 180}, {"WET", 0},
      {"WEST", 60},  {"IST", 330},  {"AEST", 600}, {"AEDT", 660}, {"ACST", 570}, {"AWST", 480},
      {"NZST", 720}, {"NZDT", 780}, {"SAST", 120}, {"JST", 540},  {"HKT", 480},  {"SGT", 480},
      {"ET", -300},  {"CT", -360},  {"MT", -420},  {"PT", -480},  {"MEZ", 60},   {"MESZ", 120}};
  for (const auto& z : zones)
    if (u == z.n) return z.off;
  return std::nullopt;
}

bool digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

int num(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

// "+05:30", "+0530", "+05", "-0400" at `pos`; advances `pos`.
bool parse_offset(std::string_view s, std::size_t& pos, int& out) {
  if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) return false;
  int sign = s[pos] == '-' ? -1 : 1;
  std::size_t p = pos + 1;
  // Two digits for the hour, or one when no digit follows ("GMT-4", "UTC+5:30").
  const std::size_t hour_digits = digits(s, p, 2) ? 2 : digits(s, p, 1) ? 1 : 0;
  if (hour_digits == 0) return false;
  int h = num(s, p, hour_digits), m = 0;
  p += hour_digits;
  if (p < s.size() && s[p] == ':') ++p;
  if (digits(s, p, 2)) {
    m = num(s, p, 2);
    p += 2;
  }
  if (h > 14 || m > 59) return false;
  out = sign * (h * 60 + m);
  pos = p;
  return true;
}

// A zone named at `pos` ("GMT", "ET", "MESZ"), with an offset right after the name ("GMT+2")
// taking its place; advances `pos` past what it read. False, `pos` unchanged, when the word
// there names no zone.
bool read_zone_name(std::string_view s, std::size_t& pos, Parts& p) {
  std::size_t e = pos;
  while (e < s.size() && std::isalpha(static_cast<unsigned char>(s[e]))) ++e;
  const std::string_view name = s.substr(pos, e - pos);
  auto z = zone_offset(name);
  if (!z) return false;
  p.offset_minutes = *z;
  // The generic US zones name standard and daylight time alike.
  p.us_zone = false;
  for (const char* us : {"et", "ct", "mt", "pt"}) p.us_zone = p.us_zone || util::iequals(name, us);
  if (int off; parse_offset(s, e, off)) {
    p.offset_minutes = off;
    p.us_zone = false;
  }
  pos = e;
  return true;
}

// ISO 8601 and the close variants ("2026-04-08 16:09:31+00:00", "2026/04/08").
std::optional<std::string> parse_iso(std::string_view s) {
  if (!digits(s, 0, 4) || s.size() < 10 || (s[4] != '-' && s[4] != '/') || !digits(s, 5, 2) ||
      s[7] != s[4] || !digits(s, 8, 2))
    return std::nullopt;
  Parts p;
  p.year = num(s, 0, 4);
  p.month = num(s, 5, 2);
  p.day = num(s, 8, 2);
  std::size_t pos = 10;
  // hh:mm, or hh"h"mm after a space ("2024-03-15 10h30", as French pages write the time)
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ') &&
      digits(s, pos + 1, 2) && pos + 3 < s.size() &&
      (s[pos + 3] == ':' || (s[pos] == ' ' && s[pos + 3] == 'h')) && digits(s, pos + 4, 2)) {
    p.hour = num(s, pos + 1, 2);
    p.minute = num(s, pos + 4, 2);
    pos += 6;
    if (pos < s.size() && s[pos] == ':' && digits(s, pos + 1, 2)) {
      p.second = num(s, pos + 1, 2);
      pos += 3;
    }
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    }
    while (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        p.offset_minutes = 0;
      } else if (!parse_offset(s, pos, p.offset_minutes)) {
        read_zone_name(s, pos, p);
      }
    }
  }
  std::string r = finish(p);
  if (r.empty()) return std::nullopt;
  return r;
}

// Free-form dates: "Tue, 08 Apr 2026 16:09:31 GMT", "April 8, 2026 at 4:09 p.m. ET",
// "8 April 2026", "08.04.2026 16:09".
std::string parse_free(std::string_view s, bool day_first) {
  Parts p;
  bool have_time = false, pm = false, am = false;
  bool last_was_number = false;       // the token before this one was a number of one or two digits
  bool month_may_be_weekday = false;  // the month was read from "mar"
  std::vector<int> nums;
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isdigit(c)) {
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      // time hh:mm[:ss], or French hh"h"mm ("10h30")
      if (!have_time && j < s.size() && (s[j] == ':' || s[j] == 'h') && j - i <= 2 &&
          digits(s, j + 1, 2) && (s[j] == ':' || !digits(s, j + 3, 1))) {
        p.hour = num(s, i, j - i);
        p.minute = num(s, j + 1, 2);
        j += 3;
        if (j < s.size() && s[j] == ':' && digits(s, j + 1, 2)) {
          p.second = num(s, j + 1, 2);
          j += 3;
        }
        have_time = true;
        i = j;
        continue;
      }
      // dotted or slashed numeric date d.m.yyyy / m/d/yyyy
      if (j - i <= 2 && j < s.size() && (s[j] == '.' || s[j] == '/') && p.year < 0) {
        char sep = s[j];
        std::size_t k = j + 1, k2 = k;
        while (k2 < s.size() && std::isdigit(static_cast<unsigned char>(s[k2]))) ++k2;
        if (k2 - k >= 1 && k2 - k <= 2 && k2 < s.size() && s[k2] == sep && digits(s, k2 + 1, 4)) {
          int a = num(s, i, j - i), b = num(s, k, k2 - k);
          p.year = num(s, k2 + 1, 4);
          // dots: day first (European); slashes: month first unless impossible, or unless
          // the page's language writes the day first
          if (sep == '.' || a > 12 || (day_first && b <= 12)) {
            p.day = a;
            p.month = b;
          } else {
            p.month = a;
            p.day = b;
          }
          i = k2 + 5;
          continue;
        }
      }
      std::size_t unit_len = 0;
      const CjkUnit unit = cjk_unit(s.substr(j), unit_len);
      if (unit != CjkUnit::none && j - i <= 4) {
        const int v = num(s, i, j - i);
        if (unit == CjkUnit::year && p.year < 0 && j - i == 4) p.year = v;
        if (unit == CjkUnit::month && p.month < 0) p.month = v;
        if (unit == CjkUnit::day && p.day < 0) p.day = v;
        last_was_number = false;
        i = j + unit_len;
        continue;
      }
      if (j - i == 4) {
        if (p.year < 0) p.year = num(s, i, 4);
      } else if (j - i <= 2) {
        nums.push_back(num(s, i, j - i));
        last_was_number = true;
        i = j;
        continue;
      }
      last_was_number = false;
      i = j;
      continue;
    }
    if (c != ' ' && !std::isalpha(c)) last_was_number = false;
    if ((c == '+' || c == '-') && have_time) {
      std::size_t pos = i;
      int off;
      if (parse_offset(s, pos, off)) {
        p.offset_minutes = off;
        i = pos;
        continue;
      }
    }
    if (std::isalpha(c)) {
      // A word, letters of other alphabets ("März", "août") included.
      std::size_t j = i;
      while (j < s.size() && (std::isalpha(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
                              static_cast<unsigned char>(s[j]) >= 0x80))
        ++j;
      std::string w(s.substr(i, j - i));
      std::string bare;
      for (char ch : w)
        if (ch != '.') bare += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      int m = month_from_name(bare);
      if (m > 0 && (p.month < 0 || month_may_be_weekday)) {
        // "mar." is Tuesday in French, Spanish and Italian ("mar. 14 may. 2024"): a month
        // named after it is the month.
        month_may_be_weekday = p.month < 0 && bare == "mar";
        p.month = m;
      } else if (bare == "pm" || bare == "am") {
        (bare == "pm" ? pm : am) = true;
        // "8 PM": an hour without minutes, the number just before.
        if (!have_time && !nums.empty() && last_was_number && nums.back() >= 1 &&
            nums.back() <= 12) {
          p.hour = nums.back();
          nums.pop_back();
          have_time = true;
        }
      } else if (std::size_t pos = i; have_time && read_zone_name(s, pos, p)) {
        j = std::max(j, pos);  // past "GMT+2"
      }
      last_was_number = false;
      i = j;
      continue;
    }
    ++i;
  }
  if (p.month < 0 || p.year < 0) {
    if (p.day < 0) return {};
  }
  if (p.day < 0) {
    if (nums.empty()) return {};
    p.day = nums.front();
  }
  // Without a time, "pm" says nothing about the hour.
  if (pm && have_time && p.hour < 12) p.hour += 12;
  if (am && have_time && p.hour == 12) p.hour = 0;
  return finish(p);
}

}  // namespace

std::string normalize_date(std::string_view text, bool day_first) {
  // No-break and thin spaces ("1 mai&nbsp;2024") are spaces.
  std::string spaced;
  if (text.find('\xC2') != std::string_view::npos || text.find('\xE2') != std::string_view::npos) {
    spaced.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
      std::size_t n = 0;
      if (text.substr(i).starts_with("\xC2\xA0")) n = 2;
      for (const char* sp : {"\xE2\x80\xAF", "\xE2\x80\x89", "\xE2\x80\x8A"})
        if (text.substr(i).starts_with(sp)) n = 3;
      if (n) {
        spaced += ' ';
        i += n;
      } else {
        spaced += text[i++];
      }
    }
    text = spaced;
  }
  std::size_t a = 0, b = text.size();
  while (a < b && std::isspace(static_cast<unsigned char>(text[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(text[b - 1]))) --b;
  std::string_view s = text.substr(a, b - a);
  if (s.empty() || s.size() > 200) return {};
  if (auto r = parse_iso(s)) return *r;
  // ISO 8601's basic format, "20240315T100000Z" or with "+0100": the extended one read.
  if (s.size() >= 15 && digits(s, 0, 8) && (s[8] == 'T' || s[8] == 't') && digits(s, 9, 6)) {
    std::string extended = std::string(s.substr(0, 4)) + "-" + std::string(s.substr(4, 2)) + "-" +
                           std::string(s.substr(6, 2)) + "T" + std::string(s.substr(9, 2)) + ":" +
                           std::string(s.substr(11, 2)) + ":" + std::string(s.substr(13, 2)) +
                           std::string(s.substr(15));
    if (auto r = parse_iso(extended)) return *r;
  }
  // Unix time in seconds or milliseconds.
  if (digits(s, 0, s.size()) && (s.size() == 10 || s.size() == 13)) {
    std::int64_t v = std::stoll(std::string(s));
    if (s.size() == 13) v /= 1000;
    return format_epoch(v);
  }
  return parse_free(s, day_first);
}

bool writes_day_first(std::string_view language) {
  std::string l;
  for (char c : language) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l.empty() || l == "en" || l.starts_with("en-us") || l.starts_with("en_us")) return false;
  return true;
}

}  // namespace vellum::extract
