// HTTP heads, chunked transfer coding and payload digests of archived exchanges.
#include <gtest/gtest.h>

#include "util/Digest.h"
#include "warc/HttpMessage.h"

namespace vellum::warc {
namespace {

TEST(Digest, WarcSha1OfKnownValues) {
  // SHA-1("") = da39a3ee5e6b4b0d3255bfef95601890afd80709
  EXPECT_EQ(util::warc_sha1(""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
  // SHA-1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d
  EXPECT_EQ(util::warc_sha1("abc"), "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
}

TEST(HttpHead, ParsesAResponseWithCrlf) {
  std::string block =
      "HTTP/1.1 200 OK\r\nContent-Type: Text/HTML; Charset=\"UTF-8\"\r\nX-Long: a\r\n  b\r\n"
      "set-cookie: x=1\r\nSet-Cookie: y=2\r\n\r\n<html>";
  auto head = parse_http_head(block);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->start_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(head->http_version, "1.1");
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->reason, "OK");
  EXPECT_EQ(head->head_length, block.size() - 6);
  EXPECT_EQ(head->media_type(), "text/html");
  EXPECT_EQ(head->charset(), "utf-8");
  ASSERT_TRUE(head->header("content-type"));
  EXPECT_EQ(*head->header("X-LONG"), "a b");
  EXPECT_EQ(*head->header("Set-Cookie"), "x=1");  // first match
  EXPECT_EQ(head->headers.size(), 4u);
  EXPECT_EQ(head->headers[2].first, "set-cookie");  // names as written
  EXPECT_EQ(head->header("Location"), nullptr);
}

TEST(HttpHead, ParsesBareLfHttp2AndRequests) {
  const std::string lf_block = "HTTP/1.0 404 Not Found\nContent-Type: text/plain\n\nmissing";
  auto lf = parse_http_head(lf_block);
  ASSERT_TRUE(lf);
  EXPECT_EQ(lf->status, 404);
  EXPECT_EQ(lf->reason, "Not Found");
  EXPECT_EQ(lf->head_length, lf_block.find("missing"));
  EXPECT_EQ(lf->charset(), "");

  auto h2 = parse_http_head("HTTP/2 200\r\ncontent-type: image/png\r\n\r\n");
  ASSERT_TRUE(h2);
  EXPECT_EQ(h2->http_version, "2");
  EXPECT_EQ(h2->status, 200);
  EXPECT_EQ(h2->reason, "");
  EXPECT_EQ(h2->media_type(), "image/png");

  auto req = parse_http_head("GET /a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n");
  ASSERT_TRUE(req);
  EXPECT_EQ(req->status, 0);
  EXPECT_EQ(req->http_version, "1.1");
  EXPECT_EQ(*req->header("host"), "example.com");
}

TEST(HttpHead, RejectsWhatIsNotAHead) {
  for (const char* bad :
       {"HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/x 200 OK\r\n\r\n",
        "HTTP/1.1\r\n\r\n", "HTTP/1.1 2000\r\n\r\n", "<html>\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", "", "GET /\r\n\r\n"})
    EXPECT_FALSE(parse_http_head(bad)) << bad;
}

// Status lines libcurl accepts, and so stores, read as well: any case of "HTTP", more than one
// space or a tab around the code, no space before the reason.
TEST(HttpHead, ReadsStatusLinesAsLenientlyAsClients) {
  const std::pair<const char*, std::string> cases[] = {
      {"HTTP/1.1 200OK\r\n\r\n", "OK"},      {"HTTP/1.1  200 OK\r\n\r\n", "OK"},
      {"HTTP/1.1 200\tOK\r\n\r\n", "OK"},    {"Http/1.1 200 OK\r\n\r\n", "OK"},
      {"http/1.0 200 Fine\r\n\r\n", "Fine"}, {"HTTP/1.1\t200\r\n\r\n", ""}};
  for (const auto& [line, reason] : cases) {
    auto h = parse_http_head(line);
    ASSERT_TRUE(h) << line;
    EXPECT_EQ(h->status, 200) << line;
    EXPECT_EQ(h->reason, reason) << line;
  }
}

const std::string kChunked =
    "4;name=value\r\nWiki\r\n"
    "6 ; ext=\"quoted\"\r\npedia \r\n"
    "E\r\nin \r\n\r\nchunks.\r\n"
    "0\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n";
const std::string kDechunked = "Wikipedia in \r\n\r\nchunks.";

// Interim responses recorded before the final one (RFC 9110, 15.2): the head is the final
// response's and spans them; 101 is final; a 1xx with nothing after it is the response.
TEST(HttpHead, InterimResponsesComeBeforeTheFinalOne) {
  const std::string interim =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; "
      "rel=preload\r\n\r\n";
  const std::string final_head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
  const std::string block = interim + final_head + "<p>body";
  auto head = parse_http_head(block);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->media_type(), "text/html");
  EXPECT_EQ(head->header("Link"), nullptr) << "the interim response's fields are not the final's";
  EXPECT_EQ(head->head_length, interim.size() + final_head.size());
  EXPECT_EQ(head->interim_length, interim.size());
  const std::string body = block.substr(head->head_length);
  EXPECT_EQ(body, "<p>body");
  EXPECT_EQ(http_payload(block, *head).bytes, "<p>body");

  // The payload digest of the final body, or, as a tool reading the first head as the response
  // computes it, of everything after that head; not of anything else.
  EXPECT_EQ(payload_digest_matches(body, *head, util::warc_sha1("<p>body")), true);
  const std::string past_first = block.substr(std::string("HTTP/1.1 100 Continue\r\n\r\n").size());
  EXPECT_EQ(payload_digest_matches(body, *head, util::warc_sha1(past_first)), true);
  EXPECT_EQ(payload_digest_matches(body, *head, util::warc_sha1(block)), false);

  auto upgrade = parse_http_head(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
      "HTTP/1.1 200 OK\r\n\r\n");
  ASSERT_TRUE(upgrade);
  EXPECT_EQ(upgrade->status, 101);
  EXPECT_EQ(upgrade->interim_length, 0u);

  auto alone = parse_http_head("HTTP/1.1 100 Continue\r\n\r\nnot a response");
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->status, 100);
  EXPECT_EQ(alone->head_length, 25u);
  EXPECT_EQ(alone->interim_length, 0u);

  auto plain = parse_http_head(final_head + "x");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->interim_length, 0u);
  EXPECT_EQ(payload_digest_matches("x", *plain, util::warc_sha1("y")), false);
}

TEST(Chunked, DechunkHandlesExtensionsAndTrailers) {
  Payload p = dechunk(kChunked);
  EXPECT_TRUE(p.complete);
  EXPECT_EQ(p.bytes, kDechunked);

  Payload lf = dechunk("3\nabc\n0\n\n");
  EXPECT_TRUE(lf.complete);
  EXPECT_EQ(lf.bytes, "abc");
}

TEST(Chunked, TruncatedOrMalformedKeepsWhatDecodedCleanly) {
  Payload cut = dechunk(kChunked.substr(0, 53));  // inside the third chunk
  EXPECT_FALSE(cut.complete);
  EXPECT_EQ(cut.bytes, "Wikipedia in \r");
  Payload no_end = dechunk("3\r\nabc\r\n");
  EXPECT_FALSE(no_end.complete);
  EXPECT_EQ(no_end.bytes, "abc");
  Payload bad_size = dechunk("3\r\nabc\r\nzz\r\nmore\r\n0\r\n\r\n");
  EXPECT_FALSE(bad_size.complete);
  EXPECT_EQ(bad_size.bytes, "abc");
  Payload no_crlf = dechunk("3\r\nabcX\r\n0\r\n\r\n");
  EXPECT_FALSE(no_crlf.complete);
  EXPECT_EQ(no_crlf.bytes, "abc");
}

TEST(Chunked, HttpPayloadRemovesChunkingOnlyWhenItIsTheLastCoding) {
  std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string block = head + kChunked;
  auto h = parse_http_head(block);
  ASSERT_TRUE(h);
  Payload p = http_payload(block, *h);
  EXPECT_TRUE(p.complete);
  EXPECT_EQ(p.bytes, kDechunked);
  // The payload digest of a chunked response is that of the entity body.
  EXPECT_EQ(util::warc_sha1(p.bytes), util::warc_sha1(kDechunked));
  EXPECT_NE(util::warc_sha1(p.bytes), util::warc_sha1(kChunked));

  std::string gzip_chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n" + kChunked;
  EXPECT_EQ(http_payload(gzip_chunked, *parse_http_head(gzip_chunked)).bytes, kDechunked);
  std::string split =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n" + kChunked;
  EXPECT_EQ(http_payload(split, *parse_http_head(split)).bytes, kDechunked);

  std::string chunked_gzip =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" + kChunked;
  EXPECT_EQ(http_payload(chunked_gzip, *parse_http_head(chunked_gzip)).bytes, kChunked);
  std::string plain = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n0\r\n\r\n";
  Payload untouched = http_payload(plain, *parse_http_head(plain));
  EXPECT_TRUE(untouched.complete);
  EXPECT_EQ(untouched.bytes, "0\r\n\r\n");
}

}  // namespace
}  // namespace vellum::warc

