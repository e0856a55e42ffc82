// Importer on a hand-made WARC/1.0 file with what other crawlers write: the response before its
// request, digests in hexadecimal, a payload digest over chunked bytes as transferred, folded
// header lines, records without digests, a request without response, a wrong digest.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include <sqlite3.h>

#include "archive/ArchiveReader.h"
#include "archive/ArchiveWriter.h"
#include "archive/Export.h"
#include "archive/Importer.h"
#include "archive/Verifier.h"
#include "support/TempDir.h"
#include "util/Digest.h"
#include "util/Time.h"
#include "warc/WarcReader.h"
#include "warc/WarcWriter.h"

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

// A request is paired with its response only when both are of the same URI: one linked by
// WARC-Concurrent-To to the response of another URI is skipped and named, not attached to it.
TEST(Importer, ARequestOfAnotherUriIsNotPaired) {
  vellum::test::TempDir tmp("importer-request-uri");
  const std::string block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  const std::string resp =
      record({"WARC-Type: response", "WARC-Record-ID: " + kA, "WARC-Date: 2020-05-01T10:00:00Z",
              "WARC-Target-URI: http://example.com/a"},
             block);
  const std::string req =
      record({"WARC-Type: request", "WARC-Record-ID: " + kAReq, "WARC-Date: 2020-05-01T10:00:00Z",
              "WARC-Target-URI: http://example.com/elsewhere", "WARC-Concurrent-To: " + kA},
             "GET /elsewhere HTTP/1.1\r\nHost: example.com\r\n\r\n");
  // The same pair with the request first, as most crawlers write them.
  const std::string resp_b =
      record({"WARC-Type: response", "WARC-Record-ID: " + kB, "WARC-Date: 2020-05-01T10:00:01Z",
              "WARC-Target-URI: http://example.com/b"},
             block);
  const std::string req_b =
      record({"WARC-Type: request", "WARC-Record-ID: " + kCReq, "WARC-Date: 2020-05-01T10:00:01Z",
              "WARC-Target-URI: http://example.com/c", "WARC-Concurrent-To: " + kB},
             "GET /c HTTP/1.1\r\nHost: example.com\r\n\r\n");
  fs::path source = tmp / "other.warc";
  vellum::test::write_file(source, resp + req + req_b + resp_b);

  fs::path dir = tmp / "archive";
  std::vector<std::string> log;
  archive::ImportReport report;
  {
    archive::WriterOptions wo;
    wo.dir = dir;
    auto writer = archive::ArchiveWriter::open(wo);
    archive::ImportOptions io;
    io.log = [&](const std::string& line) { log.push_back(line); };
    report = archive::Importer(*writer, io).import_file(source);
    writer->close();
  }
  EXPECT_EQ(report.captures, 2u);
  EXPECT_EQ(report.requests, 0u);
  EXPECT_EQ(report.skipped, 2u);
  std::string all;
  for (const auto& l : log) all += l + "\n";
  EXPECT_NE(all.find("request record " + kAReq +
                     " of http://example.com/elsewhere: it is linked "
                     "to the response " +
                     kA +
                     ", which is of http://example.com/a; expected a "
                     "request of the same WARC-Target-URI; skipped"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("request record " + kCReq +
                     " of http://example.com/c: it is linked to the "
                     "response " +
                     kB + ", which is of http://example.com/b"),
            std::string::npos)
      << all;

  archive::ArchiveReader reader(dir);
  for (const char* url : {"http://example.com/a", "http://example.com/b"}) {
    index::CaptureRow row = reader.resolve(url);
    EXPECT_EQ(row.request_length, 0u) << url;
    EXPECT_FALSE(reader.read_request(row)) << url;
    EXPECT_EQ(reader.payload(row).entity, "hello") << url;
  }
  auto verified = archive::verify_archive(reader);
  EXPECT_TRUE(verified.ok()) << (verified.problems.empty() ? "" : verified.problems[0]);
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

  // Without a payload digest to check, the missing head is as much a fault.
  http.fields.erase(std::remove_if(http.fields.begin(), http.fields.end(),
                                   [](const auto& f) { return f.first == "WARC-Payload-Digest"; }),
                    http.fields.end());
  problems.clear();
  archive::check_record(http, "a.warc:0", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("a.warc:0: response block has no HTTP head"), std::string::npos);

  problems.clear();
  dns.block[0] = '3';  // the block no longer matches its digest
  archive::check_record(dns, "a.warc:0", problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("block digest is"), std::string::npos);
}

namespace {

// `warc` written to a file and imported into a new archive (returned); the import's report in
// `report` when given.
fs::path import_warc(const fs::path& tmp, const std::string& warc,
                     archive::ImportReport* report = nullptr) {
  fs::path source = tmp / "source.warc";
  vellum::test::write_file(source, warc);
  fs::path dir = tmp / "archive";
  archive::WriterOptions wo;
  wo.dir = dir;
  auto writer = archive::ArchiveWriter::open(wo);
  archive::ImportReport got =
      archive::Importer(*writer, archive::ImportOptions{}).import_file(source);
  writer->close();
  if (report) *report = got;
  return dir;
}

// An imported archive: one response of "hello" at example.com/r and the revisit records given.
fs::path import_revisits(const fs::path& tmp, const std::vector<std::string>& revisits) {
  const std::string a_block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  std::string warc = record(
      {"WARC-Type: response", "WARC-Record-ID: " + kA, "WARC-Date: 2020-05-01T10:00:00Z",
       "WARC-Target-URI: http://example.com/r", "Content-Type: application/http; msgtype=response",
       "WARC-Payload-Digest: " + util::warc_sha1("hello")},
      a_block);
  for (const auto& r : revisits) warc += r;
  return import_warc(tmp, warc);
}

// A revisit record of example.com/r: its ID, the date's day, what it refers to, its digest.
// (An empty `refers_to` leaves WARC-Refers-To out.)
std::string revisit(const std::string& id, int day, const std::string& refers_to,
                    const std::string& digest = util::warc_sha1("hello")) {
  std::vector<std::string> fields = {
      "WARC-Type: revisit",
      "WARC-Record-ID: " + id,
      "WARC-Date: 2020-05-0" + std::to_string(day) + "T10:00:00Z",
      "WARC-Target-URI: http://example.com/r",
      "Content-Type: application/http; msgtype=response",
      "WARC-Profile: http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
      "WARC-Payload-Digest: " + digest};
  if (!refers_to.empty()) fields.push_back("WARC-Refers-To: " + refers_to);
  return record(fields, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
}

std::string all_problems(const archive::VerifyReport& report) {
  std::string out;
  for (const auto& p : report.problems) out += p + "\n";
  return out;
}

// A new capture of example.com/r serving "hello" again, stored in the archive at `dir`; its
// capture id.
std::string capture_hello_again(const fs::path& dir) {
  fetch::Exchange h;
  h.url = "http://example.com/r";
  h.status = 200;
  h.started = util::now();
  h.request = "GET /r HTTP/1.1\r\nHost: example.com\r\n\r\n";
  h.response_head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n";
  h.response_body = "hello";
  fetch::FetchResult r;
  r.url = r.final_url = h.url;
  r.hops.push_back(std::move(h));
  archive::WriterOptions wo;
  wo.dir = dir;
  auto writer = archive::ArchiveWriter::open(wo);
  const std::string id = writer->store(r).hops.at(0).capture_id;
  writer->close();
  return id;
}

const std::string kC = "<urn:uuid:0c0c0c0c-0000-4000-8000-00000000000c>";

}  // namespace

// Another crawler's revisit of a revisit (WARC allows it) restores and verifies through both
// links, and a new capture of the same payload refers to the response itself.
TEST(Importer, ARevisitOfARevisitIsFollowedToTheResponse) {
  vellum::test::TempDir tmp("importer-chain");
  // B repeats A; C repeats B, its digest in hexadecimal as some crawlers write it.
  fs::path dir =
      import_revisits(tmp.path(), {revisit(kB, 2, kA), revisit(kC, 3, kB, hex_sha1("hello"))});
  {
    archive::ArchiveReader reader(dir);
    index::CaptureRow c = reader.index().by_record_id(kC).value();
    EXPECT_EQ(c.refers_to, kB);
    EXPECT_EQ(reader.payload(c).entity, "hello");
    EXPECT_EQ(archive::original_of(reader.index(), c).record_id, kA);
    const archive::VerifyReport report = archive::verify_archive(reader);
    EXPECT_TRUE(report.ok()) << all_problems(report);
  }
  archive::ArchiveReader reader(dir);
  index::CaptureRow now = reader.resolve(capture_hello_again(dir));
  EXPECT_EQ(now.record_type, "revisit");
  EXPECT_EQ(now.refers_to, kA);
  EXPECT_EQ(reader.payload(now).entity, "hello");
}

// A record whose WARC-Record-ID another, different record already has (in the archive, or
// earlier in the file) is refused with both named; the same record again is a duplicate.
TEST(Importer, AnIdTakenByAnotherRecordIsRefusedNotSkipped) {
  vellum::test::TempDir tmp("importer-id-clash");
  auto response = [](const std::string& path, const std::string& body) {
    return record({"WARC-Type: response", "WARC-Record-ID: " + kA,
                   "WARC-Date: 2020-05-01T10:00:00Z", "WARC-Target-URI: http://example.com/" + path,
                   "Content-Type: application/http; msgtype=response"},
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body);
  };
  archive::ImportReport report;
  fs::path dir = import_warc(
      tmp.path(), response("first", "one") + response("first", "one") + response("second", "two"),
      &report);
  EXPECT_EQ(report.captures, 1u);
  EXPECT_EQ(report.duplicates, 1u);
  EXPECT_EQ(report.refused, 1u);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("http://example.com/second: its WARC-Record-ID is already that "
                                  "of another record in the archive (a response of "
                                  "http://example.com/first at 2020-05-01T10:00:00.000000Z)"),
            std::string::npos)
      << report.errors[0];
  // Against the archive, in a later import.
  vellum::test::write_file(tmp.path() / "again.warc", response("second", "two"));
  archive::WriterOptions wo;
  wo.dir = dir;
  auto writer = archive::ArchiveWriter::open(wo);
  report =
      archive::Importer(*writer, archive::ImportOptions{}).import_file(tmp.path() / "again.warc");
  EXPECT_EQ(report.refused, 1u);
  EXPECT_EQ(report.duplicates, 0u);
  // An ID that differs only in case gives the same capture id: refused too, the one it clashes
  // with named.
  std::string upper = response("third", "three");
  upper.replace(upper.find("0a0a0a0a"), 8, "0A0A0A0A");
  vellum::test::write_file(tmp.path() / "upper.warc", upper);
  report =
      archive::Importer(*writer, archive::ImportOptions{}).import_file(tmp.path() / "upper.warc");
  EXPECT_EQ(report.refused, 1u);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("gives the capture id 0a0a0a0a-0000-4000-8000-00000000000a, "
                                  "already that of record " +
                                  kA),
            std::string::npos)
      << report.errors[0];
}

