// Torn, corrupt and malformed files: errors name the file and the offset of the bad record, and
// scan_valid_prefix finds where the last good record ends.
#include <sys/stat.h>

#include "warc/WarcTestSupport.h"

namespace vellum::warc {
namespace {

using test::read_file;
using test::TempDir;
using test::write_file;
using namespace testing;

struct Config {
  const char* name;
  Compression compression;
  bool dictionary;
};

void PrintTo(const Config& c, std::ostream* os) {
  *os << c.name;
}

EncoderOptions options_for(const Config& c) {
  EncoderOptions o;
  o.compression = c.compression;
  if (c.dictionary) o.dictionary = std::make_shared<const ZstdDictionary>(trained_dictionary());
  return o;
}

// Reads `file` expecting `good` records and then a WarcFormatError for the record at `offset`.
void expect_error_at(const std::filesystem::path& file, std::size_t good, std::uint64_t offset,
                     const std::string& needle = {}) {
  SCOPED_TRACE(file.filename().string() + " expecting an error at " + std::to_string(offset));
  WarcReader reader(file);
  for (std::size_t i = 0; i < good; ++i) ASSERT_TRUE(reader.next()) << "record " << i;
  try {
    reader.next();
    ADD_FAILURE() << "no error";
    return;
  } catch (const WarcFormatError& e) {
    std::string what = e.what();
    EXPECT_EQ(e.offset(), offset) << what;
    EXPECT_EQ(e.file(), file.string());
    EXPECT_NE(what.find(file.string() + ": offset " + std::to_string(offset) + ": found "),
              std::string::npos)
        << what;
    EXPECT_NE(what.find(", expected "), std::string::npos) << what;
    if (!needle.empty()) {
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  }
  // The reader does not go on past a bad record.
  EXPECT_THROW(reader.next(), WarcFormatError);
}

void expect_scan(const std::filesystem::path& file, std::uint64_t valid_end, std::uint64_t records,
                 bool error) {
  ScanResult scan = scan_valid_prefix(file);
  EXPECT_EQ(scan.valid_end, valid_end);
  EXPECT_EQ(scan.records, records);
  EXPECT_EQ(scan.file_size, std::filesystem::file_size(file));
  EXPECT_EQ(scan.error.has_value(), error) << scan.error.value_or("");
  if (scan.error) {
    EXPECT_NE(scan.error->find(file.string()), std::string::npos);
  }
}

class Errors : public ::testing::TestWithParam<Config> {};

TEST_P(Errors, TruncatedLastRecordIsReportedAtItsStart) {
  TempDir dir("warc-err");
  const std::string ext(file_extension(GetParam().compression));
  auto records = sample_records(1);  // warcinfo, request, response with a binary body
  WrittenFile w = write_warc(dir / ("full" + ext), options_for(GetParam()), records);
  std::string data = read_file(w.path);
  const RecordLocation last = w.locations.back();
  ASSERT_EQ(last.offset + last.length, data.size());

  std::vector<std::uint64_t> cuts = {1,
                                     2,
                                     3,
                                     4,
                                     5,
                                     9,
                                     17,
                                     last.length / 2,
                                     last.length - 5,
                                     last.length - 4,
                                     last.length - 3,
                                     last.length - 1};
  for (std::uint64_t k = 1; k < last.length; k += 97) cuts.push_back(k);
  for (std::uint64_t k : cuts) {
    auto cut = dir / ("cut-" + std::to_string(k) + ext);
    write_file(cut, data.substr(0, last.offset + k));
    expect_error_at(cut, records.size() - 1, last.offset);
    expect_scan(cut, last.offset, records.size() - 1, true);
  }
  // Cut at a record boundary: a shorter, valid file.
  auto boundary = dir / ("boundary" + ext);
  write_file(boundary, data.substr(0, last.offset));
  expect_scan(boundary, last.offset, records.size() - 1, false);
}

TEST_P(Errors, ContentLengthLargerThanTheData) {
  TempDir dir("warc-err");
  const std::string ext(file_extension(GetParam().compression));
  EncoderOptions o = options_for(GetParam());
  RecordEncoder encoder(o);
  auto first = warcinfo_record("x");
  std::string bad = "WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 5000\r\n\r\n" +
                    binary_bytes(1200) + "\r\n\r\n";
  std::string head = encoder.file_preamble() + encoder.encode(first.serialize());
  auto file = dir / ("short" + ext);
  write_file(file, head + encoder.encode(bad));
  expect_error_at(file, 1, head.size(), "Content-Length 5000");
  expect_scan(file, head.size(), 1, true);
}

TEST_P(Errors, GarbageInsteadOfAVersionLine) {
  TempDir dir("warc-err");
  const std::string ext(file_extension(GetParam().compression));
  EncoderOptions o = options_for(GetParam());
  RecordEncoder encoder(o);
  auto good = sample_records(1);
  std::string head = encoder.file_preamble() + encoder.encode(good[0].serialize());
  std::string garbage = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  auto file = dir / ("garbage" + ext);
  write_file(file, head + encoder.encode(garbage) + encoder.encode(good[1].serialize()));
  expect_error_at(file, 1, head.size(), "found 'HTTP/1.1 200 OK', expected a version line");
  expect_scan(file, head.size(), 1, true);
}

TEST_P(Errors, RecordNotFollowedByCrlfCrlf) {
  TempDir dir("warc-err");
  const std::string ext(file_extension(GetParam().compression));
  EncoderOptions o = options_for(GetParam());
  RecordEncoder encoder(o);
  auto good = sample_records(1);
  std::string head = encoder.file_preamble() + encoder.encode(good[0].serialize());
  std::string torn = good[1].serialize();
  torn.replace(torn.size() - 4, 4, "XY\r\n");
  auto file = dir / ("nocrlf" + ext);
  write_file(file, head + encoder.encode(torn) + encoder.encode(good[2].serialize()));
  expect_error_at(file, 1, head.size(), "expected CRLF CRLF");
  expect_scan(file, head.size(), 1, true);
}

TEST_P(Errors, ReadRecordAtRejectsALocationThatIsNotOneRecord) {
  TempDir dir("warc-err");
  const std::string ext(file_extension(GetParam().compression));
  WrittenFile w = write_warc(dir / ("loc" + ext), options_for(GetParam()), sample_records(1));
  const RecordLocation a = w.locations[1], b = w.locations[2];
  EXPECT_NO_THROW(read_record_at(w.path, a));
  EXPECT_THROW(read_record_at(w.path, {a.offset + 1, a.length - 1}), WarcFormatError);
  EXPECT_THROW(read_record_at(w.path, {a.offset, a.length - 1}), WarcFormatError);
  EXPECT_THROW(read_record_at(w.path, {a.offset, a.length + b.length}), WarcFormatError);
  EXPECT_THROW(read_record_at(w.path, {b.offset, b.length + 1}), WarcFormatError);  // past the end
  EXPECT_THROW(read_record_at(w.path, {a.offset, 0}), WarcFormatError);
  try {
    read_record_at(w.path, {a.offset, a.length - 1});
  } catch (const WarcFormatError& e) {
    EXPECT_EQ(e.offset(), a.offset);
    EXPECT_NE(std::string(e.what()).find(w.path.string()), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Compressions, Errors,
                         ::testing::Values(Config{"none", Compression::none, false},
                                           Config{"gzip", Compression::gzip, false},
                                           Config{"zstd", Compression::zstd, false},
                                           Config{"zstd_dict", Compression::zstd, true}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Errors, FlippedByteInAZstdFrameFailsItsChecksum) {
  TempDir dir("warc-err");
  EncoderOptions o;
  WrittenFile w = write_warc(dir / "ok.warc.zst", o, sample_records(1));
  std::string data = read_file(w.path);
  const RecordLocation r = w.locations[2];  // the response with the binary body

  // The last four bytes of a frame are its content checksum.
  std::string bad_sum = data;
  bad_sum[r.offset + r.length - 2] ^= 0x20;
  auto f1 = dir / "badsum.warc.zst";
  write_file(f1, bad_sum);
  expect_error_at(f1, 2, r.offset, "zstd frame checksum mismatch");
  expect_scan(f1, r.offset, 2, true);
  EXPECT_THROW(read_record_at(f1, r), WarcFormatError);

  // A flipped bit in the compressed data: corrupt data or a checksum mismatch, never a record.
  for (std::uint64_t at : {r.length / 3, r.length / 2, r.length - 8}) {
    std::string bad = data;
    bad[r.offset + at] ^= 0x01;
    auto f = dir / ("flip-" + std::to_string(at) + ".warc.zst");
    write_file(f, bad);
    expect_error_at(f, 2, r.offset);
    expect_scan(f, r.offset, 2, true);
  }
}

TEST(Errors, FlippedByteInAGzipMemberFailsItsCrc) {
  TempDir dir("warc-err");
  EncoderOptions o;
  o.compression = Compression::gzip;
  WrittenFile w = write_warc(dir / "ok.warc.gz", o, sample_records(1));
  std::string data = read_file(w.path);
  const RecordLocation r = w.locations[1];
  data[r.offset + r.length - 6] ^= 0x40;  // inside CRC-32
  auto f = dir / "badcrc.warc.gz";
  write_file(f, data);
  expect_error_at(f, 1, r.offset, "incorrect data check");
  expect_scan(f, r.offset, 1, true);
}

TEST(Errors, NotAWarcFileAtAll) {
  TempDir dir("warc-err");
  auto f = dir / "page.warc";
  write_file(f, "<!doctype html><html><body>not a WARC</body></html>\n");
  expect_error_at(f, 0, 0, "found '<!doctype html><html><body>not a WARC");
  expect_scan(f, 0, 0, true);

  auto g = dir / "other.warc.zst";
  std::string gz = "\x28\xb5\x2f\xfd";  // a zstd magic, then nonsense
  write_file(g, gz + "nonsense");
  expect_error_at(g, 0, 0);
  expect_scan(g, 0, 0, true);

  auto h = dir / "empty.warc.gz";
  write_file(h, "");
  WarcReader empty(h);
  EXPECT_EQ(empty.compression(), Compression::gzip);
  EXPECT_FALSE(empty.next());
  expect_scan(h, 0, 0, false);
}

TEST(Errors, HeaderFieldsMustBeWellFormed) {
  TempDir dir("warc-err");
  auto good = warcinfo_record("x").serialize();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"WARC/1.1\r\nWARC-Type: resource\r\n\r\n\r\n\r\n", "no Content-Length"},
      {"WARC/1.1\r\nContent-Length: 12x\r\n\r\n\r\n\r\n", "expected a decimal number"},
      {"WARC/1.1\r\nContent-Length 3\r\n\r\nabc\r\n\r\n", "expected a field"},
      {"WARC/2.0\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n", "'WARC/2.0'"},
      {"WARC/1.1\nContent-Length: 3\n\nabc\n\n", "expected a version line"},
  };
  int i = 0;
  for (const auto& [record, needle] : cases) {
    auto f = dir / ("h" + std::to_string(i++) + ".warc");
    write_file(f, good + record);
    expect_error_at(f, 1, good.size(), needle);
    EXPECT_THROW(parse_record(record, "r.warc", 7), WarcFormatError);
  }
}

TEST(Errors, DictionaryFileWithoutItsDictionaryFrame) {
  TempDir dir("warc-err");
  EncoderOptions o;
  o.dictionary = std::make_shared<const ZstdDictionary>(trained_dictionary());
  WrittenFile w = write_warc(dir / "dict.warc.zst", o, sample_records(1));
  std::string data = read_file(w.path);
  auto f = dir / "nodict.warc.zst";
  write_file(f, data.substr(w.preamble.size()));
  expect_error_at(f, 0, 0, "dictionary " + std::to_string(o.dictionary->id()));
  expect_scan(f, 0, 0, true);

  // A torn dictionary frame: nothing in the file is usable.
  auto g = dir / "torn-dict.warc.zst";
  write_file(g, data.substr(0, w.preamble.size() / 2));
  EXPECT_THROW(WarcReader{g}, WarcFormatError);
  expect_scan(g, 0, 0, true);
}

TEST(Errors, MissingFileIsASystemError) {
  TempDir dir("warc-err");
  EXPECT_THROW(WarcReader(dir / "absent.warc"), std::system_error);
  EXPECT_THROW(scan_valid_prefix(dir / "absent.warc"), std::system_error);
}

}  // namespace
}  // namespace vellum::warc

namespace vellum::warc {
namespace {

// A named pipe where a WARC file should be (left by a script, or put there on purpose) is named
// as such at once; opening it for reading waited for a writer forever.
TEST(WarcErrors, ANamedPipeIsNamedNotWaitedOn) {
  test::TempDir tmp("fifo");
  const auto fifo = tmp / "x.warc.zst";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (int how = 0; how < 2; ++how) {
    try {
      if (how == 0)
        WarcReader reader(fifo);
      else
        read_record_at(fifo, {0, 10});
      ADD_FAILURE() << "a named pipe was read as a WARC file";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(fifo.string() + ": found a named pipe, expected a WARC "
                                                           "file"),
                std::string::npos)
          << e.what();
    }
  }
}

}  // namespace
}  // namespace vellum::warc
