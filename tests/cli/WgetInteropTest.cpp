// A .warc.gz written by `wget --warc-file` is read by Vellum's reader: every record, digests
// recomputed, bodies equal to what nginx served.
#include <gtest/gtest.h>

#include <map>

#include "support/Corpus.h"
#include "support/Nginx.h"
#include "support/TempDir.h"
#include "support/Tools.h"
#include "util/Digest.h"
#include "warc/HttpMessage.h"
#include "warc/WarcReader.h"

using namespace vellum;
using namespace vellum::test;

TEST(WgetInterop, OurReaderReadsWgetWarcGz) {
  if (!Nginx::available()) GTEST_SKIP() << "nginx is not installed";
  ASSERT_TRUE(on_path("wget")) << "wget is needed for this test";
  TempDir site("site");
  auto pages = build_corpus_site(site.path());
  Nginx nginx(site.path());
  TempDir out("wget");
  std::string cmd = "cd '" + out.path().string() + "' && wget -q --warc-file=peer -O /dev/null";
  std::map<std::string, std::string> served;
  for (std::size_t i = 0; i < 12; ++i) {
    std::string url = nginx.url(pages[i * 7].path);
    cmd += " '" + url + "'";
    served[url] = read_file(pages[i * 7].file);
  }
  auto [rc, log] = shell(cmd + " 2>&1");
  ASSERT_EQ(rc, 0) << log;

  warc::WarcReader reader(out / "peer.warc.gz");
  EXPECT_EQ(reader.compression(), warc::Compression::gzip);
  std::map<std::string, std::string> bodies;
  int records = 0;
  while (auto rec = reader.next()) {
    ++records;
    if (const std::string* bd = rec->field("WARC-Block-Digest"); bd && bd->starts_with("sha1:")) {
      EXPECT_EQ(util::warc_sha1(rec->block), *bd) << rec->type();
    }
    if (rec->type() != "response") continue;
    auto head = warc::parse_http_head(rec->block);
    ASSERT_TRUE(head);
    auto payload = warc::http_payload(rec->block, *head);
    EXPECT_EQ(util::warc_sha1(payload.bytes), rec->field_or("WARC-Payload-Digest"));
    // Each record can also be read alone from the location the reader reported.
    auto again = warc::read_record_at(out / "peer.warc.gz", reader.last_location());
    EXPECT_EQ(again.record_id(), rec->record_id());
    std::string uri = rec->field_or("WARC-Target-URI");
    if (uri.starts_with("<")) uri = uri.substr(1, uri.size() - 2);  // WARC/1.0 style
    bodies[uri] = payload.bytes;
  }
  EXPECT_GE(records, 25);  // warcinfo, 12 request/response pairs, wget's own metadata
  for (const auto& [url, body] : served) {
    ASSERT_TRUE(bodies.count(url)) << url;
    EXPECT_EQ(bodies[url], body) << url;
  }
}
