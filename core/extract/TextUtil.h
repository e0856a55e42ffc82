// Small string helpers shared by the extractors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vellum::extract {

// Collapses whitespace (including U+00A0 and other Unicode spaces, zero-width characters) to
// single spaces and trims. Control characters (C0 other than whitespace, DEL, C1) count as
// spaces: text from a page never carries terminal escape sequences into the archive.
std::string clean_text(std::string_view s);

// clean_text for each line of `s` (split at '\n'), empty lines dropped, joined by '\n': text
// whose line breaks carry meaning (a table's rows, <pre>, lines of a verse split by <br>).
std::string clean_lines(std::string_view s);

// Preformatted text (<pre>, program code): each line keeps its leading spaces and tabs and the
// spaces inside it, loses trailing white space and control characters; lines with nothing but
// white space are dropped, as clean_lines drops them.
std::string clean_pre_lines(std::string_view s);

// `s` without control characters other than newline and tab, for printing text that may have
// been stored before clean_text dropped them.
std::string printable(std::string_view s);

// Length of the well-formed UTF-8 sequence at `p` (of `n` bytes left): 1 to 4, or 0 when the
// bytes there are not one (overlong, surrogate, past U+10FFFF, cut short).
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t n);

// `in` as valid UTF-8: every byte that starts no well-formed sequence, and every NUL, replaced
// by U+FFFD.
std::string validate_utf8(std::string_view in);

// Length of the control character at `i` (1 for C0 and DEL, 2 for a C1 in UTF-8), or 0.
std::size_t control_char(std::string_view s, std::size_t i);

// Trims ASCII whitespace.
std::string trim_ascii(std::string_view s);

// Does `s` start with `prefix`, ignoring ASCII case?
bool istarts_with(std::string_view s, std::string_view prefix);

// Does `s` contain `needle` (lower-case ASCII), ignoring ASCII case of `s`?
bool icontains(std::string_view s, std::string_view needle);

// Number of Unicode code points (UTF-8 continuation bytes are not counted).
std::size_t char_count(std::string_view s);

// The longest metadata values kept: a title, a description. Longer ones are page text put in
// the wrong place, cut by bounded_text.
inline constexpr std::size_t kMaxTitleBytes = 2048;
inline constexpr std::size_t kMaxDescriptionBytes = 8192;

// `s` when it has at most `max_bytes` bytes, else its first code points that fit in
// max_bytes - 3 followed by "…" (U+2026).
std::string bounded_text(std::string s, std::size_t max_bytes);

}  // namespace vellum::extract
