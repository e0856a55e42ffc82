// ArchiveWriter / ArchiveReader / Verifier on real files: store, restore, dedup, rotation,
// recovery after a writer died, reindex, and damage detection.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "archive/ArchiveReader.h"
#include "archive/ArchiveWriter.h"
#include "archive/RecordBuilder.h"
#include "archive/Verifier.h"
#include "support/TempDir.h"
#include "util/Digest.h"
#include "util/Url.h"
#include "warc/WarcReader.h"
#include "warc/WarcWriter.h"

using namespace vellum;
namespace fs = std::filesystem;

namespace {

fetch::Exchange make_hop(
    const std::string& url, int status, const std::string& body,
    const std::string& extra_headers = "Content-Type: text/html; charset=utf-8\r\n",
    bool chunked = false) {
  fetch::Exchange h;
  h.url = url;
  h.status = status;
  h.ip = "127.0.0.1";
  h.started = util::now();
  auto u = util::parse_url(url);
  h.request = "GET " + u->path + " HTTP/1.1\r\nHost: " + u->host + "\r\nUser-Agent: test\r\n\r\n";
  h.response_head = "HTTP/1.1 " + std::to_string(status) + " X\r\n" + extra_headers;
  if (chunked) {
    h.response_head += "Transfer-Encoding: chunked\r\n\r\n";
    std::string raw;
    for (std::size_t i = 0; i < body.size(); i += 7) {
      std::string part = body.substr(i, 7);
      char len[16];
      std::snprintf(len, sizeof len, "%zx;ext=1\r\n", part.size());
      raw += len + part + "\r\n";
    }
    h.response_body = raw + "0\r\nX-Trailer: y\r\n\r\n";
  } else {
    h.response_head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    h.response_body = body;
  }
  return h;
}

fetch::FetchResult one(fetch::Exchange h) {
  fetch::FetchResult r;
  r.url = h.url;
  r.final_url = h.url;
  r.hops.push_back(std::move(h));
  return r;
}

archive::WriterOptions opts(const fs::path& dir) {
  archive::WriterOptions o;
  o.dir = dir;
  return o;
}

// Damages an uncompressed file where `word` first appears; false when it does not.
bool capitalise_first(const fs::path& file, const std::string& word) {
  std::string data = test::read_file(file);
  const auto pos = data.find(word);
  if (pos == std::string::npos) return false;
  data[pos] = static_cast<char>(data[pos] - 'a' + 'A');
  test::write_file(file, data);
  return true;
}

std::string restore_html(const fs::path& dir, const std::string& ref) {
  archive::ArchiveReader reader(dir);
  return reader.payload(reader.resolve(ref)).entity;
}

}  // namespace

TEST(Archive, StoresAndRestoresPayloadByteForByte) {
  test::TempDir tmp("arch");
  std::string body("<html><title>t</title>\0binary\xff\r\n</html>", 39);
  std::string id;
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    auto s = w->store(one(make_hop("http://example.test/a", 200, body)));
    ASSERT_EQ(s.hops.size(), 1u);
    id = s.hops[0].capture_id;
    EXPECT_FALSE(s.hops[0].revisit);
  }
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_FALSE(files[0].open);
  EXPECT_TRUE(files[0].name.ends_with(".warc.zst"));
  EXPECT_TRUE(files[0].name.starts_with("vellum-"));

  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/a"), body);
  EXPECT_EQ(restore_html(tmp.path(), id), body);
  EXPECT_EQ(restore_html(tmp.path(), id.substr(0, 8)), body);

  // The file: warcinfo, request, response, with the fields the format requires.
  warc::WarcReader r(files[0].path);
  auto info = r.next();
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type(), "warcinfo");
  auto req = r.next();
  auto resp = r.next();
  ASSERT_TRUE(req && resp);
  EXPECT_EQ(req->type(), "request");
  EXPECT_EQ(resp->type(), "response");
  EXPECT_EQ(req->field_or("WARC-Concurrent-To"), resp->record_id());
  EXPECT_EQ(resp->field_or("WARC-Target-URI"), "http://example.test/a");
  EXPECT_EQ(resp->field_or("WARC-IP-Address"), "127.0.0.1");
  EXPECT_EQ(resp->field_or("WARC-Payload-Digest"), util::warc_sha1(body));
  EXPECT_EQ(resp->field_or("WARC-Block-Digest"), util::warc_sha1(resp->block));
  EXPECT_FALSE(r.next());
}

TEST(Archive, ChunkedBodyStoredRawRestoredDechunked) {
  test::TempDir tmp("arch");
  std::string body = "hello chunked world, more than seven bytes";
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    w->store(
        one(make_hop("http://example.test/c", 200, body, "Content-Type: text/html\r\n", true)));
  }
  archive::ArchiveReader reader(tmp.path());
  auto row = reader.resolve("http://example.test/c");
  EXPECT_EQ(row.payload_digest, util::warc_sha1(body));
  auto rec = reader.read_response(row);
  EXPECT_NE(rec.block.find(";ext=1\r\n"), std::string::npos) << "chunk framing must be kept";
  EXPECT_EQ(reader.payload(row).entity, body);
}

TEST(Archive, UnchangedRecaptureBecomesRevisit) {
  test::TempDir tmp("arch");
  std::string first_id, second_id, third_id;
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    first_id = w->store(one(make_hop("http://example.test/p", 200, "same"))).hops[0].capture_id;
  }
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    auto s = w->store(one(make_hop("http://www.example.test/p", 200, "same")));
    EXPECT_TRUE(s.hops[0].revisit);
    second_id = s.hops[0].capture_id;
    auto s3 = w->store(one(make_hop("http://example.test/p", 200, "changed")));
    EXPECT_FALSE(s3.hops[0].revisit);
    third_id = s3.hops[0].capture_id;
  }
  archive::ArchiveReader reader(tmp.path());
  auto second = reader.resolve(second_id);
  EXPECT_EQ(second.record_type, "revisit");
  EXPECT_EQ(second.refers_to, reader.resolve(first_id).record_id);
  auto rec = reader.read_response(second);
  EXPECT_EQ(rec.field_or("WARC-Profile"), archive::kRevisitProfile);
  EXPECT_EQ(rec.field_or("WARC-Refers-To-Target-URI"), "http://example.test/p");
  EXPECT_EQ(rec.block.find("same"), std::string::npos) << "a revisit holds no payload";
  EXPECT_EQ(reader.payload(second).entity, "same");
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/p"), "changed");
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

