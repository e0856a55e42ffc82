#include <gtest/gtest.h>
#include <zlib.h>

#include <stdexcept>

#include "extract/Extraction.h"
#include "extract/PageBuilder.h"

namespace vellum::extract {
namespace {

std::string gzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

PageInput input(std::string body, std::string content_type = "text/html") {
  PageInput in;
  in.url = "https://news.example/a/1";
  if (!content_type.empty()) in.headers.emplace_back("Content-Type", std::move(content_type));
  in.body = std::move(body);
  return in;
}

std::string h1_of(const Page& p) {
  return p.document->xpath_first("//h1").text();
}

TEST(PageBuilder, Latin1FromHeader) {
  auto p = build_page(input("<html><body><h1>Caf\xE9 cr\xE8me</h1></body></html>",
                            "text/html; charset=ISO-8859-1"));
  EXPECT_EQ(h1_of(p), "Caf\xC3\xA9 cr\xC3\xA8me");
}

// References to 128..159 name windows-1252's characters, as in browsers; the empty positions
// of that charset, other references and text are left as they are.
TEST(PageBuilder, NumericReferencesInTheC1RangeAreWindows1252) {
  auto p = build_page(
      input("<html><body><h1 title='&#147;t&#148;'>it&#146;s &#x93;q&#X94; &#150; &#0133; &#128;5 "
            "&#129;|&#146 &#8217; &#1460;</h1></body></html>"));
  EXPECT_EQ(h1_of(p), "it\u2019s \u201Cq\u201D \u2013 \u2026 \u20AC5 \u0081|\u2019 \u2019 \u05B4");
  EXPECT_EQ(p.document->xpath_first("//h1").attr("title"), "\u201Ct\u201D");
}

// A reference to 0, to a surrogate or past U+10FFFF names U+FFFD, as in browsers; libxml2 ends
// the attribute or the text there (a title cut short at "&#0;").
TEST(PageBuilder, ReferencesToNoCharacterAreTheReplacementCharacter) {
  auto p = build_page(
      input("<html><head><meta property='og:title' content='Alpha &#0; Beta &#xD800; Gamma'></head>"
            "<body><h1 title='a&#x110000;b&#99999999999999999999;c'>Alpha &#00; Beta &#55296; "
            "Gamma &#x0000000041; end</h1></body></html>"));
  EXPECT_EQ(h1_of(p), "Alpha \uFFFD Beta \uFFFD Gamma A end");
  EXPECT_EQ(p.document->xpath_first("//h1").attr("title"), "a\uFFFDb\uFFFDc");
  EXPECT_EQ(p.meta_value("og:title"), "Alpha \uFFFD Beta \uFFFD Gamma");
}

// Named references as browsers read them: HTML's names beyond HTML 4's, and the older names
// without their semicolon, except before a letter, digit or '=' (where an attribute keeps them,
// "?a=1&copy=2"); what libxml2 reads already, and what names nothing, stay as they are.
TEST(PageBuilder, NamedReferencesAreReadAsBrowsersReadThem) {
  auto p = build_page(input(
      "<html><head><meta name='description' content='&check; &copy 2024 a=1&copy=2&copyx &QUOT;'>"
      "</head><body><h1 title='&QUOT;q&QUOT; &lt &amp;lt;'>&check; &copy 2024 &amp x &Amp; "
      "&fjlig; &NotEqualTilde; &bogus; &amp;check; AT&T &lt;b&gt; &eacute;</h1></body></html>"));
  EXPECT_EQ(h1_of(p),
            "\u2713 \u00A9 2024 & x &Amp; fj \u2242\u0338 &bogus; &check; AT&T <b> \u00E9");
  EXPECT_EQ(p.document->xpath_first("//h1").attr("title"), "\"q\" < &lt;");
  EXPECT_EQ(p.meta_value("description"), "\u2713 \u00A9 2024 a=1&copy=2&copyx \"");
}

// Charset labels read as browsers read them (WHATWG Encoding): the Korean, Japanese and Latin-1
// labels pages use, each by the decoder browsers use for it (CP949 for EUC-KR, CP932 for
// Shift_JIS), which know the characters the older standards lack.
TEST(PageBuilder, CharsetLabelsAreReadAsBrowsersReadThem) {
  const std::string korean = "\x8c\x63\xb9\xe6\xb0\xa2\xc7\xcf";  // 똠방각하 in CP949
  for (const char* label : {"ks_c_5601-1987", "euc-kr", "windows-949", "KS_C_5601-1987"}) {
    auto p = build_page(input("<html><body><h1>" + korean + "</h1></body></html>",
                              std::string("text/html; charset=") + label));
    EXPECT_EQ(h1_of(p), "\uB620\uBC29\uAC01\uD558") << label;
  }
  const std::string japanese = "\x87\x40\xee\xe0\x8b\xb4";  // ①髙橋 in CP932
  for (const char* label : {"shift_jis", "x-sjis", "ms_kanji", "windows-31j"}) {
    auto p = build_page(input("<html><head><meta charset=\"" + std::string(label) +
                              "\"></head><body><h1>" + japanese + "</h1></body></html>"));
    EXPECT_EQ(h1_of(p), "\u2460\u9AD9\u6A4B") << label;
  }
  // A <meta charset> after kilobytes of inline script in the head counts, as a browser that
  // meets it decodes the page again.
  auto late = build_page(input("<html><head><script>" + std::string(6000, ' ') +
                               "var a = 1;</script><meta charset=\"shift_jis\"></head><body><h1>" +
                               japanese + "</h1></body></html>"));
  EXPECT_EQ(h1_of(late), "\u2460\u9AD9\u6A4B");
  for (const char* label : {"ISO_8859-1", "iso88591", "csisolatin1", "cp819"}) {
    auto p = build_page(input("<html><body><h1>caf\xE9 \x93q\x94</h1></body></html>",
                              std::string("text/html; charset=") + label));
    EXPECT_EQ(h1_of(p), "caf\u00E9 \u201Cq\u201D") << label;
  }
}

// A page with no <body> tag whose text starts in an HTML5 element libxml2 does not know is read
// as a browser reads it: the body opens at the first element a head cannot hold. A page with a
// <body> tag, and head elements before the text, are left as they are.
TEST(PageBuilder, TheBodyOpensAtTheFirstElementAHeadCannotHold) {
  for (const std::string tag : {"article", "main", "section", "header", "figure"}) {
    auto p = build_page(
        input("<!doctype html><html lang=en><meta charset=utf-8><title>T</title><!-- <x> -->"
              "<script>var s = '<article>';</script><link rel=icon href=/i><" +
              tag + "><h1>Minister quits</h1><p>Text</p></" + tag + ">"));
    ASSERT_TRUE(p.document) << tag;
    EXPECT_EQ(p.document->xpath("//body//h1").size(), 1u) << tag;
    EXPECT_EQ(p.document->xpath("//head//h1").size(), 0u) << tag;
    EXPECT_EQ(p.document->xpath_first("//head/title").text(), "T") << tag;
    EXPECT_EQ(p.document->xpath("//head/link").size(), 1u) << tag;
  }
  // A '<' inside a quoted attribute value starts no element.
  auto quoted = build_page(input(
      "<html><head><meta property='og:title' content=\"Why x<y matters\"><title a='<b'>T</title>"
      "</head><article><p>Text</p></article></html>"));
  EXPECT_EQ(quoted.meta_value("og:title"), "Why x<y matters");
  EXPECT_EQ(quoted.document->xpath("//body//p").size(), 1u);
  auto p = build_page(input("<html><head></head><BODY class=x><main><p>a</p></main></BODY>"));
  EXPECT_EQ(p.document->xpath("//body").size(), 1u);
  EXPECT_EQ(p.document->xpath_first("//body").attr("class"), "x");
}

// The text of <script> and <style> is raw: no reference in it is read (a JSON-LD URL keeps its
// "&copy"), while the same text in the page is read as a browser reads it.
TEST(PageBuilder, ReferencesInScriptsAndStylesAreLeftAsWritten) {
  auto p = build_page(input(
      "<html><head><script type='application/ld+json'>{\"url\":\"https://e.example/a?x=1&copy\","
      "\"image\":\"https://e.example/i.jpg?w=1&para&#0;\"}</"
      "script><STYLE>p:after{content:'&check;'}"
      "</STYLE><script src=a.js></script></head><body><h1>&copy 2024 &check;</h1>"
      "<script>var t = 'a&copy b';</script><p>after &para x</p></body></html>"));
  ASSERT_EQ(p.json_ld.size(), 1u);
  EXPECT_EQ(p.json_ld[0]["url"], "https://e.example/a?x=1&copy");
  EXPECT_EQ(p.json_ld[0]["image"], "https://e.example/i.jpg?w=1&para&#0;");
  EXPECT_EQ(h1_of(p), "\u00A9 2024 \u2713");
  EXPECT_EQ(p.document->xpath_first("//p").text(), "after \u00B6 x");
  EXPECT_NE(p.document->xpath_first("//body/script").raw_text().find("a&copy b"),
            std::string::npos);
}

TEST(PageBuilder, HeaderCharsetWinsOverMeta) {
  auto p =
      build_page(input("<html><head><meta charset=\"utf-8\"></head><body><h1>\xE9t\xE9</h1>"
                       "</body></html>",
                       "text/html;charset=windows-1252"));
  EXPECT_EQ(h1_of(p), "\xC3\xA9t\xC3\xA9");
}

TEST(PageBuilder, Utf8Bom) {
  auto p = build_page(input("\xEF\xBB\xBF<html><body><h1>na\xC3\xAFve</h1></body></html>", ""));
  EXPECT_EQ(h1_of(p), "na\xC3\xAFve");
  EXPECT_NE(p.html.substr(0, 3), "\xEF\xBB\xBF");
}

TEST(PageBuilder, Utf16LeBom) {
  std::string ascii = "<html><body><h1>Hi \xE9</h1></body></html>";
  std::string body = "\xFF\xFE";
  for (char c : ascii) {
    body += c;
    body += '\0';
  }
  auto p = build_page(input(body));
  EXPECT_EQ(h1_of(p), "Hi \xC3\xA9");
}

std::string utf16le(const std::string& ascii) {
  std::string out;
  for (char c : ascii) {
    out += c;
    out += '\0';
  }
  return out;
}

// As in browsers, a byte order mark decides over a label that says otherwise.
TEST(PageBuilder, ByteOrderMarkWinsOverTheHeader) {
  auto p = build_page(input("\xEF\xBB\xBF<html><body><h1>Caf\xC3\xA9</h1></body></html>",
                            "text/html; charset=windows-1252"));
  EXPECT_EQ(h1_of(p), "Caf\xC3\xA9");
}

// UTF-16 named by the HTTP header is believed without a BOM (a meta tag naming it cannot be,
// as the page could not have been read as ASCII to find it).
TEST(PageBuilder, Utf16FromTheHeaderWithoutBom) {
  auto p = build_page(
      input(utf16le("<html><body><h1>Hello</h1></body></html>"), "text/html; charset=utf-16le"));
  EXPECT_EQ(h1_of(p), "Hello");
}

// UTF-16 with neither a byte order mark nor a label is told by its zero bytes, in either byte
// order; a page of Latin-1 or UTF-8 text never is.
TEST(PageBuilder, UndeclaredUtf16IsToldByItsZeroBytes) {
  const std::string html = "<html><body><h1>Hello \xE9t\xE9</h1></body></html>";
  auto le = build_page(input(utf16le(html), "text/html"));
  EXPECT_EQ(h1_of(le), "Hello \xC3\xA9t\xC3\xA9");
  std::string be;
  for (char c : html) {
    be += '\0';
    be += c;
  }
  auto b = build_page(input(be, "text/html"));
  EXPECT_EQ(h1_of(b), "Hello \xC3\xA9t\xC3\xA9");
  auto latin = build_page(input("<html><body><h1>Caf\xE9 cr\xE8me</h1></body></html>", ""));
  EXPECT_EQ(h1_of(latin), "Caf\xC3\xA9 cr\xC3\xA8me");
  // Without a Content-Type (a saved file, a server that sends none) it is still HTML.
  EXPECT_EQ(skip_reason(input(utf16le(html), "")), "");
  EXPECT_EQ(skip_reason(input(be, "")), "");
  EXPECT_EQ(skip_reason(input("\xFF\xFE" + utf16le(html), "")), "");
  EXPECT_NE(skip_reason(input(utf16le("just some words, no markup at all"), "")), "");
}

// ISO-2022-JP with no label is told by its escapes into JIS X 0208; a page that only mentions
// an escape byte among UTF-8 text stays UTF-8.
TEST(PageBuilder, UndeclaredIso2022JpIsToldByItsEscapes) {
  // "日本" in JIS X 0208 between ESC $ B and ESC ( B.
  const std::string jis = "<html><body><h1>\x1B$BF|K\\\x1B(B news</h1></body></html>";
  EXPECT_EQ(h1_of(build_page(input(jis, "text/html"))), "\xE6\x97\xA5\xE6\x9C\xAC news");
  EXPECT_EQ(h1_of(build_page_from_html(jis, "https://x.example/")),
            "\xE6\x97\xA5\xE6\x9C\xAC news");
  EXPECT_EQ(skip_reason(input(jis, "")), "");
  // A label decides: declared UTF-8 keeps the bytes as they are (the escape is dropped as a
  // control character or kept, never read as JIS).
  EXPECT_EQ(h1_of(build_page(input(jis, "text/html; charset=utf-8"))).find("\xE6\x97\xA5"),
            std::string::npos);
  const std::string utf8 = "<html><body><h1>Caf\xC3\xA9 \x1B$B</h1></body></html>";
  EXPECT_EQ(h1_of(build_page(input(utf8, "text/html"))).substr(0, 5), "Caf\xC3\xA9");
}

// One bad code unit is one replacement character; the text after it reads as before.
TEST(PageBuilder, ALoneSurrogateInUtf16SpoilsOneCharacter) {
  std::string body = "\xFF\xFE" + utf16le("<html><body><h1>A") + std::string("\x00\xD8", 2) +
                     utf16le("B and the rest</h1></body></html>");
  auto p = build_page(input(body));
  EXPECT_EQ(h1_of(p),
            "A\xEF\xBF\xBD"
            "B and the rest");
}

TEST(PageBuilder, MetaCharsetAndHttpEquiv) {
  auto a = build_page_from_html(
      "<html><head><meta charset='iso-8859-1'></head><body><h1>Z\xFCrich</h1></body></html>",
      "https://x.example/");
  EXPECT_EQ(h1_of(a), "Z\xC3\xBCrich");
  auto b = build_page_from_html(
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=koi8-r\">"
      "</head><body><h1>\xF0\xD2\xC9\xD7\xC5\xD4</h1></body></html>",
      "https://x.example/");
  EXPECT_EQ(h1_of(b), "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");  // "Привет"
}

// Only a <meta charset> or a Content-Type http-equiv declares the page's encoding: "charset="
// in the text of another meta (a description), in a comment, or in <metadata> does not.
TEST(PageBuilder, OnlyTheMetaThatDeclaresTheCharsetCounts) {
  auto a = build_page_from_html(
      "<html><head><meta name=\"description\" content=\"never send charset=windows-1251\">"
      "<!-- <meta charset=koi8-r> --><metadata charset=koi8-r></metadata>"
      "<meta charset=\"utf-8\"></head><body><h1>\xC3\x9C"
      "ber Zeichens\xC3\xA4tze</h1></body></html>",
      "https://x.example/");
  EXPECT_EQ(h1_of(a),
            "\xC3\x9C"
            "ber Zeichens\xC3\xA4tze");
  // Attributes in any order and case, values unquoted.
  auto b = build_page_from_html(
      "<html><head><META CONTENT='text/html; charset=ISO-8859-1' HTTP-EQUIV=content-type>"
      "</head><body><h1>Z\xFCrich</h1></body></html>",
      "https://x.example/");
  EXPECT_EQ(h1_of(b), "Z\xC3\xBCrich");
  auto c = build_page_from_html(
      "<html><head><meta charset=iso-8859-1/></head><body><h1>Z\xFCrich</h1></body></html>",
      "https://x.example/");
  EXPECT_EQ(h1_of(c), "Z\xC3\xBCrich");
}

// An XHTML page names its encoding in its XML declaration; a meta tag or the header still
// decides over it.
TEST(PageBuilder, XmlDeclarationCharset) {
  const std::string xhtml =
      "<?xml version=\"1.0\" encoding='ISO-8859-1'?>\n<html "
      "xmlns=\"http://www.w3.org/1999/xhtml\"><body><h1>Z\xFCrich</h1></body></html>";
  EXPECT_EQ(h1_of(build_page_from_html(xhtml, "https://x.example/")), "Z\xC3\xBCrich");
  EXPECT_EQ(h1_of(build_page(input(xhtml, "application/xhtml+xml"))), "Z\xC3\xBCrich");
  // The header wins: the byte is not UTF-8, so it is replaced.
  EXPECT_EQ(h1_of(build_page(input(xhtml, "text/html; charset=utf-8"))), "Z\xEF\xBF\xBDrich");
  // A declaration without an encoding is UTF-8.
  EXPECT_EQ(h1_of(build_page_from_html("<?xml version=\"1.0\"?><html><body><h1>Z\xC3\xBCrich"
                                       "</h1></body></html>",
                                       "https://x.example/")),
            "Z\xC3\xBCrich");
}

// A page that declares no charset is UTF-8, unless its bytes plainly are not (no UTF-8
// sequence in it, and bytes that are none): then it is windows-1252, as browsers read it. One
// stray byte in a UTF-8 page leaves the page UTF-8.
TEST(PageBuilder, UndeclaredLegacyBytesAreWindows1252) {
  EXPECT_EQ(h1_of(build_page_from_html("<html><body><h1>Caf\xE9 \x93"
                                       "furious\x94</h1></body></html>",
                                       "https://x.example/")),
            "Caf\xC3\xA9 \xE2\x80\x9C"
            "furious\xE2\x80\x9D");
  EXPECT_EQ(h1_of(build_page(input("<html><body><h1>Caf\xE9</h1></body></html>", "text/html"))),
            "Caf\xC3\xA9");
  EXPECT_EQ(h1_of(build_page_from_html("<html><body><h1>Caf\xC3\xA9 \xFF</h1></body></html>",
                                       "https://x.example/")),
            "Caf\xC3\xA9 \xEF\xBF\xBD");
  // windows-1252 in which two bytes happen to form UTF-8 ("\xC2\xA9", Â©) is still read as
  // windows-1252 when its other bytes are not UTF-8.
  EXPECT_EQ(h1_of(build_page_from_html("<html><body><h1>\xC2\xA9 Caf\xE9 cr\xE8me \xE0 la "
                                       "f\xEAte</h1></body></html>",
                                       "https://x.example/")),
            "\xC3\x82\xC2\xA9 Caf\xC3\xA9 cr\xC3\xA8me \xC3\xA0 la f\xC3\xAAte");
  // Declared UTF-8 stays UTF-8.
  EXPECT_EQ(h1_of(build_page(
                input("<html><body><h1>Caf\xE9</h1></body></html>", "text/html; charset=utf-8"))),
            "Caf\xEF\xBF\xBD");
}

TEST(PageBuilder, InvalidUtf8IsReplaced) {
  auto p =
      build_page(input("<html><body><h1>a\xFF"
                       "b\xC3(c\xED\xA0\x80</h1></body></html>",
                       "text/html; charset=utf-8"));
  EXPECT_EQ(h1_of(p),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD(c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(to_utf8("ok\x80", "utf-8"), "ok\xEF\xBF\xBD");
  // A byte undefined in the declared charset does not stop the conversion.
  EXPECT_EQ(to_utf8("a\x81z", "windows-1252").back(), 'z');
  EXPECT_EQ(to_utf8("\x82\xA0z", "shift_jis"), "\xE3\x81\x82z");  // HIRAGANA A
  // Unknown charsets fall back to UTF-8 validation.
  EXPECT_EQ(to_utf8("x\xC3\xA9", "no-such-charset"), "x\xC3\xA9");
  // Long ASCII runs are checked eight bytes at a time: a bad byte or a NUL is found wherever it
  // falls in a word, and a valid sequence after it is kept.
  for (std::size_t at = 0; at < 20; ++at) {
    std::string in = std::string(at, 'a') + "\xFF" + std::string(19, 'b') + '\0' + "\xC3\xA9" +
                     std::string(at % 9, 'c');
    std::string want = std::string(at, 'a') + "\xEF\xBF\xBD" + std::string(19, 'b') +
                       "\xEF\xBF\xBD\xC3\xA9" + std::string(at % 9, 'c');
    EXPECT_EQ(to_utf8(in, "utf-8"), want) << at;
    EXPECT_EQ(to_utf8(std::string(at + 9, 'z'), "utf-8"), std::string(at + 9, 'z'));
  }
}

TEST(PageBuilder, GzipContentEncoding) {
  std::string html = "<html><body><h1>Compressed \xC3\xA9</h1></body></html>";
  auto in = input(gzip(html), "text/html; charset=utf-8");
  in.headers.emplace_back("Content-Encoding", "gzip");
  auto p = build_page(in);
  EXPECT_EQ(p.html, html);
  EXPECT_EQ(h1_of(p), "Compressed \xC3\xA9");
}

// A transfer coding other than chunked (in a record from a crawler that asked for one) is undone
// before the page is read, after chunked framing and before Content-Encoding.
TEST(PageBuilder, GzipTransferCodingIsUndoneToo) {
  std::string html = "<html><body><h1>Sent coded \xC3\xA9</h1></body></html>";
  auto in = input(gzip(html), "text/html; charset=utf-8");
  in.headers.emplace_back("Transfer-Encoding", "gzip, chunked");
  auto p = build_page(in);
  EXPECT_EQ(p.html, html);
  EXPECT_EQ(h1_of(p), "Sent coded \xC3\xA9");
}

TEST(PageBuilder, CorruptContentEncodingThrows) {
  auto in = input("definitely not gzip");
  in.headers.emplace_back("Content-Encoding", "gzip");
  EXPECT_THROW(build_page(in), std::runtime_error);
  in.headers.back().second = "x-unknown-coding";
  EXPECT_THROW(build_page(in), std::runtime_error);
}

TEST(PageBuilder, CollectsJsonLdFlatteningGraphs) {
  std::string html = R"(<html><head>
<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
  {"@type":"WebSite","name":"Example"},
  {"@type":"NewsArticle","headline":"Graph headline"}]}</script>
<script type="application/ld+json">[{"@type":"Person","name":"A"},{"@type":"Organization","name":"B"}]</script>
<script type="application/ld+json">{ this is : not json </script>
<script type="application/ld+json"><!-- {"@type":"BreadcrumbList"} --></script>
<script type="text/javascript">{"@type":"Ignored"}</script>
</head><body></body></html>)";
  auto p = build_page_from_html(html, "https://x.example/");
  ASSERT_EQ(p.json_ld.size(), 5u);
  EXPECT_EQ(p.json_ld[0]["@type"], "WebSite");
  EXPECT_EQ(p.json_ld[1]["headline"], "Graph headline");
  EXPECT_EQ(p.json_ld[2]["name"], "A");
  EXPECT_EQ(p.json_ld[3]["name"], "B");
  EXPECT_EQ(p.json_ld[4]["@type"], "BreadcrumbList");
}

// A surrogate escape that is not half of a pair does not cost the block: it reads as U+FFFD.
// Pairs, escaped backslashes and text outside strings are left alone.
TEST(PageBuilder, JsonLdWithALoneSurrogateIsKept) {
  std::string html = R"(<html><head>
<script type="application/ld+json">{"@type":"NewsArticle","headline":"Cut \ud83d here \udc00",
"alternativeHeadline":"\ud83d\ude00 and \\ud800 \"\ud800\"","x\uDBFF":1}</script>
</head><body></body></html>)";
  auto p = build_page_from_html(html, "https://x.example/");
  ASSERT_EQ(p.json_ld.size(), 1u);
  EXPECT_EQ(p.json_ld[0]["headline"], "Cut \uFFFD here \uFFFD");
  EXPECT_EQ(p.json_ld[0]["alternativeHeadline"], "\U0001F600 and \\ud800 \"\uFFFD\"");
  EXPECT_TRUE(p.json_ld[0].contains("x\uFFFD"));
}

// The slips pages make in JSON-LD do not cost the block: comments, a comma before a closing
// bracket, a ';' after it. What is in strings stays as it is.
TEST(PageBuilder, JsonLdWithCommonSlipsIsRead) {
  std::string html = R"(<html><head>
<script type="application/ld+json">/* seo */ {"@type":"NewsArticle", // the type
"headline":"A /* kept */ headline, // kept too","keywords":["a","b",],
"datePublished":"2024-03-15T10:00:00Z",};</script>
</head><body></body></html>)";
  auto p = build_page_from_html(html, "https://x.example/");
  ASSERT_EQ(p.json_ld.size(), 1u);
  EXPECT_EQ(p.json_ld[0]["headline"], "A /* kept */ headline, // kept too");
  EXPECT_EQ(p.json_ld[0]["keywords"], nlohmann::json::array({"a", "b"}));
  EXPECT_EQ(p.json_ld[0]["datePublished"], "2024-03-15T10:00:00Z");
  // Two objects one after the other in one script are two items.
  auto two = build_page_from_html(
      R"(<html><head><script type="application/ld+json">{"@type":"WebSite","name":"S"}
{"@type":"NewsArticle","headline":"H"};</script></head><body></body></html>)",
      "https://x.example/");
  ASSERT_EQ(two.json_ld.size(), 2u);
  EXPECT_EQ(two.json_ld[1]["headline"], "H");
}

