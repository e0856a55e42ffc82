// The text layout of `vellum restore --format text` against the seed article.
#include <gtest/gtest.h>

#include <sstream>

#include "extract/ArticleJson.h"
#include "extract/GenericExtractor.h"
#include "extract/PageBuilder.h"
#include "support/TempDir.h"

using namespace vellum;

TEST(ArticleText, MatchesTheSeedLayoutWithTheTitleOnce) {
  std::string seed = test::read_file(std::filesystem::path(VELLUM_SHARED_DIR) / "seed-article.txt");
  // The seed repeats its title three times (blank lines between); Vellum prints it once.
  std::istringstream in(seed);
  std::string title, line;
  std::getline(in, title);
  std::string rest = seed.substr(seed.find("https://"));

  Article a;
  a.title = title;
  a.published = "2026-04-08T16:09:31Z";
  std::vector<std::string> body_and_points;
  std::istringstream r(rest);
  std::getline(r, line);  // URL
  std::vector<std::string> lines;
  while (std::getline(r, line)) lines.push_back(line);
  ArticleSection section;
  for (const auto& l : lines) {
    if (l.empty() || l.starts_with("Publish Date:") || l.starts_with("Source Domain:") ||
        l == "Key Points:")
      continue;
    if (l.starts_with("\u2013 "))
      a.key_points.push_back(l.substr(std::string("\u2013 ").size()));
    else
      section.paragraphs.push_back(l);
  }
  a.sections.push_back(section);
  extract::CaptureFacts facts;
  facts.url = facts.final_url = "https://thenextweb.com/news/meta-muse-spark-msl-first-model";
  auto j = extract::article_json(a, facts, {"generic", "1.0.0", {}});
  EXPECT_EQ(j["source_domain"], "thenextweb.com");

  std::string expected = title + "\n\n" + rest;
  if (!expected.ends_with("\n")) expected += "\n";
  EXPECT_EQ(extract::article_text(j), expected);
}

// Text from a page never carries terminal escape sequences to the reader: control characters
// from JSON-LD and meta values are spaces in the article, and an article stored with them (by
// an older version or a plugin) prints without them.
TEST(ArticleText, ControlCharactersNeverReachTheOutput) {
  using namespace vellum::extract;
  const std::string html =
      "<html><head><script type='application/ld+json'>{\"@type\":\"NewsArticle\",\"headline\":"
      "\"Evil \\u001b]0;pwned\\u0007\\u001b[2J title\\u009b31m\",\"author\":\"Ann\\u001b[1mLee\"}"
      "</script></head><body><p>Body.</p></body></html>";
  Article a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  EXPECT_EQ(a.title, "Evil ]0;pwned [2J title 31m");
  ASSERT_EQ(a.authors.size(), 1u);
  EXPECT_EQ(a.authors[0], "Ann [1mLee");

  nlohmann::json j = {{"title", "Stored\x07 \x1b\xC2\x9Btitle"},
                      {"url", "https://x.example/a\x1b[31mred"},
                      {"sections", {{{"paragraphs", {"One\x1b]0;x\x07 paragraph."}}}}}};
  for (const std::string& out : {article_text(j), article_markdown(j)}) {
    for (char c : out) EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << out;
    EXPECT_NE(out.find("Stored title"), std::string::npos) << out;
    // The URL as list and show print it: the control character as %XX, not dropped.
    EXPECT_NE(out.find("https://x.example/a%1B[31mred"), std::string::npos) << out;
  }
}

// Markdown shows the article as written: what Markdown would read as markup is escaped. An
// unknown title prints no empty heading or line.
TEST(ArticleText, MarkdownEscapesTextAndUnknownTitlesPrintNothing) {
  using namespace vellum::extract;
  nlohmann::json j = {{"title", "*Breaking*: 5 [click](http://evil.example) `rm` <b>"},
                      {"url", "https://x.example/a"},
                      {"sections",
                       {{{"paragraphs",
                          {"1. Not a list", "# Not a heading", "- Not an item", "> Not a quote",
                           "<img src=x onerror=alert(1)>", "2026. A year",
                           "Pos Team\n1. Leeds 90\n- withdrawn"}}}}}};
  std::string md = article_markdown(j);
  EXPECT_EQ(md.substr(0, md.find('\n')),
            "# \\*Breaking\\*: 5 \\[click\\](http://evil.example) \\`rm\\` \\<b>");
  for (const char* para :
       {"\n\n1\\. Not a list\n", "\n\n\\# Not a heading\n", "\n\n\\- Not an item\n",
        "\n\n\\> Not a quote\n", "\n\n\\<img src=x onerror=alert(1)>\n", "\n\n2026\\. A year",
        // a line break (a table's rows) is a hard break, and each line is escaped
        "\n\nPos Team  \n1\\. Leeds 90  \n\\- withdrawn\n"})
    EXPECT_NE(md.find(para), std::string::npos) << para << " in\n" << md;

  // Preformatted text (an indented line) is a fenced code block, shown as it is; a fence
  // longer than the backticks inside.
  nlohmann::json code = {{"url", "https://x.example/a"},
                         {"sections", {{{"paragraphs", {"    # config\nx = [1, 2]\n\t```"}}}}}};
  EXPECT_NE(article_markdown(code).find("\n\n````\n    # config\nx = [1, 2]\n\t```\n````\n"),
            std::string::npos)
      << article_markdown(code);

  nlohmann::json untitled = {{"url", "https://x.example/a"},
                             {"sections", {{{"paragraphs", {"Text."}}}}}};
  EXPECT_EQ(article_text(untitled).rfind("https://x.example/a\n", 0), 0u);
  EXPECT_EQ(article_markdown(untitled).rfind("<https://x.example/a>", 0), 0u);
}

