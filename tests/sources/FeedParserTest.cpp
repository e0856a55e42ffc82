#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <string>
#include <vector>

#include "sources/FeedParser.h"
#include "support/TempDir.h"
#include "util/Text.h"
#include "util/Time.h"

namespace vellum::sources {
namespace {

util::TimePoint utc(const char* iso) {
  auto t = util::parse_warc_date(iso);
  EXPECT_TRUE(t) << iso;
  return t.value_or(util::TimePoint{});
}

std::vector<std::string> urls(const Discovery& d) {
  std::vector<std::string> out;
  for (const auto& l : d.links) out.push_back(l.url);
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Compresses in gzip format, `repeat` times over (so that a large body need not be built).
std::string gzip(const std::string& in, int repeat = 1) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out;
  char buf[1 << 16];
  for (int i = 0; i < repeat; ++i) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    const int flush = i + 1 == repeat ? Z_FINISH : Z_NO_FLUSH;
    int rc;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof buf;
      rc = deflate(&z, flush);
      out.append(buf, sizeof buf - z.avail_out);
    } while (z.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }
  deflateEnd(&z);
  return out;
}

// Runs `f`, expecting a FeedError, and returns its message.
template <typename F>
std::string feed_error(F&& f) {
  try {
    f();
  } catch (const FeedError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no FeedError thrown";
  return {};
}

constexpr const char* kRss = R"(<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>Example News - World</title>
    <link>https://news.example/world</link>
    <atom:link href="https://news.example/world/rss.xml" rel="self" type="application/rss+xml"/>
    <description>World news</description>
    <lastBuildDate>Wed, 08 Apr 2026 17:00:00 GMT</lastBuildDate>
    <item>
      <title><![CDATA[Floods close   the
        valley road]]></title>
      <link>https://news.example/world/2026/04/08/floods-valley</link>
      <guid isPermaLink="false">news-example-88121</guid>
      <pubDate>Wed, 08 Apr 2026 16:09:31 +0000</pubDate>
      <dc:creator>A. Reporter</dc:creator>
      <content:encoded><![CDATA[<p>Body <a href="https://elsewhere.example/">link</a></p>]]></content:encoded>
    </item>
    <item>
      <title>Markets &amp; rates</title>
      <link>
        https://news.example/business/markets-rates#comments
      </link>
      <pubDate>Wed, 08 Apr 2026 12:00:00 EDT</pubDate>
    </item>
    <item>
      <title>Only a guid</title>
      <guid>https://news.example/world/only-guid</guid>
      <dc:date>2026-04-07T10:00:00+02:00</dc:date>
    </item>
    <item>
      <title>Relative link</title>
      <link>/culture/relative-story?ref=rss</link>
    </item>
    <item>
      <title>Same story again</title>
      <link>https://NEWS.example/world/2026/04/08/floods-valley</link>
    </item>
    <item>
      <title>Not a web link</title>
      <link>mailto:desk@news.example</link>
      <guid isPermaLink="false">12345</guid>
    </item>
  </channel>
</rss>
)";

TEST(FeedParser, Rss2ItemsResolvedTrimmedAndDeduplicated) {
  Discovery d = parse_discovery(kRss, "https://news.example/world/rss.xml");
  EXPECT_EQ(d.kind, DocumentKind::rss);
  EXPECT_EQ(urls(d), (std::vector<std::string>{
                         "https://news.example/world/2026/04/08/floods-valley",
                         "https://news.example/business/markets-rates",
                         "https://news.example/world/only-guid",
                         "https://news.example/culture/relative-story?ref=rss",
                     }));
  ASSERT_EQ(d.links.size(), 4u);
  EXPECT_EQ(d.links[0].title, "Floods close the valley road");
  EXPECT_EQ(d.links[1].title, "Markets & rates");
  EXPECT_EQ(d.links[0].published, utc("2026-04-08T16:09:31Z"));
  EXPECT_EQ(d.links[1].published, utc("2026-04-08T16:00:00Z"));
  EXPECT_EQ(d.links[2].published, utc("2026-04-07T08:00:00Z"));  // dc:date when no pubDate
  EXPECT_FALSE(d.links[3].published);
  EXPECT_TRUE(d.sitemaps.empty());
  // The mailto item is reported, not silently lost.
  ASSERT_EQ(d.warnings.size(), 1u) << joined(d.warnings);
  EXPECT_NE(d.warnings[0].find("1 <item> element(s) without an http(s) link"), std::string::npos)
      << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("line 40"), std::string::npos) << d.warnings[0];
}

