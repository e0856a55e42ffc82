// Cleans author strings from metadata and bylines into a list of names.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace vellum::extract {

// At most this many authors are kept: a byline of thousands of names is not a byline, and
// cleaning it must not cost more than the page.
inline constexpr std::size_t kMaxAuthors = 50;

// Strips "By ", splits "A and B" / "A, B" / "A & B", drops " | Agency" / " - Agency"
// suffixes, URLs and empty parts, and removes duplicates (case-insensitively), keeping order;
// stops at kMaxAuthors.
std::vector<std::string> clean_authors(const std::vector<std::string>& raw);

}  // namespace vellum::extract
