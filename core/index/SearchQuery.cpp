#include "index/SearchQuery.h"

#include <cctype>

namespace vellum::index {

namespace {

using Kind = QueryToken::Kind;

constexpr const char* kOperand = "a word, a \"phrase\", a prefix such as vacc* or '('";

// Letters and digits in ASCII, and every byte of a multi-byte UTF-8 character: the index's
// tokenizer decides what the rest of a word is.
bool word_byte(unsigned char c) {
  return std::isalnum(c) || c >= 0x80;
}

bool has_word(std::string_view s) {
  for (unsigned char c : s)
    if (word_byte(c)) return true;
  return false;
}

// 1-based position in characters (UTF-8 continuation bytes do not count).
std::size_t position(std::string_view query, std::size_t byte) {
  std::size_t n = 1;
  for (std::size_t i = 0; i < byte && i < query.size(); ++i)
    if ((static_cast<unsigned char>(query[i]) & 0xC0) != 0x80) ++n;
  return n;
}

std::string quoted(std::string_view query) {
  return "search query '" + std::string(query) + "'";
}

std::vector<QueryToken> tokenize(std::string_view q) {
  std::vector<QueryToken> out;
  std::size_t i = 0;
  while (i < q.size()) {
    unsigned char c = static_cast<unsigned char>(q[i]);
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    QueryToken t;
    t.at = position(q, i);
    if (c == '(' || c == ')') {
      t.kind = c == '(' ? Kind::kOpen : Kind::kClose;
      out.push_back(std::move(t));
      ++i;
      continue;
    }
    if (c == '"') {
      auto close = q.find('"', i + 1);
      if (close == std::string_view::npos)
        throw SearchQueryError(quoted(q) + ": found an opening \" at character " +
                               std::to_string(t.at) +
                               " with no closing \", expected a phrase in quotes such as "
                               "\"climate change\"");
      t.text = std::string(q.substr(i + 1, close - i - 1));
      if (!has_word(t.text))
        throw SearchQueryError(quoted(q) + ": found an empty phrase at character " +
                               std::to_string(t.at) + ", expected words between the quotes");
      i = close + 1;
      if (i < q.size() && q[i] == '*') {
        t.prefix = true;
        while (i < q.size() && q[i] == '*') ++i;
      }
      out.push_back(std::move(t));
      continue;
    }
    std::size_t end = i;
    while (end < q.size() && !std::isspace(static_cast<unsigned char>(q[end])) && q[end] != '"' &&
           q[end] != '(' && q[end] != ')')
      ++end;
    std::string word(q.substr(i, end - i));
    i = end;
    if (word == "AND" || word == "OR" || word == "NOT") {
      t.kind = word == "AND" ? Kind::kAnd : word == "OR" ? Kind::kOr : Kind::kNot;
      t.text = word;
      out.push_back(std::move(t));
      continue;
    }
    while (!word.empty() && word.back() == '*') {
      word.pop_back();
      t.prefix = true;
    }
    if (!has_word(word)) {
      if (t.prefix)
        throw SearchQueryError(quoted(q) + ": found '*' at character " + std::to_string(t.at) +
                               " with no word before it, expected a prefix such as vacc*");
      continue;  // punctuation alone ("&", "-") matches nothing the tokenizer keeps
    }
    t.text = std::move(word);
    out.push_back(std::move(t));
  }
  return out;
}

std::string describe(const QueryToken& t) {
  switch (t.kind) {
    case Kind::kPhrase:
      return "'" + t.text + (t.prefix ? "*" : "") + "' at character " + std::to_string(t.at);
    case Kind::kOpen:
      return "'(' at character " + std::to_string(t.at);
    case Kind::kClose:
      return "')' at character " + std::to_string(t.at);
    default:
      return t.text + " at character " + std::to_string(t.at);
  }
}

// Recursive descent over the tokens, only to check them:
//   or  := and (OR and)*        and := not ((AND)? not)*
//   not := term (NOT term)*     term := phrase | '(' or ')'
class Checker {
 public:
  Checker(std::string_view query, const std::vector<QueryToken>& tokens)
      : query_(query), tokens_(tokens) {}

