#include <gtest/gtest.h>

#include <set>

#include "util/Idna.h"
#include "util/Json.h"
#include "util/Text.h"
#include "util/Time.h"
#include "util/Url.h"
#include "util/Uuid.h"

using namespace vellum::util;

TEST(Surt, CanonicalisesHostPortQueryAndFragment) {
  EXPECT_EQ(surt("https://www.Example.com:443/a/B?z=1&a=2#frag"), "com,example)/a/b?a=2&z=1");
  EXPECT_EQ(surt("http://example.com"), "com,example)/");
  EXPECT_EQ(surt("http://news.example.co.uk:8080/x"), "uk,co,example,news:8080)/x");
  // The page's key keeps the case of path and query; the rest is set aside as in surt.
  EXPECT_EQ(page_key("https://www.Example.com:443/a/B?z=1&a=2#frag"), "com,example)/a/B?a=2&z=1");
  EXPECT_EQ(page_key("http://example.com/a/B?z=1&a=2"),
            page_key("https://example.com/a/B?a=2&z=1"));
  EXPECT_NE(page_key("http://example.com/a.html"), page_key("http://example.com/A.html"));
  EXPECT_EQ(surt("http://example.com/a.html"), surt("http://example.com/A.html"));
  EXPECT_EQ(surt("http://EXAMPLE.com/"), surt("https://www.example.com/"));
  EXPECT_NE(surt("http://example.com/a"), surt("http://example.com/b"));
  EXPECT_EQ(surt("http://[::1]:8080/x"), "[::1]:8080)/x");
}

