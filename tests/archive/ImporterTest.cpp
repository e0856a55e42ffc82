// Importer on a hand-made WARC/1.0 file with what other crawlers write: the response before its
// request, digests in hexadecimal, a payload digest over chunked bytes as transferred, folded
// header lines, records without digests, a request without response, a wrong digest.
#include <gtest/gtest.h>

#include <filesystem>

#include "archive/ArchiveReader.h"
#include "archive/ArchiveWriter.h"
#include "archive/Importer.h"
#include "archive/Verifier.h"
#include "support/TempDir.h"
#include "util/Digest.h"
#include "warc/WarcReader.h"

using namespace vellum;
namespace fs = std::filesystem;

namespace {

std::string hex_sha1(std::string_view data) {
  util::Sha1 sha;
  sha.update(data);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha1:";
  for (std::uint8_t b : sha.finish()) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// A WARC/1.0 record: header lines as given (each without CRLF), Content-Length, block.
std::string record(const std::vector<std::string>& lines, const std::string& block) {
  std::string out = "WARC/1.0\r\n";
  for (const auto& l : lines) out += l + "\r\n";
  out += "Content-Length: " + std::to_string(block.size()) + "\r\n\r\n" + block + "\r\n\r\n";
  return out;
}

std::string header_of(const std::string& rec) {
  return rec.substr(0, rec.find("\r\n\r\n") + 4);
}

const std::string kA = "<urn:uuid:0a0a0a0a-0000-4000-8000-00000000000a>";
const std::string kAReq = "<urn:uuid:0a0a0a0a-0000-4000-8000-0000000000aa>";
const std::string kB = "<urn:uuid:0b0b0b0b-0000-4000-8000-00000000000b>";
const std::string kCReq = "<urn:uuid:0c0c0c0c-0000-4000-8000-0000000000cc>";
const std::string kD = "<urn:uuid:0d0d0d0d-0000-4000-8000-00000000000d>";

}  // namespace

TEST(Importer, ForeignLayoutsPairCheckAndKeepBytes) {
  vellum::test::TempDir tmp("importer");
  const std::string page =
      "<html><head><title>Chunked page</title></head><body><p>One paragraph of text that is "
      "long enough to be an article body for the generic extractor.</p></body></html>";
  std::string chunked;
  for (std::size_t i = 0; i < page.size(); i += 50) {
    std::string part = page.substr(i, 50);
    char len[16];
    std::snprintf(len, sizeof len, "%zx\r\n", part.size());
    chunked += len + part + "\r\n";
  }
  chunked += "0\r\n\r\n";
  const std::string a_block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked;
  const std::string a_resp =
      record({"WARC-Type: response", "WARC-Record-ID: " + kA, "WARC-Date: 2020-05-01T10:00:00Z",
              "WARC-Target-URI: <http://example.com/a>",
              "Content-Type: application/http; msgtype=response", "X-Crawler-Note: first part",
              "  continued here", "WARC-Block-Digest: " + hex_sha1(a_block),
              "WARC-Payload-Digest: " + util::warc_sha1(chunked)},
             a_block);
  const std::string a_req_block = "GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n";
  const std::string a_req =
      record({"WARC-Type: request", "WARC-Record-ID: " + kAReq, "WARC-Date: 2020-05-01T10:00:00Z",
              "WARC-Target-URI: <http://example.com/a>", "WARC-Concurrent-To: " + kA},
             a_req_block);
  const std::string b_block =
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope";
  const std::string b_resp =
      record({"WARC-Type: response", "WARC-Record-ID: " + kB, "WARC-Date: 2020-05-01T10:00:01Z",
              "WARC-Target-URI: http://example.com/b"},
             b_block);
  const std::string c_req =
      record({"WARC-Type: request", "WARC-Record-ID: " + kCReq,
              "WARC-Target-URI: http://example.com/c", "WARC-Date: 2020-05-01T10:00:02Z"},
             "GET /c HTTP/1.1\r\n\r\n");
  const std::string d_block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  const std::string d_resp = record(
      {"WARC-Type: response", "WARC-Record-ID: " + kD, "WARC-Date: 2020-05-01T10:00:03Z",
       "WARC-Target-URI: http://example.com/d", "WARC-Payload-Digest: " + util::warc_sha1("hellO")},
      d_block);
  const std::string info =
      record({"WARC-Type: warcinfo", "WARC-Date: 2020-05-01T10:00:00Z",
              "WARC-Record-ID: <urn:uuid:0e0e0e0e-0000-4000-8000-0000000000ee>"},
             "software: elsewhere\r\n");
  const std::string meta = record(
      {"WARC-Type: metadata", "WARC-Record-ID: <urn:uuid:0f0f0f0f-0000-4000-8000-0000000000ff>",
       "WARC-Date: 2020-05-01T10:00:00Z", "WARC-Concurrent-To: " + kA},
      "outlinks: none\r\n");
  fs::path source = tmp / "other.warc";
  vellum::test::write_file(source, info + a_resp + a_req + meta + b_resp + c_req + d_resp);

  fs::path dir = tmp / "archive";
  archive::ImportReport report;
  {
    archive::WriterOptions wo;
    wo.dir = dir;
    auto writer = archive::ArchiveWriter::open(wo);
    archive::ImportOptions io;
    io.extract = true;  // the generic extractor
    report = archive::Importer(*writer, io).import_file(source);
    writer->close();
  }
  EXPECT_EQ(report.records, 7u);
  EXPECT_EQ(report.captures, 2u);  // a (with its request), b
  EXPECT_EQ(report.requests, 1u);
  EXPECT_EQ(report.articles, 1u);    // b is a 404
  EXPECT_EQ(report.skipped, 3u);     // warcinfo, metadata, the request for c
  EXPECT_EQ(report.refused, 1u);     // d
  EXPECT_EQ(report.undigested, 2u);  // a's request, b
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find(kD), std::string::npos) << report.errors[0];
  EXPECT_NE(report.errors[0].find("payload digest is " + util::warc_sha1("hello")),
            std::string::npos)
      << report.errors[0];

