#include <gtest/gtest.h>

#include <algorithm>

#include "extract/AuthorCleaner.h"
#include "extract/ContentExtractor.h"
#include "extract/GenericExtractor.h"
#include "extract/MetadataExtractor.h"
#include "extract/PageBuilder.h"
#include "extract/TextUtil.h"

namespace vellum::extract {
namespace {

const char* kPara1 =
    "The city council voted on Tuesday to approve the new transit plan, which adds three bus "
    "lines, extends the tram to the airport, and raises parking fees in the centre.";
const char* kPara2 =
    "Supporters said the plan would cut commuting times by a quarter, while opponents warned "
    "that shop owners, already hit by roadworks, would lose customers.";
const char* kPara3 =
    "Work on the tram extension is expected to begin next spring, and the first new bus line "
    "should open in the autumn, according to the transport department.";
const char* kPara4 =
    "The council will review the parking fees after one year, officials said, adding that "
    "revenue would be spent on cycle lanes, pavements and street lighting.";

std::string article_page() {
  return std::string(R"(<!DOCTYPE html><html lang="en-GB"><head>
<title>Council approves transit plan | Example News</title>
<meta property="og:site_name" content="Example News">
<meta property="og:title" content="Council approves transit plan | Example News">
<meta property="og:image" content="/img/lead.jpg">
<meta property="og:description" content="Three new bus lines and a longer tram.">
<meta property="article:published_time" content="2026-04-08T18:09:31+02:00">
<link rel="canonical" href="/news/transit-plan">
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
 {"@type":"WebPage","name":"ignored"},
 {"@type":["NewsArticle"],"headline":"Council approves transit plan",
  "author":[{"@type":"Person","name":"By Jane Doe"},{"@type":"Person","name":"John Smith"}],
  "datePublished":"2026-04-08T16:09:31Z","dateModified":"Wed, 09 Apr 2026 10:00:00 GMT",
  "keywords":"transport, council"}]}</script>
</head><body>
<header class="site-header"><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<div class="cookie-banner"><p>We use cookies to improve your experience on this website, please accept them all.</p></div>
<main><article class="article">
 <h1>Council approves transit plan</h1>
 <div class="byline">By Jane Doe and John Smith</div>
 <div class="article-body">
  <h2>Key points</h2>
  <ul><li>Three new bus lines</li><li>Tram extended to the airport</li></ul>
  <p>)") +
         kPara1 + R"(</p>
  <figure><img src="/img/tram.jpg" alt="A tram"><figcaption>A tram in the centre. Photo: Ann Lee</figcaption></figure>
  <p>)" + kPara2 +
         R"(</p>
  <div class="share-tools"><p>Share this article on Facebook, Twitter, LinkedIn, email or WhatsApp with friends</p></div>
  <p>Advertisement</p>
  <h2>What happens next</h2>
  <p>)" + kPara3 +
         R"(</p>
  <blockquote><p>)" +
         kPara4 + R"(</p></blockquote>
  <figure><img data-src="https://cdn.example/map.png" src="data:image/gif;base64,R0l"><figcaption>The new network <span class="credit">City of Example</span></figcaption></figure>
 </div>
 <section class="related-articles"><h3>Related</h3><ul>
  <li><a href="/a">Another story about the council and its many plans for the city</a></li>
  <li><a href="/b">Yet another story about buses and trams and the people who ride them</a></li></ul></section>
</article>
<aside class="sidebar"><p>Most read: a long list of other things that are popular on this site today.</p></aside>
</main>
<footer><p>Copyright 2026 Example News. All rights reserved. Contact us for licensing.</p></footer>
</body></html>)";
}

TEST(GenericExtractor, Metadata) {
  auto page = build_page_from_html(article_page(), "https://news.example/news/transit-plan?x=1");
  auto a = GenericExtractor().extract(page);
  EXPECT_EQ(a.title, "Council approves transit plan");
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe", "John Smith"}));
  EXPECT_EQ(a.published, "2026-04-08T16:09:31Z");
  EXPECT_EQ(a.modified, "2026-04-09T10:00:00Z");
  EXPECT_EQ(a.language, "en-GB");
  EXPECT_EQ(a.canonical_url, "https://news.example/news/transit-plan");
  EXPECT_EQ(a.tags, (std::vector<std::string>{"transport", "council"}));
  EXPECT_EQ(a.lead, "Three new bus lines and a longer tram.");
}

TEST(GenericExtractor, BodySectionsKeyPointsAndBoilerplate) {
  auto page = build_page_from_html(article_page(), "https://news.example/news/transit-plan");
  auto a = GenericExtractor().extract(page);
  EXPECT_EQ(a.key_points,
            (std::vector<std::string>{"Three new bus lines", "Tram extended to the airport"}));
  ASSERT_EQ(a.sections.size(), 2u);
  EXPECT_EQ(a.sections[0].heading, "");
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2}));
  EXPECT_EQ(a.sections[1].heading, "What happens next");
  EXPECT_EQ(a.sections[1].paragraphs, (std::vector<std::string>{kPara3, kPara4}));
  std::string body = a.body_text();
  for (const char* junk : {"cookies", "Share this", "Advertisement", "Another story", "Most read",
                           "Copyright", "Home", "A tram in the centre"})
    EXPECT_EQ(body.find(junk), std::string::npos) << junk;
}

// A heading right above another heading over text is the article's too ("Part two" over "The
// vote"); one over nothing (a trailing "Related") is not.
TEST(GenericExtractor, AHeadingAboveAnotherHeadingIsKept) {
  const std::string html =
      std::string("<html><body><article><h1>Council approves transit plan</h1>") + "<p>" + kPara1 +
      "</p><h2>Part two</h2><h3>The vote</h3><p>" + kPara2 + "</p><p>" + kPara3 +
      "</p><h2>Related</h2></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://news.example/a"));
  ASSERT_EQ(a.sections.size(), 3u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1}));
  EXPECT_EQ(a.sections[1].heading, "Part two");
  EXPECT_TRUE(a.sections[1].paragraphs.empty());
  EXPECT_EQ(a.sections[2].heading, "The vote");
  EXPECT_EQ(a.sections[2].paragraphs, (std::vector<std::string>{kPara2, kPara3}));
}

TEST(GenericExtractor, ImagesWithCaptionsAndCredits) {
  auto page = build_page_from_html(article_page(), "https://news.example/news/transit-plan");
  auto a = GenericExtractor().extract(page);
  ASSERT_EQ(a.images.size(), 3u);
  EXPECT_EQ(a.images[0].url, "https://news.example/img/lead.jpg");
  EXPECT_EQ(a.images[1].url, "https://news.example/img/tram.jpg");
  EXPECT_EQ(a.images[1].caption, "A tram in the centre.");
  EXPECT_EQ(a.images[1].credit, "Ann Lee");
  EXPECT_EQ(a.images[2].url, "https://cdn.example/map.png");
  EXPECT_EQ(a.images[2].caption, "The new network");
  EXPECT_EQ(a.images[2].credit, "City of Example");
}

TEST(GenericExtractor, DivTextWithLineBreaksAndNoMetadata) {
  std::string html = std::string(
                         "<html><body><div id=menu><a href=/>Home</a></div>"
                         "<div class=post>") +
                     kPara1 + "<br><br>" + kPara2 + "<br><br>" + kPara3 +
                     "</div><div class=footer-links><a href=/x>About</a></div></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://blog.example/p"));
  EXPECT_EQ(a.title, "");
  EXPECT_EQ(a.published, "");
  EXPECT_TRUE(a.authors.empty());
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3}));
}

