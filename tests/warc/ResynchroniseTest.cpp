// WarcReader::resynchronise: after damage in a compressed file, reading goes on at the next
// gzip member or zstd frame that holds a whole record, and in a plain file at the next record
// whose block digest holds.
#include <zstd.h>

#include <functional>

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

namespace {

// `records` written uncompressed to ok.warc, then a copy changed by `harm` as bad.warc.
struct PlainDamage {
  WrittenFile written;
  std::filesystem::path damaged;
  std::int64_t moved = 0;  // bytes the harm added (or, negative, removed)
};

PlainDamage damaged_plain_file(const TempDir& dir, const std::vector<WarcRecord>& records,
                               const std::function<void(std::string&, const WrittenFile&)>& harm) {
  EncoderOptions o;
  o.compression = Compression::none;
  PlainDamage out{write_warc(dir / "ok.warc", o, records), dir / "bad.warc"};
  std::string data = read_file(out.written.path);
  const auto size = static_cast<std::int64_t>(data.size());
  harm(data, out.written);
  out.moved = static_cast<std::int64_t>(data.size()) - size;
  write_file(out.damaged, data);
  return out;
}

// Reads `good` records, then expects the damage, and resynchronises.
std::optional<std::uint64_t> resume_after_damage(WarcReader& reader, int good) {
  for (int i = 0; i < good; ++i) EXPECT_TRUE(reader.next()) << i;
  EXPECT_THROW(reader.next(), WarcFormatError);
  return reader.resynchronise();
}

}  // namespace

// A plain file has no frames: reading goes on at the next version line right after a CRLF CRLF
// whose record reads whole and matches its block digest. Damage to a header (the version line, a
// Content-Length made longer or shorter) hides no record after it.
TEST(Resynchronise, PlainFilesGoOnAtTheNextRecordWhoseDigestHolds) {
  struct Harm {
    const char* name;
    std::function<void(std::string& data, const RecordLocation& at)> apply;
  };
  auto content_length = [](std::string& data, const RecordLocation& at) {
    return data.find("Content-Length: ", static_cast<std::size_t>(at.offset)) + 16;
  };
  const std::vector<Harm> harms = {
      {"version line", [](std::string& d, const RecordLocation& at) { d[at.offset] = 'X'; }},
      {"Content-Length longer",
       [&](std::string& d, const RecordLocation& at) { d.insert(content_length(d, at), "1"); }},
      {"Content-Length shorter",
       [&](std::string& d, const RecordLocation& at) { d.erase(content_length(d, at), 1); }},
      // So large that the record's end, summed, would wrap around to the file's start.
      {"Content-Length wrapping",
       [&](std::string& d, const RecordLocation& at) {
         const auto from = content_length(d, at);
         d.replace(from, d.find('\r', from) - from, "18446744073709550412");
       }},
  };
  for (const auto& harm : harms) {
    SCOPED_TRACE(harm.name);
    TempDir dir("warc-resync");
    auto records = sample_records(3);
    PlainDamage d = damaged_plain_file(dir, records, [&](std::string& data, const WrittenFile& w) {
      harm.apply(data, w.locations[3]);
    });
    WarcReader reader(d.damaged);
    auto resumed = resume_after_damage(reader, 3);
    ASSERT_TRUE(resumed);
    EXPECT_EQ(static_cast<std::int64_t>(*resumed),
              static_cast<std::int64_t>(d.written.locations[4].offset) + d.moved);
    for (std::size_t i = 4; i < records.size(); ++i) {
      auto rec = reader.next();
      ASSERT_TRUE(rec) << i;
      EXPECT_EQ(rec->record_id(), records[i].record_id());
    }
    EXPECT_FALSE(reader.next());
  }
}

// Text in a plain record's block that looks like a record (a WARC file served as a page, or a
// forged one) is not one unless its digest holds; a tail cut short has nothing after it.
TEST(Resynchronise, PlainFilesPassOverRecordLookalikesInABlock) {
  TempDir dir("warc-resync");
  auto fake = make_record("response", {{"WARC-Target-URI", "http://forged.example/"}}, "forged");
  fake.set("WARC-Block-Digest", vellum::util::warc_sha1(std::string("something else")));
  auto records = sample_records(1);
  records.push_back(response_record("http://example.com/warc", "\r\n\r\n" + fake.serialize()));
  records.push_back(request_record("http://example.com/after"));
  PlainDamage d = damaged_plain_file(dir, records, [](std::string& data, const WrittenFile& w) {
    data[w.locations[3].offset] = 'X';  // the record holding the lookalike
  });
  const WrittenFile& w = d.written;
  WarcReader reader(d.damaged);
  auto resumed = resume_after_damage(reader, 3);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(*resumed, w.locations[4].offset) << "the forged record inside the block is skipped";
  auto rec = reader.next();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->record_id(), records[4].record_id());
  EXPECT_FALSE(reader.next());

  // Cut in the middle of the last record: no record follows, so none is found.
  write_file(d.damaged,
             read_file(w.path).substr(0, w.locations[4].offset + w.locations[4].length / 2));
  WarcReader cut(d.damaged);
  EXPECT_FALSE(resume_after_damage(cut, 4));
  EXPECT_FALSE(cut.next());
}

