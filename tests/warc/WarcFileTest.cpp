// The append-only file: exclusive creation, whole appends, clean failure, rename on completion.
#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>

#include "warc/WarcTestSupport.h"

namespace vellum::warc {
namespace {

using test::read_file;
using test::TempDir;
using test::write_file;
using namespace testing;

TEST(WarcFile, CreateWritesThePreambleAndRefusesAnExistingFile) {
  TempDir dir("warc-file");
  auto path = dir / "a.warc.zst";
  auto file = WarcFile::create(path, "PREAMBLE");
  EXPECT_EQ(file->size(), 8u);
  EXPECT_EQ(file->path(), path);
  EXPECT_EQ(file->append("one"), 8u);
  EXPECT_EQ(file->append("two!"), 11u);
  EXPECT_EQ(file->size(), 15u);
  file->sync();
  EXPECT_EQ(read_file(path), "PREAMBLEonetwo!");

  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0644 & ~mask);

  try {
    WarcFile::create(path, "X");
    ADD_FAILURE() << "an existing file was opened for writing";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::file_exists);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(path), "PREAMBLEonetwo!");  // untouched
}

TEST(WarcFile, OpenAppendContinuesAtTheEnd) {
  TempDir dir("warc-file");
  auto path = dir / "b.warc";
  write_file(path, "0123456789");
  auto file = WarcFile::open_append(path);
  EXPECT_EQ(file->size(), 10u);
  EXPECT_EQ(file->append("abc"), 10u);
  file.reset();
  EXPECT_EQ(read_file(path), "0123456789abc");
  EXPECT_THROW(WarcFile::open_append(dir / "missing.warc"), std::system_error);
}

TEST(WarcFile, CloseAndRenameMovesTheFinishedFile) {
  TempDir dir("warc-file");
  auto open_path = dir / "c.warc.gz.open";
  auto final_path = dir / "c.warc.gz";
  EncoderOptions o;
  o.compression = Compression::gzip;
  auto records = sample_records(1);
  WrittenFile w = write_warc(open_path, o, records);
  auto file = WarcFile::open_append(open_path);
  file->close_and_rename(final_path);
  EXPECT_EQ(file->path(), final_path);
  EXPECT_FALSE(std::filesystem::exists(open_path));
  WarcReader reader(final_path);
  for (const auto& r : records) {
    auto got = reader.next();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->serialize(), r.serialize());
  }
  EXPECT_FALSE(reader.next());
}

// Lowers the file size limit so that writes fail with EFBIG; restores it afterwards.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lower = saved_;
    lower.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &lower) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  void (*old_handler_)(int);
  bool ok_ = false;
};

TEST(WarcFile, FailedAppendLeavesNoPartialRecord) {
  TempDir dir("warc-file");
  auto path = dir / "d.warc.zst";
  EncoderOptions o;
  RecordEncoder encoder(o);
  auto records = sample_records(2);
  auto file = WarcFile::create(path, encoder.file_preamble());
  std::vector<std::string> encoded;
  for (const auto& r : records) encoded.push_back(encoder.encode(r.serialize()));
  file->append(encoded[0]);
  file->append(encoded[1]);
  const std::uint64_t before = file->size();
  {
    FileSizeLimit limit(before + encoded[2].size() / 2);  // the next record fits only half
    ASSERT_TRUE(limit.ok());
    try {
      file->append(encoded[2]);
      ADD_FAILURE() << "the write past the limit succeeded";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::errc::file_too_large);
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(file->size(), before);
  EXPECT_EQ(std::filesystem::file_size(path), before);
  ScanResult scan = scan_valid_prefix(path);
  EXPECT_FALSE(scan.error) << *scan.error;
  EXPECT_EQ(scan.valid_end, before);

  // The file goes on being usable once writes succeed again.
  EXPECT_EQ(file->append(encoded[2]), before);
  for (std::size_t i = 3; i < encoded.size(); ++i) file->append(encoded[i]);
  file->sync();
  WarcReader reader(path);
  std::size_t n = 0;
  while (auto r = reader.next()) EXPECT_EQ(r->serialize(), records[n++].serialize());
  EXPECT_EQ(n, records.size());
}

// A file being written is locked while its WarcFile lives, so that another process can tell it
// from a file left open by a process that stopped.
TEST(WarcFile, IsLockedWhileBeingWritten) {
  TempDir tmp("lockedwarc");
  const auto path = tmp / "x.warc.open";
  {
    auto file = WarcFile::create(path, "");
    file->append("WARC/1.1\r\n");
    EXPECT_TRUE(is_being_written(path));
  }
  EXPECT_FALSE(is_being_written(path));
  EXPECT_FALSE(is_being_written(tmp / "missing.warc"));
}

}  // namespace
}  // namespace vellum::warc