// A revisit recorded with an empty block (no response head, as WARC allows), with and without
// WARC-Refers-To: the page restores as its original's, head and payload.
TEST(Importer, ARevisitWithoutAResponseHeadRestoresTheOriginal) {
  vellum::test::TempDir tmp("importer-headless");
  auto headless = [](const std::string& id, int day, const std::string& refers_to) {
    const std::string h = header_of(revisit(id, day, refers_to));  // Content-Length comes last
    return h.substr(0, h.find("Content-Length: ")) + "Content-Length: 0\r\n\r\n\r\n\r\n";
  };
  fs::path dir = import_revisits(tmp.path(), {headless(kB, 2, kA), headless(kC, 3, "")});
  archive::ArchiveReader reader(dir);
  for (const std::string& id : {kB, kC}) {
    index::CaptureRow row = reader.index().by_record_id(id).value();
    ASSERT_EQ(row.record_type, "revisit");
    ASSERT_TRUE(reader.read_response(row).block.empty()) << id;
    const archive::RestoredPayload p = reader.payload(row);
    EXPECT_EQ(p.entity, "hello") << id;
    EXPECT_EQ(p.head.status, 200) << id;
  }
  const archive::VerifyReport report = archive::verify_archive(reader);
  EXPECT_TRUE(report.ok()) << all_problems(report);
}

