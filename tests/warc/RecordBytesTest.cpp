// read_record_bytes_at: a record's bytes exactly as written, for copying records unchanged
// (`vellum export`), from plain, gzip and zstd files, with or without a dictionary.
#include "warc/WarcTestSupport.h"

namespace vellum::warc {
namespace {

using test::TempDir;
using test::write_file;
using namespace testing;

void expect_bytes_as_written(const WrittenFile& w, const std::vector<WarcRecord>& records) {
  ASSERT_EQ(w.locations.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(read_record_bytes_at(w.path, w.locations[i]) == records[i].serialize());
  }
}

TEST(RecordBytes, EveryCompressionGivesTheRecordAsWritten) {
  TempDir dir("record-bytes");
  auto records = sample_records(3);
  records.push_back(response_record("http://example.com/large.bin", binary_bytes(6 << 20, 5)));
  EncoderOptions plain, gz, zst, zdict;
  plain.compression = Compression::none;
  gz.compression = Compression::gzip;
  zdict.dictionary = std::make_shared<const ZstdDictionary>(trained_dictionary());
  expect_bytes_as_written(write_warc(dir / "a.warc", plain, records), records);
  expect_bytes_as_written(write_warc(dir / "a.warc.gz", gz, records), records);
  expect_bytes_as_written(write_warc(dir / "a.warc.zst", zst, records), records);
  expect_bytes_as_written(write_warc(dir / "b.warc.zst", zdict, records), records);
}

TEST(RecordBytes, ForeignLayoutIsKeptByteForByte) {
  // Another tool's spacing: re-serialising the parsed record would change these bytes.
  TempDir dir("record-bytes");
  const std::string block = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  const std::string record =
      "WARC/1.0\r\nWARC-Type:   response\r\nContent-Length: " + std::to_string(block.size()) +
      "\r\nWARC-Target-URI: http://example.com/\r\n\r\n" + block + "\r\n\r\n";
  write_file(dir / "foreign.warc", record);
  RecordLocation loc{0, record.size()};
  EXPECT_TRUE(read_record_bytes_at(dir / "foreign.warc", loc) == record);
  EXPECT_NE(read_record_at(dir / "foreign.warc", loc).serialize(), record);
}

TEST(RecordBytes, RangeMustHoldExactlyOneRecord) {
  TempDir dir("record-bytes");
  auto records = sample_records(2);
  EncoderOptions gz;
  gz.compression = Compression::gzip;
  WrittenFile w = write_warc(dir / "two.warc.gz", gz, records);
  RecordLocation both{w.locations[1].offset, w.locations[1].length + w.locations[2].length};
  EXPECT_THROW(read_record_bytes_at(w.path, both), WarcFormatError);
  RecordLocation cut{w.locations[1].offset, w.locations[1].length - 1};
  EXPECT_THROW(read_record_bytes_at(w.path, cut), WarcFormatError);
  RecordLocation past{w.locations[2].offset, w.locations[2].length + 1000000};
  EXPECT_THROW(read_record_bytes_at(w.path, past), WarcFormatError);
}

}  // namespace
}  // namespace vellum::warc