namespace vellum::warc {
namespace {

// Chunked framing is read as libcurl reads it, and a digest says whether it covered the whole
// entity: a body whose framing ends early is never taken for an unchanged page.
TEST(HttpMessage, ChunkedFramingAsLibcurlReadsIt) {
  const std::string msg =
      "000000000000000B;ext=1\r\nhello world\r\r\n5 junk\r\n!!!!!\r\n0\r\nX: y\r\n\r\n";
  EXPECT_EQ(chunked_length(msg + "after"), msg.size());
  Payload p = dechunk(msg);
  EXPECT_TRUE(p.complete);
  EXPECT_EQ(p.bytes, "hello world!!!!!");
  EXPECT_FALSE(chunked_length("00000000000000000B\r\nhello world\r\n0\r\n\r\n"));  // 18 digits
  auto head = parse_http_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(head);
  bool whole = false;
  EXPECT_EQ(payload_digest(msg, *head, &whole), util::warc_sha1("hello world!!!!!"));
  EXPECT_TRUE(whole);
  payload_digest(msg.substr(0, 20), *head, &whole);
  EXPECT_FALSE(whole);
}

TEST(HttpMessage, RepeatedFieldLinesCombine) {
  auto head = parse_http_head(
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nX: 1\r\ncontent-encoding: br\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->combined("Content-Encoding"), "gzip, br");
  EXPECT_EQ(head->combined("Missing"), "");
}

}  // namespace
}  // namespace vellum::warc