// Links that go round in a circle, or end at a record that is not there, or a revisit whose
// digest is not its original's: restore and verify say which, and a new capture of the URL is
// stored whole instead of referring into the broken links.
TEST(Importer, BrokenRevisitLinksAreNamedAndNotBuiltOn) {
  {
    vellum::test::TempDir tmp("importer-loop");
    // B and C refer to each other; the latest capture is C.
    fs::path dir = import_revisits(tmp.path(), {revisit(kB, 2, kC), revisit(kC, 3, kB)});
    {
      archive::ArchiveReader reader(dir);
      index::CaptureRow c = reader.index().by_record_id(kC).value();
      try {
        reader.payload(c);
        ADD_FAILURE() << "a revisit in a loop restored";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("is a revisit of " + kB + ", a revisit of " + kC +
                                             ", which it passed already"),
                  std::string::npos)
            << e.what();
      }
      const std::string problems = all_problems(archive::verify_archive(reader));
      EXPECT_NE(problems.find("which it passed already"), std::string::npos) << problems;
      // An export stops at them, or with --skip-damaged leaves both out and keeps the response.
      archive::ExportOptions eo;
      eo.output = tmp / "loop.warc.gz";
      try {
        archive::export_archive(reader, eo);
        ADD_FAILURE() << "revisits in a loop exported";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("which it passed already"), std::string::npos)
            << e.what();
      }
      EXPECT_FALSE(fs::exists(eo.output));
      eo.skip_damaged = true;
      const archive::ExportSummary summary = archive::export_archive(reader, eo);
      EXPECT_EQ(summary.captures, 1u);  // exported: the response
      EXPECT_EQ(summary.skipped, 2u);
      ASSERT_EQ(summary.left_out.size(), 2u);
      EXPECT_NE(summary.left_out[0].find("is left out: it is a revisit of "), std::string::npos)
          << summary.left_out[0];
    }
    archive::ArchiveReader reader(dir);
    index::CaptureRow now = reader.resolve(capture_hello_again(dir));
    EXPECT_EQ(now.record_type, "response");
    EXPECT_EQ(reader.payload(now).entity, "hello");
  }
  {
    vellum::test::TempDir tmp("importer-dangling");
    // C repeats B, which was never imported.
    fs::path dir = import_revisits(tmp.path(), {revisit(kC, 3, kB)});
    archive::ArchiveReader reader(dir);
    index::CaptureRow c = reader.index().by_record_id(kC).value();
    EXPECT_THROW(reader.payload(c), std::runtime_error);
    const std::string problems = all_problems(archive::verify_archive(reader));
    EXPECT_NE(problems.find("is a revisit of " + kB + ", which is in no WARC file"),
              std::string::npos)
        << problems;
  }
  {
    vellum::test::TempDir tmp("importer-otherdigest");
    // B says it repeats A, but names the digest of another payload.
    fs::path dir = import_revisits(tmp.path(), {revisit(kB, 2, kA, util::warc_sha1("hellO"))});
    archive::ArchiveReader reader(dir);
    index::CaptureRow b = reader.index().by_record_id(kB).value();
    EXPECT_THROW(reader.payload(b), std::runtime_error);
    const std::string problems = all_problems(archive::verify_archive(reader));
    EXPECT_NE(
        problems.find("is a revisit of " + kA + ", whose payload digest is " +
                      util::warc_sha1("hello") + "; the revisit says " + util::warc_sha1("hellO")),
        std::string::npos)
        << problems;
  }
}