  archive::ArchiveReader reader(dir);
  index::CaptureRow a = reader.resolve("http://example.com/a");
  EXPECT_EQ(a.record_id, kA);
  EXPECT_EQ(a.url, "http://example.com/a");
  EXPECT_EQ(a.date, "2020-05-01T10:00:00.000000Z");
  EXPECT_GT(a.request_length, 0u);
  EXPECT_EQ(reader.payload(a).entity, page);
  warc::WarcRecord stored = reader.read_response(a);
  EXPECT_EQ(stored.version, "WARC/1.0");
  EXPECT_EQ(stored.header_as_read, header_of(a_resp));
  EXPECT_EQ(stored.block, a_block);
  EXPECT_EQ(reader.read_request(a)->header_as_read, header_of(a_req));
  EXPECT_EQ(reader.resolve("http://example.com/b").status, 404);
  EXPECT_THROW(reader.resolve("http://example.com/d"), std::runtime_error);
  ASSERT_TRUE(reader.index().article(a.capture_id));
  EXPECT_EQ(reader.index().article(a.capture_id)->title, "Chunked page");

  auto verified = archive::verify_archive(reader);
  EXPECT_TRUE(verified.ok()) << (verified.problems.empty() ? "" : verified.problems[0]);

  // `vellum reindex` reads the same rows back.
  archive::reindex(dir);
  archive::ArchiveReader again(dir);
  index::CaptureRow a2 = again.resolve("http://example.com/a");
  EXPECT_EQ(a2.offset, a.offset);
  EXPECT_EQ(a2.request_offset, a.request_offset);
  EXPECT_EQ(a2.request_length, a.request_length);
  EXPECT_EQ(a2.date, a.date);
  index::CaptureRow b2 = again.resolve("http://example.com/b");
  EXPECT_EQ(b2.request_offset, 0u);
  EXPECT_EQ(b2.request_length, 0u);
}

// An imported response of another protocol (a dns: lookup as text/dns) has no HTTP head: its
// block digest is checked and it is sound; an HTTP response without its head is not.
TEST(Importer, AResponseOfAnotherProtocolIsCheckedByItsBlock) {
  warc::WarcRecord dns;
  dns.block = "20200501100000\nexample.com.\t300\tIN\tA\t127.0.0.1\n";
  dns.fields = {{"WARC-Type", "response"},
                {"WARC-Target-URI", "dns:example.com"},
                {"Content-Type", "text/dns"},
                {"WARC-Block-Digest", util::warc_sha1(dns.block)},
                {"WARC-Payload-Digest", util::warc_sha1(dns.block)}};
  std::vector<std::string> problems;
  archive::check_record(dns, "a.warc:0", problems);
  EXPECT_TRUE(problems.empty()) << problems.front();

  warc::WarcRecord http = dns;
  http.set("Content-Type", "application/http; msgtype=response");
  archive::check_record(http, "a.warc:0", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("a.warc:0: response block has no HTTP head"), std::string::npos);

  problems.clear();
  dns.block[0] = '3';  // the block no longer matches its digest
  archive::check_record(dns, "a.warc:0", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("block digest is"), std::string::npos);
}

// A revisit without WARC-Refers-To is kept by import; verify and restore say what it lacks
// instead of naming an empty record ID.
TEST(Importer, ARevisitThatNamesNoOriginalIsNamedForWhatItLacks) {
  vellum::test::TempDir tmp("importer-norefers");
  const std::string block = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n";
  const std::string rev =
      record({"WARC-Type: revisit", "WARC-Record-ID: " + kB, "WARC-Date: 2020-05-02T10:00:00Z",
              "WARC-Target-URI: http://example.com/r",
              "WARC-Profile: http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
              "WARC-Payload-Digest: " + util::warc_sha1("hello")},
             block);
  fs::path source = tmp / "revisit.warc";
  vellum::test::write_file(source, rev);
  fs::path dir = tmp / "archive";
  {
    archive::WriterOptions wo;
    wo.dir = dir;
    auto writer = archive::ArchiveWriter::open(wo);
    archive::Importer(*writer, archive::ImportOptions{}).import_file(source);
    writer->close();
  }
  archive::ArchiveReader reader(dir);
  const archive::VerifyReport report = archive::verify_archive(reader);
  bool named = false;
  for (const auto& p : report.problems) {
    EXPECT_EQ(p.find("revisit of ,"), std::string::npos) << p;
    named |= p.find("names no original (it has no WARC-Refers-To)") != std::string::npos;
  }
  EXPECT_TRUE(named) << (report.problems.empty() ? "no problem reported" : report.problems[0]);
}