TEST(FeedParser, AtomUsesAlternateLinksAndXmlBase) {
  const char* atom = R"(<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/posts/">
  <title>Example blog</title>
  <link rel="self" href="https://blog.example/feed.atom"/>
  <link href="https://blog.example/"/>
  <updated>2026-04-08T16:09:31Z</updated>
  <id>tag:blog.example,2026:feed</id>
  <entry>
    <title type="html">&lt;em&gt;Launch&lt;/em&gt; day &amp;amp; after</title>
    <link rel="edit" href="/api/posts/1"/>
    <link rel="alternate" type="text/html" href="2026/launch-day?from=feed&amp;v=2"/>
    <id>tag:blog.example,2026:1</id>
    <published>2026-04-08T21:39:31+05:30</published>
    <updated>2026-04-09T08:00:00Z</updated>
  </entry>
  <entry xml:base="/archive/2025/">
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Old <b>post</b></div></title>
    <link href="old-post"/>
    <id>tag:blog.example,2025:2</id>
    <updated>2025-12-31T23:00:00-01:00</updated>
    <source>
      <title>Somebody else</title>
      <link href="https://other.example/"/>
      <updated>2020-01-01T00:00:00Z</updated>
    </source>
  </entry>
  <entry>
    <title>Link with its own base</title>
    <link xml:base="https://cdn.example/x/" href="y"/>
    <updated>2026-01-01T00:00:00Z</updated>
  </entry>
  <entry>
    <title>Enclosure only</title>
    <link rel="enclosure" href="https://blog.example/audio.mp3"/>
  </entry>
</feed>
)";
  Discovery d = parse_discovery(atom, "https://blog.example/feed.atom");
  EXPECT_EQ(d.kind, DocumentKind::atom);
  EXPECT_EQ(urls(d), (std::vector<std::string>{
                         "https://blog.example/posts/2026/launch-day?from=feed&v=2",
                         "https://blog.example/archive/2025/old-post",
                         "https://cdn.example/x/y",
                     }));
  ASSERT_EQ(d.links.size(), 3u);
  EXPECT_EQ(d.links[0].title, "Launch day & after");
  EXPECT_EQ(d.links[0].published, utc("2026-04-08T16:09:31Z"));  // published beats updated
  EXPECT_EQ(d.links[1].title, "Old post");
  EXPECT_EQ(d.links[1].published, utc("2026-01-01T00:00:00Z"));  // not the <source> date
  ASSERT_EQ(d.warnings.size(), 1u) << joined(d.warnings);
  EXPECT_NE(d.warnings[0].find("1 <entry>"), std::string::npos) << d.warnings[0];
}

TEST(FeedParser, Rss1RdfItems) {
  const char* rdf = R"(<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://science.example/rss">
    <title>Science</title>
    <link>https://science.example/</link>
    <items><rdf:Seq><rdf:li rdf:resource="https://science.example/a/1"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://science.example/a/1">
    <title>Comet returns</title>
    <link>https://science.example/a/1</link>
    <dc:date>2026-04-08T16:09:31Z</dc:date>
  </item>
  <item rdf:about="https://science.example/a/2">
    <title>About only</title>
  </item>
</rdf:RDF>
)";
  Discovery d = parse_discovery(rdf, "https://science.example/rss");
  EXPECT_EQ(d.kind, DocumentKind::rdf);
  EXPECT_EQ(urls(d), (std::vector<std::string>{"https://science.example/a/1",
                                               "https://science.example/a/2"}));
  EXPECT_EQ(d.links[0].title, "Comet returns");
  EXPECT_EQ(d.links[0].published, utc("2026-04-08T16:09:31Z"));
  EXPECT_TRUE(d.warnings.empty()) << joined(d.warnings);
}