// Every revisit names the record that holds the payload, by id, URI and date alike, however
// many unchanged captures came between; its block (the response head) is marked truncated by
// length, as the identical-payload-digest profile requires, and restores as the whole page.
TEST(Archive, RevisitsReferToTheOriginalNotTheRevisitBefore) {
  test::TempDir tmp("arch");
  std::vector<std::string> ids;
  const std::vector<std::string> urls = {"http://example.test/q?b=2&a=1",
                                         "http://www.example.test/q?b=2&a=1",
                                         "http://example.test/q?b=2&a=1"};
  for (std::size_t i = 0; i < urls.size(); ++i) {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    auto h = make_hop(urls[i], 200, "same body");
    h.started = *util::parse_warc_date("2026-01-0" + std::to_string(i + 1) + "T00:00:00Z");
    ids.push_back(w->store(one(h)).hops[0].capture_id);
  }
  archive::ArchiveReader reader(tmp.path());
  auto original = reader.read_response(reader.resolve(ids[0]));
  ASSERT_EQ(original.type(), "response");
  EXPECT_EQ(original.field("WARC-Truncated"), nullptr);
  for (std::size_t i = 1; i < ids.size(); ++i) {
    auto row = reader.resolve(ids[i]);
    ASSERT_EQ(row.record_type, "revisit") << i;
    auto rec = reader.read_response(row);
    EXPECT_EQ(rec.field_or("WARC-Refers-To"), original.record_id()) << i;
    EXPECT_EQ(rec.field_or("WARC-Refers-To-Target-URI"), original.field_or("WARC-Target-URI")) << i;
    EXPECT_EQ(rec.field_or("WARC-Refers-To-Date"), original.field_or("WARC-Date")) << i;
    EXPECT_EQ(rec.field_or("WARC-Truncated"), "length") << i;
    EXPECT_FALSE(row.truncated) << "the payload of a revisit is the original's, whole";
    auto p = reader.payload(row);
    EXPECT_EQ(p.entity, "same body");
    EXPECT_TRUE(p.complete);
  }
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

// A re-capture is a revisit only of a copy that can be read back: against a stored copy that is
// damaged (here a byte of its body changed in an uncompressed file, then a zstd frame) or gone
// (its file moved away, as to a disk not mounted), the page just fetched is stored whole.
TEST(Archive, ARecaptureIsStoredWholeWhenTheCopyItWouldRepeatCannotBeRead) {
  struct Case {
    const char* name;
    warc::Compression compression;
    std::function<void(const fs::path& file, const index::CaptureRow& row)> harm;
  };
  auto flip_in_record = [](const fs::path& file, const index::CaptureRow& row) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(row.offset + row.length - 40);
    f.seekg(at);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x20);
    f.seekp(at);
    f.write(&c, 1);
  };
  const std::vector<Case> cases = {
      {"body byte, uncompressed", warc::Compression::none, flip_in_record},
      {"zstd frame", warc::Compression::zstd, flip_in_record},
      {"file gone", warc::Compression::zstd,
       [](const fs::path& file, const index::CaptureRow&) {
         fs::rename(file, file.parent_path().parent_path() / "elsewhere");
       }},
  };
  const std::string body = "a page that cannot be fetched twice, " + std::string(300, 'x');
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    test::TempDir tmp("arch");
    auto o = opts(tmp.path());
    o.encoder.compression = c.compression;
    {
      auto w = archive::ArchiveWriter::open(o);
      w->store(one(make_hop("http://example.test/p", 200, body)));
    }
    {
      archive::ArchiveReader reader(tmp.path());
      const auto row = reader.resolve("http://example.test/p");
      c.harm(reader.dir().warc_path(row.file), row);
    }
    std::string id;
    {
      auto w = archive::ArchiveWriter::open(o);
      auto s = w->store(one(make_hop("http://example.test/p", 200, body)));
      EXPECT_FALSE(s.hops[0].revisit);
      id = s.hops[0].capture_id;
    }
    archive::ArchiveReader reader(tmp.path());
    EXPECT_EQ(reader.resolve(id).record_type, "response");
    EXPECT_EQ(restore_html(tmp.path(), id), body);
  }
}

TEST(Archive, UrlAtTimestampPicksNearestEarlierCapture) {
  test::TempDir tmp("arch");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    auto h1 = make_hop("http://example.test/t", 200, "v1");
    h1.started = *util::parse_warc_date("2025-01-01T00:00:00Z");
    auto h2 = make_hop("http://example.test/t", 200, "v2");
    h2.started = *util::parse_warc_date("2026-01-01T00:00:00Z");
    w->store(one(h1));
    w->store(one(h2));
  }
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/t@2025"), "v1");
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/t@20260101000000"), "v2");
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/t"), "v2");
  EXPECT_THROW(restore_html(tmp.path(), "http://example.test/t@2024"), std::runtime_error);
  EXPECT_THROW(restore_html(tmp.path(), "http://example.test/none"), std::runtime_error);
}

TEST(Archive, RedirectHopsAreSeparateCaptures) {
  test::TempDir tmp("arch");
  fetch::FetchResult r;
  r.url = "http://example.test/old";
  r.hops.push_back(make_hop("http://example.test/old", 301, "", "Location: /new\r\n"));
  r.hops.push_back(make_hop("http://example.test/new", 200, "new page"));
  r.final_url = "http://example.test/new";
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    auto s = w->store(r);
    ASSERT_EQ(s.hops.size(), 2u);
    EXPECT_EQ(s.hops[0].status, 301);
  }
  archive::ArchiveReader reader(tmp.path());
  auto old_row = reader.resolve("http://example.test/old");
  EXPECT_EQ(old_row.status, 301);
  EXPECT_EQ(old_row.location, "http://example.test/new");
  EXPECT_EQ(reader.payload(reader.resolve("http://example.test/new")).entity, "new page");
  auto followed = reader.follow_redirects(old_row);
  EXPECT_EQ(followed.url, "http://example.test/new");
  EXPECT_EQ(reader.payload(followed).entity, "new page");
  auto plain = reader.resolve("http://example.test/new");
  EXPECT_EQ(reader.follow_redirects(plain).capture_id, plain.capture_id);
}

TEST(Archive, TruncatedCaptureIsMarked) {
  test::TempDir tmp("arch");
  auto h = make_hop("http://example.test/big", 200, "partial");
  h.truncated = true;
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    EXPECT_TRUE(w->store(one(h)).hops[0].truncated);
  }
  archive::ArchiveReader reader(tmp.path());
  auto row = reader.resolve("http://example.test/big");
  EXPECT_TRUE(row.truncated);
  EXPECT_EQ(reader.read_response(row).field_or("WARC-Truncated"), "length");
  EXPECT_FALSE(reader.payload(row).complete);
}

TEST(Archive, RotatesAndEveryFileStartsWithWarcinfo) {
  for (auto c : {warc::Compression::zstd, warc::Compression::gzip, warc::Compression::none}) {
    test::TempDir tmp("arch");
    auto o = opts(tmp.path());
    o.encoder.compression = c;
    o.rotate_bytes = 2000;
    {
      auto w = archive::ArchiveWriter::open(o);
      for (int i = 0; i < 20; ++i)
        w->store(one(make_hop("http://example.test/" + std::to_string(i), 200,
                              std::string(600 + i, char('a' + i)))));
    }
    auto files = archive::ArchiveDir(tmp.path()).warc_files();
    EXPECT_GT(files.size(), 3u);
    for (const auto& f : files) {
      EXPECT_FALSE(f.open);
      EXPECT_TRUE(f.name.ends_with(warc::file_extension(c))) << f.name;
      warc::WarcReader r(f.path);
      EXPECT_EQ(r.next()->type(), "warcinfo");
    }
    archive::ArchiveReader reader(tmp.path());
    EXPECT_EQ(reader.index().capture_count(), 20u);
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(restore_html(tmp.path(), "http://example.test/" + std::to_string(i)),
                std::string(600 + i, char('a' + i)));
    EXPECT_TRUE(archive::verify_archive(reader).ok());
  }
}