// Import refuses what verify would report: an HTTP response whose block has no HTTP head is
// refused with that reason, while a dns: response (text/dns, no HTTP head) is kept, restored as
// its block and verified alone.
TEST(Importer, RefusesAnHttpResponseWithoutItsHead) {
  vellum::test::TempDir tmp("importer-headless");
  const std::string dns_block = "20200501100000\nexample.com.\t300\tIN\tA\t127.0.0.1\n";
  const std::string dns =
      record({"WARC-Type: response", "WARC-Record-ID: " + kA, "WARC-Date: 2020-05-01T10:00:00Z",
              "WARC-Target-URI: dns:example.com", "Content-Type: text/dns",
              "WARC-Block-Digest: " + util::warc_sha1(dns_block),
              "WARC-Payload-Digest: " + util::warc_sha1(dns_block)},
             dns_block);
  const std::string bare = "<html>no status line, no header fields</html>";
  const std::string headless =
      record({"WARC-Type: response", "WARC-Record-ID: " + kB, "WARC-Date: 2020-05-01T10:00:01Z",
              "WARC-Target-URI: http://example.com/bare",
              "Content-Type: application/http; msgtype=response",
              "WARC-Block-Digest: " + util::warc_sha1(bare),
              "WARC-Payload-Digest: " + util::warc_sha1(bare)},
             bare);
  archive::ImportReport report;
  fs::path dir = import_warc(tmp.path(), dns + headless, &report);
  EXPECT_EQ(report.captures, 1u);
  EXPECT_EQ(report.refused, 1u);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find(kB), std::string::npos) << report.errors[0];
  EXPECT_NE(report.errors[0].find("its response block has no HTTP head"), std::string::npos)
      << report.errors[0];
  archive::ArchiveReader reader(dir);
  EXPECT_FALSE(reader.index().by_record_id(kB));
  const archive::VerifyReport verified = archive::verify_archive(reader);
  EXPECT_TRUE(verified.ok()) << all_problems(verified);
  // The lookup restores as its block, and checks alone as it does with the others.
  const index::CaptureRow lookup = reader.index().by_record_id(kA).value();
  EXPECT_EQ(reader.payload(lookup).entity, dns_block);
  const archive::VerifyReport one = archive::verify_capture(reader, lookup);
  EXPECT_TRUE(one.ok()) << all_problems(one);
}