TEST(FeedParser, UrlsetWithLastmod) {
  const char* urlset = R"(<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet type="text/xsl" href="/sitemap.xsl"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://shop.example/news/one</loc>
    <lastmod>2026-04-08</lastmod>
    <changefreq>daily</changefreq>
    <image:image><image:loc>https://shop.example/img/one.jpg</image:loc></image:image>
  </url>
  <url><loc> https://shop.example/news/two </loc><lastmod>2026-04-08T18:09:31+02:00</lastmod></url>
  <url><loc>https://shop.example/news/three</loc><lastmod>sometime</lastmod></url>
</urlset>
)";
  Discovery d = parse_discovery(urlset, "https://shop.example/sitemap.xml");
  EXPECT_EQ(d.kind, DocumentKind::urlset);
  EXPECT_EQ(urls(d), (std::vector<std::string>{"https://shop.example/news/one",
                                               "https://shop.example/news/two",
                                               "https://shop.example/news/three"}));
  EXPECT_EQ(d.links[0].published, utc("2026-04-08T00:00:00Z"));
  EXPECT_EQ(d.links[1].published, utc("2026-04-08T16:09:31Z"));
  EXPECT_FALSE(d.links[2].published);
  ASSERT_EQ(d.warnings.size(), 1u) << joined(d.warnings);
  EXPECT_NE(d.warnings[0].find("'sometime'"), std::string::npos) << d.warnings[0];
}

TEST(FeedParser, SitemapIndexListsChildSitemaps) {
  const char* index = R"(<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example/sitemaps/2026-04.xml.gz</loc>
    <lastmod>2026-04-08T16:09:31Z</lastmod></sitemap>
  <sitemap><loc>https://news.example/sitemaps/2026-03.xml.gz</loc></sitemap>
  <sitemap><loc>/sitemaps/news.xml</loc></sitemap>
  <sitemap><loc>https://news.example/sitemaps/2026-04.xml.gz</loc></sitemap>
</sitemapindex>
)";
  Discovery d = parse_discovery(index, "https://news.example/sitemap_index.xml");
  EXPECT_EQ(d.kind, DocumentKind::sitemapindex);
  EXPECT_TRUE(d.links.empty());
  EXPECT_EQ(d.sitemaps, (std::vector<std::string>{"https://news.example/sitemaps/2026-04.xml.gz",
                                                  "https://news.example/sitemaps/2026-03.xml.gz",
                                                  "https://news.example/sitemaps/news.xml"}));
}

TEST(FeedParser, GoogleNewsSitemapMatchesNamespaceNotPrefix) {
  // The news namespace under the prefix "n"; "news" is bound to something else entirely.
  const char* news = R"(<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:n="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:news="urn:example:not-google-news">
  <url>
    <loc>https://paper.example/2026/04/08/budget-vote</loc>
    <lastmod>2026-04-08T20:00:00Z</lastmod>
    <n:news>
      <n:publication><n:name>The Paper</n:name><n:language>en</n:language></n:publication>
      <n:publication_date>2026-04-08T12:09:31-04:00</n:publication_date>
      <n:title>Budget vote passes</n:title>
    </n:news>
  </url>
  <url>
    <loc>https://paper.example/2026/04/08/decoy</loc>
    <news:news>
      <news:publication_date>1999-01-01T00:00:00Z</news:publication_date>
      <news:title>Decoy</news:title>
    </news:news>
  </url>
</urlset>
)";
  Discovery d = parse_discovery(news, "https://paper.example/news-sitemap.xml");
  EXPECT_EQ(d.kind, DocumentKind::urlset);
  ASSERT_EQ(d.links.size(), 2u);
  EXPECT_EQ(d.links[0].title, "Budget vote passes");
  EXPECT_EQ(d.links[0].published, utc("2026-04-08T16:09:31Z"));  // publication_date, not lastmod
  EXPECT_EQ(d.links[1].title, "");
  EXPECT_FALSE(d.links[1].published);
}

