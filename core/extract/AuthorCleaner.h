// Cleans author strings from metadata and bylines into a list of names.
#pragma once

#include <string>
#include <vector>

namespace vellum::extract {

// Strips "By ", splits "A and B" / "A, B" / "A & B", drops " | Agency" / " - Agency"
// suffixes, URLs and empty parts, and removes duplicates (case-insensitively), keeping order.
std::vector<std::string> clean_authors(const std::vector<std::string>& raw);

}  // namespace vellum::extract
