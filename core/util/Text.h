// Small text helpers shared across the core.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vellum::util {

// ASCII lower case (locale-independent).
std::string to_lower(std::string_view s);

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

// The value of a hexadecimal digit (either case), -1 for any other character.
int hex_value(char c);

// Whether every byte of `s` is printable ASCII (space to '~'); true for an empty `s`.
bool printable_ascii(std::string_view s);

// Up to `max` bytes of `s` in single quotes for an error message, with CR, LF, backslash and
// other unprintable bytes escaped ("\r", "\x00"), and "..." when cut.
std::string quote(std::string_view s, std::size_t max = 40);

// `s` with every run of ASCII white space (spaces, tabs, line breaks, form feeds) made one
// space, and none at either end: an error message, a snippet or a feed title on one line.
std::string one_line(std::string_view s);

// `s` (a URL, a header value read from an imported record) safe to print on a terminal: every
// control character — C0, DEL and, in UTF-8, C1 (U+0080 to U+009F, where CSI is) — written as
// %XX per byte, as a URL would carry it. Other text is unchanged.
std::string terminal_safe(std::string_view s);

// Appends code point `cp` as UTF-8; NUL, surrogates and values past U+10FFFF become U+FFFD.
void append_utf8(std::string& out, unsigned long cp);

}  // namespace vellum::util