TEST(FeedParser, GzipSitemap) {
  std::string xml =
      "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
      "<url><loc>https://a.example/1</loc></url><url><loc>https://a.example/2</loc></url>"
      "</urlset>";
  Discovery d = parse_discovery(gzip(xml), "https://a.example/sitemap.xml.gz");
  EXPECT_EQ(urls(d), (std::vector<std::string>{"https://a.example/1", "https://a.example/2"}));
  EXPECT_TRUE(d.warnings.empty()) << joined(d.warnings);
}

TEST(FeedParser, DatesBecomeTheRightUtcInstant) {
  struct Case {
    const char* text;
    const char* utc;
  };
  const Case cases[] = {
      {"Wed, 08 Apr 2026 16:09:31 GMT", "2026-04-08T16:09:31Z"},
      {"Wed, 08 Apr 2026 18:09:31 +0200", "2026-04-08T16:09:31Z"},
      {"Wed, 8 Apr 2026 09:09:31 PDT", "2026-04-08T16:09:31Z"},
      {"Wed, 08 Apr 2026 23:09:31 +0700", "2026-04-08T16:09:31Z"},
      {"Thu, 01 Jan 2026 01:30:00 +0200", "2025-12-31T23:30:00Z"},
      {"2026-04-08T21:39:31+05:30", "2026-04-08T16:09:31Z"},
      {"2026-04-08T16:09:31.250Z", "2026-04-08T16:09:31Z"},
  };
  for (const auto& c : cases) {
    std::string rss = std::string("<rss><channel><item><link>https://d.example/x</link><pubDate>") +
                      c.text + "</pubDate></item></channel></rss>";
    Discovery d = parse_discovery(rss, "https://d.example/");
    ASSERT_EQ(d.links.size(), 1u);
    EXPECT_EQ(d.links[0].published, utc(c.utc)) << c.text;
  }
}

TEST(FeedParser, ExternalEntitiesAreNeverLoaded) {
  test::TempDir dir("xxe");
  const std::string secret = "TOP-SECRET-4f1c9a";
  test::write_file(dir / "secret.txt", secret);
  test::write_file(dir / "evil.dtd", "<!ENTITY leak \"" + secret + "\">");
  const std::string file_url = "file://" + (dir / "secret.txt").string();
  const std::string dtd_url = "file://" + (dir / "evil.dtd").string();
  // A general external entity in text and in a link: left out, the rest is read.
  const std::string general = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM \"" +
                              file_url +
                              "\">]><rss><channel><item><title>a &xxe; b</title>"
                              "<link>https://x.example/ok</link></item></channel></rss>";
  // An external DTD subset declaring the entity: never read.
  const std::string subset = "<?xml version=\"1.0\"?><!DOCTYPE rss SYSTEM \"" + dtd_url +
                             "\"><rss><channel><item><title>&leak;</title>"
                             "<link>https://x.example/ok</link></item></channel></rss>";
  for (const auto& body : {general, subset}) {
    Discovery d = parse_discovery(body, "https://x.example/feed");
    std::string seen;
    for (const auto& l : d.links) seen += l.url + " " + l.title + "\n";
    seen += joined(d.warnings);
    EXPECT_EQ(seen.find(secret), std::string::npos) << seen;
    EXPECT_NE(seen.find("https://x.example/ok"), std::string::npos) << seen;
  }
  // An external parameter entity in the internal subset: refused before the root element.
  const std::string parameter = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY % ext SYSTEM \"" +
                                dtd_url +
                                "\"> %ext;]><rss><channel><item><title>&leak;</title>"
                                "<link>https://x.example/ok</link></item></channel></rss>";
  std::string message = feed_error([&] { parse_discovery(parameter, "https://x.example/feed"); });
  EXPECT_EQ(message.find(secret), std::string::npos) << message;
  EXPECT_NE(message.find("before the root element"), std::string::npos) << message;
}

