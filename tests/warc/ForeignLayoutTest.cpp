// Files as other tools write them: whole-file gzip members, zstd frames without content size or
// checksum, records split over frames, extension frames, WARC/1.0.
#include <zlib.h>
#include <zstd.h>

#include "warc/WarcTestSupport.h"

namespace vellum::warc {
namespace {

using test::read_file;
using test::TempDir;
using test::write_file;
using namespace testing;

std::string gzip_member(const std::string& data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  return out;
}

// A streamed zstd frame: no content size, optionally no checksum.
std::string zstd_streamed(const std::string& data, bool checksum) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  std::string out;
  std::string buf(ZSTD_CStreamOutSize(), '\0');
  ZSTD_inBuffer ib{data.data(), data.size(), 0};
  std::size_t rc;
  do {
    ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
    rc = ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end);
    EXPECT_FALSE(ZSTD_isError(rc));
    out.append(buf.data(), ob.pos);
  } while (rc != 0);
  ZSTD_freeCCtx(cctx);
  EXPECT_EQ(ZSTD_getFrameContentSize(out.data(), out.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  return out;
}

std::string skippable_frame(std::uint32_t magic, const std::string& payload) {
  std::string out;
  for (std::uint32_t v : {magic, static_cast<std::uint32_t>(payload.size())})
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out + payload;
}

struct Expected {
  WarcRecord record;
  RecordLocation location;
};

void expect_file(const std::filesystem::path& path, const std::vector<Expected>& expected) {
  WarcReader reader(path);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    auto got = reader.next();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->serialize(), expected[i].record.serialize());
    EXPECT_EQ(reader.last_location().offset, expected[i].location.offset);
    EXPECT_EQ(reader.last_location().length, expected[i].location.length);
  }
  EXPECT_FALSE(reader.next());
  ScanResult scan = scan_valid_prefix(path);
  EXPECT_FALSE(scan.error) << *scan.error;
  EXPECT_EQ(scan.records, expected.size());
}

TEST(ForeignLayout, GzipMemberHoldingSeveralRecords) {
  TempDir dir("warc-foreign");
  auto records = sample_records(2);  // 5 records
  // One record, then three in one member (as `gzip file.warc` writes), then one.
  std::string a = gzip_member(records[0].serialize());
  std::string b =
      gzip_member(records[1].serialize() + records[2].serialize() + records[3].serialize());
  std::string c = gzip_member(records[4].serialize());
  auto path = dir / "multi.warc.gz";
  write_file(path, a + b + c);
  const RecordLocation la{0, a.size()}, lb{a.size(), b.size()}, lc{a.size() + b.size(), c.size()};
  expect_file(
      path,
      {{records[0], la}, {records[1], lb}, {records[2], lb}, {records[3], lb}, {records[4], lc}});
  EXPECT_EQ(read_record_at(path, la).serialize(), records[0].serialize());
  EXPECT_EQ(read_record_at(path, lc).serialize(), records[4].serialize());
  // A location cannot say which record inside the member is meant.
  EXPECT_THROW(read_record_at(path, lb), WarcFormatError);

  // A torn multi-record member: the records before it stay valid.
  auto torn = dir / "torn.warc.gz";
  write_file(torn, a + b.substr(0, b.size() - 10));
  ScanResult scan = scan_valid_prefix(torn);
  EXPECT_TRUE(scan.error);
  EXPECT_EQ(scan.valid_end, a.size());
}

TEST(ForeignLayout, WholeFileAsOneGzipMember) {
  TempDir dir("warc-foreign");
  auto records = sample_records(3);
  std::string all;
  for (const auto& r : records) all += r.serialize();
  std::string member = gzip_member(all);
  auto path = dir / "whole.warc.gz";
  write_file(path, member);
  std::vector<Expected> expected;
  for (const auto& r : records) expected.push_back({r, {0, member.size()}});
  expect_file(path, expected);
  EXPECT_EQ(scan_valid_prefix(path).valid_end, member.size());

  // Cut short inside its last record (a download that stopped): the records before the cut
  // still read whole, each known to be in a damaged unit, and the torn one is the error.
  auto torn = dir / "torn.warc.gz";
  write_file(torn, member.substr(0, member.size() - 10));
  WarcReader reader(torn);
  for (std::size_t i = 0; i + 1 < records.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    auto got = reader.next();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->serialize(), records[i].serialize());
    EXPECT_TRUE(reader.last_in_damaged_unit());
    EXPECT_EQ(reader.last_location().offset, 0u);
  }
  try {
    reader.next();
    ADD_FAILURE() << "the torn record read";
  } catch (const WarcFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("into a gzip member, expected the rest of it"),
              std::string::npos)
        << e.what();
  }
  // No record of the member ends a valid prefix: a writer recovering the file would cut it all.
  ScanResult scan = scan_valid_prefix(torn);
  EXPECT_TRUE(scan.error);
  EXPECT_EQ(scan.valid_end, 0u);
  EXPECT_EQ(scan.records, 0u);
}

