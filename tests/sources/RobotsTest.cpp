#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "sources/Robots.h"

namespace vellum::sources {
namespace {

using std::chrono::milliseconds;

// The example file of RFC 9309 section 5.1, final "EOF" line included.
constexpr const char* kRfcExample = R"(User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
)";

TEST(Robots, RfcExampleGroups) {
  auto any = RobotsRules::parse(kRfcExample, "vellum");  // no group of its own: "*"
  EXPECT_FALSE(any.allowed("/images/logo.gif"));
  EXPECT_TRUE(any.allowed("/images/logo.gif?v=2"));  // '$' anchors at the very end
  EXPECT_FALSE(any.allowed("/example/"));
  EXPECT_FALSE(any.allowed("/example/page.html"));
  EXPECT_TRUE(any.allowed("/publications/"));
  EXPECT_TRUE(any.allowed("/"));

  auto foo = RobotsRules::parse(kRfcExample, "foobot");
  EXPECT_TRUE(foo.allowed("/example/page.html"));
  EXPECT_TRUE(foo.allowed("/example/allowed.gif"));
  EXPECT_FALSE(foo.allowed("/example/other.html"));
  EXPECT_FALSE(foo.allowed("/"));

  for (const char* bot : {"barbot", "BazBot"}) {
    auto r = RobotsRules::parse(kRfcExample, bot);
    EXPECT_FALSE(r.allowed("/example/page.html")) << bot;
    EXPECT_TRUE(r.allowed("/example/other.html")) << bot;
    EXPECT_TRUE(r.allowed("/x.gif")) << bot;  // the "*" rules do not apply to a named group
  }

  auto qux = RobotsRules::parse(kRfcExample, "quxbot");  // a group without rules allows all
  EXPECT_TRUE(qux.allowed("/example/page.html"));
  EXPECT_TRUE(qux.allowed("/x.gif"));
}

TEST(Robots, LongestMatchWinsAndAllowWinsATie) {
  auto r = RobotsRules::parse(
      "User-agent: *\n"
      "Allow: /example/page/\n"
      "Disallow: /example/page/disallowed.gif\n"
      "Allow: /tie\n"
      "Disallow: /tie\n"
      "Disallow: /folder/\n"
      "Allow: /folder/public\n",
      "vellum");
  EXPECT_TRUE(r.allowed("/example/page/"));
  EXPECT_TRUE(r.allowed("/example/page/other.html"));
  EXPECT_FALSE(r.allowed("/example/page/disallowed.gif"));
  EXPECT_TRUE(r.allowed("/tie/x"));
  EXPECT_FALSE(r.allowed("/folder/private"));
  EXPECT_TRUE(r.allowed("/folder/public/page"));
}

TEST(Robots, WildcardsAndEndAnchor) {
  auto r = RobotsRules::parse(
      "user-agent: *\n"
      "allow: /$\n"
      "disallow: /\n"
      "allow: /news/*/story-*.html$\n"
      "disallow: /*?sessionid=\n"
      "allow: /fish*\n",
      "vellum");
  EXPECT_TRUE(r.allowed("/"));
  EXPECT_FALSE(r.allowed("/page"));
  EXPECT_TRUE(r.allowed("/news/world/story-1.html"));
  EXPECT_TRUE(r.allowed("/news/a/b/story-22.html"));
  EXPECT_FALSE(r.allowed("/news/world/story-1.html?x=1"));
  EXPECT_FALSE(r.allowed("/news/world/index.html"));
  EXPECT_TRUE(r.allowed("/fish"));
  EXPECT_TRUE(r.allowed("/fishheads/yummy.html"));
  EXPECT_FALSE(r.allowed("/Fish.asp"));          // paths are case-sensitive
  EXPECT_FALSE(r.allowed("/fish?sessionid=1"));  // the longer rule disallows
}

TEST(Robots, PercentEncodingComparedNormalised) {
  auto r = RobotsRules::parse(
      "User-agent: *\n"
      "Disallow: /%7euser/\n"
      "Disallow: /foo/bar/\xE3\x83\x84\n"
      "Disallow: /a%2fb\n"
      "Disallow: /%62%61%7A\n",
      "vellum");
  EXPECT_FALSE(r.allowed("/~user/page"));
  EXPECT_FALSE(r.allowed("/%7Euser/page"));
  EXPECT_FALSE(r.allowed("/foo/bar/%E3%83%84"));
  EXPECT_FALSE(r.allowed("/foo/bar/%e3%83%84"));
  EXPECT_FALSE(r.allowed("/a%2Fb"));
  EXPECT_TRUE(r.allowed("/a/b"));  // an encoded '/' is not a path separator
  EXPECT_FALSE(r.allowed("/baz"));
}

TEST(Robots, GroupsForTheSameAgentAreMerged) {
  auto r = RobotsRules::parse(
      "user-agent: Vellum\n"
      "disallow: /foo\n"
      "disallow: /bar\n"
      "\n"
      "user-agent: *\n"
      "disallow: /everything-else\n"
      "\n"
      "user-agent: vellum/0.1 (+https://vellum.example/bot)\n"
      "disallow: /baz\n"
      "\n"
      "user-agent: vellumbot\n"
      "disallow: /not-ours\n",
      "vellum");
  EXPECT_FALSE(r.allowed("/foo"));
  EXPECT_FALSE(r.allowed("/bar"));
  EXPECT_FALSE(r.allowed("/baz"));
  EXPECT_TRUE(r.allowed("/everything-else"));
  EXPECT_TRUE(r.allowed("/not-ours"));  // "vellumbot" is another product
}

TEST(Robots, NoMatchingGroupMeansAllowed) {
  auto r = RobotsRules::parse("User-agent: otherbot\nDisallow: /\n", "vellum");
  EXPECT_TRUE(r.allowed("/anything"));
  EXPECT_TRUE(RobotsRules::parse("", "vellum").allowed("/x"));
  EXPECT_TRUE(RobotsRules::parse("<html>not robots</html>", "vellum").allowed("/x"));
  // Rules before any user-agent line belong to no group.
  EXPECT_TRUE(RobotsRules::parse("Disallow: /\n", "vellum").allowed("/x"));
}

TEST(Robots, StatusCodesPerRfc) {
  const char* body = "User-agent: *\nDisallow: /private\n";
  auto ok = RobotsRules::from_response(200, body, "vellum");
  EXPECT_FALSE(ok.allowed("/private/x"));
  EXPECT_TRUE(ok.allowed("/public"));
  for (int status : {401, 403, 404, 410}) {
    auto r = RobotsRules::from_response(status, body, "vellum");
    EXPECT_TRUE(r.allowed("/private/x")) << status;  // unavailable: no rules at all
  }
  for (int status : {500, 503, 429, 0}) {
    auto r = RobotsRules::from_response(status, body, "vellum");
    EXPECT_FALSE(r.allowed("/public")) << status;  // unreachable: assume complete disallow
    EXPECT_TRUE(r.allowed("/robots.txt")) << status;
  }
  EXPECT_TRUE(RobotsRules::allow_all().allowed("/x"));
  EXPECT_FALSE(RobotsRules::disallow_all().allowed("/"));
}

TEST(Robots, RobotsTxtItselfIsAlwaysAllowed) {
  auto r = RobotsRules::parse("User-agent: *\nDisallow: /\n", "vellum");
  EXPECT_TRUE(r.allowed("/robots.txt"));
  EXPECT_FALSE(r.allowed("/robots.txt.bak"));
}

TEST(Robots, EmptyDisallowAllows) {
  auto r = RobotsRules::parse("User-agent: *\nDisallow:\n", "vellum");
  EXPECT_TRUE(r.allowed("/"));
  EXPECT_TRUE(r.allowed("/any/path?q=1"));
}

TEST(Robots, BomCrlfCommentsAndJunkLines) {
  auto r = RobotsRules::parse(
      "\xEF\xBB\xBFUser-agent: *  # everyone\r\n"
      "this line has no colon\r\n"
      "Disallow: /private # keep out\r\n"
      "Foo: bar\r\n"
      "Dissallow: /typo\r"
      "ALLOW: /private/open\r\n",
      "vellum");
  EXPECT_FALSE(r.allowed("/private/x"));
  EXPECT_TRUE(r.allowed("/private/open/y"));
  EXPECT_FALSE(r.allowed("/typo"));
  EXPECT_TRUE(r.allowed("/public"));
}

TEST(Robots, OnlyTheFirst500KiBAreRead) {
  std::string body = "User-agent: *\nDisallow: /early\n";
  while (body.size() < RobotsRules::kMaxBytes - 100) body += "# padding padding padding\n";
  body += "Disallow: /late-but-inside\n";
  while (body.size() < RobotsRules::kMaxBytes + 10) body += "# more padding\n";
  body += "Disallow: /beyond-the-limit\n";
  auto r = RobotsRules::parse(body, "vellum");
  EXPECT_FALSE(r.allowed("/early"));
  EXPECT_FALSE(r.allowed("/late-but-inside"));
  EXPECT_TRUE(r.allowed("/beyond-the-limit"));

  // A line cut at the limit is dropped rather than read shortened: "Allow: /" fits within
  // the limit, the rest of "Allow: /public-area" does not.
  std::string cut = "User-agent: *\nDisallow: /\n";
  cut += std::string(RobotsRules::kMaxBytes - cut.size() - 9, '#') + "\n";
  cut += "Allow: /public-area\n";
  EXPECT_FALSE(RobotsRules::parse(cut, "vellum").allowed("/page"));
}

TEST(Robots, CrawlDelayOfTheChosenGroup) {
  auto r = RobotsRules::parse(
      "User-agent: *\nCrawl-delay: 10\n\nUser-agent: vellum\nCrawl-delay: 2.5\nDisallow: /x\n",
      "vellum");
  ASSERT_TRUE(r.crawl_delay());
  EXPECT_EQ(*r.crawl_delay(), milliseconds(2500));
  auto star = RobotsRules::parse("User-agent: *\nCrawl-delay: 10\n", "vellum");
  EXPECT_EQ(star.crawl_delay(), milliseconds(10000));
  EXPECT_FALSE(RobotsRules::parse("User-agent: *\nDisallow: /\n", "vellum").crawl_delay());
  EXPECT_FALSE(RobotsRules::parse("User-agent: *\nCrawl-delay: soon\n", "vellum").crawl_delay());
  EXPECT_FALSE(RobotsRules::parse("User-agent: *\nCrawl-delay: -1\n", "vellum").crawl_delay());
  EXPECT_EQ(RobotsRules::parse("User-agent: *\nCrawl-delay: 0.25\n", "vellum").crawl_delay(),
            milliseconds(250));
}

TEST(Robots, SitemapLinesFromAnywhere) {
  auto r = RobotsRules::parse(
      "Sitemap: https://news.example/sitemap_index.xml\n"
      "User-agent: *\n"
      "Disallow: /search\n"
      "sitemap:https://news.example/news-sitemap.xml\n"
      "\n"
      "User-agent: otherbot\n"
      "Disallow: /\n"
      "SITEMAP: https://news.example/video-sitemap.xml # videos\n"
      "Sitemap: https://news.example/sitemap_index.xml\n",
      "vellum");
  EXPECT_EQ(r.sitemaps(), (std::vector<std::string>{"https://news.example/sitemap_index.xml",
                                                    "https://news.example/news-sitemap.xml",
                                                    "https://news.example/video-sitemap.xml"}));
  EXPECT_FALSE(r.allowed("/search?q=x"));
}

}  // namespace
}  // namespace vellum::sources