TEST(FeedParser, BillionLaughsIsNotExpanded) {
  std::string dtd = "<!ENTITY lol \"lol\">";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = i == 1 ? "lol" : "lol" + std::to_string(i - 1);
    dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) dtd += "&" + prev + ";";
    dtd += "\">";
  }
  const std::string body = "<?xml version=\"1.0\"?><!DOCTYPE rss [" + dtd +
                           "]><rss><channel><item><title>&lol9;</title>"
                           "<link>https://x.example/a</link></item></channel></rss>";
  const auto start = std::chrono::steady_clock::now();
  Discovery d = parse_discovery(body, "https://x.example/feed");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_EQ(d.links.size(), 1u);
  EXPECT_EQ(d.links[0].title, "");
  ASSERT_EQ(d.warnings.size(), 1u) << joined(d.warnings);
  EXPECT_NE(d.warnings[0].find("references to 1 entity name(s)"), std::string::npos)
      << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("&lol9;"), std::string::npos) << d.warnings[0];
}

TEST(FeedParser, HtmlCharacterEntitiesInTextAreDecoded) {
  // Undeclared, so not XML, but common in feeds written by hand or by HTML templates.
  Discovery d = parse_discovery(
      "<rss><channel><item><title>It&rsquo;s&nbsp;here &mdash; &amp; &#8364;5</title>"
      "<link>https://x.example/1</link></item></channel></rss>",
      "https://x.example/");
  ASSERT_EQ(d.links.size(), 1u);
  EXPECT_EQ(d.links[0].title, "It\u2019s\u00a0here \u2014 & \u20ac5");
  EXPECT_TRUE(d.warnings.empty()) << joined(d.warnings);
}

TEST(FeedParser, HtmlIsRefusedWithAClearMessage) {
  const std::string expected =
      "found an HTML document (<html>), expected an RSS, Atom or sitemap document";
  EXPECT_EQ(feed_error([] {
              parse_discovery("<!DOCTYPE html>\n<html lang=en><head><title>Home</title>",
                              "https://x.example/");
            }),
            expected);
  EXPECT_EQ(feed_error([] {
              parse_discovery("\xEF\xBB\xBF  <html><body><p>Not found</p></body></html>",
                              "https://x.example/");
            }),
            expected);
  // Well-formed XHTML is still HTML.
  EXPECT_EQ(feed_error([] {
              parse_discovery(
                  "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\">"
                  "<body/></html>",
                  "https://x.example/");
            }),
            expected);
}

TEST(FeedParser, EmptyWrongRootAndNonXmlAreRefused) {
  EXPECT_EQ(feed_error([] { parse_discovery("", "https://x.example/"); }),
            "found an empty body, expected an RSS, Atom or sitemap document");
  EXPECT_NE(feed_error([] {
              parse_discovery(" \r\n\t", "https://x.example/");
            }).find("found only whitespace"),
            std::string::npos);
  std::string wrong = feed_error([] {
    parse_discovery("<?xml version=\"1.0\"?><opml version=\"2.0\"><body/></opml>",
                    "https://x.example/");
  });
  EXPECT_NE(wrong.find("found the root element <opml>"), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("expected <rss>"), std::string::npos) << wrong;
  // An Atom-looking root in the wrong namespace is not Atom.
  std::string ns = feed_error([] {
    parse_discovery("<feed xmlns=\"http://example.com/not-atom\"><entry/></feed>",
                    "https://x.example/");
  });
  EXPECT_NE(ns.find("in namespace http://example.com/not-atom"), std::string::npos) << ns;
  std::string text =
      feed_error([] { parse_discovery("Service Unavailable", "https://x.example/"); });
  EXPECT_NE(text.find("'Service Unavailable', which is not XML"), std::string::npos) << text;
  EXPECT_NE(feed_error([] {
              parse_discovery("{\"version\": \"1\"}", "https://x.example/");
            }).find("JSON"),
            std::string::npos);
}

