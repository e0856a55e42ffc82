// The site plugins (plugins/<name>/) against the labelled fundus pages of their publishers:
// each .so is loaded through the real plugin host and given a page built by the real page
// builder; title, authors, publication time and body paragraphs must equal the labels.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "extract/PageBuilder.h"
#include "plugins/PluginHost.h"
#include "plugins/SitePluginDir.h"
#include "support/TempDir.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Fixture {
  std::string plugin;     // plugins/<plugin>/
  std::string publisher;  // as in fundus/manifest.json
  std::string host;       // a host the plugin must claim
};

// Names the parameter in gtest's messages.
void PrintTo(const Fixture& f, std::ostream* os) {
  *os << f.plugin;
}

const std::vector<Fixture>& fixtures() {
  static const std::vector<Fixture> all = {
      {"apnews", "APNews", "apnews.com"},
      {"reuters", "Reuters", "www.reuters.com"},
      {"bbc", "BBC", "www.bbc.com"},
      {"mirror", "TheMirror", "www.mirror.co.uk"},
      {"businessinsider", "BusinessInsider", "www.businessinsider.com"},
      {"techcrunch", "TechCrunch", "techcrunch.com"},
  };
  return all;
}

fs::path fundus_dir() {
  return vellum::test::corpus_dir() / "fundus";
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return json::parse(in);
}

// Manifest rows of one publisher.
std::vector<json> rows_of(const std::string& publisher) {
  std::vector<json> out;
  for (const auto& row : read_json(fundus_dir() / "manifest.json"))
    if (row.value("publisher", "") == publisher) out.push_back(row);
  return out;
}

// Whitespace (including U+00A0) collapsed and trimmed.
std::string norm(const std::string& s) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool ws =
        s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v';
    if (!ws && s.compare(i, 2, "\xC2\xA0") == 0) {
      ws = true;
      ++i;
    }
    if (ws) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += s[i];
  }
  return out;
}

// "2023-04-28 17:40:08+00:00" -> "2023-04-28T17:40:08Z".
std::string label_time_utc(const std::string& s) {
  std::tm tm{};
  if (s.size() < 19 || !strptime(s.substr(0, 19).c_str(), "%Y-%m-%d %H:%M:%S", &tm)) return s;
  std::time_t t = timegm(&tm);
  if (s.size() >= 25 && (s[19] == '+' || s[19] == '-')) {
    long offset = std::stol(s.substr(20, 2)) * 3600 + std::stol(s.substr(23, 2)) * 60;
    t -= s[19] == '-' ? -offset : offset;
  }
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::vector<std::string> strings(const json& a) {
  std::vector<std::string> out;
  for (const auto& v : a) out.push_back(norm(v.get<std::string>()));
  return out;
}

vellum::Page page_of(const json& row, const std::string& url) {
  std::string html = vellum::test::read_corpus_page(fundus_dir() / row["html"].get<std::string>());
  return vellum::extract::build_page_from_html(std::move(html), url);
}

class SitePlugin : public ::testing::TestWithParam<Fixture> {
 protected:
  void SetUp() override {
    fs::path file = vellum::test::site_plugin_file(GetParam().plugin);
    ASSERT_TRUE(fs::exists(file)) << file << " is not built";
    plugin_ = host_.load_file(file, /*from_anywhere=*/true);
  }
  vellum::plugins::PluginHost host_{{}};
  std::shared_ptr<vellum::plugins::LoadedPlugin> plugin_;
};

}  // namespace

TEST_P(SitePlugin, DeclaresItsPublisher) {
  EXPECT_EQ(plugin_->info().name, GetParam().plugin);
  EXPECT_GT(plugin_->match("https://" + GetParam().host + "/some/article"), 0);
  EXPECT_EQ(plugin_->match("https://example.org/some/article"), 0);
}