// Lists of thousands (keywords, authors, @id references) are cut to a bound, so that their
// cost follows their length and the article holds what a reader can use.
TEST(GenericExtractor, HugeMetadataListsAreBounded) {
  std::string keywords, names, refs, graph;
  for (int i = 0; i < 20'000; ++i) {
    keywords += (i ? "," : "") + std::string("topic") + std::to_string(i);
    names += (i ? " and " : "") + std::string("Writer") + std::to_string(i) + " Name";
  }
  for (int i = 0; i < 2'000; ++i) {
    refs += std::string(i ? "," : "") + "{\"@id\":\"#p" + std::to_string(i) + "\"}";
    graph += ",{\"@type\":\"Person\",\"@id\":\"#p" + std::to_string(i) + "\",\"name\":\"Person " +
             std::to_string(i) + "\"}";
  }
  auto extract = [](const std::string& head) {
    return GenericExtractor().extract(build_page_from_html(
        "<html><head>" + head + "</head><body><p>" + std::string(kPara1) + "</p></body></html>",
        "https://x.example/a"));
  };
  auto a = extract("<meta name=keywords content='" + keywords + "'><meta name=author content='" +
                   names + "'>");
  ASSERT_EQ(a.tags.size(), 64u);
  EXPECT_EQ(a.tags.front(), "topic0");
  ASSERT_EQ(a.authors.size(), kMaxAuthors);
  EXPECT_EQ(a.authors.front(), "Writer0 Name");
  auto b = extract(
      "<script type='application/ld+json'>{\"@graph\":[{\"@type\":"
      "\"NewsArticle\",\"headline\":\"H\",\"author\":[" +
      refs + "]}" + graph + "]}</script>");
  ASSERT_EQ(b.authors.size(), kMaxAuthors);
  EXPECT_EQ(b.authors[1], "Person 1");
}

// A title or description of megabytes (page text poured into a meta tag) is cut at a
// character's boundary, with an ellipsis, to a size no real one reaches.
TEST(GenericExtractor, HugeTitlesAndDescriptionsAreCut) {
  std::string words;
  while (words.size() < 1'000'000) words += "caf\xC3\xA9 ";  // two-byte characters
  const auto a = MetadataExtractor().extract(
      build_page_from_html("<html><head><meta property='og:title' content='" + words +
                               "'><meta name=description content='" + words + "'></head><body><p>" +
                               std::string(kPara1) + "</p></body></html>",
                           "https://x.example/a"));
  for (const std::string* v : {&a.title, &a.description}) {
    ASSERT_GT(v->size(), 1000u);
    EXPECT_LE(v->size(), v == &a.title ? kMaxTitleBytes : kMaxDescriptionBytes);
    EXPECT_TRUE(v->starts_with("caf\xC3\xA9 caf\xC3\xA9"));
    EXPECT_TRUE(v->ends_with("\xE2\x80\xA6")) << v->substr(v->size() - 10);
    // Cut inside "é" (C3 A9), the lead byte would be left alone before the ellipsis.
    EXPECT_NE(static_cast<unsigned char>((*v)[v->size() - 4]), 0xC3u) << "cut inside a character";
  }
}

// A srcset that starts with whitespace still gives its first URL; list items that carry their
// own bullet character do not get a second one in the key points.
TEST(GenericExtractor, SrcsetWithLeadingSpaceAndBulletedKeyPoints) {
  auto a = GenericExtractor().extract(build_page_from_html(
      std::string("<html><body><article><h2>Key points</h2><ul><li>\xE2\x80\xA2 First</li>"
                  "<li>\xE2\x80\x93 Second</li></ul><p>") +
          kPara1 +
          "</p><figure><img srcset='\n    /img/pic-300.jpg 300w, /img/pic-600.jpg 600w'>"
          "<figcaption>A picture</figcaption></figure><p>" +
          kPara2 + "</p></article></body></html>",
      "https://x.example/a/b"));
  EXPECT_EQ(a.key_points, (std::vector<std::string>{"First", "Second"}));
  ASSERT_FALSE(a.images.empty());
  EXPECT_EQ(a.images.back().url, "https://x.example/img/pic-600.jpg");  // the largest
}

// Images as pages write them: lazy-loaded behind a stand-in, in a <picture> whose <img> has no
// src, as <amp-img>, in WordPress's caption box, alone in a paragraph, and the lead picture
// above the text; credits in their own element lose their parentheses.
TEST(GenericExtractor, ImagesHoweverThePageWritesThem) {
  const std::string html =
      std::string("<html><body><article><h1>Headline</h1>") +
      "<figure class=lead><picture><source srcset='/img/a-400.webp 400w, /img/a-1200.webp "
      "1200w'><img alt='Bridge'></picture><figcaption>The bridge at dusk. <span class=credit>"
      "(AP Photo/Evan Vucci)</span></figcaption></figure><div class=body><p>" +
      kPara1 +
      "</p><figure><img src='/static/placeholder.gif' data-src='/img/b.jpg'><figcaption>Council "
      "members vote.</figcaption></figure><p>" +
      kPara2 +
      "</p><figure><amp-img src='/img/c.jpg' width=800 height=600></amp-img><figcaption>The "
      "chamber.</figcaption></figure><div class='wp-caption alignnone'><img src='/img/d.jpg'>"
      "<p class=wp-caption-text>Maria Lopez at the meeting.</p></div><p>" +
      kPara3 + "</p><p><img src='/img/e.jpg' alt='The old bridge'></p><p>" + kPara4 +
      "</p><figure><picture><source srcset='/img/f-1600.jpg 1600w'><img src='/img/f-400.jpg' "
      "srcset='/img/f-400.jpg 400w, /img/f-1200.jpg 1200w'></picture><figcaption>Largest of "
      "all.</figcaption></figure><figure><img src='/img/g.jpg' srcset='/img/g@2x.jpg 2x'>"
      "<figcaption>Sharper.</figcaption></figure></div></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/news/a"));
  std::vector<std::string> urls, captions;
  for (const auto& im : a.images) {
    urls.push_back(im.url);
    captions.push_back(im.caption);
  }
  EXPECT_EQ(urls, (std::vector<std::string>{
                      "https://x.example/img/a-1200.webp", "https://x.example/img/b.jpg",
                      "https://x.example/img/c.jpg", "https://x.example/img/d.jpg",
                      "https://x.example/img/e.jpg", "https://x.example/img/f-1600.jpg",
                      "https://x.example/img/g@2x.jpg"}));
  EXPECT_EQ(captions, (std::vector<std::string>{"The bridge at dusk.", "Council members vote.",
                                                "The chamber.", "Maria Lopez at the meeting.",
                                                "The old bridge", "Largest of all.", "Sharper."}));
  ASSERT_FALSE(a.images.empty());
  EXPECT_EQ(a.images[0].credit, "AP Photo/Evan Vucci");
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3, kPara4}));
}

// A short first paragraph is dropped as a byline or dateline only when it reads like one, not
// when it is a sentence that starts with "By" or holds a date.
TEST(GenericExtractor, OpeningSentencesAreNotTakenForBylines) {
  auto paragraphs = [](const std::string& first) {
    auto a = GenericExtractor().extract(
        build_page_from_html("<html><body><article><p>" + first + "</p><p>" + std::string(kPara1) +
                                 "</p><p>" + kPara2 + "</p></article></body></html>",
                             "https://x.example/a"));
    return a.sections.empty() ? std::vector<std::string>{} : a.sections[0].paragraphs;
  };
  for (const std::string text :
       {"By the time police arrived, he was gone.", "By 2030, half of all cars will be electric.",
        "The vote is set for March 3, 2027."}) {
    auto p = paragraphs(text);
    ASSERT_FALSE(p.empty());
    EXPECT_EQ(p.front(), text);
  }
  for (const std::string byline : {"By Jane Doe, Reuters", "April 8, 2026 4:09 p.m."}) {
    auto p = paragraphs(byline);
    ASSERT_FALSE(p.empty());
    EXPECT_EQ(p.front(), kPara1) << byline;
  }
}

// The headline set again as a paragraph above the text is the title, not the body's opening;
// the same words later in the text stay.
TEST(GenericExtractor, TheHeadlineRepeatedAboveTheTextIsNotAParagraph) {
  const std::string title = "Council approves the new transit plan";
  auto a = GenericExtractor().extract(build_page_from_html(
      "<html><head><meta property='og:title' content='" + title + "'></head><body><article>" +
          "<p class='headline'>" + title + "</p><p>" + kPara1 + "</p><p>" + title + "</p><p>" +
          kPara2 + "</p></article></body></html>",
      "https://x.example/a"));
  EXPECT_EQ(a.title, title);
  ASSERT_FALSE(a.sections.empty());
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, title, kPara2}));
}

// Markup nested hundreds deep (unclosed <div>s) is read to its end without exhausting the
// stack, here and under the sanitizers.
TEST(GenericExtractor, DeeplyNestedMarkupIsExtracted) {
  std::string html = "<html><body><article>";
  for (int i = 0; i < 900; ++i) html += "<div>";
  html += "<p>" + std::string(kPara1) + "</p><p>" + kPara2 + "</p></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  EXPECT_NE(a.body_text().find("transit plan"), std::string::npos);
}

