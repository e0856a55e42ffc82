#include <gtest/gtest.h>

#include "extract/AuthorCleaner.h"

namespace vellum::extract {
namespace {

using V = std::vector<std::string>;

TEST(AuthorCleaner, Table) {
  const std::pair<V, V> cases[] = {
      {{"By Jane Doe"}, {"Jane Doe"}},
      {{"by  JANE DOE "}, {"JANE DOE"}},
      {{"Jane Doe and John Smith"}, {"Jane Doe", "John Smith"}},
      {{"Jane Doe, John Smith & Ann Lee"}, {"Jane Doe", "John Smith", "Ann Lee"}},
      {{"Jane Doe | Reuters"}, {"Jane Doe"}},
      {{"Jane Doe - Associated Press"}, {"Jane Doe"}},
      {{"https://example.com/authors/jane-doe", "Jane Doe"}, {"Jane Doe"}},
      {{"Jane Doe", "jane doe", "Jane Doe"}, {"Jane Doe"}},
      {{"Doe, Jane"}, {"Jane Doe"}},
      // two agencies are not "Last, First"
      {{"Reuters, Bloomberg"}, {"Reuters", "Bloomberg"}},
      // a handle beside the name is not part of it; an address alone is no name
      {{"Jane Doe @janedoe"}, {"Jane Doe"}},
      {{"@janedoe"}, {}},
      {{"jane@example.com"}, {}},
      {{"Written by Mary-Ann O'Neil"}, {"Mary-Ann O'Neil"}},
      {{"", "  ", "www.example.com"}, {}},
      {{"(Image: Getty Images)"}, {}},
      // a job title after the name is not a second author
      {{"Jane Doe, Senior Correspondent"}, {"Jane Doe"}},
      {{"By Jane Doe, Staff Writer, and John Smith"}, {"Jane Doe", "John Smith"}},
      // "Von" and "Par" start bylines in German and French, and names too
      {{"Von Max Mustermann"}, {"Max Mustermann"}},
      {{"Par Jeanne Martin"}, {"Jeanne Martin"}},
      {{"Von Miller"}, {"Von Miller"}},
      {{"By Von Miller"}, {"Von Miller"}},
      // agencies and letters named beside the people, and what follows a name
      {{"By JANE DOE and JOHN ROE, Associated Press"}, {"JANE DOE", "JOHN ROE"}},
      {{"Jane Doe, Reuters"}, {"Jane Doe"}},
      {{"Reuters"}, {"Reuters"}},
      {{"Dr. Jane Doe, MD"}, {"Dr. Jane Doe"}},
      {{"Jane Doe in London"}, {"Jane Doe"}},
      {{"Jane Doe (AP)"}, {"Jane Doe"}},
      {{"Jane Doe with additional reporting by John Roe"}, {"Jane Doe"}},
      {{"Jane Doe \xE2\x80\xA2 5 min read"}, {"Jane Doe"}},
      // "and" in other languages, between names
      {{"Ana Garc\xC3\xAD"
        "a y Juan P\xC3\xA9rez"},
       {"Ana Garc\xC3\xAD"
        "a",
        "Juan P\xC3\xA9rez"}},
      {{"Von Hans M\xC3\xBCller und Petra Schmidt"}, {"Hans M\xC3\xBCller", "Petra Schmidt"}},
      {{"Jos\xC3\xA9 Ortega y Gasset"}, {"Jos\xC3\xA9 Ortega y Gasset"}},
      {{"Jos\xC3\xA9 Ortega y Gasset and Jane Doe"}, {"Jos\xC3\xA9 Ortega y Gasset", "Jane Doe"}},
      {{"MARY E JONES AND BOB SMITH"}, {"MARY E JONES", "BOB SMITH"}},
      // a conjunction before a one-word name, however the name ends
      {{"Ortega y Gasset, Jane Doe"}, {"Ortega y Gasset", "Jane Doe"}},
      {{"Ortega y Gasset and Jane Doe"}, {"Ortega y Gasset", "Jane Doe"}},
      {{"Ana Lee y Bob Roe y Carl Poe"}, {"Ana Lee", "Bob Roe", "Carl Poe"}},
      // an agency's staff
      {{"Jane Doe, Reuters staff"}, {"Jane Doe"}},
      {{"AP Staff"}, {"AP Staff"}},
  };
  for (const auto& [in, want] : cases) {
    EXPECT_EQ(clean_authors(in), want) << "first input: " << (in.empty() ? "" : in.front());
  }
}

// A value of megabytes full of conjunctions is read in one pass: each conjunction looks only
// at the word after it (it looked to the end of the value, hours for this one).
TEST(AuthorCleaner, ALongValueOfConjunctionsIsSplitOnce) {
  std::string value;
  while (value.size() < 2'000'000) value += "Ann Lee y ";
  value += "Bob Roe";
  EXPECT_EQ(clean_authors({value}), (V{"Ann Lee", "Bob Roe"}));
}

}  // namespace
}  // namespace vellum::extract
