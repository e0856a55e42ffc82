// Durations and sizes as written in the configuration: "15m", "1h30m", "500ms"; "1GiB", "10MB".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/Config.h"

namespace vellum::config {

// Parses one or more <number><unit> groups with units ms, s, m, h, d, largest first and each at
// most once: "500ms", "45s", "15m", "1h30m", "2d". nullopt for anything else (a bare number, an
// unknown unit, a sign, spaces, a fraction, units out of order, overflow).
std::optional<Duration> parse_duration(std::string_view text);

// The shortest form parse_duration reads back to the same value: 5'400'000 ms -> "1h30m",
// 1'500 ms -> "1s500ms", 0 -> "0s". Negative durations get a leading '-'.
std::string format_duration(Duration d);

// Parses a byte count: digits alone ("4096") or followed by a unit, optionally after one space:
// B, KiB, MiB, GiB, TiB (powers of 1024) or kB/KB, MB, GB, TB (powers of 1000). nullopt for
// anything else, including fractions and values that do not fit in 64 bits.
std::optional<std::uint64_t> parse_size(std::string_view text);

// The shortest exact form parse_size reads back: 1 << 30 -> "1GiB", 10'000'000 -> "10MB",
// 1'500 -> "1500B". Binary units win a tie.
std::string format_size(std::uint64_t bytes);

}  // namespace vellum::config