// Pages built from components often wrap each paragraph in several elements of its own. A
// wrapper that holds nothing but its child counts as the child, so the paragraphs still score
// the container they share, and the whole article is found, not one paragraph.
TEST(GenericExtractor, ParagraphsEachWrappedManyLevelsDeep) {
  const char* paras[] = {kPara1, kPara2, kPara3, kPara4};
  std::string html =
      "<html><body><nav><ul><li><a href=/a>World</a></li><li><a href=/b>Business</a></li>"
      "</ul></nav><main><div class=story>";
  for (int i = 0; i < 8; ++i) {
    html += "<div class=block><div><div class=inner><div><div><div class=text><p>";
    html += paras[i % 4];
    html += "</p></div></div></div></div></div></div>";
  }
  html +=
      "</div><aside><p>Read next: <a href=/c>a story about something else that happened "
      "today</a></p></aside></main></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  std::vector<std::string> want;
  for (int i = 0; i < 8; ++i) want.emplace_back(paras[i % 4]);
  EXPECT_EQ(a.sections[0].paragraphs, want);
}

// Line breaks a reader sees are kept, and only those: a table of data is one paragraph with a
// line per row, <br> and <pre> break lines, and the source's own line wrapping is a space;
// <pre> keeps its indentation and inner spacing (program code). A table laying out the page
// (paragraphs in its cells) is read as paragraphs.
TEST(GenericExtractor, TablesLineBreaksAndPreformattedText) {
  std::string html = std::string("<html><body><article><p>") + kPara1 + R"(</p>
<table><thead><tr><th>Pos.</th><th>Driver</th><th>Points</th></tr></thead>
<tbody><tr><td>1</td><td><a href="/kb">Kyle Busch</a></td><td>5040</td></tr>
<tr><td>2</td><td>Martin
  Truex Jr.</td><td>5035</td></tr></tbody></table>
<p>The council will review the parking fees
after one year, officials said.<br>Revenue goes to cycle lanes.</p>
<pre>if (x) {  &nbsp;
  y  = 1;

	return;
}</pre>
<table><tr><td><p>)" +
                     kPara2 + "</p></td><td><p>" + kPara3 + "</p></td></tr><tr><td><p>" + kPara4 +
                     "</p></td></tr></table></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs,
            (std::vector<std::string>{
                kPara1, "Pos. Driver Points\n1 Kyle Busch 5040\n2 Martin Truex Jr. 5035",
                "The council will review the parking fees after one year, officials "
                "said.\nRevenue goes to cycle lanes.",
                "if (x) {\n  y  = 1;\n\treturn;\n}", kPara2, kPara3, kPara4}));
}

// Readers' comments never outweigh the article they are under, however long they are, and an
// article wrapper named for the sidebar beside it is read all the same; "commentary" is an
// article's word and "comments-enabled" a mark on an article, neither a comment.
TEST(GenericExtractor, CommentsNeverOutweighTheArticle) {
  std::string comments = "<section id=comments class=comments><h2>Reader comments</h2>";
  for (int i = 0; i < 40; ++i)
    comments += "<article class=comment><p>User " + std::to_string(i) +
                " wrote: the council, the mayor, the taxes, the roads, the bridge, the budget, "
                "the plan, the years of waiting, all of it is wrong, and everyone knows it.</p>"
                "<p>Totally agree, and frankly, the people who disagree have not read it.</p>"
                "</article>";
  comments += "</section>";
  const std::string article = std::string("<p>") + kPara1 + "</p><p>" + kPara2 + "</p><p>" +
                              kPara3 + "</p><p>" + kPara4 + "</p>";
  for (const char* wrapper : {"layout-with-sidebar", "commentary-body", "story comments-enabled"}) {
    const std::string html = "<html><body><div class='" + std::string(wrapper) + "'><article>" +
                             article + "</article></div>" + comments + "</body></html>";
    auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
    ASSERT_EQ(a.sections.size(), 1u) << wrapper;
    EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3, kPara4}))
        << wrapper;
  }
}

// Text in <div>s: a short question or answer is text, not a label, in any script; one <br>
// breaks a line, two end a paragraph.
TEST(GenericExtractor, ShortSentencesAndLineBreaksInDivs) {
  const std::string html =
      std::string("<html><body><div class=content><div class=para>") + kPara1 +
      "</div><div class=para><strong>Why cooking?</strong></div><div class=para>No!</div>"
      "<div class=para>\xE5\xA4\x9A\xE5\x90\x8D\xE8\xAE\xAE\xE5\x91\x98\xE3\x80\x82</div>"
      "<div class=para>Share</div><div class=para>" +
      kPara2 + "<br>" + kPara3 + "<br><br>" + kPara4 + "</div></div></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(
      a.sections[0].paragraphs,
      (std::vector<std::string>{kPara1, "Why cooking?", "No!",
                                "\xE5\xA4\x9A\xE5\x90\x8D\xE8\xAE\xAE\xE5\x91\x98\xE3\x80\x82",
                                std::string(kPara2) + "\n" + kPara3, kPara4}));
}

// Subscription offers inside the article are not part of it, whatever the paywall vendor
// calls them.
TEST(GenericExtractor, SubscriptionOffersAreNotText) {
  std::string html = std::string("<html><body><article><p>") + kPara1 + "</p><p>" + kPara2 + "</p>";
  for (const char* cls :
       {"piano-offer", "subscription-cta", "regwall", "premium-barrier", "meter-message"})
    html += std::string("<div class='") + cls +
            "'><p>Continue reading with a subscription: get unlimited access to every story, "
            "newsletter and puzzle for one low price.</p></div>";
  html += "<p>" + std::string(kPara3) + "</p></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3}));
}

// The last line of a story split into a box of its own is text; the page's reading time and
// date line are not.
TEST(GenericExtractor, SplitLastLineKeptReadingTimeAndDateLineLeft) {
  const std::string html =
      std::string(
          "<html><body><main><h1>Headline</h1><div><p>5 min read</p><p>Published 1 May "
          "2024, 14:03 BST | Updated 2 May 2024</p><p>") +
      kPara1 + "</p><p>" + kPara2 + "</p><p>" + kPara3 +
      "</p></div><div><p>The council will vote on it next month, officials said.</p></div>"
      "<div><p><em><a href='/forum'>Join our forums</a> to keep talking about the council, "
      "the city and more! Tips to <a href='mailto:x@x.example'>x@x.example</a>.</em></p></div>"
      "</main></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs,
            (std::vector<std::string>{kPara1, kPara2, kPara3,
                                      "The council will vote on it next month, officials said."}));
  EXPECT_TRUE(is_ui_text("12 minute read"));
  EXPECT_TRUE(is_ui_text("Updated: April 8, 2026 4:09 PM EDT"));
  EXPECT_FALSE(is_ui_text("Published reports say the bridge will close."));
  EXPECT_FALSE(is_ui_text("Updated figures released on 3 May 2024 show inflation fell."));
}

