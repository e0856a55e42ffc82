// Files written here read correctly with other tools: the zstd command line and warcio.js.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/Tools.h"
#include "warc/WarcTestSupport.h"

namespace vellum::warc {
namespace {

using test::on_path;
using test::read_file;
using test::TempDir;
using test::write_file;
using namespace testing;

std::uint32_t le32(const std::string& s, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

// Decompresses a .warc.zst with the zstd command line alone, the way the WARC-zstd proposal
// describes: the dictionary comes out of the skippable frame at the start of the file.
void check_with_zstd_cli(const TempDir& dir, const WrittenFile& w, bool expect_dictionary) {
  ASSERT_TRUE(on_path("zstd")) << "the zstd command line tool is needed for this test";
  std::string data = read_file(w.path);
  std::string dict_option;
  if (expect_dictionary) {
    ASSERT_EQ(le32(data, 0), kZstdDictionaryFrameMagic);
    std::string payload = data.substr(8, le32(data, 4));
    auto dict = dir / "extracted.dict";
    if (le32(payload, 0) == kZstdFrameMagic) {
      write_file(dir / "extracted.dict.zst", payload);
      auto [rc, out] =
          run_command("zstd -d -q -f " + shell_quote((dir / "extracted.dict.zst").string()) +
                      " -o " + shell_quote(dict.string()) + " 2>&1");
      ASSERT_EQ(rc, 0) << out;
    } else {
      write_file(dict, payload);
    }
    dict_option = " -D " + shell_quote(dict.string());

    // The records alone, without the dictionary frame.
    auto rest = dir / "rest.warc.zst";
    write_file(rest, data.substr(8 + payload.size()));
    auto [rc, out] = run_command("zstd -d -q -c" + dict_option + " " + shell_quote(rest.string()));
    ASSERT_EQ(rc, 0);
    EXPECT_TRUE(out == w.serialized) << "zstd -d of the records gave " << out.size()
                                     << " bytes, expected " << w.serialized.size();
  } else {
    ASSERT_EQ(le32(data, 0), kZstdFrameMagic);
  }
  // The whole file: zstd skips the dictionary frame as it skips any skippable frame.
  auto [rc, out] = run_command("zstd -d -q -c" + dict_option + " " + shell_quote(w.path.string()));
  ASSERT_EQ(rc, 0);
  EXPECT_TRUE(out == w.serialized)
      << "zstd -d of the file gave " << out.size() << " bytes, expected " << w.serialized.size();
  // And zstd's own integrity check passes.
  EXPECT_EQ(
      run_command("zstd -t -q" + dict_option + " " + shell_quote(w.path.string()) + " 2>&1").first,
      0);
}

TEST(Interop, ZstdCliDecompressesFileWithoutDictionary) {
  TempDir dir("warc-interop");
  EncoderOptions o;
  WrittenFile w = write_warc(dir / "plain.warc.zst", o, sample_records(3));
  check_with_zstd_cli(dir, w, false);
}

TEST(Interop, ZstdCliDecompressesFileWithCompressedDictionary) {
  TempDir dir("warc-interop");
  EncoderOptions o;
  o.dictionary = std::make_shared<const ZstdDictionary>(trained_dictionary());
  o.compress_dictionary = true;
  WrittenFile w = write_warc(dir / "zdict.warc.zst", o, sample_records(3));
  check_with_zstd_cli(dir, w, true);
}

TEST(Interop, ZstdCliDecompressesFileWithRawDictionary) {
  TempDir dir("warc-interop");
  EncoderOptions o;
  o.dictionary = std::make_shared<const ZstdDictionary>(trained_dictionary());
  o.compress_dictionary = false;
  WrittenFile w = write_warc(dir / "rawdict.warc.zst", o, sample_records(3));
  check_with_zstd_cli(dir, w, true);
}

std::vector<nlohmann::json> warcio_cdx(const std::filesystem::path& file) {
  std::string error;
  auto rows = test::warcio_cdx(file, &error);
  EXPECT_EQ(error, "");
  return rows;
}

std::uint64_t as_number(const nlohmann::json& v) {
  return v.is_string() ? std::stoull(v.get<std::string>()) : v.get<std::uint64_t>();
}

// Every response written appears in warcio's index at the offset it was written at.
void expect_indexed(const std::vector<nlohmann::json>& rows, const std::vector<WarcRecord>& records,
                    const std::vector<RecordLocation>& locations, bool compare_length) {
  std::size_t responses = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (records[i].type() != "response") continue;
    ++responses;
    const std::string url = records[i].field_or("WARC-Target-URI");
    SCOPED_TRACE(url);
    auto it = std::find_if(rows.begin(), rows.end(),
                           [&](const nlohmann::json& row) { return row.value("url", "") == url; });
    ASSERT_NE(it, rows.end()) << "warcio did not index " << url;
    EXPECT_EQ(as_number((*it)["offset"]), locations[i].offset);
    if (compare_length) {
      EXPECT_EQ(as_number((*it)["length"]), locations[i].length);
    }
    EXPECT_EQ(as_number((*it)["status"]), 200u);
    // warcio reports the WARC-Payload-Digest written, with or without its "sha1:" prefix.
    ASSERT_TRUE(it->contains("digest"));
    std::string digest = (*it)["digest"].get<std::string>();
    EXPECT_FALSE(digest.empty());
    EXPECT_TRUE(records[i].field_or("WARC-Payload-Digest").ends_with(digest)) << digest;
  }
  EXPECT_EQ(rows.size(), responses);
}

TEST(Interop, WarcioIndexesGzipAndDecompressedZstdFiles) {
  if (!on_path("node")) GTEST_SKIP() << "node is not on PATH: warcio.js cannot run";
  ASSERT_EQ(test::install_warcio(), "");

  TempDir dir("warc-interop");
  auto records = sample_records(4);
  records.push_back(response_record("http://example.com/large.bin", binary_bytes(2 << 20, 3)));

  EncoderOptions gz;
  gz.compression = Compression::gzip;
  WrittenFile g = write_warc(dir / "crawl.warc.gz", gz, records);
  expect_indexed(warcio_cdx(g.path), records, g.locations, true);

  EncoderOptions zst;
  zst.dictionary = std::make_shared<const ZstdDictionary>(trained_dictionary());
  WrittenFile z = write_warc(dir / "crawl.warc.zst", zst, records);
  ASSERT_TRUE(on_path("zstd")) << "the zstd command line tool is needed for this test";
  auto payload = read_file(z.path).substr(8, z.preamble.size() - 8);
  write_file(dir / "dict.zst", payload);
  auto plain = dir / "crawl.warc";
  auto [rc, out] =
      run_command("zstd -d -q -f " + shell_quote((dir / "dict.zst").string()) + " -o " +
                  shell_quote((dir / "dict").string()) + " && zstd -d -q -f -D " +
                  shell_quote((dir / "dict").string()) + " " + shell_quote(z.path.string()) +
                  " -o " + shell_quote(plain.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  // In the decompressed file records lie at the sums of their serialized sizes.
  std::vector<RecordLocation> plain_locations;
  std::uint64_t at = 0;
  for (const auto& r : records) {
    std::uint64_t n = r.serialize().size();
    plain_locations.push_back({at, n});
    at += n;
  }
  expect_indexed(warcio_cdx(plain), records, plain_locations, false);
}

}  // namespace
}  // namespace vellum::warc