// A record without WARC-Type, and one whose SHA-1 is none ("sha1:xyz", a damaged header), are
// refused with the reason; they were skipped, and imported unchecked, without a word.
TEST(Importer, ARecordWithoutATypeOrWithAMalformedDigestIsRefused) {
  vellum::test::TempDir tmp("importer-malformed");
  const std::string block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  const std::string untyped = record(
      {"WARC-Record-ID: " + kA, "WARC-Date: 2020-05-01T10:00:00Z",
       "WARC-Target-URI: http://example.com/a", "Content-Type: application/http; msgtype=response"},
      block);
  const std::string bad_block =
      record({"WARC-Type: response", "WARC-Record-ID: " + kB, "WARC-Date: 2020-05-01T10:00:01Z",
              "WARC-Target-URI: http://example.com/b", "WARC-Block-Digest: sha1:xyz"},
             block);
  const std::string bad_payload =
      record({"WARC-Type: response", "WARC-Record-ID: " + kD, "WARC-Date: 2020-05-01T10:00:02Z",
              "WARC-Target-URI: http://example.com/d", "WARC-Payload-Digest: SHA1:"},
             block);
  archive::ImportReport report;
  import_warc(tmp.path(), untyped + bad_block + bad_payload, &report);
  EXPECT_EQ(report.captures, 0u);
  EXPECT_EQ(report.refused, 3u);
  ASSERT_EQ(report.errors.size(), 3u);
  EXPECT_NE(report.errors[0].find("it has no WARC-Type, expected one"), std::string::npos)
      << report.errors[0];
  EXPECT_NE(report.errors[1].find("its block digest 'sha1:xyz' is no SHA-1, expected sha1: and "
                                  "32 base32 or 40 hexadecimal digits"),
            std::string::npos)
      << report.errors[1];
  EXPECT_NE(report.errors[2].find("its payload digest 'SHA1:' is no SHA-1"), std::string::npos)
      << report.errors[2];
}

// A revisit that names no original (WARC allows it) repeats the latest earlier response of its
// URL with its payload digest: restore, verify and export find that one.
TEST(Importer, ARevisitWithoutRefersToIsResolvedByUrlAndDigest) {
  vellum::test::TempDir tmp("importer-bydigest");
  // B names no original, its digest in hexadecimal; C refers to B.
  fs::path dir =
      import_revisits(tmp.path(), {revisit(kB, 2, "", hex_sha1("hello")), revisit(kC, 3, kB)});
  archive::ArchiveReader reader(dir);
  for (const std::string& id : {kB, kC}) {
    index::CaptureRow row = reader.index().by_record_id(id).value();
    EXPECT_EQ(reader.payload(row).entity, "hello") << id;
    EXPECT_EQ(archive::original_of(reader.index(), row).record_id, kA) << id;
  }
  const archive::VerifyReport report = archive::verify_archive(reader);
  EXPECT_TRUE(report.ok()) << all_problems(report);
  // Exporting B alone brings A along, so that B can be replayed from the export.
  archive::ExportOptions eo;
  eo.output = tmp / "b.warc.gz";
  eo.filter.since = "2020-05-02";
  eo.filter.until = "2020-05-02T23:59:59Z";
  const archive::ExportSummary summary = archive::export_archive(reader, eo);
  EXPECT_EQ(summary.captures, 1u);
  EXPECT_EQ(summary.referenced, 1u);
}

// No earlier response has its digest (one of another payload does): still named for what it
// lacks, by restore and verify.
TEST(Importer, ARevisitWithoutRefersToMatchesOnlyItsOwnPayload) {
  vellum::test::TempDir tmp("importer-bydigest-none");
  fs::path dir = import_revisits(tmp.path(), {revisit(kB, 2, "", util::warc_sha1("other"))});
  archive::ArchiveReader reader(dir);
  index::CaptureRow b = reader.index().by_record_id(kB).value();
  try {
    reader.payload(b);
    ADD_FAILURE() << "a revisit of another payload restored";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("names no original"), std::string::npos) << e.what();
  }
  const std::string problems = all_problems(archive::verify_archive(reader));
  EXPECT_EQ(problems.find("revisit of ,"), std::string::npos) << problems;
  EXPECT_NE(problems.find("names no original (it has no WARC-Refers-To) and no earlier response "
                          "of its URL has its payload digest"),
            std::string::npos)
      << problems;
}