// What a post's class says about its subject (WordPress categories and tags) does not make it
// a comment; paragraphs split by "<br>", a line break and "<br>" are two; a table of one cell
// per row lays out the page and is read as text; the body's class says nothing about a byline.
TEST(GenericExtractor, ClassesOfSubjectsBrPairsAndLayoutTables) {
  const std::string article = std::string("<p>") + kPara1 + "</p><p>" + kPara2 + "</p>";
  auto a = GenericExtractor().extract(build_page_from_html(
      "<html><body class='single has-sidebar'><article class='post category-cookies "
      "tag-consent-decree'><div class=byline>By Jane Doe</div>" +
          article + "</article></body></html>",
      "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2}));
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe"}));

  a = GenericExtractor().extract(build_page_from_html(
      std::string("<html><body><div class=post>") + kPara1 + "<br />\n<br />" + kPara2 +
          "<br>\n  <br>" + kPara3 + "<div class=x>" + kPara4 + "</div></div></body></html>",
      "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3, kPara4}));

  a = GenericExtractor().extract(build_page_from_html(
      std::string("<html><body><table><tr><td>Council news</td></tr><tr><td>") + kPara1 +
          "<br><br>" + kPara2 + "<br><br>" + kPara3 + "</td></tr></table></body></html>",
      "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3}));
}

// Relative URLs resolve against <base href> when the page has one, as a browser resolves them.
TEST(GenericExtractor, RelativeUrlsResolveAgainstTheBaseElement) {
  auto a = GenericExtractor().extract(build_page_from_html(
      std::string("<html><head><base href='https://cdn.example.org/assets/'>"
                  "<link rel=canonical href='canon.html'></head><body><article><p>") +
          kPara1 + "</p><figure><img src='pics/one.jpg'><figcaption>One</figcaption></figure><p>" +
          kPara2 + "</p></article></body></html>",
      "https://x.example/sub/page.html"));
  EXPECT_EQ(a.canonical_url, "https://cdn.example.org/assets/canon.html");
  ASSERT_FALSE(a.images.empty());
  EXPECT_EQ(a.images.back().url, "https://cdn.example.org/assets/pics/one.jpg");
  // A base that is not an http(s) URL is ignored.
  auto b = GenericExtractor().extract(build_page_from_html(
      std::string("<html><head><base href='javascript:alert(1)'></head><body><article><p>") +
          kPara1 + "</p><figure><img src='pics/one.jpg'><figcaption>One</figcaption></figure><p>" +
          kPara2 + "</p></article></body></html>",
      "https://x.example/sub/page.html"));
  ASSERT_FALSE(b.images.empty());
  EXPECT_EQ(b.images.back().url, "https://x.example/sub/pics/one.jpg");
}

// The canonical URL is what the page declares, or nothing: never the URL it was fetched from.
TEST(GenericExtractor, CanonicalUrlOnlyWhenThePageDeclaresOne) {
  auto canonical = [](const std::string& head) {
    return GenericExtractor()
        .extract(build_page_from_html(
            "<html><head>" + head + "</head><body><p>" + std::string(kPara1) + "</p></body></html>",
            "https://x.example/a?utm=1#top"))
        .canonical_url;
  };
  EXPECT_EQ(canonical(""), "");
  EXPECT_EQ(canonical("<link rel=canonical href='/a'>"), "https://x.example/a");
  EXPECT_EQ(canonical("<meta property='og:url' content='https://x.example/b'>"),
            "https://x.example/b");
  EXPECT_EQ(canonical("<link rel=canonical href='javascript:void(0)'>"), "");
}

TEST(GenericExtractor, EmptyAndDegeneratePages) {
  GenericExtractor ex;
  EXPECT_TRUE(ex.extract(build_page_from_html("", "https://x.example/")).sections.empty());
  EXPECT_TRUE(ex.extract(build_page_from_html("<html><body></body></html>", "")).sections.empty());
  auto a = ex.extract(build_page_from_html("<p>Just one short line.</p>", ""));
  EXPECT_LE(a.sections.size(), 1u);
}

// JSON-LD nested tens of thousands deep is valid JSON that would exhaust the stack when copied
// or walked: the block is ignored, the rest of the page is read.
TEST(GenericExtractor, DeeplyNestedJsonLdIsIgnored) {
  const std::size_t depth = 70'000;
  std::string deep =
      "{\"@type\":\"NewsArticle\",\"headline\":\"Too deep\",\"x\":" + std::string(depth, '[') +
      "1" + std::string(depth, ']') + "}";
  std::string html = "<html><head><script type='application/ld+json'>" + deep +
                     "</script><script type='application/ld+json'>{\"@type\":\"NewsArticle\","
                     "\"headline\":\"Shallow headline\"}</script></head><body><p>" +
                     kPara1 + "</p></body></html>";
  Page page = build_page_from_html(html, "https://x.example/a");
  ASSERT_EQ(page.json_ld.size(), 1u);
  auto a = GenericExtractor().extract(page);
  EXPECT_EQ(a.title, "Shallow headline");
  EXPECT_NE(a.body_text().find("transit plan"), std::string::npos);
}

TEST(GenericExtractor, TitleSourcesAndSiteSuffix) {
  auto t = [](const std::string& head, const std::string& body = "") {
    return GenericExtractor()
        .extract(
            build_page_from_html("<html><head>" + head + "</head><body>" + body + "</body></html>",
                                 "https://www.paper.example/a"))
        .title;
  };
  EXPECT_EQ(t("<title>Rain expected - The Paper</title><meta property=og:site_name "
              "content='The Paper'>"),
            "Rain expected");
  EXPECT_EQ(t("<meta property=og:title content='Storm warning | paper.example'>"), "Storm warning");
  // Two sources agreeing beat a third.
  EXPECT_EQ(t("<meta property=og:title content='Short'><meta name=twitter:title content='Long "
              "headline'>",
              "<h1>Long headline</h1>"),
            "Long headline");
  // A headline that other sources carry with a topic before it and a section after it.
  EXPECT_EQ(t("<title>Floods: Rain closes bridge | City News</title><meta property=og:title "
              "content='Floods: Rain closes bridge | City News'><meta "
              "name=twitter:title content='Floods: Rain closes bridge | City News'>",
              "<h1>Rain closes bridge</h1><script type='application/ld+json'>{\"@type\": "
              "\"NewsArticle\", \"headline\": \"Rain closes bridge\"}</script>"),
            "Rain closes bridge");
  // A section after the bar is no headline, even when the <h1> holds just the section.
  EXPECT_EQ(t("<title>Rain closes bridge | Opinion</title><meta property=og:title "
              "content='Rain closes bridge | Opinion'>",
              "<h1>Opinion</h1>"),
            "Rain closes bridge | Opinion");
  // A shorter title inside a longer one without a separator is no support.
  EXPECT_EQ(t("<meta property=og:title content='Rain closes bridge again'><meta name=twitter:title "
              "content='Rain closes bridge again'>",
              "<h1>Rain closes bridge</h1>"),
            "Rain closes bridge again");
}

TEST(GenericExtractor, MicrodataAndTimeFallbacks) {
  std::string html = R"(<html lang="fr"><body><article>
<span itemprop="author" itemscope><span itemprop="name">Marie Curie</span></span>
<time datetime="2026-03-01T08:30:00+01:00">1 mars</time>
<h1>Un titre</h1></article></body></html>)";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://fr.example/x"));
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Marie Curie"}));
  EXPECT_EQ(a.published, "2026-03-01T07:30:00Z");
  EXPECT_EQ(a.language, "fr");
  EXPECT_EQ(a.title, "Un titre");
}

// When a page was last updated is not when it was published: og:updated_time fills only
// `modified`, and the publication date comes from what says so (here the <time> element).
TEST(GenericExtractor, UpdatedTimeIsNotThePublicationDate) {
  std::string html = R"(<html><head>
<meta property="og:updated_time" content="2026-05-02T10:00:00Z"></head><body><article>
<time datetime="2026-03-01T08:30:00Z">1 March</time><h1>A title</h1></article></body></html>)";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/x"));
  EXPECT_EQ(a.published, "2026-03-01T08:30:00Z");
  EXPECT_EQ(a.modified, "2026-05-02T10:00:00Z");
}

// A site's logo set as an <h1> is not the headline: the article's own <h1> is, or else the
// <title> without the site's name, which the logo gives.
TEST(GenericExtractor, ALogoInAnH1IsNotTheTitle) {
  const std::string story = std::string("<p>") + kPara1 + "</p><p>" + kPara2 + "</p>";
  auto title_of = [](const std::string& html) {
    return GenericExtractor().extract(build_page_from_html(html, "https://news.example/a")).title;
  };
  EXPECT_EQ(title_of("<html><head><title>Council approves plan | The Daily Example</title></head>"
                     "<body><div class=site-logo><h1><a href='/'>The Daily Example</a></h1></div>"
                     "<article><h1>Council approves plan</h1>" +
                     story + "</article></body></html>"),
            "Council approves plan");
  EXPECT_EQ(title_of("<html><head><title>Council approves plan | The Daily Example</title></head>"
                     "<body><header><h1><a href='https://news.example/'>The Daily Example</a>"
                     "</h1></header><article>" +
                     story + "</article></body></html>"),
            "Council approves plan");
  // A headline that links to its own article is a headline.
  EXPECT_EQ(title_of("<html><head><title>The Daily Example</title></head><body><article>"
                     "<h1><a href='/2026/council-plan'>Council approves plan</a></h1>" +
                     story + "</article></body></html>"),
            "Council approves plan");
}