// A page that is itself a WARC file holds records whose digests hold. In the last record of a
// file, cut short (a torn tail), they are not taken for records of the file; after a record
// whose Content-Length was damaged to run past the end, the real records are found again.
TEST(Resynchronise, PlainFilesTakeNoRecordFromInsideATornLastRecord) {
  TempDir dir("warc-resync");
  const auto inner = make_record("response", {{"WARC-Target-URI", "http://inner.example/"}},
                                 "a whole record, digest and all");
  auto records = sample_records(1);
  records.push_back(response_record("http://example.com/file.warc",
                                    "\r\n\r\n" + inner.serialize() + std::string(200, '.')));
  PlainDamage d = damaged_plain_file(dir, records, [](std::string& data, const WrittenFile& w) {
    data.resize(w.locations[3].offset + w.locations[3].length - 100);  // the inner record stays
  });
  WarcReader torn(d.damaged);
  EXPECT_FALSE(resume_after_damage(torn, 3)) << "a record inside the torn one was taken";

  records.push_back(request_record("http://example.com/after"));
  TempDir dir2("warc-resync");
  d = damaged_plain_file(dir2, records, [](std::string& data, const WrittenFile& w) {
    const auto at = data.find("Content-Length: ", w.locations[3].offset) + 16;
    data.insert(at, "99");  // now past the end of the file
  });
  WarcReader longer(d.damaged);
  auto resumed = resume_after_damage(longer, 3);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(*resumed, d.written.locations[4].offset + 2);
  auto rec = longer.next();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->record_id(), records[4].record_id());
}

namespace {

std::string zstd_frame(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

}  // namespace

// Thousands of frame starts a few bytes apart, none of them a record: each is tried in turn,
// and reading goes on at the intact record after them, as it would after one.
TEST(Resynchronise, ManyFrameStartsCloseTogether) {
  TempDir dir("warc-resync");
  auto records = sample_records(2);
  EncoderOptions o;
  o.compression = Compression::zstd;
  WrittenFile w = write_warc(dir / "ok.warc.zst", o, records);
  std::string data = read_file(w.path);
  std::string junk;
  for (int i = 0; i < 5000; ++i) junk += zstd_frame("y");
  const std::uint64_t at = w.locations[3].offset;
  data.insert(at, junk);
  auto f = dir / "frames.warc.zst";
  write_file(f, data);
  WarcReader reader(f);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(reader.next()->record_id(), records[i].record_id());
  EXPECT_THROW(reader.next(), WarcFormatError);
  auto resumed = reader.resynchronise();
  ASSERT_TRUE(resumed);
  EXPECT_EQ(*resumed, at + junk.size());
  for (std::size_t i = 3; i < records.size(); ++i) {
    auto rec = reader.next();
    ASSERT_TRUE(rec) << i;
    EXPECT_EQ(rec->record_id(), records[i].record_id());
    EXPECT_EQ(rec->block, records[i].block);
  }
  EXPECT_FALSE(reader.next());
}

// A record another tool split over several frames, its block a few bytes per frame, reads
// whole (and a block declared longer than its frames hold is named for what it lacks).
TEST(Resynchronise, ABlockSpreadOverManyFramesReadsWhole) {
  TempDir dir("warc-resync");
  const std::string block(3000, 'b');
  std::string file = zstd_frame(
      "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:r1>"
      "\r\nContent-Length: 3000\r\n\r\n");
  for (std::size_t i = 0; i < block.size(); i += 3) file += zstd_frame(block.substr(i, 3));
  file += zstd_frame("\r\n\r\n");
  write_file(dir / "split.warc.zst", file);
  WarcReader reader(dir / "split.warc.zst");
  auto rec = reader.next();
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->block, block);
  EXPECT_FALSE(reader.next());

  std::string longer = zstd_frame(
      "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:r2>"
      "\r\nContent-Length: 100000000\r\n\r\n");
  for (int i = 0; i < 2000; ++i) longer += zstd_frame("y");
  write_file(dir / "short.warc.zst", longer);
  WarcReader short_reader(dir / "short.warc.zst");
  try {
    short_reader.next();
    ADD_FAILURE() << "a block shorter than declared was read";
  } catch (const WarcFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("after 2000 bytes of the block, expected 100000000"),
              std::string::npos)
        << e.what();
  }
}
