// The generic extractor on real pages, against the human-reviewed fields of the fundus corpus.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "extract/ArticleJson.h"
#include "extract/DateParser.h"
#include "extract/GenericExtractor.h"
#include "extract/PageBuilder.h"
#include "support/TempDir.h"

namespace vellum::extract {
namespace {

struct Expected {
  std::string html, title, date, url;
};

// Reads the expected fields of the manifest row for `html` (e.g. "us/APNews_2023_04_28.html.gz").
Expected expected_for(const std::string& html) {
  auto dir = test::corpus_dir() / "fundus";
  auto manifest = nlohmann::json::parse(test::read_file(dir / "manifest.json"));
  for (const auto& row : manifest) {
    if (row["html"] != html) continue;
    auto all = nlohmann::json::parse(test::read_file(dir / row["expected"].get<std::string>()));
    const auto& e = all[row["expected_key"].get<std::string>()];
    return {html, e.value("title", ""), e.value("publishing_date", ""), row["url"]};
  }
  throw std::runtime_error("not in manifest: " + html);
}

class FundusPage : public ::testing::TestWithParam<const char*> {};

TEST_P(FundusPage, TitleAndDate) {
  if (!std::filesystem::exists(test::corpus_dir() / "fundus" / "manifest.json"))
    GTEST_SKIP() << "corpus not present";
  Expected e = expected_for(GetParam());
  auto page =
      build_page_from_html(test::read_corpus_page(test::corpus_dir() / "fundus" / e.html), e.url);
  auto a = GenericExtractor().extract(page);
  EXPECT_EQ(a.title, e.title);
  std::string want = normalize_date(e.date);
  ASSERT_FALSE(want.empty()) << e.date;
  ASSERT_EQ(a.published.size(), want.size()) << a.published;
  EXPECT_EQ(a.published.substr(0, 16), want.substr(0, 16));  // to the minute
  EXPECT_FALSE(a.body_text().empty());
}

// The generic extractor runs on captures without script and style text (DomScope::article):
// on every page of the corpus the article must be exactly the one the whole document gives.
TEST(Corpus, ArticleScopeGivesTheSameArticleOnEveryPage) {
  if (!std::filesystem::exists(test::corpus_dir())) GTEST_SKIP() << "corpus not present";
  int pages = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(test::corpus_dir())) {
    std::string name = e.path().filename().string();
    if (!e.is_regular_file() || !name.ends_with(".html.gz")) continue;
    std::string html = test::read_corpus_page(e.path());
    std::string url = "https://news.example/" + name;
    auto whole = GenericExtractor().extract(build_page_from_html(html, url));
    auto lean = GenericExtractor().extract(build_page_from_html(html, url, DomScope::article));
    CaptureFacts facts{"c", url, url, "2026-01-01T00:00:00Z", 200, "<urn:uuid:x>", "sha1:X"};
    EXPECT_EQ(article_json(lean, facts, {}).dump(), article_json(whole, facts, {}).dump())
        << e.path();
    ++pages;
  }
  EXPECT_GT(pages, 150);
}

INSTANTIATE_TEST_SUITE_P(
    Generic, FundusPage,
    ::testing::Values("us/APNews_2023_04_28.html.gz", "us/CNBC_2023_04_28.html.gz",
                      "uk/BBC_2024_08_01.html.gz", "us/TheNation_2023_05_15.html.gz",
                      "uk/TheGuardian_2024_02_24.html.gz", "ind/TimesOfIndia_2024_09_02.html.gz",
                      "za/TimesLive_2025_05_22.html.gz", "ca/NationalPost_2024_08_28.html.gz"));

}  // namespace
}  // namespace vellum::extract