TEST(FeedParser, TruncatedDocumentKeepsEarlierLinksWithAWarning) {
  std::string full = kRss;
  std::string cut = full.substr(0, full.find("<title>Relative link"));
  Discovery d = parse_discovery(cut, "https://news.example/world/rss.xml");
  EXPECT_EQ(urls(d), (std::vector<std::string>{
                         "https://news.example/world/2026/04/08/floods-valley",
                         "https://news.example/business/markets-rates",
                         "https://news.example/world/only-guid",
                     }));
  ASSERT_FALSE(d.warnings.empty());
  EXPECT_NE(d.warnings[0].find("breaks off at line"), std::string::npos) << d.warnings[0];
  EXPECT_NE(d.warnings[0].find("kept the 3 link(s)"), std::string::npos) << d.warnings[0];
}

TEST(FeedParser, MalformedBeforeAnyLinkThrowsWithTheLine) {
  try {
    parse_discovery("<rss>\n<channel>\n<item>\n<link>https://x.example/a</lnk>\n</item>",
                    "https://x.example/");
    FAIL() << "no FeedError";
  } catch (const FeedError& e) {
    EXPECT_EQ(e.line(), 4);
    EXPECT_NE(std::string(e.what()).find("line 4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("expected a well-formed"), std::string::npos) << e.what();
  }
}

TEST(FeedParser, InvalidUtf8IsReplacedNotFatal) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><channel>"
      "<item><title>Caf\xE9 \xC3\x28 ok \x0B</title><link>https://x.example/1</link></item>"
      "<item><title>Second \xF0\x9F\x93\xB0</title><link>https://x.example/2</link></item>"
      "</channel></rss>";
  Discovery d = parse_discovery(body, "https://x.example/");
  ASSERT_EQ(d.links.size(), 2u);
  EXPECT_EQ(d.links[0].title, "Caf\xEF\xBF\xBD \xEF\xBF\xBD( ok \xEF\xBF\xBD");
  EXPECT_EQ(d.links[1].title, "Second \xF0\x9F\x93\xB0");
  ASSERT_EQ(d.warnings.size(), 1u) << joined(d.warnings);
  EXPECT_NE(d.warnings[0].find("replaced 3 invalid"), std::string::npos) << d.warnings[0];
}

TEST(FeedParser, Latin1DocumentsAreDecodedNotRepaired) {
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel>"
      "<item><title>Caf\xE9</title><link>https://x.example/1</link></item></channel></rss>";
  Discovery d = parse_discovery(body, "https://x.example/");
  ASSERT_EQ(d.links.size(), 1u);
  EXPECT_EQ(d.links[0].title, "Caf\xC3\xA9");
  EXPECT_TRUE(d.warnings.empty()) << joined(d.warnings);
}

TEST(FeedParser, BlankLinesBeforeTheXmlDeclarationAreSkipped) {
  for (const std::string lead : {"\n\n", "\xEF\xBB\xBF\r\n", " \t\n"}) {
    const std::string body = lead +
                             "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><channel><item>"
                             "<link>https://x.example/1</link></item></channel></rss>";
    Discovery d = parse_discovery(body, "https://x.example/");
    ASSERT_EQ(d.links.size(), 1u) << util::quote(lead);
    EXPECT_EQ(d.links[0].url, "https://x.example/1");
    EXPECT_TRUE(d.warnings.empty()) << joined(d.warnings);
  }
  // Lines are counted as the document has them, the skipped ones too.
  const std::string broken =
      "\n\n\n<?xml version=\"1.0\"?>\n<rss><channel><item><link>https://x.example/1</link>"
      "</item>\n<item><link>https://x.example/2</link></wrong>\n</channel></rss>";
  Discovery d = parse_discovery(broken, "https://x.example/");
  ASSERT_EQ(d.warnings.size(), 1u) << joined(d.warnings);
  EXPECT_NE(d.warnings[0].find("at line 6"), std::string::npos) << d.warnings[0];
  // The lines of items left out and of dates that do not read, too.
  const std::string items =
      "\n\n\n<?xml version=\"1.0\"?>\n<rss><channel>\n<item><title>no link</title></item>\n"
      "<item><link>https://x.example/1</link><pubDate>not a date</pubDate></item>\n"
      "</channel></rss>";
  d = parse_discovery(items, "https://x.example/");
  const std::string all = joined(d.warnings);
  EXPECT_NE(all.find("line 6"), std::string::npos) << all;
  EXPECT_NE(all.find("line 7"), std::string::npos) << all;
}

TEST(FeedParser, AnEncodingDeclarationTheBytesBeliePromptsUtf8) {
  const std::string item =
      "<rss><channel><item><title>Caf\xC3\xA9</title><link>https://x.example/caf\xC3\xA9</link>"
      "</item></channel></rss>";
  struct Case {
    std::string body, warning;
  };
  const Case cases[] = {
      // A UTF-8 byte order mark outweighs the declaration.
      {"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" + item,
       "begins with a UTF-8 byte order mark"},
      // UTF-16 declared, 8-bit bytes sent (a common serializer mistake).
      {"<?xml version=\"1.0\" encoding=\"utf-16\"?>" + item, "its bytes are 8-bit"},
      // A name no converter knows.
      {"<?xml version=\"1.0\" encoding=\"utf8mb4\"?>" + item, "which no converter knows"},
  };
  for (const auto& c : cases) {
    Discovery d = parse_discovery(c.body, "https://x.example/");
    ASSERT_EQ(d.links.size(), 1u) << c.warning;
    EXPECT_EQ(d.links[0].title, "Caf\xC3\xA9") << c.warning;
    EXPECT_EQ(d.links[0].url, "https://x.example/caf\xC3\xA9") << c.warning;
    ASSERT_EQ(d.warnings.size(), 1u) << joined(d.warnings);
    EXPECT_NE(d.warnings[0].find(c.warning), std::string::npos) << d.warnings[0];
  }
}

TEST(FeedParser, Utf16DocumentsAreDecoded) {
  const std::string ascii =
      "<?xml version=\"1.0\" encoding=\"UTF-16\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
      "<entry><title>Wide</title><link href=\"https://x.example/w\"/></entry></feed>";
  std::string body = "\xFF\xFE";
  for (char c : ascii) {
    body += c;
    body += '\0';
  }
  Discovery d = parse_discovery(body, "https://x.example/");
  ASSERT_EQ(d.links.size(), 1u);
  EXPECT_EQ(d.links[0].url, "https://x.example/w");
  EXPECT_EQ(d.links[0].title, "Wide");
}

TEST(FeedParser, CutOrCorruptedBytesNeverCrash) {
  const std::string full = kRss;
  std::size_t parsed = 0;
  for (std::size_t n = 0; n <= full.size(); n += 7) {
    for (int flip = 0; flip < 2; ++flip) {
      std::string body = full.substr(0, n);
      if (flip && !body.empty()) body[body.size() / 2] = static_cast<char>(0xFF);
      try {
        Discovery d = parse_discovery(body, "https://news.example/");
        ++parsed;
        for (const auto& l : d.links) EXPECT_TRUE(l.url.starts_with("https://")) << l.url;
      } catch (const FeedError&) {
      }
    }
  }
  EXPECT_GT(parsed, 0u);
  // A gzip body cut in the middle: the links before the cut survive.
  std::string gz = gzip(full);
  Discovery d =
      parse_discovery(std::string_view(gz).substr(0, gz.size() * 3 / 4), "https://news.example/");
  EXPECT_FALSE(d.links.empty());
  EXPECT_NE(joined(d.warnings).find("gzip data ends"), std::string::npos) << joined(d.warnings);
}

long max_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(FeedParser, FiftyMegabyteSitemapStreams) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n";
  std::size_t count = 0;
  char entry[256];
  while (body.size() < (std::size_t{50} << 20)) {
    int n = std::snprintf(entry, sizeof entry,
                          "<url><loc>https://big.example/2026/04/08/story-%08zu-a-long-slug-for-"
                          "realism</loc><lastmod>2026-04-08T16:09:31+00:00</lastmod></url>\n",
                          count);
    body.append(entry, static_cast<std::size_t>(n));
    ++count;
  }
  body += "</urlset>\n";
  [[maybe_unused]] const long before = max_rss_kib();
  const auto start = std::chrono::steady_clock::now();
  Discovery d = parse_discovery(body, "https://big.example/sitemap.xml");
  const auto took = std::chrono::steady_clock::now() - start;
  [[maybe_unused]] const long grown_kib = max_rss_kib() - before;
  ASSERT_EQ(d.links.size(), count);
  EXPECT_EQ(d.links.back().url, "https://big.example/2026/04/08/story-" +
                                    std::string(8 - std::to_string(count - 1).size(), '0') +
                                    std::to_string(count - 1) + "-a-long-slug-for-realism");
  EXPECT_EQ(d.links.back().published, utc("2026-04-08T16:09:31Z"));
  EXPECT_TRUE(d.warnings.empty()) << joined(d.warnings);
  // The result itself holds every URL; a DOM would need many times the body on top of it.
  // (AddressSanitizer keeps freed memory in quarantine, so peak memory says nothing there.)
#ifndef __SANITIZE_ADDRESS__
  EXPECT_LT(static_cast<std::size_t>(grown_kib) * 1024, 3 * body.size())
      << "peak memory grew by " << grown_kib << " KiB for a " << body.size() << "-byte body";
#endif
  EXPECT_LT(took, std::chrono::seconds(20));
}