// A gallery of thousands of figures keeps each image once, in page order, with the caption of
// its first figure and the og:image first.
TEST(GenericExtractor, LargeGalleriesKeepEachImageOnce) {
  std::string html = std::string("<html><head><meta property='og:image' content='/i/7.jpg'>") +
                     "</head><body><article><p>" + kPara1 + "</p>";
  for (int i = 0; i < 6000; ++i)
    html += "<figure><img src='/i/" + std::to_string(i % 3000) + ".jpg'><figcaption>Caption " +
            std::to_string(i) + "</figcaption></figure>";
  html += "</article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  ASSERT_EQ(a.images.size(), 3000u);
  EXPECT_EQ(a.images[0].url, "https://x.example/i/7.jpg");
  EXPECT_EQ(a.images[0].caption, "Caption 7");
  EXPECT_EQ(a.images[1].url, "https://x.example/i/0.jpg");
  EXPECT_EQ(a.images[2999].url, "https://x.example/i/2999.jpg");
  EXPECT_EQ(a.images[2999].caption, "Caption 2999");
}

// The title without the site's name even when only the host says what it is, and never a
// section's name or a hidden dialog's title set as an <h1>.
TEST(GenericExtractor, TitleWithoutTheSiteNameSectionOrDialog) {
  const std::string story = std::string("<p>") + kPara1 + "</p><p>" + kPara2 + "</p>";
  const std::string head = "<html><head><title>Council approves plan | City Times</title></head>";
  auto title_of = [](const std::string& html) {
    return GenericExtractor()
        .extract(build_page_from_html(html, "https://www.citytimes.com/news/a"))
        .title;
  };
  EXPECT_EQ(title_of(head + "<body><article>" + story + "</article></body></html>"),
            "Council approves plan");
  EXPECT_EQ(title_of(head + "<body><div class=section-header><h1>Local News</h1></div><article>" +
                     story + "</article></body></html>"),
            "Council approves plan");
  EXPECT_EQ(title_of(head + "<body><div class=login style='display: none'><h1>Log In</h1></div>" +
                     "<article>" + story + "</article></body></html>"),
            "Council approves plan");
}

// Of several JSON-LD articles (related stories described too), the one that names the page as
// its own gives the metadata.
TEST(GenericExtractor, TheJsonLdArticleOfThisPage) {
  const std::string html =
      R"(<html><head><script type="application/ld+json">{"@type":"NewsArticle",
"headline":"Mayor announces budget","url":"https://x.example/news/2023/mayor",
"datePublished":"2023-11-02T09:00:00Z","author":{"@type":"Person","name":"Bob Old"}}</script>
<script type="application/ld+json">{"@type":"NewsArticle","headline":"Council approves plan",
"mainEntityOfPage":{"@id":"https://x.example/news/2024/story"},
"datePublished":"2024-05-01T14:03:00Z","author":{"@type":"Person","name":"Jane Doe"}}</script>
</head><body><article><p>)" +
      std::string(kPara1) + "</p></article></body></html>";
  auto a =
      GenericExtractor().extract(build_page_from_html(html, "https://x.example/news/2024/story"));
  EXPECT_EQ(a.title, "Council approves plan");
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe"}));
  EXPECT_EQ(a.published, "2024-05-01T14:03:00Z");
}

// Without metadata, the byline and date the page shows are the article's, not those of a
// teaser, a comment or the sidebar.
TEST(GenericExtractor, VisibleBylineAndDateWithoutMetadata) {
  const std::string html =
      std::string(
          "<html><body><aside class=trending><a rel=author href=/a/old>Bob Old</a>"
          "<time datetime='2023-11-02T09:00:00Z'>Nov 2</time></aside><article>"
          "<h1>Council approves plan</h1><div class=byline>By Jane Doe and John Roe | "
          "<time>May 1, 2024 at 2:03 p.m. EDT</time></div><p>") +
      kPara1 + "</p><p>" + kPara2 +
      "</p></article><section class=comments><time datetime='2024-05-03T10:00:00Z'>May 3"
      "</time></section></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe", "John Roe"}));
  EXPECT_EQ(a.published, "2024-05-01T18:03:00Z");
}

// A WebPage that holds its article as mainEntity gives the article's metadata; entities HTML
// names are decoded in JSON-LD strings; an agency's "staff" beside a person is no author.
TEST(GenericExtractor, MainEntityEntitiesAndAgencyStaff) {
  const std::string html =
      R"(<html><head><title>Site page</title><script type="application/ld+json">
{"@type":"WebPage","name":"Site page","mainEntity":{"@type":"NewsArticle",
"headline":"Real headline &euro; &uuml;ber","datePublished":"2024-05-01T10:00:00-04:00",
"author":[{"@type":"Person","name":"M&uuml;ller, Hans"},"Jane Doe, Reuters staff"]}}</script>
</head><body><article><p>)" +
      std::string(kPara1) + "</p></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  EXPECT_EQ(a.title,
            "Real headline \xE2\x82\xAC \xC3\xBC"
            "ber");
  EXPECT_EQ(a.published, "2024-05-01T14:00:00Z");
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Hans M\xC3\xBCller", "Jane Doe"}));
}

// A <br> or a block inside a headline or a byline separates words, as the reader sees them:
// libxml2 joins the text around it.
TEST(GenericExtractor, LineBreaksInHeadlinesAndBylinesSeparate) {
  const std::string html =
      std::string(
          "<html><body><article><h1>Floods hit the north<br>Thousands evacuated</h1>"
          "<div class=byline>By Jane Doe<br>Updated\n  <time>May 1, 2024</time></div><p>") +
      kPara1 + "</p><p>" + kPara2 + "</p></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  EXPECT_EQ(a.title, "Floods hit the north Thousands evacuated");
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe"}));
  // A button beside the name is no author.
  const std::string follow = std::string(
                                 "<html><body><article><h1>Plan</h1><div class=byline>"
                                 "Jane Doe \xC2\xB7 Follow</div><p>") +
                             kPara1 + "</p><p>" + kPara2 + "</p></article></body></html>";
  a = GenericExtractor().extract(build_page_from_html(follow, "https://x.example/a"));
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe"}));
  // A name the page's source wraps over two lines stays one name.
  const std::string wrapped =
      std::string(
          "<html><body><article><h1>Plan</h1><div class=byline>By Jane\n Doe and "
          "John\r\n Roe</div><p>") +
      kPara1 + "</p><p>" + kPara2 + "</p></article></body></html>";
  a = GenericExtractor().extract(build_page_from_html(wrapped, "https://x.example/a"));
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe", "John Roe"}));
  // Elements side by side that the markup runs together, but the page's style sets apart.
  const std::string glued = std::string(
                                "<html><body><article><h1>Plan</h1><div class=byline><span>By "
                                "Jane Doe</span><span>Updated 3 May 2024</span></div><p>") +
                            kPara1 + "</p><p>" + kPara2 + "</p></article></body></html>";
  a = GenericExtractor().extract(build_page_from_html(glued, "https://x.example/a"));
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe"}));
  // Letters a page animates one span at a time stay one word.
  const std::string letters = std::string(
                                  "<html><body><article><h1>Plan</h1><div class=byline>By "
                                  "<span>J</span><span>ane</span> Doe</div><p>") +
                              kPara1 + "</p><p>" + kPara2 + "</p></article></body></html>";
  a = GenericExtractor().extract(build_page_from_html(letters, "https://x.example/a"));
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe"}));
}

// A byline in an element whose class is "author" among its words (as WordPress themes write
// it) names the authors; "author-bio", "comment-author" and a long biography do not.
TEST(GenericExtractor, AnAuthorClassBylineNamesTheAuthors) {
  auto authors = [](const std::string& byline) {
    const std::string html = "<html><body><article><h1>Plan</h1>" + byline + "<p>" + kPara1 +
                             "</p><p>" + kPara2 + "</p></article></body></html>";
    return GenericExtractor().extract(build_page_from_html(html, "https://x.example/a")).authors;
  };
  EXPECT_EQ(authors("<span class='author vcard'><a class='url fn n' href='/a/jd'>Jane Doe</a>"
                    "</span>"),
            (std::vector<std::string>{"Jane Doe"}));
  EXPECT_EQ(authors("<div class='meta'><span class=author>By Jane Doe and John Roe</span></div>"),
            (std::vector<std::string>{"Jane Doe", "John Roe"}));
  EXPECT_TRUE(authors("<div class='author-bio'>Jane Doe</div>").empty());
  EXPECT_TRUE(authors("<div class='comment-author'>Bob Reader</div>").empty());
  EXPECT_TRUE(authors("<div class='author'>Jane Doe has covered city hall for the paper since "
                      "2009, and before that wrote about schools, transport and housing for two "
                      "regional dailies; she lives in the city with her family and a rather old "
                      "dog.</div>")
                  .empty());
}

