// Writes the seed corpora for the fuzz targets into DIR/<target>/: small but real inputs that
// reach the interesting paths at once. scripts/fuzz.sh adds pages from the shared news corpus
// and the shipped configuration files.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "warc/Compression.h"
#include "warc/WarcRecord.h"
#include "warc/WarcWriter.h"

namespace fs = std::filesystem;
using vellum::warc::Compression;
using vellum::warc::WarcRecord;

namespace {

void write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
}

std::string gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

WarcRecord record(const std::string& type, const std::string& id,
                  std::vector<std::pair<std::string, std::string>> extra, std::string block) {
  WarcRecord r;
  r.fields = {{"WARC-Type", type},
              {"WARC-Record-ID", "<urn:uuid:" + id + ">"},
              {"WARC-Date", "2026-04-08T16:09:31.123456Z"}};
  for (auto& f : extra) r.fields.push_back(std::move(f));
  r.block = std::move(block);
  return r;
}

std::vector<WarcRecord> sample_records() {
  std::string html =
      "<html><head><title>Seed</title><meta property=\"og:title\" content=\"Seed\"></head>"
      "<body><article><h1>Seed</h1><p>First paragraph of the seed page.</p></article></body>"
      "</html>";
  std::string gz = gzip(html);
  std::string url = "https://example.com/news/seed";
  std::vector<WarcRecord> v;
  v.push_back(record("warcinfo", "00000000-0000-4000-8000-000000000001",
                     {{"Content-Type", "application/warc-fields"}},
                     "software: vellum\r\nformat: WARC File Format 1.1\r\n"));
  v.push_back(record("request", "00000000-0000-4000-8000-000000000002",
                     {{"WARC-Target-URI", url},
                      {"WARC-Concurrent-To", "<urn:uuid:00000000-0000-4000-8000-000000000003>"},
                      {"Content-Type", "application/http;msgtype=request"}},
                     "GET /news/seed HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  v.push_back(record(
      "response", "00000000-0000-4000-8000-000000000003",
      {{"WARC-Target-URI", url},
       {"WARC-IP-Address", "127.0.0.1"},
       {"Content-Type", "application/http;msgtype=response"}},
      "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
      "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" +
          [&] {
            char size[16];
            std::snprintf(size, sizeof size, "%zx", gz.size());
            return std::string(size) + "\r\n" + gz + "\r\n0\r\n\r\n";
          }()));
  v.push_back(
      record("revisit", "00000000-0000-4000-8000-000000000004",
             {{"WARC-Target-URI", url},
              {"WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"},
              {"WARC-Refers-To", "<urn:uuid:00000000-0000-4000-8000-000000000003>"},
              {"WARC-Refers-To-Date", "2026-04-08T16:09:31.123456Z"},
              {"Content-Type", "application/http;msgtype=response"}},
             "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"));
  // Interim responses before the final one, as some crawlers record them.
  v.push_back(record(
      "response", "00000000-0000-4000-8000-000000000006",
      {{"WARC-Target-URI", url + "?early"}, {"Content-Type", "application/http;msgtype=response"}},
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
      "Link: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n"
      "Content-Type: text/html\r\nContent-Length: 9\r\n\r\n<p>hi</p>"));
  v.push_back(record("metadata", "00000000-0000-4000-8000-000000000005",
                     {{"WARC-Target-URI", url},
                      {"WARC-Refers-To", "<urn:uuid:00000000-0000-4000-8000-000000000003>"},
                      {"Content-Type", "application/json"}},
                     "{\"schema_version\":1,\"title\":\"Seed\",\"body_text\":\"First.\"}"));
  return v;
}