// A bad copy of a response refused by an import does not take a revisit without WARC-Refers-To
// with it when the archive holds an intact response with that payload, which it restores.
TEST(Importer, ARevisitWithoutRefersToIsKeptWhenAnIntactOriginalIsStored) {
  vellum::test::TempDir tmp("importer-bydigest-badcopy");
  fs::path dir = import_revisits(tmp.path(), {});  // A: "hello" at example.com/r
  const std::string block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  const std::string bad_copy = record(
      {"WARC-Type: response", "WARC-Record-ID: " + kD, "WARC-Date: 2020-05-01T11:00:00Z",
       "WARC-Target-URI: http://example.com/r", "WARC-Payload-Digest: " + util::warc_sha1("hello"),
       "WARC-Block-Digest: " + util::warc_sha1(block + "!")},
      block);
  fs::path source = tmp / "second.warc";
  vellum::test::write_file(source, bad_copy + revisit(kB, 2, ""));
  archive::WriterOptions wo;
  wo.dir = dir;
  auto writer = archive::ArchiveWriter::open(wo);
  const archive::ImportReport report = archive::Importer(*writer, {}).import_file(source);
  writer->close();
  EXPECT_EQ(report.refused, 1u);  // the bad copy
  EXPECT_EQ(report.captures, 1u);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find(kD), std::string::npos) << report.errors[0];
  archive::ArchiveReader reader(dir);
  index::CaptureRow b = reader.index().by_record_id(kB).value();
  EXPECT_EQ(reader.payload(b).entity, "hello");
  EXPECT_EQ(archive::original_of(reader.index(), b).record_id, kA);
  const archive::VerifyReport verified = archive::verify_archive(reader);
  EXPECT_TRUE(verified.ok()) << all_problems(verified);
}

namespace {

// A revisit of example.com/<path> with no WARC-Refers-To that names `target` (with the angle
// brackets of WARC/1.0) as its WARC-Refers-To-Target-URI, repeating "hello".
std::string revisit_of_uri(const std::string& id, const std::string& path,
                           const std::string& target) {
  return record(
      {"WARC-Type: revisit", "WARC-Record-ID: " + id, "WARC-Date: 2020-05-02T10:00:00Z",
       "WARC-Target-URI: http://example.com/" + path,
       "Content-Type: application/http; msgtype=response",
       "WARC-Profile: http://netpreserve.org/warc/1.0/revisit/uri-agnostic-identical-"
       "payload-digest",
       "WARC-Refers-To-Target-URI: <" + target + ">", "WARC-Refers-To-Date: 2020-05-01T10:00:00Z",
       "WARC-Payload-Digest: " + util::warc_sha1("hello")},
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
}

}  // namespace

// A crawler deduplicating across URLs writes a revisit of one URL whose payload is a response
// of another, named only by WARC-Refers-To-Target-URI: restore and verify find that response;
// when it has no response with the digest, both name the URI they looked at.
TEST(Importer, ARevisitWithoutRefersToIsLookedUpAtItsTargetUri) {
  vellum::test::TempDir tmp("importer-agnostic");
  fs::path dir =
      import_revisits(tmp.path(), {revisit_of_uri(kB, "copy", "http://example.com/r"),
                                   revisit_of_uri(kC, "other", "http://example.com/nowhere")});
  {
    archive::ArchiveReader reader(dir);
    index::CaptureRow b = reader.index().by_record_id(kB).value();
    EXPECT_EQ(b.original_uri, "http://example.com/r");
    EXPECT_EQ(reader.payload(b).entity, "hello");
    EXPECT_EQ(archive::original_of(reader.index(), b).record_id, kA);
    index::CaptureRow c = reader.index().by_record_id(kC).value();
    try {
      reader.payload(c);
      ADD_FAILURE() << "a revisit of a URI without that payload restored";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("no earlier response of http://example.com/nowhere (its "
                                           "WARC-Refers-To-Target-URI) has its payload digest"),
                std::string::npos)
          << e.what();
    }
    const std::string problems = all_problems(archive::verify_archive(reader));
    EXPECT_NE(problems.find("capture " + c.capture_id + " is a revisit that names no original"),
              std::string::npos)
        << problems;
    EXPECT_EQ(problems.find(b.capture_id), std::string::npos) << problems;
  }
  // An index that lacks the field (one upgraded from version 4, where it was not kept) is named
  // by verify as out of line with the record.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "index.sqlite3").c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "UPDATE captures SET original_uri = ''", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  archive::ArchiveReader reader(dir);
  const std::string problems = all_problems(archive::verify_archive(reader));
  EXPECT_NE(problems.find("the record's WARC-Refers-To-Target-URI (of a revisit without "
                          "WARC-Refers-To) is 'http://example.com/r', the index says ''"),
            std::string::npos)
      << problems;
}

