// ZipWriter: stored entries, streamed or whole, read back by Python's zipfile (an independent
// reader) and by hand from the raw bytes, including the ZIP64 records (forced by a low
// threshold, so that no test writes 4 GiB).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "support/TempDir.h"
#include "support/Tools.h"
#include "util/ZipWriter.h"

namespace vellum::util {
namespace {

using test::read_file;
using test::shell;
using test::shell_quote;
using test::TempDir;
using test::write_file;

// Lists a ZIP with Python's zipfile: every entry's name, method, size, CRC check, the offset of
// its data (from its local header, which must agree with the central directory on whether there
// are extra fields) and its SHA-256, plus whether the ZIP64 end records are there.
constexpr const char* kPythonLister = R"PY(
import hashlib, json, struct, sys, zipfile
path = sys.argv[1]
raw = open(path, "rb").read()
out = {"entries": [], "zip64_end": raw.rfind(b"PK\x06\x06") >= 0}
with zipfile.ZipFile(path) as z:
    bad = z.testzip()
    if bad is not None:
        sys.exit("CRC mismatch in " + bad)
    for info in z.infolist():
        sig, = struct.unpack_from("<I", raw, info.header_offset)
        if sig != 0x04034b50:
            sys.exit("no local header at %d for %s" % (info.header_offset, info.filename))
        n, m = struct.unpack_from("<HH", raw, info.header_offset + 26)
        data_offset = info.header_offset + 30 + n + m
        # A reader may take a central entry without extra fields to mean a local header
        # without them (ReplayWeb.page does) and read the data at header + 30 + name.
        if m and not info.extra:
            sys.exit("%s: %d bytes of local extra fields, none in the central directory" %
                     (info.filename, m))
        data = z.read(info.filename)
        if raw[data_offset:data_offset + len(data)] != data:
            sys.exit("stored bytes of %s are not at offset %d" % (info.filename, data_offset))
        out["entries"].append({"name": info.filename, "method": info.compress_type,
                               "size": info.file_size, "data_offset": data_offset,
                               "header_offset": info.header_offset,
                               "sha256": hashlib.sha256(data).hexdigest()})
print(json.dumps(out))
)PY";

nlohmann::json python_list(const TempDir& dir, const std::filesystem::path& zip) {
  EXPECT_TRUE(test::on_path("python3")) << "python3 is needed for this test (scripts/dev.sh "
                                           "installs it)";
  write_file(dir / "list.py", kPythonLister);
  auto [rc, out] = shell("python3 " + shell_quote((dir / "list.py").string()) + " " +
                         shell_quote(zip.string()) + " 2>&1");
  EXPECT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

std::string sha256_hex(const TempDir& dir, const std::string& data) {
  write_file(dir / "blob", data);
  auto [rc, out] = shell("sha256sum " + shell_quote((dir / "blob").string()));
  EXPECT_EQ(rc, 0);
  return out.substr(0, 64);
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class ZipFile {
 public:
  explicit ZipFile(const std::filesystem::path& p)
      : fd_(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) {
    EXPECT_GE(fd_, 0);
  }
  ~ZipFile() { ::close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct Written {
  std::string name, data;
};

// Writes a streamed entry (in pieces), one streamed with its size given first and a whole one, then
// checks them with Python.
void write_and_check(const ZipWriter::Options& options, bool expect_zip64_end) {
  TempDir dir("zip");
  auto path = dir / "test.zip";
  std::vector<Written> files{{"archive/data.warc.gz", random_bytes(300000, 1)},
                             {"indexes/index.cdx", "com,example)/ 20260101000000 {}\n"},
                             {"empty.txt", ""}};
  std::vector<ZipWriter::Entry> entries;
  {
    ZipFile f(path);
    ZipWriter zip(f.fd(), options);
    zip.begin_entry(files[0].name);
    const std::uint64_t start = zip.data_offset();
    for (std::size_t at = 0; at < files[0].data.size(); at += 7001) {
      EXPECT_EQ(zip.entry_size(), at);
      zip.write(std::string_view(files[0].data).substr(at, 7001));
    }
    EXPECT_EQ(zip.data_offset(), start);
    zip.end_entry();
    // Streamed with its size given first: a local header without the ZIP64 field it does not
    // need.
    zip.begin_entry(files[1].name, files[1].data.size());
    zip.write(std::string_view(files[1].data).substr(0, 10));
    zip.write(std::string_view(files[1].data).substr(10));
    zip.end_entry();
    zip.add_entry(files[2].name, files[2].data);
    zip.finish();
    EXPECT_EQ(zip.size(), std::filesystem::file_size(path));
    entries = zip.entries();
  }
  EXPECT_TRUE(entries[0].zip64_local);
  EXPECT_FALSE(entries[1].zip64_local);
  auto listed = python_list(dir, path);
  ASSERT_EQ(listed["entries"].size(), files.size()) << listed.dump();
  EXPECT_EQ(listed["zip64_end"].get<bool>(), expect_zip64_end);
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& e = listed["entries"][i];
    SCOPED_TRACE(files[i].name);
    EXPECT_EQ(e["name"], files[i].name);
    EXPECT_EQ(e["method"], 0) << "entries must be stored, not compressed";
    EXPECT_EQ(e["size"].get<std::uint64_t>(), files[i].data.size());
    EXPECT_EQ(e["data_offset"].get<std::uint64_t>(), entries[i].data_offset);
    EXPECT_EQ(e["header_offset"].get<std::uint64_t>(), entries[i].header_offset);
    EXPECT_EQ(e["sha256"], sha256_hex(dir, files[i].data));
  }
  // Info-ZIP's unzip, a third reader, when it is installed.
  if (test::on_path("unzip")) {
    auto [rc, out] = shell("unzip -t " + shell_quote(path.string()) + " 2>&1");
    EXPECT_EQ(rc, 0) << out;
  }
}

TEST(ZipWriter, StoredEntriesReadBackWithPython) {
  write_and_check({}, false);
}

TEST(ZipWriter, Zip64RecordsWhenSizesAndOffsetsPassTheLimit) {
  // Every size and offset past 1000 bytes is written as if it passed 4 GiB.
  ZipWriter::Options o;
  o.zip64_threshold = 1000;
  write_and_check(o, true);
}

TEST(ZipWriter, Zip64EndRecordsForManyEntries) {
  ZipWriter::Options o;
  o.zip64_entry_threshold = 3;
  write_and_check(o, true);
}

TEST(ZipWriter, Zip64FieldsAreWhereTheFormatPutsThem) {
  TempDir dir("zip");
  auto path = dir / "z64.zip";
  ZipWriter::Options o;
  o.zip64_threshold = 10;
  {
    ZipFile f(path);
    ZipWriter zip(f.fd(), o);
    zip.add_entry("a.txt", std::string(50, 'a'));
    zip.finish();
  }
  std::string raw = read_file(path);
  auto u16 = [&](std::size_t at) {
    return static_cast<unsigned>(static_cast<unsigned char>(raw[at]) |
                                 static_cast<unsigned char>(raw[at + 1]) << 8);
  };
  auto u32 = [&](std::size_t at) {
    return std::uint64_t{u16(at)} | std::uint64_t{u16(at + 2)} << 16;
  };
  auto u64 = [&](std::size_t at) { return u32(at) | u32(at + 4) << 32; };
  // Local header: sizes 0xFFFFFFFF, then the ZIP64 extra field with both real sizes.
  ASSERT_EQ(u32(0), 0x04034b50u);
  EXPECT_EQ(u16(4), 45u);
  EXPECT_EQ(u32(18), 0xFFFFFFFFu);
  EXPECT_EQ(u32(22), 0xFFFFFFFFu);
  ASSERT_EQ(u16(28), 20u);
  std::size_t extra = 30 + 5;
  EXPECT_EQ(u16(extra), 1u);
  EXPECT_EQ(u16(extra + 2), 16u);
  EXPECT_EQ(u64(extra + 4), 50u);
  EXPECT_EQ(u64(extra + 12), 50u);
  // End of central directory: the ZIP64 end record, its locator, then the classic record.
  std::size_t eocd = raw.size() - 22;
  ASSERT_EQ(u32(eocd), 0x06054b50u);
  std::size_t locator = eocd - 20;
  ASSERT_EQ(u32(locator), 0x07064b50u);
  std::size_t end64 = u64(locator + 8);
  ASSERT_EQ(u32(end64), 0x06064b50u);
  EXPECT_EQ(u64(end64 + 24), 1u);  // entries on this disk
  EXPECT_EQ(u64(end64 + 32), 1u);  // entries in all
  std::size_t cd = u64(end64 + 48);
  ASSERT_EQ(u32(cd), 0x02014b50u);
  EXPECT_EQ(u32(cd + 20), 0xFFFFFFFFu);
  EXPECT_EQ(u32(cd + 24), 0xFFFFFFFFu);
  EXPECT_EQ(u32(eocd + 16), 0xFFFFFFFFu);  // central directory offset: in the ZIP64 record
  auto listed = python_list(dir, path);
  ASSERT_EQ(listed["entries"].size(), 1u);
  EXPECT_EQ(listed["entries"][0]["size"], 50);
}

TEST(ZipWriter, RefusesMisuse) {
  TempDir dir("zip");
  ZipFile f(dir / "bad.zip");
  ZipWriter zip(f.fd());
  EXPECT_THROW(zip.write("x"), std::logic_error);
  EXPECT_THROW(zip.add_entry("/etc/passwd", "x"), std::invalid_argument);
  EXPECT_THROW(zip.add_entry("a/../../b", "x"), std::invalid_argument);
  EXPECT_THROW(zip.add_entry("", "x"), std::invalid_argument);
  zip.add_entry("a", "x");
  EXPECT_THROW(zip.add_entry("a", "y"), std::invalid_argument);
  zip.begin_entry("b");
  EXPECT_THROW(zip.add_entry("c", "z"), std::logic_error);
  EXPECT_THROW(zip.finish(), std::logic_error);
  zip.end_entry();
  zip.begin_entry("e", 3);
  zip.write("ab");
  EXPECT_THROW(zip.end_entry(), std::logic_error) << "2 bytes written of the 3 announced";
  zip.write("c");
  zip.end_entry();
  zip.finish();
  EXPECT_THROW(zip.add_entry("d", "z"), std::logic_error);
}

TEST(ZipWriter, Crc32MatchesKnownValue) {
  // The check value of CRC-32/ISO-HDLC.
  EXPECT_EQ(crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(crc32("6789", crc32("12345")), 0xCBF43926u);
}

}  // namespace
}  // namespace vellum::util