TEST(PageBuilder, CollectsMetaTags) {
  std::string html = R"(<html><head>
<meta property="og:title" content="OG title">
<meta name="Description" content="  A page.  ">
<meta property="article:tag" content="one"><meta property="article:tag" content="two">
<meta itemprop="datePublished" content="2026-04-08">
<meta http-equiv="refresh" content="30">
</head><body></body></html>)";
  auto p = build_page_from_html(html, "https://x.example/");
  EXPECT_EQ(p.meta_value("og:title"), "OG title");
  EXPECT_EQ(p.meta_value("description"), "A page.");
  EXPECT_EQ(p.meta_values("article:tag"), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(p.meta_value("datepublished"), "2026-04-08");
  EXPECT_EQ(p.meta.count("refresh"), 0u);
  EXPECT_EQ(p.url, "https://x.example/");
}

TEST(PageBuilder, WithoutRawTextEmptiesScriptsAndStylesOnly) {
  // Script and style text goes; the elements, JSON-LD and everything else stay byte for byte.
  EXPECT_EQ(without_raw_text("<p>a</p><script src=x.js>var s = '<p>no</p>';</script><p>b</p>"),
            "<p>a</p><script src=x.js></script><p>b</p>");
  EXPECT_EQ(without_raw_text("<STYLE type=text/css>p { color: red }</Style>x"),
            "<STYLE type=text/css></Style>x");
  std::string ld = R"(<script type="application/ld+json">{"headline": "</p>"}</script>)";
  EXPECT_EQ(without_raw_text(ld), ld);
  // A comment, a quoted attribute value, a declaration or a longer tag name is not a script.
  for (std::string kept :
       {"<!-- <script> --><p>kept</p></script>",
        "<a title='<script>' href=\"x>y\">kept</a><p>too</p></script>", "<scripts>kept</scripts>",
        "<script/><p>kept</p>", "<p>1 < 2 and 3 <4</p>", "<!-- never closed <script>x",
        // where libxml2 would read on differently, the rest stays as it is
        "<script type=\"a\"}</script></head><body><p>x</p>",
        "<script></scr5357 a>b</script><p>c</p>", "<script>a</scriptx>b</script><style>c</style>",
        "<script>a\x01</p>b</script><style>c</style>",
        "<script type=application/ld+json><style>l</script>>",
        "<!DOCTYPE html <script>x</script>>y", "<?php <script>x</script> ?>b",
        "</div title=\"<script>\">a</script>b",
        // a tag that closes the element first: <noscript> a script, <body> a style
        "<script><noscript><img src=x></noscript>", "<script><NOSCRIPT.>x</script>y",
        "<style><BODY class=a>x</style>y"})
    EXPECT_EQ(without_raw_text(kept), kept);
  // The element ends where libxml2 ends it, at "</" and its name in any case.
  EXPECT_EQ(without_raw_text("<script>if (a</b) x = '</p>';</SCRIPT ><p>after</p>"),
            "<script></SCRIPT ><p>after</p>");
  // Unclosed: the rest of the page was script text.
  EXPECT_EQ(without_raw_text("<p>a</p><script>var x = 1;<p>b"), "<p>a</p><script>");
  EXPECT_EQ(without_raw_text("<p>a</p><script type='x"), "<p>a</p><script type='x");
  EXPECT_EQ(without_raw_text(""), "");
  EXPECT_EQ(without_raw_text("<"), "<");
}