// File serials go on from the highest in use: a file removed (moved to other storage, say)
// does not make the next file take a serial another file has.
TEST(Archive, SerialsGoOnFromTheHighestInUse) {
  test::TempDir tmp("arch");
  auto o = opts(tmp.path());
  o.rotate_bytes = 1;  // one capture per file
  auto store = [&](const std::string& path) {
    auto w = archive::ArchiveWriter::open(o);
    w->store(one(make_hop("http://example.test/" + path, 200, "s")));
  };
  store("a");
  store("b");
  store("c");
  auto serials = [&] {
    std::vector<unsigned> v;
    for (const auto& e : archive::ArchiveDir(tmp.path()).warc_files())
      v.push_back(archive::warc_file_serial(e.name).value_or(99999));
    return v;
  };
  EXPECT_EQ(serials(), (std::vector<unsigned>{0, 1, 2}));
  fs::remove(archive::ArchiveDir(tmp.path()).warc_files().front().path);
  store("d");
  EXPECT_EQ(serials(), (std::vector<unsigned>{1, 2, 3}));
  EXPECT_EQ(archive::warc_file_serial("my-crawl-20240101000000000-00042-host-a.warc.gz"), 42u);
  EXPECT_EQ(archive::warc_file_serial("wget-output.warc.gz"), std::nullopt);
}

// `vellum verify` beside a running writer: captures stored, and files closed and renamed, while
// it reads are neither "missing" from the WARC files nor "not in the index", and a file renamed
// under it is read at its new name.
TEST(Archive, VerifyBesideAWriterThatStoresAndRotates) {
  test::TempDir tmp("arch");
  auto o = opts(tmp.path());
  o.rotate_bytes = 3000;
  auto w = archive::ArchiveWriter::open(o);
  std::mt19937 random(7);
  auto noise = [&] {  // a body zstd cannot shrink, so that files fill up
    std::string b(900, ' ');
    for (char& c : b) c = static_cast<char>('a' + random() % 26);
    return b;
  };
  archive::ArchiveReader reader(tmp.path());
  unsigned stored = 0;
  auto store = [&](const std::string& path) {
    w->store(one(make_hop("http://example.test/" + path, 200, noise())));
    ++stored;
  };
  // Two closed files, and one open one with a capture in it.
  while (reader.dir().warc_files().size() < 3 || !reader.dir().warc_files().back().open)
    store("v" + std::to_string(stored));
  int calls = 0;
  auto report = archive::verify_archive(reader, [&](std::uint64_t, std::uint64_t) {
    // While the first file is read: more captures, filling the open file until it is renamed,
    // and new files after it.
    if (calls++ == 0)
      for (int i = 0; i < 6; ++i) store("late" + std::to_string(i));
  });
  ASSERT_GT(calls, 0);
  EXPECT_TRUE(report.ok()) << ::testing::PrintToString(report.problems);
  EXPECT_GE(report.captures, stored - 6);
  w->close();
  auto after = archive::verify_archive(reader);
  EXPECT_TRUE(after.ok()) << ::testing::PrintToString(after.problems);
  EXPECT_EQ(after.captures, stored);
}

// The lock file deleted under a running writer must not let a second writer (or reindex)
// "recover" the file the first is writing: each file being written holds a lock of its own.
TEST(Archive, LockFileDeletedUnderAWriterDoesNotLetASecondOneIn) {
  test::TempDir tmp("arch");
  auto first = archive::ArchiveWriter::open(opts(tmp.path()));
  const archive::ArchiveDir dir(tmp.path());
  // Refused while the first writer has no file open yet (nothing stored), and while it has.
  fs::remove(dir.lock_file());
  EXPECT_THROW(archive::ArchiveWriter::open(opts(tmp.path())), std::runtime_error);
  first->store(one(make_hop("http://example.test/live", 200, "being written")));
  ASSERT_TRUE(dir.warc_files().at(0).open);
  fs::remove(dir.lock_file());

  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (attempt == 0)
        archive::ArchiveWriter::open(opts(tmp.path()));
      else
        archive::reindex(tmp.path());
      ADD_FAILURE() << "a second writer opened the archive beside the first";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(dir.warc_dir().string() +
                                           " is locked by another process writing it"),
                std::string::npos)
          << e.what();
    }
  }
  // The first writer's file is untouched: still open, and it goes on.
  ASSERT_TRUE(dir.warc_files().at(0).open);
  first->store(one(make_hop("http://example.test/live2", 200, "still written")));
  first->close();
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/live"), "being written");
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/live2"), "still written");
  archive::ArchiveReader reader(tmp.path());
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

TEST(Archive, ConcurrentStoresAreAllDurableAndIndexed) {
  test::TempDir tmp("arch");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          std::string u = "http://example.test/" + std::to_string(t) + "/" + std::to_string(i);
          w->store(one(make_hop(u, 200, "body " + u)));
        }
      });
    for (auto& th : threads) th.join();
  }
  archive::ArchiveReader reader(tmp.path());
  EXPECT_EQ(reader.index().capture_count(), 100u);
  auto report = archive::verify_archive(reader);
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems[0]);
  EXPECT_EQ(report.records, 201u);
}

// The same unchanged page stored by two threads at once (a URL given twice to one `vellum
// archive` run): one stores the page, the other finds it and stores a revisit.
TEST(Archive, TheSamePageStoredTwiceAtOnceIsStoredOnceAndRevisited) {
  test::TempDir tmp("arch");
  constexpr int kPages = 20;
  std::vector<std::array<bool, 2>> revisit(kPages);
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    std::vector<std::thread> threads;
    for (int copy = 0; copy < 2; ++copy)
      threads.emplace_back([&, copy] {
        for (int i = 0; i < kPages; ++i) {
          const std::string u = "http://example.test/same/" + std::to_string(i);
          revisit[i][copy] =
              w->store(one(make_hop(u, 200, std::string(20000, 'x') + u))).hops[0].revisit;
        }
      });
    for (auto& th : threads) th.join();
  }
  for (int i = 0; i < kPages; ++i)
    EXPECT_NE(revisit[i][0], revisit[i][1]) << "page " << i << ": one store, one revisit";
  archive::ArchiveReader reader(tmp.path());
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

TEST(Archive, RecoversFilesLeftByAKilledWriter) {
  test::TempDir tmp("arch");
  // A child process stores captures and dies without closing anything.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    for (int i = 0; i < 10; ++i)
      w->store(one(
          make_hop("http://example.test/k" + std::to_string(i), 200, "page " + std::to_string(i))));
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 1u);
  ASSERT_TRUE(files[0].open);
  // A record that was being written when the process died: half a zstd frame.
  auto size = fs::file_size(files[0].path);
  {
    std::ofstream out(files[0].path, std::ios::binary | std::ios::app);
    out.write("\x28\xb5\x2f\xfd\x64\x00\x01", 7);
  }
  {
    auto o = opts(tmp.path());
    std::vector<std::string> told;
    o.busy = [&](const std::string& what) { told.push_back(what); };
    auto w = archive::ArchiveWriter::open(o);
    EXPECT_EQ(w->recovery().files_recovered, 1u);
    EXPECT_EQ(w->recovery().bytes_cut, 7u);
    ASSERT_FALSE(told.empty());
    EXPECT_EQ(told.front(), "recovering " + files[0].path.filename().string() +
                                ", left open by a process that stopped");
  }
  files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_FALSE(files[0].open);
  EXPECT_EQ(fs::file_size(files[0].path), size);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(restore_html(tmp.path(), "http://example.test/k" + std::to_string(i)),
              "page " + std::to_string(i));
  archive::ArchiveReader reader(tmp.path());
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