TEST(FeedParser, GzipBombIsRefused) {
  // 1 MiB of spaces inside a sitemap, compressed 80 times over: 80 MiB decoded.
  std::string padding(1 << 20, ' ');
  std::string body =
      gzip("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">" + padding, 80);
  ASSERT_LT(body.size(), std::size_t{1} << 20);
  std::string message = feed_error([&] { parse_discovery(body, "https://x.example/s.xml.gz"); });
  EXPECT_NE(message.find("decodes to more than 67108864 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("compression bomb"), std::string::npos) << message;
  // A smaller limit applies as given, also to uncompressed bodies.
  std::string sitemap = "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">" +
                        std::string(4096, ' ') +
                        "<url><loc>https://x.example/1</loc></url></urlset>";
  EXPECT_NE(feed_error([&] {
              parse_discovery(gzip(sitemap), "https://x.example/", 1024);
            }).find("more than 1024 bytes"),
            std::string::npos);
  EXPECT_NE(feed_error([&] {
              parse_discovery(sitemap, "https://x.example/", 1024);
            }).find("expected at most 1024 bytes"),
            std::string::npos);
  EXPECT_EQ(parse_discovery(gzip(sitemap), "https://x.example/").links.size(), 1u);
}

TEST(FeedParser, KindNames) {
  EXPECT_STREQ(to_string(DocumentKind::rss), "rss");
  EXPECT_STREQ(to_string(DocumentKind::rdf), "rdf");
  EXPECT_STREQ(to_string(DocumentKind::atom), "atom");
  EXPECT_STREQ(to_string(DocumentKind::urlset), "urlset");
  EXPECT_STREQ(to_string(DocumentKind::sitemapindex), "sitemapindex");
}

}  // namespace
}  // namespace vellum::sources