// The keys of IA's surt library (which pywb looks captures up by), from its own test cases.
TEST(Surt, CdxKeysAreTheOnesPywbLooksUp) {
  EXPECT_EQ(cdx_surt("http://www.archive.org/"), "org,archive)/");
  EXPECT_EQ(cdx_surt("http://archive.org/goo/"), "org,archive)/goo");
  EXPECT_EQ(cdx_surt("http://archive.org/goo/?"), "org,archive)/goo");
  EXPECT_EQ(cdx_surt("http://archive.org/goo/?b&a"), "org,archive)/goo?a&b");
  EXPECT_EQ(cdx_surt("http://archive.org/goo/?a=2&b&a=1"), "org,archive)/goo?a=1&a=2&b");
  EXPECT_EQ(cdx_surt("http://www34.archive.org/index.html?b=a&b=b&a=b"),
            "org,archive)/index.html?a=b&b=a&b=b");
  EXPECT_EQ(cdx_surt("https://www.archive.org:443/"), "org,archive)/");
  EXPECT_EQ(cdx_surt("http://www.archive.org:8080/a"), "org,archive:8080)/a");
  EXPECT_EQ(cdx_surt("http://www2foo.com/"), "com,www2foo)/");
  EXPECT_EQ(cdx_surt("http://example.com/foo?X=Y"), "com,example)/foo?x=y");
  EXPECT_EQ(cdx_surt("http://archive.org/index.php?PHPSESSID=0123456789abcdefghijklemopqrstuv&"
                     "action=profile;u=4221"),
            "org,archive)/index.php?action=profile;u=4221");
  EXPECT_EQ(
      cdx_surt("http://visit.webhosting.yahoo.com/visit.gif?&r=http%3A//web.archive.org/web/"
               "20090517140029/http%3A//anthonystewarthead.electric-chi.com/&b=Netscape%205.0%20%"
               "28Windows%3B%20en-US%29&s=1366x768&o=Win32&c=24&j=true&v=1.2"),
      "com,yahoo,webhosting,visit)/visit.gif?&b=netscape%205.0%20(windows;%20en-us)&c=24&j=true&"
      "o=win32&r=http://web.archive.org/web/20090517140029/http://"
      "anthonystewarthead.electric-chi.com/&s=1366x768&v=1.2");
  // A URL that is not one to fetch keeps its text, but never a space or line break (the key
  // ends at the first space of a CDXJ line).
  EXPECT_EQ(cdx_surt("dns:archive.org"), "dns:archive.org");
  EXPECT_EQ(cdx_surt("http://a b/x\ny"), "http://a%20b/x%0Ay");
  EXPECT_EQ(cdx_surt("urn:x:\xC3\xA9\t"), "urn:x:%C3%A9%09");
  // Escapes undone and redone; dot segments and doubled slashes resolved.
  EXPECT_EQ(cdx_surt("http://host/%25%32%35"), "host)/%25");
  EXPECT_EQ(cdx_surt("http://host/%%%25%32%35asd%%"), "host)/%25%25%25asd%25%25");
  EXPECT_EQ(cdx_surt("http://host.com/%7Ea%2521b"), "com,host)/~a!b");
  EXPECT_EQ(cdx_surt("http://www.google.com/blah/.."), "com,google)/");
  EXPECT_EQ(cdx_surt("http://host.com//twoslashes?more//slashes"),
            "com,host)/twoslashes?more//slashes");
  EXPECT_EQ(cdx_surt("http://127.0.0.1:8080/a/"), "1,0,0,127:8080)/a");
  // Session ids.
  const std::string id32 = "0123456789abcdefghijklemopqrstuv";
  EXPECT_EQ(cdx_surt("http://a.com/x?jsessionid=" + id32), "com,a)/x");
  EXPECT_EQ(cdx_surt("http://a.com/x?jsessionid=" + id32 + "0"),
            "com,a)/x?jsessionid=" + id32 + "0");
  EXPECT_EQ(cdx_surt("http://a.com/x?one=two&jsessionid=" + id32 + "&x=y"), "com,a)/x?one=two&x=y");
  EXPECT_EQ(cdx_surt("http://a.com/x?one=two&phpsessid=" + id32), "com,a)/x?&one=two");
  EXPECT_EQ(cdx_surt("http://a.com/x?aspsessionidABCDEFGH=ABCDEFGHIJKLMNOPQRSTUVWX&x=y"),
            "com,a)/x?x=y");
  EXPECT_EQ(cdx_surt("http://a.com/x?sid=9682993c8daa2c5497996114facdc805&jsessionid=" + id32),
            "com,a)/x");
  EXPECT_EQ(cdx_surt("http://a.com/x?CFID=4308017&CFTOKEN=63914124&requestID=2006%2E39"),
            "com,a)/x?requestid=2006.39");
  EXPECT_EQ(cdx_surt("http://a.com/(S(4hqa0555fwsecu455xqckv45))/mileg.aspx"), "com,a)/mileg.aspx");
  EXPECT_EQ(cdx_surt("http://a.com/(4hqa0555fwsecu455xqckv45)/mileg.aspx"), "com,a)/mileg.aspx");
  EXPECT_EQ(cdx_surt("http://a.com/(a(4hqa0555fwsecu455xqckv45)S(4hqa0555fwsecu455xqckv45)f("
                     "4hqa0555fwsecu455xqckv45))/mileg.aspx?page=sessionschedules"),
            "com,a)/mileg.aspx?page=sessionschedules");
  // Both kinds, one after the other.
  EXPECT_EQ(cdx_surt("http://a.com/(S(4hqa0555fwsecu455xqckv45))/(4hqa0555fwsecu455xqckv45)/"
                     "mileg.aspx"),
            "com,a)/mileg.aspx");
  // An IPv6 address without its brackets, as urlsplit().hostname gives it.
  EXPECT_EQ(cdx_surt("http://[2001:db8::1]:8080/x"), "2001:db8::1:8080)/x");
  EXPECT_EQ(cdx_surt("http://a.com/photos/36050182@N05/"), "com,a)/photos/36050182@n05");
  // Not an http(s) URL: as it is.
  EXPECT_EQ(cdx_surt("dns:archive.org"), "dns:archive.org");
}

TEST(Url, ParsesAndRejects) {
  auto u = parse_url("HTTP://User@Host.Example:81/p?q#f");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "host.example");
  EXPECT_EQ(u->port, 81);
  EXPECT_EQ(u->path, "/p");
  EXPECT_EQ(u->query, "q");
  EXPECT_FALSE(parse_url("ftp://example.com/"));
  EXPECT_FALSE(parse_url("example.com/page"));
  EXPECT_FALSE(parse_url("http:///nohost"));
  EXPECT_FALSE(parse_url("http://host:99999/"));
  EXPECT_EQ(source_domain("WWW.TheNextWeb.com"), "thenextweb.com");
}

namespace {

// The URL as parse_request_url gives it, "(refused)" when it refuses the text.
std::string request_text(std::string_view text) {
  auto u = parse_request_url(text);
  return u ? u->str() : std::string("(refused)");
}

}  // namespace