namespace {

// An archive whose writer died without closing anything: one ".open" file holding `n`
// captures of http://example.test/o<i> ("page <i>"), all reported done.
fs::path left_open(const fs::path& dir, int n) {
  pid_t pid = fork();
  if (pid == 0) {
    auto w = archive::ArchiveWriter::open(opts(dir));
    for (int i = 0; i < n; ++i)
      w->store(one(
          make_hop("http://example.test/o" + std::to_string(i), 200, "page " + std::to_string(i))));
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  auto files = archive::ArchiveDir(dir).warc_files();
  if (files.size() != 1 || !files[0].open) throw std::runtime_error("no file was left open");
  return files[0].path;
}

// Flips the bytes in the middle of the record at [offset, offset + length).
void damage(const fs::path& file, std::uint64_t offset, std::uint64_t length) {
  std::string data = test::read_file(file);
  for (std::uint64_t i = offset + length / 2; i < offset + length / 2 + 4; ++i)
    data[i] = static_cast<char>(~data[i]);
  test::write_file(file, data);
}

}  // namespace

// `vellum reindex` run before any writer, on a file a killed writer left open with its last
// write torn, reports no damage and keeps the file's end at its last whole record, so that the
// next writer still cuts the torn tail and the archive verifies.
TEST(Archive, ReindexBeforeRecoveryLeavesATornTailToBeCut) {
  test::TempDir tmp("arch");
  const fs::path file = left_open(tmp.path(), 6);
  const auto size = fs::file_size(file);
  {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out.write("\x28\xb5\x2f\xfd\x64\x00\x01", 7);
  }
  std::vector<std::string> said;
  auto report = archive::reindex(tmp.path(), [&](const std::string& m) { said.push_back(m); });
  EXPECT_TRUE(report.problems.empty()) << report.problems.front();
  EXPECT_EQ(report.captures, 6u);
  ASSERT_FALSE(said.empty());
  EXPECT_NE(said.back().find("a torn last write from offset " + std::to_string(size)),
            std::string::npos)
      << said.back();
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    EXPECT_EQ(w->recovery().bytes_cut, 7u);
  }
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(restore_html(tmp.path(), "http://example.test/o" + std::to_string(i)),
              "page " + std::to_string(i));
  archive::ArchiveReader reader(tmp.path());
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

// A record damaged inside a file left open is not a torn tail: recovery must not cut there,
// which would destroy the captures after it, all reported done. The file is closed with every
// byte, every capture outside the damaged record still restores, and verify names the damage.
TEST(Archive, DamageInsideAFileLeftOpenIsKeptNotCut) {
  test::TempDir tmp("arch");
  fs::path file = left_open(tmp.path(), 10);
  index::CaptureRow victim;
  {
    archive::ArchiveReader reader(tmp.path());
    victim = reader.resolve("http://example.test/o3");
  }
  damage(file, victim.offset, victim.length);
  const std::uintmax_t size = fs::file_size(file);
  auto w = archive::ArchiveWriter::open(opts(tmp.path()));
  EXPECT_EQ(w->recovery().bytes_cut, 0u);
  ASSERT_EQ(w->recovery().damaged.size(), 1u);
  std::string messages;
  for (const auto& m : w->recovery().messages) messages += m + "\n";
  EXPECT_NE(messages.find("damaged record at offset " + std::to_string(victim.offset)),
            std::string::npos)
      << messages;
  EXPECT_NE(messages.find("not a torn tail"), std::string::npos) << messages;
  w.reset();
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_FALSE(files[0].open);
  EXPECT_EQ(fs::file_size(files[0].path), size) << "nothing is cut";
  for (int i = 0; i < 10; ++i) {
    if (i == 3) continue;
    EXPECT_EQ(restore_html(tmp.path(), "http://example.test/o" + std::to_string(i)),
              "page " + std::to_string(i));
  }
  archive::ArchiveReader reader(tmp.path());
  EXPECT_FALSE(archive::verify_archive(reader).ok());
}

// A file "left open" whose closed name is taken (a copy of the start of a closed file put back
// beside it) is not recovered over the closed file: neither file nor the index is touched, and
// the archive says why. A symbolic link loop in warc/ is not a WARC file and blocks nothing.
TEST(Archive, AnOpenFileBesideItsClosedTwinReplacesNothing) {
  test::TempDir tmp("arch");
  fs::path closed;
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    for (int i = 0; i < 6; ++i)
      w->store(one(
          make_hop("http://example.test/t" + std::to_string(i), 200, "page " + std::to_string(i))));
  }
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 1u);
  closed = files[0].path;
  const std::string bytes = test::read_file(closed);
  const fs::path twin = closed.string() + ".open";
  test::write_file(twin, bytes.substr(0, bytes.size() / 2));
  fs::create_symlink("loop", tmp / "warc" / "loop");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    std::string messages;
    for (const auto& m : w->recovery().messages) messages += m + "\n";
    EXPECT_NE(messages.find(twin.filename().string() +
                            ": left as it is: " + closed.filename().string() + " exists beside it"),
              std::string::npos)
        << messages;
    EXPECT_EQ(w->recovery().bytes_cut, 0u);
    w->store(one(make_hop("http://example.test/new", 200, "new page")));
  }
  EXPECT_EQ(test::read_file(closed), bytes);
  EXPECT_EQ(test::read_file(twin), bytes.substr(0, bytes.size() / 2));
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(restore_html(tmp.path(), "http://example.test/t" + std::to_string(i)),
              "page " + std::to_string(i));
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/new"), "new page");
}