TEST(PageBuilder, ArticleScopeParsesTheSameDocumentButScriptText) {
  PageInput in = input(R"(<html><head><title>T</title><style>h1{}</style>
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "H"}</script>
<meta property="og:title" content="O"></head><body><script>document.write("<h1>no</h1>")</script>
<h1>Yes</h1><p>Body <b>text</b>.</p></body></html>)");
  Page whole = build_page(in);
  Page lean = build_page_from_decoded(decode_page(in), DomScope::article);
  EXPECT_EQ(lean.html, whole.html);
  EXPECT_EQ(h1_of(lean), "Yes");
  EXPECT_EQ(lean.json_ld, whole.json_ld);
  EXPECT_EQ(lean.meta, whole.meta);
  EXPECT_EQ(lean.document->xpath_first("//body/p").text(), "Body text.");
  EXPECT_EQ(lean.document->xpath("//script").size(), whole.document->xpath("//script").size());
  EXPECT_EQ(lean.document->xpath_first("//body/script").text(), "");
  EXPECT_NE(whole.document->xpath_first("//body/script").text(), "");
}

TEST(PageBuilder, SkipReason) {
  EXPECT_EQ(skip_reason(input("<html></html>", "text/html; charset=utf-8")), "");
  EXPECT_EQ(skip_reason(input("<html></html>", "application/xhtml+xml")), "");
  EXPECT_EQ(skip_reason(input("%PDF-1.7", "application/pdf")), "not HTML: application/pdf");
  EXPECT_EQ(skip_reason(input("\x89PNG", "image/png")), "not HTML: image/png");
  EXPECT_EQ(skip_reason(input("{}", "Application/JSON; charset=utf-8")),
            "not HTML: application/json");
  EXPECT_EQ(skip_reason(input("<!DOCTYPE html><html><body>x</body></html>", "")), "");
  EXPECT_NE(skip_reason(input("just some bytes", "")), "");
}