// A host that ends in a number is an IPv4 address in whatever form it was typed, as browsers
// and libcurl read it: the URL recorded names the address the request went to.
TEST(Url, IPv4HostsInAnyFormAreWrittenInDottedDecimal) {
  EXPECT_EQ(request_text("http://127.1/a"), "http://127.0.0.1/a");
  EXPECT_EQ(request_text("http://0x7f.1:8080/"), "http://127.0.0.1:8080/");
  EXPECT_EQ(request_text("http://0X7F.0.0.01/"), "http://127.0.0.1/");
  EXPECT_EQ(request_text("http://0177.0.0.1/"), "http://127.0.0.1/");
  EXPECT_EQ(request_text("http://2130706433/"), "http://127.0.0.1/");
  EXPECT_EQ(request_text("http://127.0.0.1./"), "http://127.0.0.1/");
  EXPECT_EQ(request_text("http://0x/"), "http://0.0.0.0/");
  EXPECT_EQ(request_text("http://192.168.0x1.0377/"), "http://192.168.1.255/");
  // Names that merely hold digits are names.
  EXPECT_EQ(request_text("http://1.example/"), "http://1.example/");
  EXPECT_EQ(request_text("http://example.0a/"), "http://example.0a/");
  EXPECT_EQ(request_text("http://a.0xfffffffffz/"), "http://a.0xfffffffffz/");
  EXPECT_EQ(request_text("http://0xfffffffffz/"), "http://0xfffffffffz/");
  // Ends in a number, yet no address: refused with the reason.
  for (const char* bad :
       {"http://256.0.0.1/", "http://1.2.3.4.5/", "http://1.2.3.256/", "http://09.1/",
        "http://example.123/", "http://4294967296/", "http://0x100000000/"}) {
    std::string why;
    EXPECT_FALSE(parse_request_url(bad, &why)) << bad;
    EXPECT_NE(why.find("ends in a number but is not an IPv4 address"), std::string::npos)
        << bad << ": " << why;
  }
}

// The URL requested and recorded is the one a browser would send for what was typed.
TEST(Url, RequestUrlIsWhatABrowserSends) {
  EXPECT_EQ(request_text("HTTP://Example.COM:80/a/./b/../c?x=1#f"), "http://example.com/a/c?x=1");
  EXPECT_EQ(request_text("http://example.com/../../x"), "http://example.com/x");
  EXPECT_EQ(request_text("http://example.com/a/.."), "http://example.com/");
  EXPECT_EQ(request_text("http://example.com"), "http://example.com/");
  EXPECT_EQ(request_text("http://example.com/b/c d"), "http://example.com/b/c%20d");
  EXPECT_EQ(request_text("http://example.com/\xc3\xa9t\xc3\xa9?q=\xc3\xbc&r=<a>"),
            "http://example.com/%C3%A9t%C3%A9?q=%C3%BC&r=%3Ca%3E");
  EXPECT_EQ(request_text("http://example.com/already%20encoded%2F?a=%41"),
            "http://example.com/already%20encoded%2F?a=%41");
  EXPECT_EQ(request_text("http://exa\tmple.com/pa\r\nth"), "http://example.com/path");
  EXPECT_EQ(request_text("https://example.com:8443/x?"), "https://example.com:8443/x?");
  EXPECT_EQ(request_text("http:///nohost"), "(refused)");
  // Reading it again changes nothing, and a lookup by the typed URL finds what was requested.
  const std::string once = request_text("http://example.com/a/../b c");
  EXPECT_EQ(request_text(once), once);
  EXPECT_EQ(surt("http://example.com/a/../b c"), surt(once));
  EXPECT_EQ(surt("http://example.com/\xc3\xa9"), surt("http://example.com/%C3%A9"));
}