// Closing a file never renames it over one already there.
TEST(Archive, ClosingNeverReplacesAFile) {
  test::TempDir tmp("arch");
  const fs::path a = tmp / "a", b = tmp / "b";
  test::write_file(a, "new");
  test::write_file(b, "kept");
  try {
    warc::rename_no_replace(a, b);
    ADD_FAILURE() << "renamed over " << b;
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EEXIST);
    EXPECT_NE(std::string(e.what()).find("that file exists and is not replaced"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(test::read_file(b), "kept");
  EXPECT_EQ(test::read_file(a), "new");
  warc::rename_no_replace(a, tmp / "c");
  EXPECT_FALSE(fs::exists(a));
  EXPECT_EQ(test::read_file(tmp / "c"), "new");
}

// Past what the index holds as stored, bytes are a tail torn by the crash, never reported done:
// they are cut even when a whole record follows the bad one (pages written back out of order
// before a power cut), so the file verifies again.
TEST(Archive, ATailPastWhatWasStoredIsCutEvenWithAWholeRecordAfterIt) {
  test::TempDir tmp("arch");
  fs::path file = left_open(tmp.path(), 4);
  index::CaptureRow last;
  {
    archive::ArchiveReader reader(tmp.path());
    last = reader.resolve("http://example.test/o3");
  }
  const std::string whole = test::read_file(file);
  const std::string record = whole.substr(last.offset, last.length);
  std::string torn = record;
  for (std::size_t i = torn.size() / 2; i < torn.size() / 2 + 4; ++i)
    torn[i] = static_cast<char>(~torn[i]);
  test::write_file(file, whole + torn + record);
  auto w = archive::ArchiveWriter::open(opts(tmp.path()));
  EXPECT_EQ(w->recovery().bytes_cut, torn.size() + record.size());
  EXPECT_TRUE(w->recovery().damaged.empty());
  w.reset();
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(fs::file_size(files[0].path), whole.size());
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(restore_html(tmp.path(), "http://example.test/o" + std::to_string(i)),
              "page " + std::to_string(i));
  archive::ArchiveReader reader(tmp.path());
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

// The same with the file's first record (warcinfo) damaged: the file is not removed as if it
// held no record, and with the index deleted too, recovery rebuilds it past the damage.
TEST(Archive, DamagedFirstRecordOfAFileLeftOpenWithNoIndexKeepsTheFile) {
  test::TempDir tmp("arch");
  fs::path file = left_open(tmp.path(), 10);
  const std::uint64_t first = warc::WarcReader(file).data_start();
  damage(file, first, 40);
  const std::uintmax_t size = fs::file_size(file);
  for (const char* f : {"index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm"})
    fs::remove(tmp / f);
  auto w = archive::ArchiveWriter::open(opts(tmp.path()));
  EXPECT_EQ(w->recovery().bytes_cut, 0u);
  EXPECT_EQ(w->recovery().damaged.size(), 1u);
  EXPECT_EQ(w->recovery().captures_indexed, 10u);
  w.reset();
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(fs::file_size(files[0].path), size);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(restore_html(tmp.path(), "http://example.test/o" + std::to_string(i)),
              "page " + std::to_string(i));
}

// A closed file that grew a damaged tail behind the index's back (bytes appended by another
// tool, a bad sector) does not keep the archive from opening for writing: what precedes the
// damage stays indexed, recovery names the file and offset, and capturing goes on.
TEST(Archive, DamagedTailOfAClosedFileDoesNotBlockOpening) {
  test::TempDir tmp("arch");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    w->store(one(make_hop("http://example.test/a", 200, "first page")));
  }
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 1u);
  auto size = fs::file_size(files[0].path);
  const std::string junk = "this is not a WARC record\r\n\r\n";
  {
    std::ofstream out(files[0].path, std::ios::binary | std::ios::app);
    out << junk;
  }
  std::unique_ptr<archive::ArchiveWriter> w;
  ASSERT_NO_THROW(w = archive::ArchiveWriter::open(opts(tmp.path())));
  std::string messages;
  for (const auto& m : w->recovery().messages) messages += m + "\n";
  EXPECT_NE(messages.find(files[0].name + ": skipped a damaged record"), std::string::npos)
      << messages;
  EXPECT_NE(messages.find("offset " + std::to_string(size) + ": found bytes"), std::string::npos)
      << messages;
  w->store(one(make_hop("http://example.test/b", 200, "second page")));
  w->close();
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/a"), "first page");
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/b"), "second page");
  EXPECT_EQ(fs::file_size(files[0].path), size + junk.size())
      << "the damaged file is left as it is";
  archive::ArchiveReader reader(tmp.path());
  auto report = archive::verify_archive(reader);
  EXPECT_FALSE(report.ok()) << "verify still names the damage";
}

TEST(Archive, ReindexRebuildsADeletedIndex) {
  test::TempDir tmp("arch");
  std::vector<std::string> ids;
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    for (int i = 0; i < 5; ++i)
      ids.push_back(w->store(one(make_hop("http://example.test/r" + std::to_string(i), 200,
                                          "r" + std::to_string(i))))
                        .hops[0]
                        .capture_id);
  }
  fs::remove(tmp / "index.sqlite3");
  fs::remove(tmp / "index.sqlite3-wal");
  fs::remove(tmp / "index.sqlite3-shm");
  EXPECT_THROW(archive::ArchiveReader{tmp.path()}, std::runtime_error);
  auto report = archive::reindex(tmp.path());
  EXPECT_EQ(report.captures, 5u);
  EXPECT_TRUE(report.problems.empty());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(restore_html(tmp.path(), ids[i]), "r" + std::to_string(i));
  archive::ArchiveReader reader(tmp.path());
  auto row = reader.resolve(ids[0]);
  EXPECT_GT(row.request_length, 0u) << "reindex pairs requests with responses";
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

// A WARC file gone from warc/ (a disk not mounted, a file moved by mistake) or emptied takes its
// captures out of a rebuilt index: reindex says so, naming the file and the count, and fails.
TEST(Archive, ReindexTellsOfCapturesWhoseFileIsGoneOrEmptied) {
  test::TempDir tmp("arch");
  auto o = opts(tmp.path());
  o.rotate_bytes = 1;  // one capture per file
  {
    auto w = archive::ArchiveWriter::open(o);
    for (int i = 0; i < 3; ++i)
      w->store(one(make_hop("http://example.test/g" + std::to_string(i), 200, "g")));
  }
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_EQ(files.size(), 3u);
  fs::remove(files[0].path);
  fs::resize_file(files[1].path, 0);
  auto report = archive::reindex(tmp.path());
  EXPECT_EQ(report.captures, 1u);
  auto said = [&](const std::string& text) {
    return std::any_of(report.problems.begin(), report.problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(said(files[0].name + ": the index held 1 captures in it, but the file is gone"))
      << ::testing::PrintToString(report.problems);
  EXPECT_TRUE(said(files[1].name + ": the index held 1 captures in it, the file now holds 0"))
      << ::testing::PrintToString(report.problems);
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/g2"), "g");
  // Once said, the index describes the files as they are: a second rebuild has nothing to say
  // of the file that is gone.
  auto again = archive::reindex(tmp.path());
  EXPECT_FALSE(std::any_of(again.problems.begin(), again.problems.end(),
                           [&](const std::string& p) { return p.find(files[0].name) == 0; }));
}

// The index is derived data: deleted, it is rebuilt when the archive is next opened for
// writing, and whoever opens it (vellumd, to keep systemd waiting) hears what is being done.
TEST(Archive, OpeningForWritingRebuildsADeletedIndexAndSaysSo) {
  test::TempDir tmp("arch");
  std::string name;
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    for (int i = 0; i < 3; ++i)
      w->store(one(make_hop("http://example.test/d" + std::to_string(i), 200, "d")));
  }
  name = archive::ArchiveDir(tmp.path()).warc_files().at(0).name;
  for (const char* f : {"index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm"})
    fs::remove(tmp / f);
  auto o = opts(tmp.path());
  std::vector<std::string> told;
  o.busy = [&](const std::string& what) { told.push_back(what); };
  {
    auto w = archive::ArchiveWriter::open(o);
    EXPECT_EQ(w->recovery().captures_indexed, 3u);
  }
  EXPECT_EQ(told, (std::vector<std::string>{"indexing " + name + " from offset 0"}));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(restore_html(tmp.path(), "http://example.test/d" + std::to_string(i)), "d");
  // Once the index is in line, opening has nothing long to do.
  told.clear();
  archive::ArchiveWriter::open(o);
  EXPECT_TRUE(told.empty()) << told.front();
}

// Index damage SQLite does not call corruption: a header SQLite will not write to (every write
// failed with "attempt to write a readonly database", as if permissions were wrong), and a
// full-text index whose configuration cannot be read (every article stored failed). `verify`
// names it, `reindex` rebuilds the index regardless, and a writer sets it aside and rebuilds.
TEST(Archive, IndexDamageSQLiteDoesNotCallCorruptionIsFoundAndMended) {
  struct Case {
    const char* name;
    std::function<void(const fs::path&)> damage;
    const char* said;
  };
  const std::vector<Case> cases = {
      {"header",
       [](const fs::path& file) {
         std::string bytes = test::read_file(file);
         bytes[18] = 3;
         test::write_file(file, bytes);
       },
       "header byte 18 (file format write version) is 3, expected 1 or 2"},
      {"full-text configuration",
       [](const fs::path& file) {
         sqlite3* db = nullptr;
         ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
         EXPECT_EQ(sqlite3_exec(db, "UPDATE articles_text_config SET v = 99 WHERE k = 'version'",
                                nullptr, nullptr, nullptr),
                   SQLITE_OK);
         EXPECT_EQ(sqlite3_changes(db), 1);
         sqlite3_close(db);
       },
       "full-text index: invalid fts5 file format (found 99, expected 4)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    test::TempDir tmp("arch");
    const fs::path file = tmp / "index.sqlite3";
    auto store = [&](const std::string& path) {
      auto w = archive::ArchiveWriter::open(opts(tmp.path()));
      w->store(one(make_hop("http://example.test/" + path, 200, "page " + path)));
    };
    store("a");
    store("b");
    c.damage(file);
    {
      archive::ArchiveReader reader(tmp.path());
      auto report = archive::verify_archive(reader);
      EXPECT_FALSE(report.ok());
      EXPECT_NE(::testing::PrintToString(report.problems).find(c.said), std::string::npos)
          << ::testing::PrintToString(report.problems);
    }
    auto rebuilt = archive::reindex(tmp.path());
    EXPECT_TRUE(rebuilt.problems.empty()) << ::testing::PrintToString(rebuilt.problems);
    EXPECT_EQ(rebuilt.captures, 2u);
    EXPECT_FALSE(fs::exists(tmp / "index.sqlite3.rebuilding"));
    EXPECT_FALSE(fs::exists(tmp / "index.sqlite3.replaced"));
    {
      archive::ArchiveReader reader(tmp.path());
      EXPECT_TRUE(archive::verify_archive(reader).ok());
    }
    // The same damage met by a writer.
    c.damage(file);
    store("c");
    archive::ArchiveReader reader(tmp.path());
    auto report = archive::verify_archive(reader);
    EXPECT_TRUE(report.ok()) << ::testing::PrintToString(report.problems);
    EXPECT_EQ(report.captures, 3u);
    for (const char* path : {"a", "b", "c"})
      EXPECT_EQ(restore_html(tmp.path(), std::string("http://example.test/") + path),
                std::string("page ") + path);
  }
}

// An index whose entries no longer match their rows reads without error, page by page, while a
// lookup by URL finds nothing: verify names it, and reindex mends it.
TEST(Archive, VerifyFindsAnIndexThatNoLongerMatchesItsRows) {
  test::TempDir tmp("arch");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    w->store(one(make_hop("http://example.test/m", 200, "page m")));
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp / "index.sqlite3").c_str(), &db), SQLITE_OK);
    // The index's definition changed under its entries: they are read in the wrong order.
    ASSERT_EQ(sqlite3_exec(db,
                           "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = 'CREATE "
                           "INDEX captures_by_surt ON captures(date, surt)' WHERE name = "
                           "'captures_by_surt'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_THROW(restore_html(tmp.path(), "http://example.test/m"), std::runtime_error);
  {
    archive::ArchiveReader reader(tmp.path());
    auto report = archive::verify_archive(reader);
    EXPECT_NE(::testing::PrintToString(report.problems).find("missing from index captures_by_surt"),
              std::string::npos)
        << ::testing::PrintToString(report.problems);
  }
  EXPECT_TRUE(archive::reindex(tmp.path()).problems.empty());
  EXPECT_EQ(restore_html(tmp.path(), "http://example.test/m"), "page m");
  archive::ArchiveReader reader(tmp.path());
  EXPECT_TRUE(archive::verify_archive(reader).ok());
}

// An index whose pages cannot be read does not stop verify from checking the WARC files: both
// the index's damage and a damaged record are reported.
TEST(Archive, VerifyChecksTheFilesWhenTheIndexCannotBeRead) {
  test::TempDir tmp("arch");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    for (int i = 0; i < 40; ++i)
      w->store(one(make_hop("http://example.test/u" + std::to_string(i), 200, "page")));
  }
  index::CaptureRow victim;
  {
    archive::ArchiveReader reader(tmp.path());
    victim = reader.resolve("http://example.test/u7");
  }
  damage(tmp / "warc" / victim.file, victim.offset, victim.length);
  std::string bytes = test::read_file(tmp / "index.sqlite3");
  for (std::size_t i = 4096; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  test::write_file(tmp / "index.sqlite3", bytes);
  archive::ArchiveReader reader(tmp.path());
  auto report = archive::verify_archive(reader);
  const std::string all = ::testing::PrintToString(report.problems);
  EXPECT_NE(all.find("the index was not compared with the WARC files"), std::string::npos) << all;
  EXPECT_NE(all.find("offset " + std::to_string(victim.offset)), std::string::npos) << all;
  for (const auto& p : report.problems) EXPECT_EQ(p.find('\n'), std::string::npos) << p;
}

// One damaged record in the middle of a closed file: reindex reports it and indexes every whole
// record after it too, so no intact capture becomes unreachable.
TEST(Archive, ReindexGoesOnPastADamagedRecord) {
  test::TempDir tmp("arch");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    for (int i = 0; i < 10; ++i)
      w->store(one(
          make_hop("http://example.test/o" + std::to_string(i), 200, "page " + std::to_string(i))));
  }
  index::CaptureRow victim;
  {
    archive::ArchiveReader reader(tmp.path());
    victim = reader.resolve("http://example.test/o4");
  }
  damage(tmp / "warc" / victim.file, victim.offset, victim.length);
  auto report = archive::reindex(tmp.path());
  EXPECT_EQ(report.captures, 9u);
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_NE(report.problems[0].find("offset " + std::to_string(victim.offset)), std::string::npos)
      << report.problems[0];
  // And what it cost, counted.
  EXPECT_EQ(report.problems[1], victim.file +
                                    ": the index held 10 captures in it, the damage named above "
                                    "leaves 9 that can be read");
  for (int i = 0; i < 10; ++i) {
    if (i == 4) continue;
    EXPECT_EQ(restore_html(tmp.path(), "http://example.test/o" + std::to_string(i)),
              "page " + std::to_string(i));
  }
}

// In an uncompressed file a changed byte in a body breaks no frame: reindex finds it by the
// block digest, reports it, and still indexes the capture (its record may be salvaged).
TEST(Archive, ReindexNamesDamageInsideAnUncompressedBlock) {
  test::TempDir tmp("arch");
  auto o = opts(tmp.path());
  o.encoder.compression = warc::Compression::none;
  {
    auto w = archive::ArchiveWriter::open(o);
    for (int i = 0; i < 5; ++i)
      w->store(one(make_hop("http://example.test/u" + std::to_string(i), 200,
                            "page " + std::to_string(i) + std::string(100, '.'))));
  }
  index::CaptureRow victim;
  {
    archive::ArchiveReader reader(tmp.path());
    victim = reader.resolve("http://example.test/u2");
  }
  {
    std::fstream f(tmp / "warc" / victim.file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(victim.offset + victim.length - 30));
    f.write("!", 1);
  }
  auto report = archive::reindex(tmp.path());
  EXPECT_EQ(report.captures, 5u);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_NE(report.problems[0].find("offset " + std::to_string(victim.offset) +
                                    ": found a block whose digest is "),
            std::string::npos)
      << report.problems[0];
}

// The index is derived data, so a damaged one must never lock the captures away: readers say
// to run reindex, a writer sets it aside and rebuilds it, and so does reindex, whether the
// file is not a database at all or SQLite finds its pages malformed.
TEST(Archive, ADamagedIndexIsSetAsideAndRebuilt) {
  for (const bool garbage : {true, false}) {
    SCOPED_TRACE(garbage ? "not a database" : "malformed pages");
    test::TempDir tmp("arch");
    {
      auto w = archive::ArchiveWriter::open(opts(tmp.path()));
      for (int i = 0; i < 30; ++i)
        w->store(one(make_hop("http://example.test/i" + std::to_string(i), 200,
                              "page " + std::to_string(i))));
    }
    fs::path file = tmp / "index.sqlite3";
    std::string bytes = test::read_file(file);
    ASSERT_GT(bytes.size(), 8192u);
    // Either everything, or every page after the first (the header stays valid).
    for (std::size_t i = garbage ? 0 : 4096; i < bytes.size(); ++i)
      bytes[i] = static_cast<char>((i * 131) ^ 0x5a);
    test::write_file(file, bytes);
    if (garbage) {
      try {
        archive::ArchiveReader reader(tmp.path());
        ADD_FAILURE() << "a damaged index was opened";
      } catch (const index::IndexDamaged& e) {
        EXPECT_NE(std::string(e.what()).find("`vellum reindex` rebuilds it"), std::string::npos)
            << e.what();
      }
      std::vector<std::string> log;
      auto w = archive::ArchiveWriter::open(opts(tmp.path()),
                                            [&](const std::string& m) { log.push_back(m); });
      EXPECT_EQ(w->recovery().captures_indexed, 30u);
      ASSERT_FALSE(log.empty());
      EXPECT_NE(log.front().find("set aside as index.sqlite3.damaged-"), std::string::npos)
          << log.front();
    } else {
      auto report = archive::reindex(tmp.path());
      EXPECT_EQ(report.captures, 30u);
    }
    std::size_t aside = 0;
    for (const auto& e : fs::directory_iterator(tmp.path()))
      aside += e.path().filename().string().rfind("index.sqlite3.damaged-", 0) == 0;
    EXPECT_EQ(aside, 1u) << "the damaged index is kept, beside the new one";
    for (int i = 0; i < 30; ++i)
      EXPECT_EQ(restore_html(tmp.path(), "http://example.test/i" + std::to_string(i)),
                "page " + std::to_string(i));
    archive::ArchiveReader reader(tmp.path());
    EXPECT_TRUE(archive::verify_archive(reader).ok());
  }
}

// URL@TIMESTAMP: a time copied from a listing finds the capture listed, a URL that ends in
// "@digits" of its own is still found by it, and text after '@' that is no time gets a hint.
TEST(Archive, ReferencesByUrlAndTime) {
  test::TempDir tmp("arch");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    w->store(one(make_hop("http://example.test/a", 200, "a")));
    w->store(one(make_hop("http://example.test/t?tag=@2019", 200, "tagged")));
  }
  archive::ArchiveReader reader(tmp.path());
  index::CaptureRow a = reader.resolve("http://example.test/a");
  // The listing's form, whole seconds: "2026-11-27T03:52:10Z" for a capture at 03:52:10.29.
  const std::string second = a.date.substr(0, 19) + "Z";
  EXPECT_EQ(reader.resolve("http://example.test/a@" + second).capture_id, a.capture_id);
  std::string digits;
  for (char c : second)
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  EXPECT_EQ(reader.resolve("http://example.test/a@" + digits).capture_id, a.capture_id);
  EXPECT_EQ(reader.resolve("http://example.test/t?tag=@2019").url,
            "http://example.test/t?tag=@2019");
  // A capture id by 8 characters or more of it; fewer are named as too short, not as unknown.
  EXPECT_EQ(reader.resolve(a.capture_id.substr(0, 8)).capture_id, a.capture_id);
  try {
    reader.resolve(a.capture_id.substr(0, 6));
    ADD_FAILURE() << "a prefix of 6 characters resolved";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("capture id prefix '" + a.capture_id.substr(0, 6) + "' (of " +
                                   a.capture_id + ") is shorter than 8 characters"),
        std::string::npos)
        << e.what();
  }
  try {
    reader.resolve("http://example.test/a@notatime");
    ADD_FAILURE() << "resolved";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("if '@notatime' was meant as a time, expected "
                                         "@YYYY[MM[DD[hh[mm[ss]]]]]"),
              std::string::npos)
        << e.what();
  }
}

