// A disk that fills up under the writer: each failed capture gets a clear error, nothing
// reported done is lost, no record is left half written, and once space returns the same
// writer carries on and the archive verifies, records of the failed batches included. Uses a
// real small filesystem (tmpfs), which needs root; skipped otherwise.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "archive/ArchiveReader.h"
#include "archive/ArchiveWriter.h"
#include "archive/Verifier.h"
#include "support/TempDir.h"
#include "util/Time.h"
#include "util/Url.h"

using namespace vellum;
namespace fs = std::filesystem;

namespace {

fetch::FetchResult page(const std::string& url, const std::string& body) {
  fetch::Exchange h;
  h.url = url;
  h.status = 200;
  h.ip = "127.0.0.1";
  h.started = util::now();
  auto u = util::parse_url(url);
  h.request = "GET " + u->path + " HTTP/1.1\r\nHost: " + u->host + "\r\n\r\n";
  h.response_head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  h.response_body = body;
  fetch::FetchResult r;
  r.url = r.final_url = url;
  r.hops.push_back(std::move(h));
  return r;
}

// Bytes zstd cannot shrink, so that the filesystem fills at a known pace.
std::string noise(std::mt19937_64& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class SmallFilesystem : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
    fs::create_directories(mnt_);
    if (::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=1m") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  void grow(const char* size) {
    ASSERT_EQ(::mount("tmpfs", mnt_.c_str(), "tmpfs", MS_REMOUNT, size), 0) << std::strerror(errno);
  }
  test::TempDir tmp_{"diskfull"};
  fs::path mnt_ = tmp_ / "mnt";
  bool mounted_ = false;
};

}  // namespace

TEST_F(SmallFilesystem, FullDiskFailsCapturesCleanlyAndTheWriterRecoversWhenSpaceReturns) {
  fs::path dir = mnt_ / "archive";
  std::mt19937_64 rng(42);
  std::map<std::string, std::string> stored;  // capture id -> body, reported done
  archive::WriterOptions o;
  o.dir = dir;
  auto w = archive::ArchiveWriter::open(o);
  int failures = 0;
  std::string first_error;
  for (int i = 0; i < 40 && failures < 3; ++i) {
    std::string body = noise(rng, 60'000);
    try {
      auto s = w->store(page("http://example.test/p" + std::to_string(i), body));
      stored[s.hops.at(0).capture_id] = body;
    } catch (const std::exception& e) {
      if (first_error.empty()) first_error = e.what();
      ++failures;
    }
  }
  ASSERT_GT(failures, 0) << "the 1 MiB filesystem never filled up";
  ASSERT_FALSE(stored.empty());
  EXPECT_TRUE(first_error.find("No space left on device") != std::string::npos ||
              first_error.find("disk is full") != std::string::npos)
      << first_error;

  // While the disk is still full: everything reported done restores byte for byte.
  {
    archive::ArchiveReader reader(dir);
    for (const auto& [id, body] : stored)
      EXPECT_EQ(reader.payload(reader.resolve(id)).entity, body) << id;
  }

  // Space returns; the same writer goes on, and indexes what the failed batches left.
  grow("size=16m");
  std::string body = noise(rng, 60'000);
  auto s = w->store(page("http://example.test/after", body));
  stored[s.hops.at(0).capture_id] = body;
  {
    archive::ArchiveReader reader(dir);
    auto report = archive::verify_archive(reader);
    EXPECT_TRUE(report.ok()) << ::testing::PrintToString(report.problems);
    for (const auto& [id, b] : stored) EXPECT_EQ(reader.payload(reader.resolve(id)).entity, b);
    // Every record in the files is a whole record the index knows: no torn tail, no orphan.
    EXPECT_GE(reader.index().capture_count(), stored.size());
  }
  w->close();

  // A later writer finds nothing to repair.
  auto again = archive::ArchiveWriter::open(o);
  EXPECT_EQ(again->recovery().files_recovered, 0u);
  again->close();
  archive::ArchiveReader reader(dir);
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

// An archive on a read-only file system (a backup snapshot, a read-only mount) can be listed,
// restored and verified: the index is read as it is, without the shared-memory file SQLite
// keeps beside it on a writable one.
TEST_F(SmallFilesystem, AnArchiveOnAReadOnlyFileSystemIsRead) {
  grow("size=8m");
  fs::path dir = mnt_ / "archive";
  std::mt19937_64 rng(7);
  std::map<std::string, std::string> stored;
  {
    archive::WriterOptions o;
    o.dir = dir;
    auto w = archive::ArchiveWriter::open(o);
    for (int i = 0; i < 5; ++i) {
      std::string body = noise(rng, 20'000);
      auto s = w->store(page("http://example.test/r" + std::to_string(i), body));
      stored[s.hops.at(0).capture_id] = body;
    }
  }
  ASSERT_EQ(::mount("tmpfs", mnt_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, "size=8m"), 0)
      << std::strerror(errno);
  archive::ArchiveReader reader(dir);
  for (const auto& [id, body] : stored) EXPECT_EQ(reader.payload(reader.resolve(id)).entity, body);
  EXPECT_EQ(reader.index().list({}).size(), stored.size());
  EXPECT_TRUE(archive::verify_archive(reader).ok());
  EXPECT_FALSE(fs::exists(dir / "index.sqlite3-shm"));
}
