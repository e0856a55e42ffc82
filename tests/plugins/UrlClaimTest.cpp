// How a plugin's claim scores a URL: URL patterns over exact hosts over parent domains, and URL
// patterns bounded so that a URL of any length cannot take the process down.
#include <gtest/gtest.h>

#include <string>

#include "plugins/UrlClaim.h"

namespace vellum::plugins {
namespace {

TEST(UrlClaim, PatternsBeatHostsWhichBeatParentDomains) {
  const UrlClaim claim({"example.com"}, {R"(https://news\.example\.com/story/.*)"});
  const int pattern = claim.score("https://news.example.com/story/1");
  const int parent = claim.score("https://news.example.com/about");
  const int exact = claim.score("https://www.example.com/about");
  EXPECT_GT(pattern, exact);
  EXPECT_GT(exact, parent);
  EXPECT_GT(parent, 0);
  EXPECT_EQ(claim.score("https://other.example/story/1"), 0);
}

// std::regex matches by recursion, one level per character: a URL of tens of thousands of
// characters overflowed the stack of the process routing it. A URL longer than
// kMaxPatternUrl is routed by its host alone.
TEST(UrlClaim, AVeryLongUrlIsRoutedByItsHostAlone) {
  const UrlClaim claim({"example.com"}, {R"(https://news\.example\.com/.*)"});
  const std::string tail(40000, 'a');
  const int score = claim.score("https://news.example.com/" + tail);
  EXPECT_GT(score, 0);
  EXPECT_LT(score, 3000) << "the pattern was matched against the whole URL";
  const std::string short_enough(UrlClaim::kMaxPatternUrl - 30, 'a');
  EXPECT_GE(claim.score("https://news.example.com/" + short_enough), 3000);
}

}  // namespace
}  // namespace vellum::plugins