  void check() {
    parse_or();
    if (pos_ < tokens_.size()) {
      const QueryToken& t = tokens_[pos_];
      if (t.kind == Kind::kClose)
        fail("found ')' at character " + std::to_string(t.at) + " with no '(' before it");
      fail("found " + describe(t) + ", expected AND, OR, NOT or another word");
    }
  }

 private:
  const QueryToken* peek() const { return pos_ < tokens_.size() ? &tokens_[pos_] : nullptr; }

  [[noreturn]] void fail(const std::string& what) const {
    throw SearchQueryError(quoted(query_) + ": " + what);
  }

  void parse_or() {
    parse_and();
    while (peek() && peek()->kind == Kind::kOr) {
      ++pos_;
      parse_and();
    }
  }

  void parse_and() {
    parse_not();
    for (;;) {
      const QueryToken* t = peek();
      if (!t) return;
      if (t->kind == Kind::kAnd) {
        ++pos_;
      } else if (t->kind != Kind::kPhrase && t->kind != Kind::kOpen) {
        return;
      }
      parse_not();
    }
  }

  void parse_not() {
    parse_term();
    while (peek() && peek()->kind == Kind::kNot) {
      ++pos_;
      parse_term();
    }
  }

  void parse_term() {
    const QueryToken* t = peek();
    const QueryToken* before = pos_ > 0 ? &tokens_[pos_ - 1] : nullptr;
    if (!t) {
      if (before)
        fail("found the end of the query after " + describe(*before) + ", expected " + kOperand +
             " after it");
      fail("found no words, expected " + std::string(kOperand));
    }
    if (t->kind == Kind::kPhrase) {
      ++pos_;
      return;
    }
    if (t->kind == Kind::kOpen) {
      // Nesting is bounded: each level is a frame on this stack (and on SQLite's).
      if (++depth_ > kMaxNesting)
        fail("found more than " + std::to_string(kMaxNesting) + " parentheses open at character " +
             std::to_string(t->at) + ", expected at most " + std::to_string(kMaxNesting) +
             " inside each other");
      ++pos_;
      parse_or();
      --depth_;
      const QueryToken* close = peek();
      if (!close || close->kind != Kind::kClose)
        fail("found " + (close ? describe(*close) : std::string("the end of the query")) +
             ", expected ')' to close the '(' at character " + std::to_string(t->at));
      ++pos_;
      return;
    }
    if (t->kind == Kind::kNot && (!before || before->kind == Kind::kOpen))
      fail("found NOT at character " + std::to_string(t->at) +
           " with nothing before it, expected words to keep before NOT (as in: apples NOT pears)");
    if (!before) fail("found " + describe(*t) + ", expected " + kOperand + " before it");
    fail("found " + describe(*t) + " after " + describe(*before) + ", expected " + kOperand);
  }

  // SQLite's FTS5 query parser has a stack of 100 entries, and a level of parentheses with an
  // operator in it takes three: deeper than 30 levels, a query could fail in SQLite's words.
  static constexpr int kMaxNesting = 30;
  int depth_ = 0;
  std::string_view query_;
  const std::vector<QueryToken>& tokens_;
  std::size_t pos_ = 0;
};

}  // namespace

std::vector<QueryToken> parse_search_query(std::string_view query) {
  auto tokens = tokenize(query);
  if (tokens.empty())
    throw SearchQueryError(query.find_first_not_of(" \t\r\n") == std::string_view::npos
                               ? std::string("empty search query: expected ") + kOperand
                               : quoted(query) + ": found no words, expected " + kOperand);
  Checker(query, tokens).check();
  return tokens;
}

}  // namespace vellum::index
