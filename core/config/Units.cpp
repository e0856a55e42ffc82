#include "config/Units.h"

#include <array>
#include <limits>

namespace vellum::config {

namespace {

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

// Largest first: the order parse_duration requires and format_duration writes.
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

constexpr std::array<Unit, 10> kSizeUnits{{
    {"B", 1},
    {"KiB", 1ull << 10},
    {"MiB", 1ull << 20},
    {"GiB", 1ull << 30},
    {"TiB", 1ull << 40},
    {"kB", 1'000},
    {"KB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"TB", 1'000'000'000'000},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Reads the leading digits of `text` into `value`; false when there are none or they overflow.
bool take_number(std::string_view& text, std::uint64_t& value) {
  std::size_t i = 0;
  value = 0;
  while (i < text.size() && is_digit(text[i])) {
    std::uint64_t digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
    ++i;
  }
  if (i == 0) return false;
  text.remove_prefix(i);
  return true;
}

bool multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
  std::uint64_t total = 0;
  std::size_t next_unit = 0;  // units must come largest first, each once
  while (!text.empty()) {
    std::uint64_t number = 0;
    if (!take_number(text, number)) return std::nullopt;
    std::size_t len = 0;
    while (len < text.size() && is_alpha(text[len])) ++len;
    std::string_view name = text.substr(0, len);
    text.remove_prefix(len);
    std::size_t u = next_unit;
    while (u < kDurationUnits.size() && kDurationUnits[u].name != name) ++u;
    if (u == kDurationUnits.size()) return std::nullopt;
    next_unit = u + 1;
    std::uint64_t ms = 0;
    if (!multiply(number, kDurationUnits[u].factor, ms) || ms > kMax - total) return std::nullopt;
    total += ms;
  }
  return Duration{static_cast<Duration::rep>(total)};
}

std::string format_duration(Duration d) {
  if (d.count() == 0) return "0s";
  std::string out;
  // Work in unsigned so that the most negative value does not overflow when negated.
  std::uint64_t rest = static_cast<std::uint64_t>(d.count());
  if (d.count() < 0) {
    out = "-";
    rest = 0 - rest;
  }
  for (const Unit& unit : kDurationUnits) {
    if (rest >= unit.factor) {
      out += std::to_string(rest / unit.factor);
      out += unit.name;
      rest %= unit.factor;
    }
  }
  return out;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t number = 0;
  if (!take_number(text, number)) return std::nullopt;
  if (text.empty()) return number;
  if (text.front() == ' ') text.remove_prefix(1);
  for (const Unit& unit : kSizeUnits) {
    if (unit.name != text) continue;
    std::uint64_t bytes = 0;
    if (!multiply(number, unit.factor, bytes)) return std::nullopt;
    return bytes;
  }
  return std::nullopt;
}

std::string format_size(std::uint64_t bytes) {
  // The largest unit of each family that divides the value exactly; the shorter text wins.
  std::string best = std::to_string(bytes) + "B";
  if (bytes == 0) return best;
  auto consider = [&](std::initializer_list<Unit> family) {
    for (const Unit& unit : family) {
      if (bytes % unit.factor != 0) continue;
      std::string text = std::to_string(bytes / unit.factor) + std::string(unit.name);
      if (text.size() < best.size()) best = text;
      break;
    }
  };
  consider({kSizeUnits[4], kSizeUnits[3], kSizeUnits[2], kSizeUnits[1]});
  consider({kSizeUnits[9], kSizeUnits[8], kSizeUnits[7], kSizeUnits[6]});
  return best;
}

}  // namespace vellum::config
