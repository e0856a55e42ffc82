// Small string helpers shared by the extractors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vellum::extract {

// Collapses whitespace (including U+00A0 and other Unicode spaces, zero-width characters) to
// single spaces and trims.
std::string clean_text(std::string_view s);

// Trims ASCII whitespace.
std::string trim_ascii(std::string_view s);

// Does `s` start with `prefix`, ignoring ASCII case?
bool istarts_with(std::string_view s, std::string_view prefix);

// Does `s` contain `needle` (lower-case ASCII), ignoring ASCII case of `s`?
bool icontains(std::string_view s, std::string_view needle);

// Number of Unicode code points (UTF-8 continuation bytes are not counted).
std::size_t char_count(std::string_view s);

}  // namespace vellum::extract