// More of what Markdown would read as markup: a "~~~" fence (the rest of the article would be
// code), entities (shown as the characters they name), a heading's trailing '#' (its closing
// sequence, dropped).
TEST(ArticleText, MarkdownEscapesFencesEntitiesAndClosingHashes) {
  using namespace vellum::extract;
  nlohmann::json j = {
      {"title", "C# or F#"},
      {"url", "https://x.example/a"},
      {"sections",
       {{{"heading", "Ranked #"},
         {"paragraphs", {"~~~ tilde line", "Text &copy; &#169; &amp; ~~struck~~"}}}}}};
  const std::string md = article_markdown(j);
  EXPECT_EQ(md.substr(0, md.find('\n')), "# C# or F#");
  for (const char* part : {"\n## Ranked \\#\n", "\n\\~\\~\\~ tilde line\n",
                           "\nText \\&copy; \\&#169; \\&amp; \\~\\~struck\\~\\~"})
    EXPECT_NE(md.find(part), std::string::npos) << part << " in\n" << md;

  // The lead and the key points are escaped as lines too: none becomes a heading or a list.
  nlohmann::json marked = {
      {"url", "https://x.example/a"},
      {"lead", "# of cases rose 40%"},
      {"key_points", {"# of cases rose", "1. priority is testing", "+ plus here", "- minus"}},
      {"sections", {{{"paragraphs", {"Text."}}}}}};
  const std::string points = article_markdown(marked);
  for (const char* part :
       {"\n> \\# of cases rose 40%\n", "\n- \\# of cases rose\n", "\n- 1\\. priority is testing\n",
        "\n- \\+ plus here\n", "\n- \\- minus\n"})
    EXPECT_NE(points.find(part), std::string::npos) << part << " in\n" << points;
}

// The lead (a standfirst, or the opening paragraph a site plugin keeps apart from the body)
// opens the text, once.
TEST(ArticleText, TheLeadOpensTheTextOnce) {
  using namespace vellum::extract;
  nlohmann::json j = {{"title", "T"},
                      {"url", "https://x.example/a"},
                      {"lead", "KATHMANDU (Reuters) - The lead."},
                      {"sections", {{{"paragraphs", {"Second paragraph."}}}}}};
  EXPECT_EQ(article_text(j),
            "T\n\nhttps://x.example/a\n\nKATHMANDU (Reuters) - The lead.\n\nSecond paragraph.\n");
  // A lead that is only the first word of the body is still printed.
  j["lead"] = "Police";
  j["sections"] = {{{"paragraphs", {"Police said."}}}};
  EXPECT_EQ(article_text(j), "T\n\nhttps://x.example/a\n\nPolice\n\nPolice said.\n");
  j["lead"] = "KATHMANDU (Reuters) - The lead.";
  j["sections"] = {{{"paragraphs", {"KATHMANDU (Reuters) - The lead.", "Second paragraph."}}}};
  EXPECT_EQ(article_text(j),
            "T\n\nhttps://x.example/a\n\nKATHMANDU (Reuters) - The lead.\n\nSecond paragraph.\n");
}

// What a plugin returns gets the same treatment before it is stored: no control characters
// but newlines and tabs, in any field; valid UTF-8; dates in UTC.
TEST(ArticleText, ControlCharactersAreDroppedFromAPluginsArticle) {
  using namespace vellum::extract;
  Article a;
  a.title = "T\x1b[2Jitle";
  a.authors = {"A\x07nn"};
  a.sections = {
      {"H\x1b]0;x\x07"
       "ead",
       {"Line one\nline\ttwo\x1b[31m"}}};
  a.images = {{"https://x.example/i.jpg", "Cap\xC2\x9Btion", ""}};
  tidy_plugin_article(a);
  EXPECT_EQ(a.title, "T[2Jitle");
  EXPECT_EQ(a.authors[0], "Ann");
  EXPECT_EQ(a.sections[0].heading, "H]0;xead");
  EXPECT_EQ(a.sections[0].paragraphs[0], "Line one\nline\ttwo[31m");
  EXPECT_EQ(a.images[0].caption, "Caption");

  Article dated;
  dated.title = "Bad \xff\xfe bytes";
  dated.published = "2024-01-01T10:00:00+05:00";
  dated.modified = "yesterday";
  dated.lead = std::string("Foo\0Bar", 7);
  tidy_plugin_article(dated);
  EXPECT_EQ(dated.title, "Bad \uFFFD\uFFFD bytes");
  EXPECT_EQ(dated.published, "2024-01-01T05:00:00Z");
  EXPECT_EQ(dated.modified, "") << "not a date: dropped";
  EXPECT_EQ(dated.lead, "FooBar");
}