TEST(PageBuilder, EmptyAndBinaryBodiesDoNotCrash) {
  auto a = build_page(input(""));
  EXPECT_TRUE(a.json_ld.empty());
  auto gz = input("");
  gz.headers.emplace_back("Content-Encoding", "gzip");
  EXPECT_TRUE(build_page(gz).html.empty());
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131) & 0xFF);
  auto b = build_page(input(junk));
  EXPECT_FALSE(b.html.empty());
}

}  // namespace
}  // namespace vellum::extract

namespace vellum::extract {
namespace {

// What is certainly not a page (by its first bytes, after the content coding is undone) is
// refused with what it is, whatever the Content-Type says: a PDF served as text/html would
// otherwise become an "article" of replacement characters in the search index.
TEST(PageBuilder, BinaryDataServedAsHtmlIsRefusedWithWhatItIs) {
  const std::pair<std::string, std::string> cases[] = {
      {"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj", "PDF data"},
      {std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "a PNG image"},
      {"  {\"items\": [1, 2, 3]}", "JSON"},
      {"{\"html\": \"<div class=\\\"story\\\"><p>Rendered text</p></div>\", \"n\": 1}", "JSON"},
      {"[{\"teaser\": \"<p>One</p>\"}, {\"teaser\": \"<p>Two</p>\"}]", "JSON"},
      {"{\"ok\":true,\"page\":\"<!DOCTYPE html><html><body><p>Para one</p></body></html>\"}",
       "JSON"},
      {"\xEF\xBB\xBF{\"items\": [1, 2]}", "JSON"}};
  for (const auto& [body, kind] : cases) {
    try {
      build_page(input(body, "text/html; charset=utf-8"));
      ADD_FAILURE() << kind << ": built a page";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("not HTML: found " + kind + " served as 'text/html"),
                std::string::npos)
          << e.what();
    }
  }
  auto gz = input(gzip("%PDF-1.4 gzipped"));
  gz.headers.emplace_back("Content-Encoding", "gzip");
  EXPECT_THROW(build_page(gz), std::runtime_error);
  // A page that starts with a bracket but has markup is a page.
  EXPECT_NO_THROW(build_page(input("[Draft] <html><body><p>x</p></body></html>")));
}

// A page with more markup than any news page (over a million '<') is not parsed, where
// libxml2 would need hundreds of megabytes for it: the capture is kept and gets no article,
// with the reason. Markup up to the bound is parsed.
TEST(PageBuilder, MarkupBeyondTheBoundIsNotParsed) {
  std::string at_bound = "<html><body><p>";                  // 3 '<'
  for (int i = 0; i < 499'997; ++i) at_bound += "<b>x</b>";  // 999,994
  const std::string end = "</p></body></html>";              // 3
  EXPECT_NO_THROW(build_page(input(at_bound + end, "text/html")));
  const std::string over = at_bound + "<i>" + end;  // 1,000,001
  try {
    build_page(input(over, "text/html"));
    ADD_FAILURE() << "built a page";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "too much markup to extract: found 1000001 '<' characters, expected at most "
              "1000000");
  }
  EXPECT_THROW(build_page_from_html(over, "https://x.example/"), std::runtime_error);
  auto r = run_extraction(input(over, "text/html"), nullptr);
  EXPECT_FALSE(r.article);
  EXPECT_EQ(r.skipped.rfind("too much markup to extract: found 1000001", 0), 0u) << r.skipped;
}

// A compressed body cut short (the capture stopped at its size cap, marked truncated) gives
// the page that arrived, not "cannot decode".
TEST(PageBuilder, CompressedBodyCutShortGivesThePageThatArrived) {
  std::string html = "<html><head><title>Cut short</title></head><body>";
  std::uint32_t x = 7;
  for (int i = 0; i < 3000; ++i) {
    x = x * 1664525u + 1013904223u;
    html += "<p>Paragraph " + std::to_string(i) + " holds " + std::to_string(x) + ".</p>";
  }
  html += "</body></html>";
  const std::string gz = gzip(html);
  auto in = input(gz.substr(0, gz.size() / 2), "text/html; charset=utf-8");
  in.headers.emplace_back("Content-Encoding", "gzip");
  EXPECT_EQ(skip_reason(in), "");
  Page p = build_page(in);
  EXPECT_EQ(html.rfind(p.html, 0), 0u);
  EXPECT_GT(p.html.size(), html.size() / 4);
  ASSERT_TRUE(p.document);
  EXPECT_EQ(p.document->xpath_first("//title").text(), "Cut short");
}

// JSON-LD with raw line breaks or tabs inside its strings, common in the wild, is read.
TEST(PageBuilder, JsonLdWithRawLineBreaksInStringsIsRead) {
  auto p = build_page(
      input("<html><head><script type=\"application/ld+json\">{\"@type\": \"NewsArticle\",\n"
            "\"headline\": \"Two\nlines\tand a tab\"}</script></head><body></body></html>"));
  ASSERT_EQ(p.json_ld.size(), 1u);
  EXPECT_EQ(p.json_ld[0]["headline"], "Two lines and a tab");
}

// Markup nested deeper than libxml2's XML limit (256 levels; unclosed <div>s do it) is parsed
// to its end instead of being dropped from there on.
TEST(PageBuilder, DeeplyNestedMarkupIsReadToTheEnd) {
  std::string html = "<html><body>";
  for (int i = 0; i < 400; ++i) html += "<div><p>Paragraph " + std::to_string(i) + "</p>";
  html += "</body></html>";
  auto p = build_page(input(html));
  EXPECT_EQ(p.document->xpath("//p").size(), 400u);
}

}  // namespace
}  // namespace vellum::extract