void write_warcs(const fs::path& dir) {
  auto records = sample_records();
  std::vector<std::string> samples;
  for (const auto& r : records) samples.push_back(r.serialize());
  struct Variant {
    const char* name;
    Compression compression;
    bool dictionary;
    bool compress_dictionary;
  };
  for (const Variant& v : {Variant{"plain.warc", Compression::none, false, false},
                           Variant{"member.warc.gz", Compression::gzip, false, false},
                           Variant{"frame.warc.zst", Compression::zstd, false, false},
                           Variant{"dict-raw.warc.zst", Compression::zstd, true, false},
                           Variant{"dict-zstd.warc.zst", Compression::zstd, true, true}}) {
    vellum::warc::EncoderOptions o;
    o.compression = v.compression;
    o.level = v.compression == Compression::gzip ? 6 : 3;
    if (v.dictionary) {
      std::vector<std::string> many;
      for (int i = 0; i < 200; ++i)
        for (const auto& s : samples) many.push_back(s + std::to_string(i));
      o.dictionary = std::make_shared<vellum::warc::ZstdDictionary>(
          vellum::warc::ZstdDictionary::train(many, 4096));
      o.compress_dictionary = v.compress_dictionary;
    }
    vellum::warc::RecordEncoder enc(o);
    std::string file = enc.file_preamble();
    for (const auto& s : samples) file += enc.encode(s);
    write(dir / "warc" / v.name, file);
  }
}

void write_feeds(const fs::path& dir) {
  const fs::path d = dir / "feed";
  write(d / "rss.xml",
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>"
        "<item><title>A</title><link>https://example.com/a</link>"
        "<pubDate>Wed, 08 Apr 2026 16:09:31 GMT</pubDate><guid>a</guid></item>"
        "<item><link>/relative/b</link></item></channel></rss>");
  write(d / "atom.xml",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\" "
        "xml:base=\"https://example.com/base/\"><title>T</title><entry><title>A</title>"
        "<link rel=\"alternate\" href=\"a.html\"/><updated>2026-04-08T16:09:31Z</updated>"
        "</entry></feed>");
  write(d / "rdf.xml",
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
        "xmlns=\"http://purl.org/rss/1.0/\"><item rdf:about=\"https://example.com/r\">"
        "<link>https://example.com/r</link></item></rdf:RDF>");
  std::string sitemap =
      "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" "
      "xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\"><url>"
      "<loc>https://example.com/s1</loc><lastmod>2026-04-08</lastmod><news:news>"
      "<news:publication_date>2026-04-08T16:09:31Z</news:publication_date>"
      "<news:title>S1</news:title></news:news></url></urlset>";
  write(d / "news-sitemap.xml", sitemap);
  write(d / "sitemap.xml.gz", gzip(sitemap));
  write(d / "sitemapindex.xml",
        "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><sitemap>"
        "<loc>https://example.com/sitemap-1.xml</loc></sitemap></sitemapindex>");
  write(d / "entities.xml",
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]>"
        "<rss><channel><item><link>https://example.com/&amp;&#233;&b;</link></item>"
        "</channel></rss>");
}

void write_small_ones(const fs::path& dir) {
  write(dir / "url" / "urls.txt", "https://www.Example.com:443/a/../b/./c?b=2&a=1#frag\n../x/y?z");
  write(dir / "url" / "idn.txt", "http://xn--bcher-kva.example/%7euser/\n//other.example/p");
  write(dir / "url" / "ipv6.txt", "http://[::1]:8080/path;params?q\nhttps://user:pw@h.example/");
  write(dir / "robots" / "simple.txt",
        "User-agent: *\nDisallow: /private\nAllow: /private/ok$\nCrawl-delay: 2.5\n"
        "Sitemap: https://example.com/sitemap.xml\n");
  write(dir / "robots" / "groups.txt",
        std::string("User-agent: vellum\nUser-agent: other\nDisallow: /*.pdf$\nAllow: /\n\n"
                    "User-agent: *\nDisallow: /\n") +
            '\0' + "/a.pdf\n/b/c.PDF\n/%7Ex\n/private/ok");
  write(dir / "html" / "tiny.html",
        std::string(1, '\x01') +
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><script "
            "type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\"@type\":"
            "\"NewsArticle\",\"headline\":\"H\",\"author\":[{\"@type\":\"Person\",\"name\":"
            "\"By A and B\"}],\"datePublished\":\"2026-04-08T16:09:31+02:00\"}</script></head>"
            "<body><article><h1>H</h1><p>One.</p><h2>Key Points</h2><ul><li>k</li></ul>"
            "<figure><img src=\"/i.jpg\"><figcaption>C</figcaption></figure></article></body>"
            "</html>");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_seeds DIR\n";
    return 2;
  }
  fs::path dir = argv[1];
  write_warcs(dir);
  write_feeds(dir);
  write_small_ones(dir);
  return 0;
}