TEST(Archive, VerifyReportsDamageWithFileAndOffset) {
  test::TempDir tmp("arch");
  auto o = opts(tmp.path());
  o.encoder.compression = warc::Compression::none;
  {
    auto w = archive::ArchiveWriter::open(o);
    w->store(one(make_hop("http://example.test/d", 200, "precious words")));
  }
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_TRUE(capitalise_first(files[0].path, "precious"));
  archive::ArchiveReader reader(tmp.path());
  auto report = archive::verify_archive(reader);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.problems[0].find(files[0].name + ": offset "), std::string::npos)
      << report.problems[0];
  EXPECT_NE(report.problems[0].find("digest"), std::string::npos) << report.problems[0];
  EXPECT_THROW(reader.payload(reader.resolve("http://example.test/d")), std::runtime_error);
}

// `vellum verify REF` names damage once: a damaged response by its two digests (not a third
// time by restoring it), and a revisit of it by the original it cannot restore from.
TEST(Archive, VerifyOfOneCaptureNamesTheDamageOnceAndWhereItIs) {
  test::TempDir tmp("arch");
  auto o = opts(tmp.path());
  o.encoder.compression = warc::Compression::none;
  std::string first_id, revisit_id;
  {
    auto w = archive::ArchiveWriter::open(o);
    first_id =
        w->store(one(make_hop("http://example.test/d", 200, "precious words"))).hops[0].capture_id;
    auto again = w->store(one(make_hop("http://example.test/d", 200, "precious words")));
    ASSERT_TRUE(again.hops[0].revisit);
    revisit_id = again.hops[0].capture_id;
  }
  auto files = archive::ArchiveDir(tmp.path()).warc_files();
  ASSERT_TRUE(capitalise_first(files[0].path, "precious"));
  archive::ArchiveReader reader(tmp.path());
  const index::CaptureRow first = reader.resolve(first_id);
  const archive::VerifyReport damaged = archive::verify_capture(reader, first);
  ASSERT_EQ(damaged.problems.size(), 2u);
  EXPECT_NE(damaged.problems[0].find("block digest is"), std::string::npos);
  EXPECT_NE(damaged.problems[1].find("payload digest is"), std::string::npos);
  const archive::VerifyReport revisit = archive::verify_capture(reader, reader.resolve(revisit_id));
  ASSERT_EQ(revisit.problems.size(), 1u);
  EXPECT_NE(revisit.problems[0].find("capture " + revisit_id + " is a revisit of capture " +
                                     first_id + " (" + first.file + ": offset " +
                                     std::to_string(first.offset) + "), whose payload digest is "),
            std::string::npos)
      << revisit.problems[0];
  EXPECT_NE(revisit.problems[0].find("the stored data of the original is damaged"),
            std::string::npos)
      << revisit.problems[0];
}