// A host that is not ASCII is requested, recorded and looked up in the form libcurl sends and DNS
// knows (IDNA2008, UTS #46 mapping), so that a capture of "Bücher.example" names one host.
TEST(Url, InternationalHostsAreRequestedInTheirAsciiForm) {
  EXPECT_EQ(request_text("http://B\xc3\xbc"
                         "cher.example/x"),
            "http://xn--bcher-kva.example/x");
  EXPECT_EQ(
      request_text("https://\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88:8443/"),
      "https://xn--r8jz45g.xn--zckzah:8443/");
  EXPECT_EQ(request_text("http://XN--BCHER-KVA.example/"), "http://xn--bcher-kva.example/");
  // Non-transitional processing, as libcurl does it: "ß" stays a letter of its own.
  EXPECT_EQ(request_text("http://fa\xc3\x9f.example/"), "http://xn--fa-hia.example/");
  EXPECT_EQ(surt("http://www.b\xc3\xbc"
                 "cher.example/A"),
            surt("http://xn--bcher-kva.example/A"));
  EXPECT_EQ(surt("http://b\xc3\xbc"
                 "cher.example/"),
            "example,xn--bcher-kva)/");

  // A full stop of another script ends the name as "." does; a percent-encoded host is read as
  // the bytes it encodes.
  EXPECT_EQ(request_text("http://b\xc3\xbc"
                         "cher.example\xe3\x80\x82/x"),
            "http://xn--bcher-kva.example/x");
  EXPECT_EQ(request_text("http://b%C3%BCcher.example/"), "http://xn--bcher-kva.example/");
  EXPECT_EQ(request_text("http://Ex%41mple.com/"), "http://example.com/");

  // Not a host name: invalid UTF-8, or a character no host name may hold.
  for (const char* bad : {"http://b\xff"
                          "cher.example/",
                          "http://\xcc\x81"
                          "ab.example/"}) {
    std::string why;
    EXPECT_FALSE(parse_request_url(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  // A NUL, space or control character, or a '%' that starts no escape, is refused with the
  // reason, never cut short.
  for (const std::string& bad :
       {std::string("http://b\xc3\xbc\0.evil.example/x", 26), std::string("http://a\x01b.example/"),
        std::string("http://b%zz.example/"), std::string("http://b%C3%BC%00.example/")}) {
    std::string why;
    EXPECT_FALSE(parse_request_url(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  // A decoded host that would make another URL ("evil%40host" is "evil@host") is refused; an
  // IP literal keeps its zone as written.
  for (const char* other : {"http://evil%40127.0.0.1:8080/", "http://127.0.0.1%2Findex.html/",
                            "http://127.0.0.1%3A8080/", "http://a%5Cb.example/"}) {
    std::string why;
    EXPECT_FALSE(parse_request_url(other, &why)) << other;
    EXPECT_NE(why.find("which no host name may"), std::string::npos) << other << ": " << why;
  }
  EXPECT_EQ(request_text("http://[fe80::1%lo]:8080/a"), "http://[fe80::1%lo]:8080/a");
  EXPECT_EQ(request_text("http://[fe80::1%25lo]/"), "http://[fe80::1%25lo]/");
  EXPECT_EQ(request_text("http://[::1]/"), "http://[::1]/");
  std::string why;
  EXPECT_EQ(host_to_ascii("Example.COM.", &why), "example.com");
  EXPECT_TRUE(why.empty());
}

TEST(Url, ResolvesRelativeLocations) {
  EXPECT_EQ(resolve_url("http://a.example/x/y?q", "../z"), "http://a.example/z");
  EXPECT_EQ(resolve_url("http://a.example/x", "https://b.example/"), "https://b.example/");
  EXPECT_EQ(resolve_url("http://a.example/x", "/abs"), "http://a.example/abs");
  // The base's own scheme without "//" is relative to the base, as browsers read it; another
  // scheme, or "//", stands alone.
  EXPECT_EQ(resolve_url("http://a.example/x/y", "http:/page"), "http://a.example/page");
  EXPECT_EQ(resolve_url("http://a.example/x/y", "HTTP:page"), "http://a.example/x/page");
  EXPECT_EQ(resolve_url("http://a.example/x/y", "http://b.example/p"), "http://b.example/p");
  EXPECT_EQ(resolve_url("https://a.example/x/y", "http:/page"), "http://page/");
}

TEST(Time, WarcDateHasMicrosecondsAndRoundTrips) {
  TimePoint t = now();
  std::string s = warc_date(t);
  ASSERT_EQ(s.size(), 27u) << s;
  EXPECT_EQ(s[10], 'T');
  EXPECT_EQ(s.back(), 'Z');
  auto back = parse_warc_date(s);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, t);
  EXPECT_EQ(file_stamp(*parse_warc_date("2026-04-08T16:09:31.123456Z")), "20260408160931123");
  EXPECT_FALSE(parse_warc_date("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_warc_date("yesterday"));
  // An offset from UTC, as W3C-DTF allows, is taken off.
  EXPECT_EQ(warc_date(*parse_warc_date("2026-04-08T18:09:31+02:00")),
            warc_date(*parse_warc_date("2026-04-08T16:09:31Z")));
  EXPECT_EQ(warc_date(*parse_warc_date("2026-04-08T00:30:00-05:30")),
            warc_date(*parse_warc_date("2026-04-08T06:00:00Z")));
  for (const char* bad :
       {"2020", "2020-01", "garbageZ", "", "2026-04-08T18:09:31+2", "2026-04-08Z+",
        "2O24-01-02T03:04:05Z", "20x4-01-02T03:04:05Z"})  // a letter in the year
    EXPECT_FALSE(parse_warc_date(bad)) << bad;
}

TEST(Time, ReferenceTimesMeanTheEndOfThePeriodNamed) {
  EXPECT_EQ(warc_date(*parse_ref_time("2026")), "2026-12-31T23:59:59.999999Z");
  EXPECT_EQ(warc_date(*parse_ref_time("202602")), "2026-02-28T23:59:59.999999Z");
  EXPECT_EQ(warc_date(*parse_ref_time("20260408160931")), "2026-04-08T16:09:31.999999Z");
  // The ISO form names its second, minute or day as the digit form does, so a time copied
  // from `vellum list` finds the capture listed; with a fraction it is that exact moment.
  EXPECT_EQ(warc_date(*parse_ref_time("2026-04-08T16:09:31Z")), "2026-04-08T16:09:31.999999Z");
  EXPECT_EQ(warc_date(*parse_ref_time("2026-04-08T16:09Z")), "2026-04-08T16:09:59.999999Z");
  EXPECT_EQ(warc_date(*parse_ref_time("2026-04-08")), "2026-04-08T23:59:59.999999Z");
  // An offset's colon is no part of the time: a minute with an offset is still a minute.
  EXPECT_EQ(warc_date(*parse_ref_time("2026-04-08T16:09+02:00")), "2026-04-08T14:09:59.999999Z");
  EXPECT_EQ(warc_date(*parse_ref_time("2026-04-08T16:09:31-05:30")), "2026-04-08T21:39:31.999999Z");
  EXPECT_EQ(warc_date(*parse_ref_time("2026-04-08T16:09:31.25Z")), "2026-04-08T16:09:31.250000Z");
  EXPECT_FALSE(parse_ref_time("123"));
  EXPECT_FALSE(parse_ref_time("20261301"));
  // Only whole fields: an odd number of digits is half a field, not a time.
  for (const char* half : {"20261", "1999010", "202611270", "19990101000", "2026040816093",
                           "202604081609311", "2026040816093112"})
    EXPECT_FALSE(parse_ref_time(half)) << half;
}

TEST(Time, StartReferenceTimesMeanTheStartOfThePeriodNamed) {
  EXPECT_EQ(warc_date(*parse_ref_time_start("2026")), "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(warc_date(*parse_ref_time_start("202602")), "2026-02-01T00:00:00.000000Z");
  EXPECT_EQ(warc_date(*parse_ref_time_start("20260408160931123")), "2026-04-08T16:09:31.123000Z");
  EXPECT_EQ(warc_date(*parse_ref_time_start("2026-04-08T16:09:31Z")),
            "2026-04-08T16:09:31.000000Z");
  EXPECT_FALSE(parse_ref_time_start("20260230"));
  EXPECT_FALSE(parse_ref_time_start("12"));
}

TEST(Uuid, RecordIdsAreUniqueVersion4Urns) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = new_record_id();
    ASSERT_TRUE(id.starts_with("<urn:uuid:")) << id;
    ASSERT_EQ(id.size(), 47u);
    EXPECT_EQ(id[24], '4');
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(Uuid, EveryRecordIdGivesACaptureIdThatIsAUuid) {
  EXPECT_EQ(capture_id_of("<urn:uuid:0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9>"),
            "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
  EXPECT_EQ(capture_id_of("<URN:UUID:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9>"),
            "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
  // Other record IDs: the version 5 UUID of the URI in the URL namespace, as Python's
  // uuid.uuid5(uuid.NAMESPACE_URL, uri) gives it.
  EXPECT_EQ(capture_id_of("<http://example.com/rec/1>"), "84671b94-41c0-5f9f-9a98-361e3fef2695");
  EXPECT_EQ(capture_id_of("<urn:uuid:../../../../../pwned>"),
            "4197468a-6f42-58cc-981f-c53bdb1004dd");
  EXPECT_EQ(capture_id_of("<urn:uuid:12345678-1234-1234-1234-12345678zzzz>"),
            "610c0a77-b7da-551e-b5d0-26c710b79a1a");
  for (const char* id : {"<urn:uuid:abc>", "<>", "", "<urn:uuid:/tmp/x>", "no brackets"})
    EXPECT_TRUE(is_capture_id(capture_id_of(id))) << id;
  EXPECT_NE(capture_id_of("<urn:x:1>"), capture_id_of("<urn:x:2>"));

  EXPECT_TRUE(is_capture_id("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"));
  EXPECT_FALSE(is_capture_id("0F1E2D3C-4b5a-4978-8695-a4b3c2d1e0f9"));
  EXPECT_FALSE(is_capture_id("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f"));
  EXPECT_FALSE(is_capture_id("../../0f1e2d3c-4b5a-4978-8695-a4b3c2d1"));

  // What a person may paste: the record ID as `show` prints it, the URN, upper case.
  const std::string id = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
  EXPECT_EQ(capture_id_from_user("<urn:uuid:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9>"), id);
  EXPECT_EQ(capture_id_from_user("urn:uuid:0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9"), id);
  EXPECT_EQ(capture_id_from_user("0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9"), id);
  EXPECT_EQ(capture_id_from_user("0f1e2d3c"), "0f1e2d3c") << "a prefix is kept as given";
}

TEST(Url, ResolvesLikeRfc3986) {
  const std::string base = "http://a.example/b/c/d;p?q";
  EXPECT_EQ(resolve_url(base, "g"), "http://a.example/b/c/g");
  EXPECT_EQ(resolve_url(base, "./g"), "http://a.example/b/c/g");
  EXPECT_EQ(resolve_url(base, "g/"), "http://a.example/b/c/g/");
  EXPECT_EQ(resolve_url(base, "//g.example/x"), "http://g.example/x");
  EXPECT_EQ(resolve_url(base, "?y"), "http://a.example/b/c/d;p?y");
  EXPECT_EQ(resolve_url(base, "g?y"), "http://a.example/b/c/g?y");
  EXPECT_EQ(resolve_url(base, "#s"), "http://a.example/b/c/d;p?q");
  EXPECT_EQ(resolve_url(base, ".."), "http://a.example/b/");
  EXPECT_EQ(resolve_url(base, "../.."), "http://a.example/");
  EXPECT_EQ(resolve_url(base, "../../../g"), "http://a.example/g");
  EXPECT_EQ(resolve_url(base, "/./g"), "http://a.example/g");
  EXPECT_EQ(resolve_url(base, "g/../h"), "http://a.example/b/c/h");
  EXPECT_EQ(resolve_url(base, "HTTPS://Other.Example:443/z"), "https://other.example/z");
  EXPECT_EQ(resolve_url(base, "mailto:x@y"), "");
}

TEST(Text, OneLineCollapsesEveryRunOfWhiteSpace) {
  EXPECT_EQ(one_line("  curl:\n  connection\r\n\treset \f\v by peer \n"),
            "curl: connection reset by peer");
  EXPECT_EQ(one_line(""), "");
  EXPECT_EQ(one_line(" \n\t "), "");
  EXPECT_EQ(one_line("caf\xc3\xa9\xc2\xa0"
                     "bar"),
            "caf\xc3\xa9\xc2\xa0"
            "bar");  // only ASCII space
}

TEST(Json, NestingIsBoundedAndCountedOutsideStrings) {
  using vellum::util::json_depth;
  using vellum::util::parse_json;
  EXPECT_EQ(json_depth("1"), 0u);
  EXPECT_EQ(json_depth(R"({"a":[1,{"b":2}]})"), 3u);
  // Brackets inside strings, escaped quotes included, do not count.
  EXPECT_EQ(json_depth(R"({"a":"[[[{\"[[["})"), 1u);
  EXPECT_EQ(json_depth(std::string(1000, '['), 10), 11u);
  EXPECT_EQ(parse_json(R"({"a":[1,2]})")["a"][1], 2);
  EXPECT_TRUE(parse_json(std::string(65, '[') + std::string(65, ']')).is_discarded());
  EXPECT_FALSE(parse_json(std::string(64, '[') + std::string(64, ']')).is_discarded());
  EXPECT_TRUE(parse_json("{not json").is_discarded());
}

TEST(Text, TerminalSafeEscapesControlCharactersOnly) {
  EXPECT_EQ(terminal_safe("http://x/a\x1b[2Jb\x07"), "http://x/a%1B[2Jb%07");
  EXPECT_EQ(terminal_safe("caf\xC3\xA9 \xE2\x80\x94 \xC2\x9B"
                          "1m"),
            "caf\xC3\xA9 \xE2\x80\x94 %C2%9B1m");
  EXPECT_EQ(terminal_safe("plain text"), "plain text");
}
