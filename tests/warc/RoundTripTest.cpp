// Records written with every compression read back identical, at the offsets the writer reported.
#include <zstd.h>
#include <thread>

#include "warc/WarcReader.h"
#include "warc/WarcTestSupport.h"
#include "warc/WarcWriter.h"

namespace vellum::warc {
namespace {

using test::TempDir;
using namespace testing;

enum class DictMode { none, raw, compressed };

struct Config {
  const char* name;
  Compression compression;
  DictMode dict;
};

void PrintTo(const Config& c, std::ostream* os) {
  *os << c.name;
}

class RoundTrip : public ::testing::TestWithParam<Config> {
 protected:
  EncoderOptions options() {
    EncoderOptions o;
    o.compression = GetParam().compression;
    if (GetParam().dict != DictMode::none) {
      o.dictionary = std::make_shared<const ZstdDictionary>(trained_dictionary());
      o.compress_dictionary = GetParam().dict == DictMode::compressed;
    }
    return o;
  }
  std::string file_name() const {
    return std::string("rt-") + GetParam().name +
           std::string(file_extension(GetParam().compression));
  }
};

void expect_same(const WarcRecord& got, const WarcRecord& want) {
  EXPECT_EQ(got.version, "WARC/1.1");
  EXPECT_EQ(got.fields, fields_as_stored(want));
  EXPECT_EQ(got.block.size(), want.block.size());
  EXPECT_TRUE(got.block == want.block) << "block differs for " << want.record_id();
  EXPECT_EQ(got.serialize(), want.serialize());
}

TEST_P(RoundTrip, ReaderReturnsWhatWasWrittenAtTheAppendOffsets) {
  TempDir dir("warc-rt");
  auto records = sample_records(3);
  // A block larger than the reader's 1 MiB buffer, with NUL bytes.
  records.push_back(response_record("http://example.com/large.bin", binary_bytes(3 << 20, 11)));
  records.push_back(warcinfo_record("tail"));  // a small record right after the large one
  EncoderOptions opts = options();
  WrittenFile w = write_warc(dir / ("open-" + file_name()), opts, records);

  // Files are finished by renaming; the reader sees the final name.
  auto final_path = dir / file_name();
  WarcFile::open_append(w.path)->close_and_rename(final_path);
  ASSERT_FALSE(std::filesystem::exists(w.path));

  WarcReader reader(final_path);
  EXPECT_EQ(reader.compression(), GetParam().compression);
  EXPECT_EQ(reader.data_start(), w.preamble.size());
  if (GetParam().dict != DictMode::none) {
    ASSERT_TRUE(reader.dictionary());
    EXPECT_EQ(reader.dictionary()->bytes(), opts.dictionary->bytes());
  } else {
    EXPECT_FALSE(reader.dictionary());
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    auto got = reader.next();
    ASSERT_TRUE(got) << "record " << i << " missing";
    expect_same(*got, records[i]);
    RecordLocation loc = reader.last_location();
    EXPECT_EQ(loc.offset, w.locations[i].offset) << "record " << i;
    EXPECT_EQ(loc.length, w.locations[i].length) << "record " << i;
  }
  EXPECT_FALSE(reader.next());
  EXPECT_FALSE(reader.next());  // stays at the end

  for (std::size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE("read_record_at record " + std::to_string(i));
    expect_same(read_record_at(final_path, w.locations[i]), records[i]);
  }

  ScanResult scan = scan_valid_prefix(final_path);
  EXPECT_FALSE(scan.error) << *scan.error;
  EXPECT_EQ(scan.records, records.size());
  EXPECT_EQ(scan.valid_end, std::filesystem::file_size(final_path));
  EXPECT_EQ(scan.file_size, scan.valid_end);
}

TEST_P(RoundTrip, AppendingToAnExistingFileContinuesIt) {
  TempDir dir("warc-rt");
  auto first = sample_records(1);
  auto second = sample_records(2);
  EncoderOptions opts = options();
  WrittenFile w = write_warc(dir / file_name(), opts, first);

  RecordEncoder encoder(opts);
  auto file = WarcFile::open_append(w.path);
  EXPECT_EQ(file->size(), std::filesystem::file_size(w.path));
  std::vector<RecordLocation> locations = w.locations;
  for (const auto& r : second) {
    std::string encoded = encoder.encode(r.serialize());
    locations.push_back({file->append(encoded), encoded.size()});
  }
  file->sync();
  file.reset();

  auto all = first;
  all.insert(all.end(), second.begin(), second.end());
  WarcReader reader(w.path);
  for (std::size_t i = 0; i < all.size(); ++i) {
    auto got = reader.next();
    ASSERT_TRUE(got);
    expect_same(*got, all[i]);
    EXPECT_EQ(reader.last_location().offset, locations[i].offset);
    EXPECT_EQ(reader.last_location().length, locations[i].length);
  }
  EXPECT_FALSE(reader.next());
}

TEST_P(RoundTrip, EncoderGivesTheSameBytesFromManyThreads) {
  EncoderOptions opts = options();
  RecordEncoder encoder(opts);
  auto records = sample_records(8);
  std::vector<std::string> expected;
  for (const auto& r : records) expected.push_back(encoder.encode(r.serialize()));

  std::vector<std::vector<std::string>> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      for (int round = 0; round < 5; ++round)
        for (const auto& r : records) result.push_back(encoder.encode(r.serialize()));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& result : results) {
    ASSERT_EQ(result.size(), records.size() * 5);
    for (std::size_t i = 0; i < result.size(); ++i)
      EXPECT_TRUE(result[i] == expected[i % records.size()]) << "record " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Compressions, RoundTrip,
    ::testing::Values(Config{"none", Compression::none, DictMode::none},
                      Config{"gzip", Compression::gzip, DictMode::none},
                      Config{"zstd", Compression::zstd, DictMode::none},
                      Config{"zstd_dict_raw", Compression::zstd, DictMode::raw},
                      Config{"zstd_dict_compressed", Compression::zstd, DictMode::compressed}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RoundTrip, DictionaryMakesSmallRecordsSmaller) {
  auto dict = std::make_shared<const ZstdDictionary>(trained_dictionary());
  EXPECT_NE(dict->id(), 0u);
  EncoderOptions with;
  with.dictionary = dict;
  EncoderOptions without;
  auto r = response_record("http://example.com/articles/17",
                           "<!doctype html><html><head><title>Article 5</title><meta "
                           "charset=\"utf-8\"></head><body><main><h1>Headline 9</h1></main></body>"
                           "</html>\n",
                           "text/html; charset=utf-8");
  std::string serialized = r.serialize();
  EXPECT_LT(RecordEncoder(with).encode(serialized).size(),
            RecordEncoder(without).encode(serialized).size());
}

TEST(RoundTrip, CompressionNamesAndExtensions) {
  EXPECT_EQ(file_extension(Compression::none), ".warc");
  EXPECT_EQ(file_extension(Compression::gzip), ".warc.gz");
  EXPECT_EQ(file_extension(Compression::zstd), ".warc.zst");
  for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
    EXPECT_EQ(parse_compression(compression_name(c)), c);
    EXPECT_EQ(parse_compression(file_extension(c).substr(1)), c);
  }
  EXPECT_EQ(parse_compression("gz"), Compression::gzip);
  EXPECT_EQ(parse_compression("zst"), Compression::zstd);
  EXPECT_EQ(parse_compression("plain"), Compression::none);
  EXPECT_FALSE(parse_compression("bzip2"));
}

TEST(RoundTrip, SerializeTakesContentLengthFromTheBlock) {
  WarcRecord r;
  r.set("WARC-Type", "resource");
  r.set("Content-Length", "999");
  r.set("WARC-Record-ID", "<urn:uuid:0>");
  r.block = "abc";
  EXPECT_EQ(r.serialize(),
            "WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 3\r\nWARC-Record-ID: "
            "<urn:uuid:0>\r\n\r\nabc\r\n\r\n");
  r.set("warc-type", "metadata");  // case-insensitive replacement keeps the written name
  EXPECT_EQ(r.type(), "metadata");
  EXPECT_EQ(r.fields.front().first, "WARC-Type");
  r.set("WARC-Target-URI", "http://x/\r\nWARC-Type: evil");
  EXPECT_THROW(r.serialize(), std::invalid_argument);
}

TEST(RoundTrip, ParsesWarc10AndFieldNamesInAnyCase) {
  std::string data =
      "WARC/1.0\r\nwarc-type: resource\r\nCONTENT-LENGTH: 5\r\nWARC-Target-URI: "
      "http://example.com/\r\n  continued\r\n\r\nhello\r\n\r\n";
  WarcRecord r = parse_record(data, "x.warc", 0);
  EXPECT_EQ(r.version, "WARC/1.0");
  EXPECT_EQ(r.type(), "resource");
  EXPECT_EQ(r.block, "hello");
  EXPECT_EQ(r.field_or("warc-target-uri"), "http://example.com/ continued");
  EXPECT_EQ(header_length(data), data.size() - 9);
  EXPECT_EQ(header_length("WARC/1.1\r\nA: b\r\n"), 0u);
}

TEST(RecordEncoderParts, PiecesEncodeLikeTheWholeRecord) {
  for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
    EncoderOptions o;
    o.compression = c;
    RecordEncoder enc(o);
    std::string header = "WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 11\r\n\r\n";
    std::string a = "hello ", b = "world";
    std::vector<std::string_view> parts{header, a, b, "\r\n\r\n"};
    std::string whole = header + a + b + "\r\n\r\n";
    std::string encoded = enc.encode_parts(parts);
    if (c == Compression::none) {
      EXPECT_EQ(encoded, whole);
    } else if (c == Compression::zstd) {
      std::string out(whole.size(), '\0');
      EXPECT_EQ(ZSTD_getFrameContentSize(encoded.data(), encoded.size()), whole.size());
      std::size_t n = ZSTD_decompress(out.data(), out.size(), encoded.data(), encoded.size());
      ASSERT_FALSE(ZSTD_isError(n));
      EXPECT_EQ(out, whole);
    } else {
      EXPECT_EQ(static_cast<unsigned char>(encoded[0]), 0x1f);
    }
  }
}

}  // namespace
}  // namespace vellum::warc
