// The bytes on disk follow the WARC, gzip-per-record and WARC-zstd layouts exactly.
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader
#include <zlib.h>
#include <zstd.h>

#include "warc/WarcTestSupport.h"

namespace vellum::warc {
namespace {

using test::read_file;
using test::TempDir;
using namespace testing;

std::uint32_t le32(const std::string& s, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3])) << 24;
}

void expect_zstd_frames(const std::string& data, const WrittenFile& w,
                        const std::vector<WarcRecord>& records, unsigned dict_id) {
  std::uint64_t expected_offset = w.preamble.size();
  for (std::size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    const RecordLocation& loc = w.locations[i];
    EXPECT_EQ(loc.offset, expected_offset);  // records follow each other without gaps
    const char* frame = data.data() + loc.offset;
    EXPECT_EQ(le32(data, loc.offset), kZstdFrameMagic);
    // Exactly one frame per record.
    EXPECT_EQ(ZSTD_findFrameCompressedSize(frame, data.size() - loc.offset), loc.length);
    ZSTD_frameHeader fh{};
    ASSERT_EQ(ZSTD_getFrameHeader(&fh, frame, loc.length), 0u);
    EXPECT_EQ(fh.frameType, ZSTD_frame);
    EXPECT_EQ(fh.frameContentSize, records[i].serialize().size());
    EXPECT_EQ(fh.checksumFlag, 1u);
    EXPECT_EQ(fh.dictID, dict_id);
    expected_offset += loc.length;
  }
  EXPECT_EQ(expected_offset, data.size());
}

TEST(Framing, ZstdRecordIsOneFrameWithContentSizeAndChecksum) {
  TempDir dir("warc-frame");
  auto records = sample_records(3);
  EncoderOptions o;
  o.compression = Compression::zstd;
  WrittenFile w = write_warc(dir / "a.warc.zst", o, records);
  std::string data = read_file(w.path);
  EXPECT_TRUE(w.preamble.empty());
  ASSERT_GE(data.size(), 4u);
  EXPECT_EQ(data.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));  // no preamble: a frame
  expect_zstd_frames(data, w, records, 0);
  // Decompressing the whole file with plain libzstd gives the records back, concatenated.
  std::string out(w.serialized.size() + 16, '\0');
  std::size_t n = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  out.resize(n);
  EXPECT_TRUE(out == w.serialized);
}

void check_dictionary_file(bool compressed) {
  TempDir dir("warc-frame");
  auto dict = std::make_shared<const ZstdDictionary>(trained_dictionary());
  auto records = sample_records(3);
  EncoderOptions o;
  o.dictionary = dict;
  o.compress_dictionary = compressed;
  WrittenFile w = write_warc(dir / "d.warc.zst", o, records);
  std::string data = read_file(w.path);

  // Skippable frame 0x184D2A5D, little-endian, then the payload length.
  EXPECT_EQ(data.substr(0, 4), std::string("\x5d\x2a\x4d\x18", 4));
  std::uint32_t size = le32(data, 4);
  ASSERT_EQ(w.preamble.size(), 8u + size);
  EXPECT_EQ(data.substr(0, w.preamble.size()), w.preamble);
  std::string payload = data.substr(8, size);
  std::string raw;
  if (compressed) {
    ASSERT_EQ(le32(payload, 0), kZstdFrameMagic);
    ZSTD_frameHeader fh{};
    ASSERT_EQ(ZSTD_getFrameHeader(&fh, payload.data(), payload.size()), 0u);
    EXPECT_EQ(fh.frameContentSize, dict->bytes().size());
    EXPECT_EQ(fh.checksumFlag, 1u);
    EXPECT_EQ(fh.dictID, 0u);  // the dictionary itself is compressed without one
    EXPECT_EQ(ZSTD_findFrameCompressedSize(payload.data(), payload.size()), payload.size());
    raw.resize(dict->bytes().size());
    std::size_t n = ZSTD_decompress(raw.data(), raw.size(), payload.data(), payload.size());
    ASSERT_FALSE(ZSTD_isError(n));
    raw.resize(n);
  } else {
    raw = payload;
  }
  EXPECT_EQ(raw, dict->bytes());
  EXPECT_EQ(le32(raw, 0), 0xEC30A437u);  // a formatted zstd dictionary
  expect_zstd_frames(data, w, records, dict->id());
}

TEST(Framing, DictionaryFrameHoldsTheRawDictionary) {
  check_dictionary_file(false);
}
TEST(Framing, DictionaryFrameHoldsTheDictionaryAsOneZstdFrame) {
  check_dictionary_file(true);
}

TEST(Framing, GzipRecordIsOneMember) {
  TempDir dir("warc-frame");
  auto records = sample_records(3);
  EncoderOptions o;
  o.compression = Compression::gzip;
  WrittenFile w = write_warc(dir / "a.warc.gz", o, records);
  std::string data = read_file(w.path);
  std::uint64_t expected_offset = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    const RecordLocation& loc = w.locations[i];
    EXPECT_EQ(loc.offset, expected_offset);
    EXPECT_EQ(data.substr(loc.offset, 3), std::string("\x1f\x8b\x08", 3));  // gzip, deflate
    // The member's trailer: ISIZE is the record's serialized length.
    EXPECT_EQ(le32(data, loc.offset + loc.length - 4), records[i].serialize().size());
    // Inflating exactly the member gives exactly the record.
    z_stream zs{};
    ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
    std::string out(records[i].serialize().size() + 1, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(data.data() + loc.offset);
    zs.avail_in = static_cast<uInt>(loc.length);
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
    EXPECT_EQ(zs.avail_in, 0u);
    out.resize(out.size() - zs.avail_out);
    inflateEnd(&zs);
    EXPECT_EQ(out, records[i].serialize());
    expected_offset += loc.length;
  }
  EXPECT_EQ(expected_offset, data.size());
}

TEST(Framing, GzipLevelIsUsed) {
  auto record = response_record("http://example.com/", std::string(200000, 'a') + "b");
  std::string serialized = record.serialize();
  EncoderOptions fast;
  fast.compression = Compression::gzip;
  fast.level = 1;
  EncoderOptions best = fast;
  best.level = 9;
  std::string a = RecordEncoder(fast).encode(serialized);
  std::string b = RecordEncoder(best).encode(serialized);
  EXPECT_EQ(static_cast<unsigned char>(a[8]), 4u);  // XFL: fastest
  EXPECT_EQ(static_cast<unsigned char>(b[8]), 2u);  // XFL: maximum compression
  EXPECT_LT(b.size(), a.size());
  best.level = 42;  // clamped to 9
  EXPECT_EQ(RecordEncoder(best).encode(serialized), b);
}

TEST(Framing, PlainRecordLayout) {
  TempDir dir("warc-frame");
  auto records = sample_records(1);
  EncoderOptions o;
  o.compression = Compression::none;
  WrittenFile w = write_warc(dir / "a.warc", o, records);
  std::string data = read_file(w.path);
  EXPECT_EQ(data, w.serialized);
  const WarcRecord& r = records[0];
  std::string header = r.serialize_header();
  EXPECT_TRUE(header.starts_with("WARC/1.1\r\nWARC-Type: warcinfo\r\n"));
  EXPECT_TRUE(
      header.ends_with("\r\nContent-Length: " + std::to_string(r.block.size()) + "\r\n\r\n"));
  EXPECT_EQ(data.substr(0, w.locations[1].offset), header + r.block + "\r\n\r\n");
}

}  // namespace
}  // namespace vellum::warc