// Capture ids an import brings need not be UUIDs: an id given in full names its capture even
// when it begins another's, and a prefix of several is named as such, with the ids it matches.
TEST(Importer, CaptureIdPrefixesOfSeveralCapturesAreNamed) {
  vellum::test::TempDir tmp("importer-prefix");
  auto response = [](const std::string& id, const std::string& path) {
    return record({"WARC-Type: response", "WARC-Record-ID: <urn:uuid:" + id + ">",
                   "WARC-Date: 2020-05-01T10:00:00Z", "WARC-Target-URI: http://example.com/" + path,
                   "Content-Type: application/http; msgtype=response"},
                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n" +
                      path.substr(0, 2));
  };
  const std::string a = "0f1e2d3c-0000-4000-8000-000000000001";
  const std::string b = "0f1e2d3c-0000-4000-8000-000000000011";
  fs::path dir = import_warc(tmp.path(), response(a, "p1") + response(b, "p2"));
  archive::ArchiveReader reader(dir);
  EXPECT_EQ(reader.resolve(a).url, "http://example.com/p1");
  EXPECT_EQ(reader.resolve(b).url, "http://example.com/p2");
  try {
    reader.resolve("0f1e2d3c-0000");
    ADD_FAILURE() << "a prefix of two captures resolved";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("capture id prefix '0f1e2d3c-0000' matches captures " + a +
                                         ", " + b + "; expected one that names a single capture"),
              std::string::npos)
        << e.what();
  }
}

// Record IDs other tools write: a URI that is not a UUID, a UUID in upper case. Each capture id
// is a UUID (a name-based one for the former, which is what the article's sidecar file is named
// after); the forms a person may paste find the capture too.
TEST(Importer, ForeignRecordIdsGiveUuidCaptureIdsAndNoPathOutsideTheArchive) {
  vellum::test::TempDir tmp("importer-ids");
  auto response = [](const std::string& id, const std::string& path) {
    return record({"WARC-Type: response", "WARC-Record-ID: " + id,
                   "WARC-Date: 2020-05-01T10:00:00Z", "WARC-Target-URI: http://example.com/" + path,
                   "Content-Type: application/http; msgtype=response"},
                  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><head><title>" + path +
                      "</title></head><body><article><h1>" + path + "</h1><p>" +
                      std::string(400, 'w') + " words of " + path +
                      ".</p></article></body></html>");
  };
  fs::path dir = import_warc(tmp.path(),
                             response("<urn:uuid:../../../escaped>", "p1") +
                                 response("<http://example.com/rec/1>", "p2") +
                                 response("<urn:uuid:0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9>", "p3"));
  // Without the check, articles/example.com/../../../escaped.json is tmp/escaped.json.
  EXPECT_FALSE(fs::exists(tmp.path() / "escaped.json"));
  std::vector<std::string> ids;
  for (const auto& e : fs::recursive_directory_iterator(tmp.path()))
    if (e.path().extension() == ".json") ids.push_back(e.path().stem().string());
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
                                           "8304c28c-4033-5efb-a897-1a2b42361e12",
                                           "84671b94-41c0-5f9f-9a98-361e3fef2695"}));
  archive::ArchiveReader reader(dir);
  EXPECT_EQ(reader.resolve("84671b94-41c0-5f9f-9a98-361e3fef2695").url, "http://example.com/p2");
  EXPECT_EQ(reader.resolve("<urn:uuid:0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9>").url,
            "http://example.com/p3");
  EXPECT_EQ(reader.resolve("urn:uuid:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9").url,
            "http://example.com/p3");
}

// A response recorded with interim responses before the final one (100 Continue, 103 Early
// Hints): the capture is the final response's (status, type, payload restored without the heads
// before it), and its payload digest checks whether the recording tool computed it over the
// final body or over everything after the first head.
TEST(Importer, InterimResponsesBeforeTheFinalOneAreNotThePayload) {
  vellum::test::TempDir tmp("importer-interim");
  const std::string first = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string rest =
      "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n";
  const std::string body = "<p>hello</p";
  const std::string block = first + rest + body;
  const std::string warc =
      record({"WARC-Type: response", "WARC-Record-ID: " + kA, "WARC-Date: 2020-05-01T10:00:00Z",
              "WARC-Target-URI: http://example.com/final",
              "WARC-Block-Digest: " + util::warc_sha1(block),
              "WARC-Payload-Digest: " + util::warc_sha1(body)},
             block) +
      record({"WARC-Type: response", "WARC-Record-ID: " + kB, "WARC-Date: 2020-05-01T10:00:01Z",
              "WARC-Target-URI: http://example.com/past-first",
              "WARC-Block-Digest: " + util::warc_sha1(block),
              "WARC-Payload-Digest: " + util::warc_sha1(rest + body)},
             block);
  archive::ImportReport report;
  const fs::path dir = import_warc(tmp.path(), warc, &report);
  EXPECT_EQ(report.captures, 2u);
  archive::ArchiveReader reader(dir);
  for (const char* url : {"http://example.com/final", "http://example.com/past-first"}) {
    const index::CaptureRow row = reader.resolve(url);
    EXPECT_EQ(row.status, 200) << url;
    EXPECT_EQ(row.mime, "text/html") << url;
    EXPECT_EQ(reader.payload(row).entity, body) << url;
  }
  const auto verified = archive::verify_archive(reader);
  EXPECT_TRUE(verified.ok()) << all_problems(verified);
}