TEST_P(SitePlugin, MatchesTheLabelsOfEveryFixturePage) {
  auto rows = rows_of(GetParam().publisher);
  ASSERT_GE(rows.size(), 2u);
  for (const auto& row : rows) {
    SCOPED_TRACE(row["html"].get<std::string>());
    const std::string url = row["url"];
    EXPECT_GT(plugin_->match(url), 0);
    json label = read_json(
        fundus_dir() / row["expected"].get<std::string>())[row["expected_key"].get<std::string>()];
    std::optional<vellum::Article> a = plugin_->extract(page_of(row, url));
    ASSERT_TRUE(a);

    EXPECT_EQ(a->title, norm(label["title"]));
    EXPECT_EQ(a->authors, strings(label["authors"]));
    EXPECT_EQ(a->published, label_time_utc(label["publishing_date"]));

    std::vector<std::string> want, got;
    for (const auto& s : label["body"]["sections"])
      for (const auto& p : s["paragraphs"]) want.push_back(norm(p.get<std::string>()));
    for (const auto& s : a->sections)
      for (const auto& p : s.paragraphs) got.push_back(norm(p));
    EXPECT_EQ(got, want);

    // Sub-headings in order (a labelled section may carry several; empty ones are dropped).
    std::vector<std::string> want_heads, got_heads;
    for (const auto& s : label["body"]["sections"])
      if (!s["paragraphs"].empty() && !s["headline"].empty())
        want_heads.push_back(norm(s["headline"].back().get<std::string>()));
    for (const auto& s : a->sections)
      if (!s.heading.empty()) got_heads.push_back(s.heading);
    EXPECT_EQ(got_heads, want_heads);

    // The labelled summary: Business Insider's bullet points, elsewhere the standfirst.
    std::vector<std::string> summary = strings(label["body"]["summary"]);
    if (GetParam().plugin == "businessinsider") {
      EXPECT_EQ(a->key_points, summary);
    } else if (!summary.empty()) {
      EXPECT_EQ(norm(a->lead), summary.front());
    }

    EXPECT_FALSE(a->canonical_url.empty());
    EXPECT_FALSE(a->language.empty());
  }
}

TEST_P(SitePlugin, DeclinesOtherPublishersPages) {
  for (const auto& other : fixtures()) {
    if (other.plugin == GetParam().plugin) continue;
    for (const auto& row : rows_of(other.publisher)) {
      SCOPED_TRACE(row["html"].get<std::string>());
      const std::string url = row["url"];
      EXPECT_FALSE(plugin_->extract(page_of(row, url)));
      // Served under this plugin's own host, a foreign page must not crash it.
      EXPECT_NO_THROW(plugin_->extract(page_of(row, "https://" + GetParam().host + "/x/1")));
    }
  }
}

// Older page layouts, from the article-extraction benchmark pages: metadata as published, and
// every extracted paragraph a part of the benchmark's labelled body.
TEST(SitePluginLegacyLayouts, ExtractTheBenchmarkPagesOfTheirPublishers) {
  struct Case {
    std::string plugin, id, title, author, published;
  };
  const std::vector<Case> cases = {
      {"reuters", "57d46c9d751e3fd3ffaf3ede7ac20cebd30eacb5ea78e1a6aa0a72059244e7ca",
       "Oversupply angst drags oil lower, stocks drift near highs", "Rodrigo Campos",
       "2019-11-19T21:57:01Z"},
      {"bbc", "70cb2d5bca75ab5a8f6bb378a38a52f882f6bda508de93b12502e74936d86ff2",
       "Taylor Swift's AMA row seems to be over", "BBC News", "2019-11-19T09:44:09Z"},
      {"techcrunch", "1ace8c85aaee21b9d4505eca506d50c4721c29db62848b567a9703bfe0583892",
       "New York State Attorney General reportedly investigating WeWork", "Catherine Shu",
       "2019-11-19T04:58:46Z"},
  };
  const fs::path aeb = vellum::test::corpus_dir() / "aeb";
  json truth = read_json(aeb / "ground-truth.json");
  vellum::plugins::PluginHost host({});
  for (const auto& c : cases) {
    SCOPED_TRACE(c.plugin);
    auto plugin = host.load_file(vellum::test::site_plugin_file(c.plugin), true);
    const std::string url = truth[c.id]["url"];
    std::string html = vellum::test::read_corpus_page(aeb / "html" / (c.id + ".html.gz"));
    auto a = plugin->extract(vellum::extract::build_page_from_html(std::move(html), url));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->title, c.title);
    EXPECT_EQ(a->authors, std::vector<std::string>{c.author});
    EXPECT_EQ(a->published, c.published);
    const std::string body = norm(truth[c.id]["articleBody"].get<std::string>());
    std::size_t count = 0;
    for (const auto& s : a->sections)
      for (const auto& p : s.paragraphs) {
        EXPECT_NE(body.find(norm(p)), std::string::npos) << p;
        ++count;
      }
    EXPECT_GE(count, 5u);
  }
}

INSTANTIATE_TEST_SUITE_P(Fundus, SitePlugin, ::testing::ValuesIn(fixtures()),
                         [](const auto& info) { return info.param.plugin; });