// A soft hyphen (&shy;) is invisible on the page and splits no word: it is left out of the
// title and the text, where it kept a word from being found by search.
TEST(GenericExtractor, SoftHyphensAreLeftOut) {
  const std::string html =
      "<html><head><title>Bundes&shy;verfassungs&shy;gericht urteilt</title></head><body>"
      "<article><h1>Bundes&shy;verfassungs&shy;gericht urteilt</h1><p>Das Bundes\xC2\xAD"
      "verfassungs&shy;gericht hat am Dienstag ein Urteil gesprochen, das viele Menschen "
      "betrifft.</p><p>" +
      std::string(kPara1) + "</p></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  EXPECT_EQ(a.title, "Bundesverfassungsgericht urteilt");
  ASSERT_FALSE(a.sections.empty());
  ASSERT_FALSE(a.sections[0].paragraphs.empty());
  EXPECT_EQ(a.sections[0].paragraphs[0],
            "Das Bundesverfassungsgericht hat am Dienstag ein Urteil gesprochen, das viele "
            "Menschen betrifft.");
}

// A byline set as a paragraph above the text ("By Jane Doe", "Von Hans M\u00fcller und Petra
// Schmidt") is left out of the body and names the authors when nothing else does; "By" in
// other languages is read in meta bylines too.
TEST(GenericExtractor, ABylineAboveTheTextNamesTheAuthors) {
  auto extract = [](const std::string& head, const std::string& byline) {
    const std::string html = "<html><head>" + head + "</head><body><article><h1>Plan</h1><p>" +
                             byline + "</p><p>" + kPara1 + "</p><p>" + kPara2 +
                             "</p></article></body></html>";
    return GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  };
  auto a = extract("", "By Jane Doe");
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jane Doe"}));
  ASSERT_FALSE(a.sections.empty());
  EXPECT_EQ(a.sections[0].paragraphs.front(), kPara1);
  a = extract("", "Von Hans M\xC3\xBCller und Petra Schmidt");
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Hans M\xC3\xBCller", "Petra Schmidt"}));
  EXPECT_EQ(a.sections[0].paragraphs.front(), kPara1);
  a = extract(
      "<meta name=author content='Por Juan P\xC3\xA9rez y Mar\xC3\xAD"
      "a L\xC3\xB3pez'>",
      "Text that is a sentence of the article, not a byline at all.");
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Juan P\xC3\xA9rez",
                                                 "Mar\xC3\xAD"
                                                 "a L\xC3\xB3pez"}));
  a = extract("<meta name=author content='Door Jan de Vries'>", "Di Mario Rossi");
  EXPECT_EQ(a.authors, (std::vector<std::string>{"Jan de Vries"}));
  EXPECT_EQ(a.sections[0].paragraphs.front(), kPara1);
  // A heading or kicker that starts with one of those words is text, and names nobody.
  for (const std::string line : {"Door County Wineries Thrive Again", "Von Berlin nach Paris"}) {
    a = extract("", line);
    EXPECT_TRUE(a.authors.empty()) << line;
    EXPECT_EQ(a.sections[0].paragraphs.front(), line);
  }
}

// A <time> that says when the article was updated gives its modification time, not its date.
TEST(GenericExtractor, AnUpdateTimeIsNotThePublicationDate) {
  auto extract = [](const std::string& dates) {
    const std::string html = "<html><body><article><h1>Plan</h1><div class=meta>" + dates +
                             "</div><p>" + kPara1 + "</p><p>" + kPara2 +
                             "</p></article></body></html>";
    return GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  };
  auto a = extract(
      "Updated <time itemprop=dateModified datetime='2024-03-20T09:00:00Z'>20 March</time> "
      "Published <time datetime='2024-03-01T09:00:00Z'>1 March</time>");
  EXPECT_EQ(a.published, "2024-03-01T09:00:00Z");
  EXPECT_EQ(a.modified, "2024-03-20T09:00:00Z");
  a = extract("<span>Last updated:</span> <time datetime='2024-03-20T09:00:00Z'>20 March</time>");
  EXPECT_EQ(a.published, "");
  EXPECT_EQ(a.modified, "2024-03-20T09:00:00Z");
  a = extract("<time class='post-date' datetime='2024-03-01T09:00:00Z'>1 March</time>");
  EXPECT_EQ(a.published, "2024-03-01T09:00:00Z");
  // WordPress marks a post never edited "published updated".
  a = extract(
      "<time class='entry-date published updated' datetime='2024-03-05T09:00:00+00:00'>"
      "5 March</time>");
  EXPECT_EQ(a.published, "2024-03-05T09:00:00Z");
}

// A sentence of the article whose words are mostly one link is text; a line of links is not.
TEST(GenericExtractor, ASentenceThatIsMostlyALinkIsText) {
  const std::string sentence =
      "The minister <a href='/resign'>resigned on Tuesday after the report was published</a>.";
  const std::string html = "<html><body><article><h1>Plan</h1><p>" + std::string(kPara1) +
                           "</p><p>" + sentence +
                           "</p><p><a href='/a'>Other story one</a> "
                           "<a href='/b'>Other story two</a>.</p><p>" +
                           kPara2 + "</p></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(
      a.sections[0].paragraphs,
      (std::vector<std::string>{
          kPara1, "The minister resigned on Tuesday after the report was published.", kPara2}));
}

TEST(ContentHelpers, UiTextAndCredits) {
  EXPECT_TRUE(is_ui_text("Advertisement"));
  EXPECT_TRUE(is_ui_text("Read more: council news"));
  EXPECT_TRUE(is_ui_text("SHARE THIS"));
  EXPECT_FALSE(is_ui_text("Read the full report before the vote, the mayor urged."));
  std::string cap = "Crowds gather outside (Image: Reuters)";
  EXPECT_EQ(split_credit(cap), "Reuters");
  EXPECT_EQ(cap, "Crowds gather outside");
  std::string none = "No credit here";
  EXPECT_EQ(split_credit(none), "");
  EXPECT_EQ(none, "No credit here");
  const std::pair<std::string, std::pair<std::string, std::string>> credits[] = {
      {"A photo by the river shows the old bridge.",
       {"A photo by the river shows the old bridge.", ""}},
      {"The bridge at dusk. Photo by Jane Doe", {"The bridge at dusk.", "Jane Doe"}},
      {"President speaks at the rally. (AP Photo/Evan Vucci)",
       {"President speaks at the rally.", "AP Photo/Evan Vucci"}},
      {"Flooded streets in the centre. Jane Smith/Reuters",
       {"Flooded streets in the centre.", "Jane Smith/Reuters"}},
      {"The harbour in 1920. \xC2\xA9 City Archives", {"The harbour in 1920.", "City Archives"}},
      {"Crews at work. Credit...Sarah Lee for The New York Times",
       {"Crews at work.", "Sarah Lee for The New York Times"}},
      {"Voters queue (in the rain) outside", {"Voters queue (in the rain) outside", ""}},
      {"Prices rose 5/8 of a point. Traders were calm.",
       {"Prices rose 5/8 of a point. Traders were calm.", ""}},
      {"The team lifts the cup (2019/20 season)", {"The team lifts the cup (2019/20 season)", ""}},
      {"Fans celebrate. The 2023/24 season ended.",
       {"Fans celebrate. The 2023/24 season ended.", ""}}};
  for (const auto& [in, want] : credits) {
    std::string caption = in;
    EXPECT_EQ(split_credit(caption), want.second) << in;
    EXPECT_EQ(caption, want.first) << in;
  }
  EXPECT_EQ(decode_entities("Tom &amp; Jerry&#8217;s &#x27;show&#39; &bogus;"),
            "Tom & Jerry\xE2\x80\x99s 'show' &bogus;");
  // Every name HTML has, not only HTML 4's; one that names two code points gives both.
  EXPECT_EQ(
      decode_entities("&check; &apos;x&apos; &NotEqualTilde; &CounterClockwiseContourIntegral;"),
      "\u2713 'x' \u2242\u0338 \u2233");
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

std::string body_text(const Article& a) {
  std::string all;
  for (const auto& s : a.sections)
    for (const auto& p : s.paragraphs) all += p + "\n";
  return all;
}

TEST(GenericExtractor, TextBelowTheNestingLimitIsReadAsPlainText) {
  const std::string deep_text = "Deep text, with commas, and enough words to be scored.";
  std::string html = "<html><body>";
  for (int i = 0; i < 5000; ++i) html += "<div class=a>";
  html += "<p>" + deep_text + "</p><script>var hidden = 1;</script>";
  for (int i = 0; i < 5000; ++i) html += "</div>";
  html += "</body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/"));
  const std::string all = body_text(a);
  EXPECT_NE(all.find(deep_text), std::string::npos) << all;
  EXPECT_EQ(all.find("hidden"), std::string::npos) << "script text stays out: " << all;
  // Far deeper still (half a million levels fit the markup bound): read, and no crash.
  std::string deeper = "<html><body>";
  for (int i = 0; i < 400'000; ++i) deeper += "<i>";
  deeper += "<p>" + deep_text + "</p>";
  auto b = GenericExtractor().extract(build_page_from_html(deeper, "https://x.example/"));
  EXPECT_NE(body_text(b).find(deep_text), std::string::npos);
}