// A file compressed whole as one gzip member and cut short (never written by Vellum, put among
// its files): verify names the tear once and, like reindex, indexes none of the member's
// records, so it asks for no reindex that would not help.
TEST(Archive, VerifyOfATornMultiRecordMemberNamesTheTearAlone) {
  test::TempDir tmp("arch");
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    w->store(one(make_hop("http://example.test/kept", 200, "kept")));
  }
  std::string all;
  for (const char* path : {"/one", "/two", "/three"}) {
    const fetch::Exchange hop = make_hop(std::string("http://example.test") + path, 200, path);
    const auto exchange = archive::build_exchange_records(hop, std::nullopt);  // views into hop
    std::string header;
    for (auto part : exchange.response_parts(header)) all += part;
  }
  const std::string member =
      warc::RecordEncoder({warc::Compression::gzip, 6, nullptr, true}).encode(all);
  test::write_file(tmp / "warc" / "vellum-20200101000000000-00009-other.warc.gz",
                   member.substr(0, member.size() - 20));
  archive::ArchiveReader reader(tmp.path());
  const archive::VerifyReport report = archive::verify_archive(reader);
  std::string all_problems;
  for (const auto& p : report.problems) all_problems += p + "\n";
  EXPECT_EQ(all_problems.find("not in the index"), std::string::npos) << all_problems;
  EXPECT_NE(all_problems.find("into a gzip member, expected the rest of it"), std::string::npos)
      << all_problems;
}