// A record that comes again later in the same file is a duplicate whether or not the batch
// holding the first was stored in between.
TEST(Importer, ARecordRepeatedInTheSameFileIsImportedOnce) {
  vellum::test::TempDir tmp("importer-repeat");
  auto response = [](const std::string& id, const std::string& path) {
    const std::string block =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    return record({"WARC-Type: response", "WARC-Record-ID: " + id,
                   "WARC-Date: 2020-05-01T10:00:00Z", "WARC-Target-URI: http://example.com" + path},
                  block);
  };
  // Batches of two: A and B are stored as D is read; A comes again after them (found in the
  // index), and D again before its own batch is stored (found in the batch).
  const std::string warc = response(kA, "/a") + response(kB, "/b") + response(kD, "/d") +
                           response(kA, "/a") + response(kD, "/d");
  fs::path source = tmp / "repeat.warc";
  vellum::test::write_file(source, warc);
  archive::WriterOptions wo;
  wo.dir = tmp / "archive";
  auto writer = archive::ArchiveWriter::open(wo);
  archive::ImportOptions io;
  io.batch_captures = 2;
  const archive::ImportReport report = archive::Importer(*writer, io).import_file(source);
  writer->close();
  EXPECT_EQ(report.captures, 3u);
  EXPECT_EQ(report.duplicates, 2u);
  archive::ArchiveReader reader(tmp / "archive");
  EXPECT_EQ(reader.index().capture_count(), 3u);
}

// A whole file compressed as one gzip member (`gzip file.warc`) and cut short, as a download
// that stopped leaves it: the captures whole before the cut are imported, the torn one is named.
TEST(Importer, AWholeFileGzipMemberCutShortGivesTheCapturesBeforeTheCut) {
  vellum::test::TempDir tmp("importer-torn-member");
  auto response = [](const std::string& id, const std::string& path, const std::string& body) {
    const std::string block = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
    return record({"WARC-Type: response", "WARC-Record-ID: " + id,
                   "WARC-Date: 2020-05-01T10:00:00Z", "WARC-Target-URI: http://example.com" + path,
                   "WARC-Block-Digest: " + util::warc_sha1(block)},
                  block);
  };
  // C declares no block digest: nothing shows that it is whole.
  std::string undigested = response(kCReq, "/c", "third page");
  const auto field = undigested.find("WARC-Block-Digest");
  undigested.erase(field, undigested.find("\r\n", field) + 2 - field);
  const std::string plain = response(kA, "/a", "first page") + response(kB, "/b", "second page") +
                            undigested + response(kD, "/d", std::string(4000, 'x'));
  const std::string member =
      warc::RecordEncoder({warc::Compression::gzip, 6, nullptr, true}).encode(plain);
  fs::path source = tmp / "whole.warc.gz";
  vellum::test::write_file(source, member.substr(0, member.size() - 20));
  archive::WriterOptions wo;
  wo.dir = tmp / "archive";
  auto writer = archive::ArchiveWriter::open(wo);
  const archive::ImportReport report = archive::Importer(*writer, {}).import_file(source);
  writer->close();
  EXPECT_EQ(report.records, 3u);
  EXPECT_EQ(report.captures, 2u);
  EXPECT_EQ(report.refused, 1u);
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_NE(report.errors[0].find(kCReq + " of http://example.com/c: it lies in a gzip member or "
                                          "zstd frame of several records that is damaged"),
            std::string::npos)
      << report.errors[0];
  EXPECT_NE(report.errors[1].find("into a gzip member, expected the rest of it"), std::string::npos)
      << report.errors[1];
  EXPECT_NE(report.errors[1].find("the 3 records before it were read and their captures imported"),
            std::string::npos)
      << report.errors[1];
  archive::ArchiveReader reader(tmp / "archive");
  EXPECT_EQ(reader.payload(reader.resolve("http://example.com/a")).entity, "first page");
  EXPECT_EQ(reader.payload(reader.resolve("http://example.com/b")).entity, "second page");
  EXPECT_THROW(reader.resolve("http://example.com/c"), std::runtime_error);
  EXPECT_THROW(reader.resolve("http://example.com/d"), std::runtime_error);
  const auto verified = archive::verify_archive(reader);
  EXPECT_TRUE(verified.ok()) << all_problems(verified);
}
