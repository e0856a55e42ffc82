#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "sources/LinkFinder.h"
#include "support/TempDir.h"

namespace vellum::sources {
namespace {

using Links = std::vector<std::string>;

TEST(LinkFinder, PicksArticleLinksFromARealNewsPage) {
  // A BBC News article page: its skip link ("#bbc-main", this very page) and its navigation,
  // topic and video links must not be taken; its related stories (relative hrefs) must, once
  // each, in page order.
  const auto file = test::corpus_dir() / "fundus/uk/BBC_2026_04_25.html.gz";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "corpus not present";
  const std::string html = test::read_corpus_page(file);
  std::regex article(R"(^https://www\.bbc\.com/news/articles/[a-z0-9]+$)");
  Links links = find_links(html, "https://www.bbc.com/news/articles/clymn8zyrp9o", article);
  EXPECT_EQ(links, (Links{
                       "https://www.bbc.com/news/articles/c0rxk4q0pj0o",
                       "https://www.bbc.com/news/articles/cn783emlgdno",
                       "https://www.bbc.com/news/articles/c62lp853214o",
                       "https://www.bbc.com/news/articles/cj40r2gw24wo",
                       "https://www.bbc.com/news/articles/ce35xkgjqd5o",
                       "https://www.bbc.com/news/articles/cy8103xklreo",
                       "https://www.bbc.com/news/articles/c8954xe8yjpo",
                   }));
}

TEST(LinkFinder, AbsoluteLinksWithFragmentsOnAnotherRealPage) {
  const auto file = test::corpus_dir() / "fundus/ca/GlobalNews_2026_05_24.html.gz";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "corpus not present";
  const std::string html = test::read_corpus_page(file);
  std::regex article(R"(^https://globalnews\.ca/news/\d+/[^/]+/$)");
  Links links = find_links(
      html, "https://globalnews.ca/news/11862251/russia-missile-attack-kyiv-ukraine/", article);
  ASSERT_EQ(links.size(), 15u);
  EXPECT_EQ(links[0], "https://globalnews.ca/news/11858560/danielle-smith-alberta-address-may-21/");
  // "…/#comment-669552" is this page's own URL once the fragment is gone.
  EXPECT_EQ(links[2], "https://globalnews.ca/news/11862251/russia-missile-attack-kyiv-ukraine/");
  EXPECT_EQ(links.back(), "https://globalnews.ca/news/11861749/rain-forecast-gta/");
  for (const auto& l : links) EXPECT_EQ(l.find('#'), std::string::npos) << l;
}

TEST(LinkFinder, BaseHrefFragmentsSchemesAndDuplicates) {
  const char* html = R"html(<!doctype html>
<html><head><base href="https://cdn.example/section/"><title>Listing</title></head>
<body>
  <a href="#main">skip</a>
  <ul>
    <li><a href="story-1.html">One</a>
    <li><a href="/section/story-2.html#top">Two</a>
    <li><a href="  story-1.html  ">One again</a>
    <li><a href="https://CDN.example:443/section/story-3.html">Three</a>
    <li><a href="javascript:void(0)">menu</a>
    <li><a href="mailto:tips@cdn.example">tips</a>
    <li><a href="ftp://cdn.example/section/story-9.html">ftp</a>
    <li><a>no href</a>
    <li><a href="/about/team.html">About</a>
  <p><a href="story-4.html">unclosed paragraph
  <table><tr><td><a href=story-5.html>in a table</a>
</body></html>)html";
  std::regex any_story(R"(/section/story-\d+\.html$)");
  EXPECT_EQ(
      find_links(html, "https://www.example/listing", any_story),
      (Links{"https://cdn.example/section/story-1.html", "https://cdn.example/section/story-2.html",
             "https://cdn.example/section/story-3.html", "https://cdn.example/section/story-4.html",
             "https://cdn.example/section/story-5.html"}));
  std::regex everything(".");
  Links all = find_links(html, "https://www.example/listing", everything);
  EXPECT_EQ(all.size(), 6u);  // the five stories and /about/team.html
}

TEST(LinkFinder, WithoutBaseUsesThePageUrl) {
  const char* html = "<p><a href='../b/2'>x</a><a href='c'>y</a></p>";
  EXPECT_EQ(find_links(html, "https://n.example/a/list/", std::regex(".")),
            (Links{"https://n.example/a/b/2", "https://n.example/a/list/c"}));
  EXPECT_TRUE(find_links("", "https://n.example/", std::regex(".")).empty());
  EXPECT_TRUE(find_links("\xFF\xFE\x00garbage<<<a", "https://n.example/", std::regex(".")).empty());
}

TEST(LinkFinder, AnOverlongLinkIsLeftOutWithoutExhaustingTheStack) {
  const std::string longest = "https://n.example/news/" + std::string(2048 - 23, 'a');
  const std::string too_long = "https://n.example/news/" + std::string(200'000, 'b');
  const std::string html = "<a href='" + too_long + "'>x</a><a href='" + longest + "'>y</a>";
  // A pattern whose match walks the whole URL, one recursion per character.
  const std::regex pattern("^https://n\\.example/news/.+");
  EXPECT_EQ(find_links(html, "https://n.example/", pattern), (Links{longest}));
  EXPECT_EQ(filter_links({too_long, longest}, "https://n.example/", pattern), (Links{longest}));
}

TEST(LinkFinder, PluginListedLinksAreResolvedFilteredAndDeduplicated) {
  Links listed{"/news/1",
               "https://n.example/news/2#comments",
               "news/3",
               "mailto:x@n.example",
               "javascript:void(0)",
               "/about",
               "/news/1",
               "ftp://n.example/news/4"};
  EXPECT_EQ(
      filter_links(listed, "https://n.example/", std::regex("/news/")),
      (Links{"https://n.example/news/1", "https://n.example/news/2", "https://n.example/news/3"}));
  EXPECT_TRUE(filter_links({}, "https://n.example/", std::regex(".")).empty());
}

}  // namespace
}  // namespace vellum::sources