TEST(GenericExtractor, AFooterOfUnclosedTagsLeavesTheArticleWhole) {
  std::string html = "<html><body><article><h1>Harbour reopens</h1>";
  std::vector<std::string> paras;
  for (int i = 0; i < 4; ++i) {
    paras.push_back("Paragraph " + std::to_string(i) +
                    " of the story, long enough, with commas, to be scored as the article's "
                    "body text by any reader of pages.");
    html += "<p>" + paras.back() + "</p>";
  }
  html += "</article><footer>";
  for (int i = 0; i < 3000; ++i) html += "<font>";
  html += "Copyright";
  html += "</footer></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/"));
  const std::string all = body_text(a);
  for (const auto& p : paras) EXPECT_NE(all.find(p), std::string::npos) << all;
}

TEST(Document, NoElementNestsDeeperThanTheLimit) {
  std::string html = "<html><body>";
  for (int i = 0; i < 3000; ++i) html += "<div><span>" + std::to_string(i) + "</span>";
  auto doc = Document::parse(html);
  std::size_t deepest = 0;
  for (const Node& n : doc->xpath("//*")) {
    std::size_t d = 0;
    for (xmlNodePtr p = n.raw(); p && p->type == XML_ELEMENT_NODE; p = p->parent) ++d;
    deepest = std::max(deepest, d);
  }
  EXPECT_EQ(deepest, Document::kMaxDepth);
  // The text of what lay deeper is kept, in order, in the element at the limit, a line
  // apart where blocks were: "2998" and "2999" are words of their own.
  const std::string text = doc->root().raw_text();
  EXPECT_NE(text.find("\n2998\n"), std::string::npos);
  EXPECT_LT(text.find("1000"), text.find("2999"));
  EXPECT_EQ(text.find("29982999"), std::string::npos);
  // Inline elements run on, as a browser shows them: "<b>J</b>ane" is one word.
  std::string inline_html = "<html><body>";
  for (int i = 0; i < 1100; ++i) inline_html += "<div>";
  inline_html += "<p><b>J</b>ane <i>Doe</i></p><p>Next</p>";
  auto inline_doc = Document::parse(inline_html);
  EXPECT_NE(inline_doc->root().raw_text().find("Jane Doe\n"), std::string::npos);
  EXPECT_NE(inline_doc->root().raw_text().find("\nNext\n"), std::string::npos);
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

TEST(GenericExtractor, KeyPointsAsBulletParagraphs) {
  std::string html = std::string("<html><body><article><p>") + kPara1 + "</p><p>" + kPara2 +
                     "</p><p><strong>Key Points:</strong></p>"
                     "<p>\xE2\x80\x93 The plan adds three bus lines.</p>"
                     "<p>\xE2\x80\x93 The tram reaches the airport.</p><p>" +
                     kPara3 + "</p></article></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/"));
  EXPECT_EQ(a.key_points, (std::vector<std::string>{"The plan adds three bus lines.",
                                                    "The tram reaches the airport."}));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3}));
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

// A key-points box beside the text rather than inside its container — between the headline and
// the body, or after the body — is still the article's; a "Highlights" list in the page's
// sidebar, before the headline, is not. A class naming the box as furniture ("sidebar") does
// not change that.
TEST(GenericExtractor, KeyPointsBoxBesideTheBody) {
  const std::string body = std::string("<div class=\"story-body\"><p>") + kPara1 + "</p><p>" +
                           kPara2 + "</p><p>" + kPara3 + "</p></div>";
  const std::string points_html =
      "<h2>Key points</h2><ul><li>The plan adds three bus lines.</li><li>The tram reaches the "
      "airport.</li></ul>";
  const std::vector<std::string> points = {"The plan adds three bus lines.",
                                           "The tram reaches the airport."};
  // Named like page furniture ("sidebar", "widget") it is still the article's.
  for (const std::string& box : {"<aside>" + points_html + "</aside>",
                                 "<div class=\"summary-box\">" + points_html + "</div>",
                                 "<aside class=\"sidebar\">" + points_html + "</aside>",
                                 "<div class=\"widget keypoints\">" + points_html + "</div>"})
    for (bool before : {true, false}) {
      std::string html = "<html><body><main><article><h1>Council approves transit plan</h1>" +
                         (before ? box + body : body + box) + "</article></main></body></html>";
      auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
      EXPECT_EQ(a.key_points, points) << (before ? "before: " : "after: ") << box;
      ASSERT_EQ(a.sections.size(), 1u);
      EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3}));
    }
  std::string sidebar =
      "<html><body><div class=\"rail\"><h2>Highlights</h2><ul><li>Weather: sunny all week in "
      "the city.</li><li>Sport: the derby ends in a draw.</li></ul></div><main><article><h1>"
      "Council approves transit plan</h1>" +
      body + "</article></main></body></html>";
  auto c = GenericExtractor().extract(build_page_from_html(sidebar, "https://x.example/a"));
  EXPECT_TRUE(c.key_points.empty());
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

// A page that draws its article with a script and keeps the text in <noscript> for readers
// without one gives that text; a page with its text in place ignores a <noscript> notice, and
// so does an empty application page (its notice is not an article).
TEST(GenericExtractor, TextOnlyInNoscriptIsRead) {
  std::string html = std::string("<html><body><div id=\"app\"></div><noscript><article><p>") +
                     kPara1 + "</p><p>" + kPara2 + "</p><p>" + kPara3 + "</p><p>" + kPara4 +
                     "</p></article></noscript></body></html>";
  auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
  ASSERT_EQ(a.sections.size(), 1u);
  EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3, kPara4}));

  const std::string app =
      "<html><body><noscript><strong>We're sorry but citynews-frontend doesn't work properly "
      "without JavaScript enabled. Please enable it to continue.</strong></noscript><div "
      "id=app></div></body></html>";
  EXPECT_TRUE(GenericExtractor()
                  .extract(build_page_from_html(app, "https://x.example/a"))
                  .sections.empty());

  std::string both = std::string(
                         "<html><body><noscript><p>Please turn on JavaScript to read "
                         "the comments below this story.</p></noscript><article><p>") +
                     kPara1 + "</p><p>" + kPara2 + "</p><p>" + kPara3 +
                     "</p></article></body></html>";
  auto b = GenericExtractor().extract(build_page_from_html(both, "https://x.example/a"));
  ASSERT_EQ(b.sections.size(), 1u);
  EXPECT_EQ(b.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3}));
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

