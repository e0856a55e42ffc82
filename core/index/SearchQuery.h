// Full-text search queries as users type them, checked before any index sees them.
//
// The language is small and the same for every index implementation: words (all must occur),
// "exact phrases", prefixes (vacc*, "covid vacc"*), AND, OR, NOT (upper case) and parentheses.
// Words are matched as the index tokenizes them, so "covid-19" or U.S. need no quoting.
// A query that does not follow the grammar is refused with a SearchQueryError that says what was
// found where, and what was expected instead.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::index {

class SearchQueryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct QueryToken {
  enum class Kind { kPhrase, kAnd, kOr, kNot, kOpen, kClose };
  Kind kind = Kind::kPhrase;
  std::string text;     // kPhrase: the words (a bare word is a phrase of one)
  bool prefix = false;  // kPhrase: its last word is a prefix (word*)
  std::size_t at = 0;   // 1-based character position in the query, for messages
};

// The tokens of a well-formed query, in order. Throws SearchQueryError otherwise.
std::vector<QueryToken> parse_search_query(std::string_view query);

}  // namespace vellum::index