// Looking past damage for the next intact record does not stop at a unit of several records
// that is cut short: its first record reads, but the unit is not whole.
TEST(ForeignLayout, ResynchronisingPassesOverATornMultiRecordMember) {
  TempDir dir("warc-foreign");
  auto records = sample_records(2);
  std::string bad = gzip_member(records[0].serialize());
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0xff);
  bad[bad.size() / 2 + 1] = static_cast<char>(bad[bad.size() / 2 + 1] ^ 0xff);
  const std::string torn =
      gzip_member(records[1].serialize() + records[2].serialize() + records[3].serialize());
  auto path = dir / "bad-then-torn.warc.gz";
  write_file(path, bad + torn.substr(0, torn.size() - 10));
  WarcReader reader(path);
  EXPECT_THROW(reader.next(), WarcFormatError);
  EXPECT_FALSE(reader.resynchronise());
}

// Salvaging a damaged record gives what decodes before the damage: a record of several zstd
// blocks damaged in its last one keeps the blocks before it.
TEST(ForeignLayout, SalvageKeepsWhatDecodesBeforeTheDamage) {
  TempDir dir("warc-foreign");
  std::string body;
  for (int i = 0; body.size() < 300'000; ++i)
    body += "<p>Paragraph " + std::to_string(i * 7919 % 100003) + " of a long page.</p>\n";
  const WarcRecord record = response_record("http://example.com/long", body, "text/html");
  const std::string serialized = record.serialize();
  std::string frame = RecordEncoder({Compression::zstd, 3, nullptr, true}).encode(serialized);
  const std::size_t at = frame.size() - frame.size() / 20;
  for (std::size_t i = at; i < at + 8; ++i) frame[i] = static_cast<char>(frame[i] ^ 0x5a);
  auto path = dir / "damaged.warc.zst";
  write_file(path, frame);
  std::string damage;
  const std::string got = salvage_record_bytes_at(path, {0, frame.size()}, damage);
  EXPECT_FALSE(damage.empty());
  ASSERT_GE(got.size(), std::size_t{128} << 10);
  EXPECT_EQ(got.substr(0, 128 << 10), serialized.substr(0, 128 << 10));
}

TEST(ForeignLayout, ZstdFramesWithoutContentSizeOrChecksumAndExtensionFrames) {
  TempDir dir("warc-foreign");
  auto records = sample_records(2);
  std::string data;
  std::vector<Expected> expected;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i == 2) data += skippable_frame(0x184D2A50, "an extension frame");
    if (i == 3) data += skippable_frame(0x184D2A5D, std::string(300, 'x'));  // not at the start
    std::string frame = zstd_streamed(records[i].serialize(), i % 2 == 0);
    expected.push_back({records[i], {data.size(), frame.size()}});
    data += frame;
  }
  data += skippable_frame(0x184D2A5F, "");  // trailing extension frame
  auto path = dir / "streamed.warc.zst";
  write_file(path, data);
  expect_file(path, expected);
  for (const auto& e : expected)
    EXPECT_EQ(read_record_at(path, e.location).serialize(), e.record.serialize());
}

TEST(ForeignLayout, RecordSplitOverSeveralZstdFrames) {
  TempDir dir("warc-foreign");
  auto records = sample_records(1);
  std::string big = records[2].serialize();
  std::string first = zstd_streamed(records[0].serialize(), true);
  std::string split = zstd_streamed(big.substr(0, 100), true) +
                      zstd_streamed(big.substr(100, 3000), true) +
                      zstd_streamed(big.substr(3100), true);
  std::string last = zstd_streamed(records[1].serialize(), true);
  auto path = dir / "split.warc.zst";
  write_file(path, first + split + last);
  expect_file(path, {{records[0], {0, first.size()}},
                     {records[2], {first.size(), split.size()}},
                     {records[1], {first.size() + split.size(), last.size()}}});
  EXPECT_EQ(read_record_at(path, {first.size(), split.size()}).serialize(), big);
}

TEST(ForeignLayout, Warc10WithFieldNamesInAnyCase) {
  TempDir dir("warc-foreign");
  std::string a =
      "WARC/1.0\r\nwarc-type: response\r\nWARC-TARGET-URI: http://example.com/\r\n"
      "content-length: 4\r\n\r\nbody\r\n\r\n";
  std::string b = "WARC/1.1\r\nWARC-Type: metadata\r\nContent-Length: 0\r\n\r\n\r\n\r\n";
  auto path = dir / "old.warc";
  write_file(path, a + b);
  WarcReader reader(path);
  auto r = reader.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->version, "WARC/1.0");
  EXPECT_EQ(r->type(), "response");
  EXPECT_EQ(r->field_or("WARC-Target-URI"), "http://example.com/");
  EXPECT_EQ(r->block, "body");
  EXPECT_EQ(r->serialize(), a);  // written back byte for byte
  auto m = reader.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->block, "");
  EXPECT_EQ(reader.last_location().offset, a.size());
  EXPECT_EQ(reader.last_location().length, b.size());
  EXPECT_FALSE(reader.next());
}

}  // namespace
}  // namespace vellum::warc