// Every way the index and the files can disagree is named, each in its own line: a row whose
// record is gone, a record no row names, a row whose request is not where it says, a row whose
// fields differ from its record's, and a record ID used twice (a file copied back beside itself).
TEST(Archive, VerifyNamesEachDisagreementBetweenIndexAndFiles) {
  test::TempDir tmp("arch");
  std::vector<index::CaptureRow> rows;
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    for (int i = 0; i < 8; ++i)
      w->store(one(
          make_hop("http://example.test/v" + std::to_string(i), 200, "page " + std::to_string(i))));
  }
  {
    archive::ArchiveReader reader(tmp.path());
    for (int i = 0; i < 8; ++i)
      rows.push_back(reader.resolve("http://example.test/v" + std::to_string(i)));
  }
  {
    auto w = archive::ArchiveWriter::open(opts(tmp.path()));
    w->store_article(rows[6], {{"schema_version", 1},
                               {"capture_id", rows[6].capture_id},
                               {"title", "Six"},
                               {"body_text", "Six."}});
  }
  index::ArticleRow article;
  {
    archive::ArchiveReader reader(tmp.path());
    article = *reader.index().article(rows[6].capture_id);
    ASSERT_TRUE(archive::verify_archive(reader).ok());
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((tmp / "index.sqlite3").c_str(), &db), SQLITE_OK);
    auto exec = [&](const std::string& sql) {
      char* err = nullptr;
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
          << (err ? err : "") << " in " << sql;
      sqlite3_free(err);
    };
    exec("DELETE FROM captures WHERE record_id = '" + rows[0].record_id + "'");
    exec(
        "UPDATE captures SET record_id = '<urn:uuid:00000000-0000-4000-8000-000000000001>' "
        "WHERE record_id = '" +
        rows[1].record_id + "'");
    exec("UPDATE captures SET request_offset = request_offset + 1 WHERE record_id = '" +
         rows[2].record_id + "'");
    exec("UPDATE captures SET url = 'http://example.test/elsewhere' WHERE record_id = '" +
         rows[3].record_id + "'");
    exec("UPDATE articles SET offset = offset + 1 WHERE capture_id = '" + rows[6].capture_id + "'");
    exec("UPDATE captures SET status = 404 WHERE record_id = '" + rows[7].record_id + "'");
    sqlite3_close(db);
  }
  // Named to be read after the original: the record read first is the one the index should name.
  const std::string copy = "zz-copy-" + rows[4].file;
  fs::copy_file(tmp / "warc" / rows[4].file, tmp / "warc" / copy);

  archive::ArchiveReader reader(tmp.path());
  const auto report = archive::verify_archive(reader);
  const std::string all = ::testing::PrintToString(report.problems);
  auto has = [&](const std::string& text) {
    return std::any_of(report.problems.begin(), report.problems.end(),
                       [&](const std::string& p) { return p.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("response record " + rows[0].record_id + " is not in the index")) << all;
  EXPECT_TRUE(has("response record " + rows[1].record_id + " is not in the index")) << all;
  EXPECT_TRUE(has("(http://example.test/v1) names " + rows[1].file + ": offset " +
                  std::to_string(rows[1].offset) + ", but no such record is in the WARC files"))
      << all;
  EXPECT_TRUE(has("the request of capture " + rows[2].capture_id + " names " + rows[2].file +
                  ": offset " + std::to_string(rows[2].request_offset + 1) +
                  ", but no request record is there"))
      << all;
  EXPECT_TRUE(has("capture " + rows[3].capture_id +
                  ": the record's target URI is 'http://example.test/v3', the index says "
                  "'http://example.test/elsewhere'"))
      << all;
  ASSERT_LT(rows[4].file, copy);
  EXPECT_TRUE(has(copy + ": offset " + std::to_string(rows[5].offset) + ": record id " +
                  rows[5].record_id + " also used at " + rows[5].file + ": offset " +
                  std::to_string(rows[5].offset)))
      << all;
  for (const auto& p : report.problems) EXPECT_EQ(p.find('\n'), std::string::npos) << p;
  EXPECT_TRUE(has("index: the article of capture " + rows[6].capture_id + " is at " + article.file +
                  ": offset " + std::to_string(article.offset) + ", the index says " +
                  article.file + ": offset " + std::to_string(article.offset + 1)))
      << all;
  EXPECT_TRUE(has("capture " + rows[7].capture_id +
                  ": the record's HTTP status is '200', the index says '404'"))
      << all;
  EXPECT_EQ(report.captures, 7u) << "the rows the index holds";
}
