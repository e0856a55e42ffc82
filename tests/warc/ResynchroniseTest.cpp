// WarcReader::resynchronise: after damage in a compressed file, reading goes on at the next
// gzip member or zstd frame that holds a whole record; plain files are not searched.
#include "warc/WarcTestSupport.h"

using namespace vellum::warc;
using namespace vellum::warc::testing;
using vellum::test::read_file;
using vellum::test::TempDir;
using vellum::test::write_file;

namespace {

struct Case {
  const char* name;
  Compression compression;
  bool dictionary;
};

class Resynchronise : public ::testing::TestWithParam<Case> {
 protected:
  EncoderOptions options() const {
    EncoderOptions o;
    o.compression = GetParam().compression;
    if (GetParam().dictionary)
      o.dictionary = std::make_shared<ZstdDictionary>(trained_dictionary());
    return o;
  }
};

}  // namespace

TEST_P(Resynchronise, GoesOnAtTheNextIntactRecord) {
  TempDir dir("warc-resync");
  auto records = sample_records(3);  // warcinfo, then three request/response pairs
  WrittenFile w = write_warc(dir / ("ok" + std::string(file_extension(GetParam().compression))),
                             options(), records);
  std::string data = read_file(w.path);
  const RecordLocation damaged = w.locations[3];
  data[damaged.offset + damaged.length / 2] ^= 0x11;
  // Bytes between two units that belong to no record.
  const RecordLocation before_last = w.locations[5];
  const std::uint64_t junk_at = before_last.offset + before_last.length;
  data.insert(junk_at, std::string(40, '\x28'));
  auto f = dir / ("damaged" + std::string(file_extension(GetParam().compression)));
  write_file(f, data);

  WarcReader reader(f);
  for (int i = 0; i < 3; ++i) {
    auto rec = reader.next();
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->record_id(), records[i].record_id());
  }
  try {
    reader.next();
    FAIL() << "the damaged record must not read";
  } catch (const WarcFormatError& e) {
    EXPECT_EQ(e.offset(), damaged.offset);
  }
  auto resumed = reader.resynchronise();
  ASSERT_TRUE(resumed);
  EXPECT_EQ(*resumed, w.locations[4].offset);
  auto rec = reader.next();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->record_id(), records[4].record_id());
  EXPECT_EQ(reader.last_location().offset, w.locations[4].offset);
  rec = reader.next();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->record_id(), records[5].record_id());

  // The junk before the last record.
  EXPECT_THROW(reader.next(), WarcFormatError);
  resumed = reader.resynchronise();
  ASSERT_TRUE(resumed);
  EXPECT_EQ(*resumed, junk_at + 40);
  rec = reader.next();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->record_id(), records[6].record_id());
  EXPECT_EQ(rec->block, records[6].block);
  EXPECT_FALSE(reader.next());
}

TEST_P(Resynchronise, NothingIntactAfterATruncatedLastRecord) {
  TempDir dir("warc-resync");
  auto records = sample_records(2);
  WrittenFile w = write_warc(dir / "ok", options(), records);
  std::string data = read_file(w.path);
  const RecordLocation last = w.locations.back();
  auto f = dir / "cut";
  write_file(f, data.substr(0, last.offset + last.length / 2));
  WarcReader reader(f);
  for (std::size_t i = 0; i + 1 < records.size(); ++i) ASSERT_TRUE(reader.next());
  EXPECT_THROW(reader.next(), WarcFormatError);
  EXPECT_FALSE(reader.resynchronise());
  EXPECT_FALSE(reader.next()) << "after giving up, the reader reports the end";
}

// A reader limited to a range reads the records in it and stops cleanly at its end, even when
// the bytes after it are a record still being written.
TEST_P(Resynchronise, ARangeIsReadAsIfTheFileEndedThere) {
  TempDir dir("warc-range");
  auto records = sample_records(3);
  WrittenFile w = write_warc(dir / ("ok" + std::string(file_extension(GetParam().compression))),
                             options(), records);
  std::string data = read_file(w.path);
  const RecordLocation first = w.locations[3], last = w.locations[4];
  const std::uint64_t until = last.offset + last.length;
  // What follows `until`: half of the next record, as while another thread appends it.
  data.resize(static_cast<std::size_t>(w.locations[5].offset + w.locations[5].length / 2));
  write_file(w.path, data);
  WarcReader reader(w.path, first.offset, until);
  for (int i = 3; i <= 4; ++i) {
    auto rec = reader.next();
    ASSERT_TRUE(rec) << i;
    EXPECT_EQ(rec->record_id(), records[i].record_id());
    EXPECT_EQ(reader.last_location().offset, w.locations[i].offset);
  }
  EXPECT_FALSE(reader.next());
}

INSTANTIATE_TEST_SUITE_P(Compressions, Resynchronise,
                         ::testing::Values(Case{"gzip", Compression::gzip, false},
                                           Case{"zstd", Compression::zstd, false},
                                           Case{"zstd_dict", Compression::zstd, true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Resynchronise, PlainFilesAreNotSearched) {
  TempDir dir("warc-resync");
  auto records = sample_records(2);
  EncoderOptions o;
  o.compression = Compression::none;
  WrittenFile w = write_warc(dir / "ok.warc", o, records);
  std::string data = read_file(w.path);
  data[w.locations[2].offset] = 'X';  // "WARC/1.1" becomes "XARC/1.1"
  auto f = dir / "bad.warc";
  write_file(f, data);
  WarcReader reader(f);
  ASSERT_TRUE(reader.next());
  ASSERT_TRUE(reader.next());
  EXPECT_THROW(reader.next(), WarcFormatError);
  EXPECT_FALSE(reader.resynchronise());
  EXPECT_FALSE(reader.next());
}