// A byline line left above the text ("Jane Smith in London") is not the article's first
// paragraph; a sentence that starts with the author's name is.
TEST(GenericExtractor, BylineLineAboveTheTextIsNotAParagraph) {
  const std::string head =
      "<html><head><meta name='author' content='Jane Smith'><meta name='author' content='John "
      "Doe'></head><body><article><p>";
  for (const char* line :
       {"Jane Smith in London", "JANE SMITH, Political Editor", "Jane Smith",
        "Jane Smith | Z\xC3\xBCrich", "Jane Smith (AP)", "Jane Smith \xE2\x80\x94 Political Editor",
        "Jane Smith and John Doe", "Jane Smith & John Doe",
        "Jane Smith in Washington and John Doe in London", "Jane Smith, U.S. Correspondent",
        "Jane Smith @janesmith", "Jane Smith \xC2\xB7 5 min read",
        "Jane Smith in \xC3\x8Ele-de-France"}) {
    std::string html = head + line + "</p><p>" + kPara1 + "</p><p>" + kPara2 + "</p><p>" + kPara3 +
                       "</p></article></body></html>";
    auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
    ASSERT_EQ(a.authors, (std::vector<std::string>{"Jane Smith", "John Doe"})) << line;
    ASSERT_EQ(a.sections.size(), 1u) << line;
    EXPECT_EQ(a.sections[0].paragraphs, (std::vector<std::string>{kPara1, kPara2, kPara3})) << line;
  }
  for (const std::string& sentence : std::vector<std::string>{
           "Jane Smith has covered the council for ten years.",
           "Jane Smith said: \xE2\x80\x9CWe lost.\xE2\x80\x9D",
           "Jane Smith (pictured) won the prize", "Jane Smith writes from the front line",
           "Jane Smith in the end voted against it", "Jane Smith, who won, was pleased."}) {
    std::string html = head + sentence + "</p><p>" + kPara1 + "</p><p>" + kPara2 + "</p><p>" +
                       kPara3 + "</p></article></body></html>";
    auto a = GenericExtractor().extract(build_page_from_html(html, "https://x.example/a"));
    ASSERT_EQ(a.sections.size(), 1u);
    EXPECT_EQ(a.sections[0].paragraphs,
              (std::vector<std::string>{sentence, kPara1, kPara2, kPara3}));
  }
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

// A site's own description, the same on every page, is not the article's lead; a standfirst
// is, and so is any description of a story too short to judge.
TEST(GenericExtractor, SiteWideDescriptionIsNotTheLead) {
  const std::string body = std::string("<p>") + kPara1 + "</p><p>" + kPara2 + "</p><p>" + kPara3 +
                           "</p><p>" + kPara4 + "</p><p>" + kPara1 + " " + kPara2 + "</p><p>" +
                           kPara3 + " " + kPara4 + "</p>";
  auto lead_of = [&](const std::string& description, const std::string& text) {
    std::string html = "<html><head><meta name='description' content='" + description +
                       "'></head><body><article><h1>Council approves transit plan</h1>" + text +
                       "</article></body></html>";
    return GenericExtractor().extract(build_page_from_html(html, "https://x.example/a")).lead;
  };
  const std::string site =
      "Breaking stories, sport, weather and entertainment from across "
      "Northshire, updated around the clock.";
  EXPECT_EQ(lead_of(site, body), "");
  const std::string standfirst =
      "Three new bus lines and a tram to the airport, paid for by dearer parking.";
  EXPECT_EQ(lead_of(standfirst, body), standfirst);
  EXPECT_EQ(lead_of(site, std::string("<p>") + kPara1 + "</p>"), site);
  // A description that repeats the first paragraph after its dateline, or the second one, is
  // not printed again as the lead.
  const std::string opening =
      "The council approved the new transit plan late on Tuesday after "
      "a debate that ran for nine hours.";
  EXPECT_EQ(lead_of(opening, "<p>NORTHSHIRE (AP) \xE2\x80\x94 " + opening + "</p>" + body), "");
  EXPECT_EQ(lead_of(opening, "<p>" + std::string(kPara1) + "</p><p>" + opening + "</p>" + body),
            "");
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

// Only a plain key-points box is the article's: an <aside> of video links under "Highlights",
// a promotion under "In brief" inside the story, and a box of the site's news between headline
// and text are neither key points nor text. A heading split by inline markup still counts.
TEST(GenericExtractor, AsidesThatAreNotKeyPointsStayOut) {
  const std::string paras = std::string("<p>") + kPara1 + "</p><p>" + kPara2 + "</p><p>" + kPara3 +
                            "</p><p>" + kPara4 + "</p>";
  auto extract = [](const std::string& story) {
    return GenericExtractor().extract(
        build_page_from_html("<html><body><main><article><h1>Council approves transit plan</h1>" +
                                 story + "</article></main></body></html>",
                             "https://x.example/a"));
  };
  const std::vector<std::string> text = {kPara1, kPara2, kPara3, kPara4};
  for (const std::string& box :
       {std::string("<aside><h3>Highlights</h3><ul><li><a href=/v/1>Watch: all the goals from "
                    "the derby</a></li><li><a href=/v/2>Watch: the mayor on the plan</a></li>"
                    "</ul></aside>"),
        std::string("<aside class='inline-promo'><h3>In brief</h3><p>Elsewhere: the city zoo "
                    "welcomes two new otters this weekend.</p><p>Weather: rain all week.</p>"
                    "</aside>"),
        std::string("<aside><h3>Key points</h3><ul><li><a href=/v/1>Watch: all the goals from "
                    "the derby</a></li><li><a href=/v/2>Watch: the mayor on the plan</a></li>"
                    "</ul></aside>")}) {
    auto a = extract("<div class='story'><p>" + std::string(kPara1) + "</p>" + box + "<p>" +
                     kPara2 + "</p><p>" + kPara3 + "</p><p>" + kPara4 + "</p></div>");
    EXPECT_TRUE(a.key_points.empty()) << box;
    ASSERT_EQ(a.sections.size(), 1u) << box;
    EXPECT_EQ(a.sections[0].paragraphs, text) << box;
  }
  auto rail = extract(
      "<div class='rail'><h2>In brief</h2><ul><li>Weather: rain all week across the "
      "city.</li><li>Traffic: the ring road is closed on Sunday.</li></ul></div><div "
      "class='story-body'>" +
      paras + "</div>");
  EXPECT_TRUE(rail.key_points.empty());
  auto split = extract(
      "<aside><h3><span>Key</span> points</h3><ul><li>Three new bus "
      "lines.</li><li>A tram to the airport.</li></ul></aside><div "
      "class='story-body'>" +
      paras + "</div>");
  EXPECT_EQ(split.key_points,
            (std::vector<std::string>{"Three new bus lines.", "A tram to the airport."}));
  ASSERT_EQ(split.sections.size(), 1u);
  EXPECT_EQ(split.sections[0].paragraphs, text);
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

// An <aside> that holds the article itself is read like any container; a "Highlights" list of
// links in the text takes its heading with it; a key-points aside of bulleted paragraphs
// gives its points.
TEST(GenericExtractor, AsideHoldingTheArticleAndListsOfLinks) {
  const std::vector<std::string> text = {kPara1, kPara2, kPara3, kPara4};
  const std::string paras = std::string("<p>") + kPara1 + "</p><p>" + kPara2 + "</p><p>" + kPara3 +
                            "</p><p>" + kPara4 + "</p>";
  auto extract = [](const std::string& body) {
    return GenericExtractor().extract(
        build_page_from_html("<html><body>" + body + "</body></html>", "https://x.example/a"));
  };
  auto column = extract(
      "<div class=wrap><aside class=left><ul><li><a href=/a>A</a></li></ul></aside><aside "
      "id=content><h1>Council approves transit plan</h1>" +
      paras + "</aside></div>");
  ASSERT_EQ(column.sections.size(), 1u);
  EXPECT_EQ(column.sections[0].paragraphs, text);

  auto links =
      extract("<main><article><h1>Council approves transit plan</h1><div class=story><p>" +
              std::string(kPara1) +
              "</p><h3>Highlights</h3><ul><li><a href=/v/1>Watch: all the goals from "
              "the derby</a></li><li><a href=/v/2>Watch: the mayor on the plan</a></li>"
              "</ul><p>" +
              kPara2 + "</p><p>" + kPara3 + "</p><p>" + kPara4 + "</p></div></article></main>");
  EXPECT_TRUE(links.key_points.empty());
  ASSERT_EQ(links.sections.size(), 1u);
  EXPECT_EQ(links.sections[0].heading, "");
  EXPECT_EQ(links.sections[0].paragraphs, text);

  auto bullets = extract(
      "<main><article><h1>Council approves transit plan</h1><aside><h3>Key "
      "points</h3><p>\xE2\x80\xA2 "
      "Three new bus lines.</p><p>\xE2\x80\xA2 A tram to the airport.</p></aside><div "
      "class=story-body>" +
      paras + "</div></article></main>");
  EXPECT_EQ(bullets.key_points,
            (std::vector<std::string>{"Three new bus lines.", "A tram to the airport."}));
}

}  // namespace
}  // namespace vellum::extract
