// Write and sync errors a healthy disk never gives, injected into the real `vellum` program
// with a preloaded library (tests/faultfs): a failed fdatasync, a failed or short write of a
// WARC file, a failed write of the index, a failed fsync when closing. In every case the
// capture hit gets a clear one-line error, the others are stored, nothing reported done is
// lost, no torn record stays in any file, and the archive verifies.
#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/TestHttpServer.h"
#include "support/Tools.h"
#include "warc/WarcReader.h"

using namespace vellum;
using namespace vellum::test;
namespace fs = std::filesystem;

namespace {

struct Outcome {
  int status = -1;
  std::vector<nlohmann::json> lines;  // --json output
  std::string errors;                 // stderr
  std::vector<std::string> injected;  // one line per failure the library injected

  // For failure messages: what the run printed and what was injected.
  std::string describe() const {
    std::string s = "status " + std::to_string(status) + "\n";
    for (const auto& j : lines) s += j.dump() + "\n";
    for (const auto& i : injected) s += "injected: " + i + "\n";
    return s + errors;
  }
};

class WriteFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 8; ++i) {
      std::string body(20'000, '\0');
      for (auto& c : body) c = static_cast<char>('a' + rng() % 26);
      std::string path = "/page" + std::to_string(i);
      server_.on(path, Reply::ok(body, "text/plain"));
      bodies_[server_.url(path)] = body;
    }
  }

  // `vellum --json archive --no-extract URL...` with the fault library
  // preloaded and configured by `fault` (VELLUM_FAULT_* without the prefix).
  Outcome archive(const std::vector<std::pair<std::string, std::string>>& fault,
                  std::vector<std::string> urls = {}) {
    if (urls.empty())
      for (const auto& [url, body] : bodies_) urls.push_back(url);
    fs::path log = tmp_ / ("injected-" + std::to_string(++runs_));
    fs::path err = tmp_ / ("stderr-" + std::to_string(runs_));
    std::string cmd = "env";
    if (!fault.empty()) cmd += " " + fault_env(fault, log);
    cmd += " " + shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive_.string()) +
           " --json archive --no-extract";
    for (const auto& u : urls) cmd += " " + shell_quote(u);
    cmd += " 2>" + shell_quote(err.string());
    auto [status, out] = shell(cmd);
    Outcome r;
    r.status = status;
    r.lines = json_lines(out);
    std::ifstream e(err);
    r.errors.assign(std::istreambuf_iterator<char>(e), {});
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) r.injected.push_back(line);
    return r;
  }

  std::vector<fs::path> warc_files() const {
    std::vector<fs::path> v;
    for (const auto& e : fs::directory_iterator(archive_ / "warc")) v.push_back(e.path());
    std::sort(v.begin(), v.end());
    return v;
  }

  // What every case promises afterwards: no file left open, every file whole records to its
  // end, `vellum verify` passes, and every URL reported done restores byte for byte.
  void expect_whole_archive(const Outcome& r) {
    for (const auto& f : warc_files()) {
      EXPECT_NE(f.extension(), ".open") << f;
      auto scan = warc::scan_valid_prefix(f);
      EXPECT_EQ(scan.valid_end, scan.file_size)
          << f << ": " << scan.error.value_or("torn record at the end");
    }
    EXPECT_EQ(vellum({"verify"}), 0);
    for (const auto& j : r.lines) {
      if (!j.contains("url") || j.contains("error")) continue;
      std::string url = j["url"], page;
      EXPECT_EQ(vellum({"restore", url, "--format", "html"}, &page), 0) << url;
      EXPECT_TRUE(page == bodies_.at(url)) << url << " does not restore byte for byte";
    }
  }

  // Response records in all the WARC files.
  std::size_t responses_in_files() const {
    std::size_t n = 0;
    for (const auto& f : warc_files()) {
      warc::WarcReader reader(f);
      while (auto rec = reader.next()) n += rec->type() == "response";
    }
    return n;
  }

  // The URLs' lines that report an error.
  std::vector<nlohmann::json> failed(const Outcome& r) const {
    std::vector<nlohmann::json> v;
    for (const auto& j : r.lines)
      if (j.contains("url") && j.contains("error")) v.push_back(j);
    return v;
  }

  // The captures that failed: at least one, not all, each with the injected error on one line
  // and nothing of it left to restore.
  std::vector<std::string> expect_failed_with(const Outcome& r, const std::string& call) {
    std::vector<std::string> urls;
    for (const auto& j : failed(r)) {
      std::string e = j["error"];
      EXPECT_NE(e.find(call + " "), std::string::npos) << e;
      EXPECT_NE(e.find("Input/output error"), std::string::npos) << e;
      EXPECT_EQ(e.find('\n'), std::string::npos) << e;
      urls.push_back(j["url"]);
    }
    EXPECT_GE(urls.size(), 1u) << r.describe();
    EXPECT_LT(urls.size(), bodies_.size()) << r.describe();
    return urls;
  }

  // `vellum --archive ARCHIVE ARGS...` without a fault.
  int vellum(std::vector<std::string> args, std::string* out = nullptr) {
    args.insert(args.begin(), {"--archive", archive_.string()});
    return run_vellum(args, out);
  }

  bool restorable(const std::string& url) {
    std::string page;
    return vellum({"restore", url, "--format", "html"}, &page) == 0;
  }

  TestHttpServer server_;
  TempDir tmp_{"writefault"};
  fs::path archive_ = tmp_ / "archive";
  std::map<std::string, std::string> bodies_;
  int runs_ = 0;
};

}  // namespace

// fsyncgate: after fdatasync reports EIO the kernel may have dropped the pages it could not
// write, and a later fdatasync succeeds anyway. The captures in that file not yet reported done
// fail, the file is cut back to the last capture reported done and closed, and capturing goes
// on in a new file.
TEST_F(WriteFaults, FailedSyncFailsTheCaptureAndCapturingGoesOnInANewFile) {
  Outcome r = archive({{"CALLS", "fdatasync"}, {"PATH", ".warc.zst.open"}, {"SKIP", "2"}});
  ASSERT_EQ(r.injected.size(), 1u) << r.describe();
  EXPECT_EQ(r.status, 1) << "a failed capture means a non-zero exit";
  ASSERT_EQ(r.lines.size(), bodies_.size()) << r.describe();
  auto bad = expect_failed_with(r, "fdatasync");
  EXPECT_EQ(responses_in_files(), bodies_.size() - bad.size())
      << "no record of a failed capture stays behind";
  EXPECT_NE(r.errors.find("cut back to"), std::string::npos) << r.errors;
  expect_whole_archive(r);
  for (const auto& url : bad)
    EXPECT_FALSE(restorable(url)) << url << ": its records were cut off with the untrusted tail";

  // The disk is fine again: the URLs are captured on the next try.
  Outcome again = archive({}, bad);
  EXPECT_EQ(again.status, 0) << again.describe();
  for (const auto& url : bad) EXPECT_TRUE(restorable(url)) << url;
  expect_whole_archive(again);
}

// The directory entry of a new WARC file cannot be made durable (fsync of warc/ fails): the
// capture that needed the file fails, since its name might not survive a power cut; the file,
// holding nothing but its warcinfo, is removed; the next capture starts a file of its own.
TEST_F(WriteFaults, FailedDirectorySyncFailsTheCaptureThatOpenedTheFile) {
  Outcome r = archive({{"CALLS", "fsync"}, {"PATH", "/archive/warc$"}});
  ASSERT_EQ(r.injected.size(), 1u) << r.describe();
  EXPECT_EQ(r.status, 1);
  auto bad = expect_failed_with(r, "sync");
  EXPECT_EQ(bad.size(), 1u) << r.describe();
  for (const auto& j : failed(r))
    EXPECT_NE(j["error"].get<std::string>().find("cannot sync " + (archive_ / "warc").string()),
              std::string::npos)
        << r.describe();
  EXPECT_EQ(warc_files().size(), 1u) << "the file whose name was not made durable is gone";
  EXPECT_EQ(responses_in_files(), bodies_.size() - 1);
  expect_whole_archive(r);
  EXPECT_FALSE(restorable(bad[0]));
}

// A write that fails halfway (a short write, then EIO): the partial record is cut off again
// at once, and the file is not written to any more.
TEST_F(WriteFaults, ShortWriteLeavesNoPartialRecord) {
  Outcome r = archive({{"CALLS", "pwrite"},
                       {"PATH", ".warc.zst.open"},
                       {"SKIP", "4"},
                       {"COUNT", "2"},
                       {"SHORT", "1"}});
  ASSERT_EQ(r.injected.size(), 2u) << r.describe();
  EXPECT_NE(r.injected[0].find("(short)"), std::string::npos) << r.injected[0];
  EXPECT_EQ(r.status, 1);
  auto bad = expect_failed_with(r, "write");
  EXPECT_EQ(responses_in_files(), bodies_.size() - bad.size());
  expect_whole_archive(r);
  for (const auto& url : bad) EXPECT_FALSE(restorable(url)) << url;
}

// The index (SQLite, WAL) cannot be written: the capture fails with SQLite's own words, its
// records stay in the WARC file, and the next capture's commit indexes them too.
TEST_F(WriteFaults, FailedIndexWriteIsCaughtUpByTheNextCommit) {
  // An archive that exists already, so that the fault hits a capture, not the index's creation.
  ASSERT_EQ(archive({}, {bodies_.begin()->first}).status, 0);
  Outcome r = archive({{"CALLS", "pwrite"}, {"PATH", "index.sqlite3-wal"}, {"SKIP", "6"}});
  ASSERT_EQ(r.injected.size(), 1u) << r.describe();
  auto bad = failed(r);
  ASSERT_GE(bad.size(), 1u) << r.describe();
  ASSERT_LT(bad.size(), bodies_.size()) << r.describe();
  for (const auto& j : bad) {
    std::string e = j["error"];
    EXPECT_NE(e.find("disk I/O error"), std::string::npos) << e;
  }
  expect_whole_archive(r);
  // Restored through the index: a later commit indexed the records the failed one left.
  for (const auto& j : bad) EXPECT_TRUE(restorable(j["url"])) << j.dump();
}

// fsync fails when the file is closed at the end of the run. Every capture was made durable
// by its own fdatasync and is reported done; the run says the file could not be closed, and
// the next writer recovers it.
TEST_F(WriteFaults, FailedFsyncAtCloseLeavesTheFileForRecovery) {
  Outcome r = archive({{"CALLS", "fsync"}, {"PATH", ".warc.zst.open"}, {"COUNT", "0"}});
  ASSERT_GE(r.injected.size(), 1u) << r.describe();
  EXPECT_TRUE(failed(r).empty()) << r.describe();
  EXPECT_EQ(r.status, 1) << "the file could not be closed";
  EXPECT_NE(r.errors.find("Input/output error"), std::string::npos) << r.describe();
  ASSERT_EQ(warc_files().size(), 1u);
  EXPECT_EQ(warc_files()[0].extension(), ".open");

  Outcome next = archive({}, {bodies_.begin()->first});
  EXPECT_EQ(next.status, 0) << next.describe();
  for (const auto& j : r.lines) {
    if (!j.contains("url")) continue;
    EXPECT_TRUE(restorable(j["url"])) << j.dump();
  }
  expect_whole_archive(r);
}

// The disk cannot read a file a killed or failed writer left open. Recovering it would mean
// cutting whatever cannot be read, so the archive refuses to open instead, naming the file and
// the offset; the file is left exactly as it was, and once it reads again it is recovered with
// every capture in it.
TEST_F(WriteFaults, ReadErrorDuringRecoveryCutsNothing) {
  Outcome left = archive({{"CALLS", "fsync"}, {"PATH", ".warc.zst.open"}, {"COUNT", "0"}});
  ASSERT_TRUE(failed(left).empty()) << left.describe();
  ASSERT_EQ(warc_files().size(), 1u);
  fs::path open_file = warc_files()[0];
  ASSERT_EQ(open_file.extension(), ".open");
  std::string before = read_file(open_file);

  Outcome r =
      archive({{"CALLS", "pread"}, {"PATH", ".warc.zst.open"}, {"COUNT", "0"}}, {"http://x.test/"});
  ASSERT_GE(r.injected.size(), 1u) << r.describe();
  EXPECT_EQ(r.status, 1) << r.describe();
  EXPECT_NE(r.errors.find("cannot read " + open_file.string() + " at offset 0"), std::string::npos)
      << r.describe();
  EXPECT_NE(r.errors.find("Input/output error"), std::string::npos) << r.describe();
  ASSERT_TRUE(fs::exists(open_file));
  EXPECT_TRUE(read_file(open_file) == before) << "the unreadable file was changed";

  Outcome next = archive({}, {bodies_.begin()->first});
  EXPECT_EQ(next.status, 0) << next.describe();
  for (const auto& j : left.lines) {
    if (!j.contains("url")) continue;
    EXPECT_TRUE(restorable(j["url"])) << j.dump();
  }
  expect_whole_archive(left);
}

// A full disk and no writer running: SQLite cannot make the index's shared-memory file, which
// reading needs in WAL mode. Reading commands go on, reading the index as it is on disk, and
// say why; they failed with "disk I/O error".
TEST_F(WriteFaults, ReadingCommandsWorkOnAFullDisk) {
  ASSERT_EQ(archive({}).status, 0);
  ASSERT_FALSE(fs::exists(archive_ / "index.sqlite3-shm")) << "no process holds the index";
  const std::string url = bodies_.begin()->first;
  fs::path log = tmp_ / "injected-full";
  fs::path err = tmp_ / "stderr-full";
  const std::string env = "env " + fault_env({{"CALLS", "write,pwrite"},
                                              {"PATH", "index.sqlite3-shm"},
                                              {"COUNT", "0"},
                                              {"ERRNO", std::to_string(ENOSPC)}},
                                             log);
  auto run = [&](const std::string& args) {
    return shell(env + " " + shell_quote(VELLUM_CLI_PATH) + " --archive " +
                 shell_quote(archive_.string()) + " " + args + " 2>" + shell_quote(err.string()));
  };
  auto [status, page] = run("restore " + shell_quote(url) + " --format html");
  EXPECT_EQ(status, 0) << test::read_file(err);
  EXPECT_TRUE(page == bodies_.at(url)) << "restored page differs";
  EXPECT_TRUE(fs::exists(log)) << "no failure was injected";
  EXPECT_NE(test::read_file(err).find("no space left on the device of"), std::string::npos)
      << test::read_file(err);
  auto [list_status, listed] = run("list");
  EXPECT_EQ(list_status, 0) << test::read_file(err);
  for (const auto& [u, body] : bodies_) EXPECT_NE(listed.find(u), std::string::npos) << u;
  EXPECT_EQ(run("verify").first, 0) << test::read_file(err);
}

// A WARC file that cannot be read (an I/O error) is one problem of verify, named with the
// reason; the other files are still checked and the summary still printed. It ended verify
// with the error alone, dropping what the other files had shown.
TEST_F(WriteFaults, AnUnreadableFileIsOneProblemOfVerify) {
  ASSERT_EQ(archive({}).status, 0);
  ASSERT_EQ(archive({}).status, 0);  // a second file, of revisits
  const auto files = warc_files();
  ASSERT_EQ(files.size(), 2u);
  const std::string unreadable = files[1].filename().string();
  fs::path log = tmp_ / "injected-verify";
  auto [status, report] =
      shell("env " + fault_env({{"CALLS", "pread"}, {"PATH", unreadable}, {"COUNT", "0"}}, log) +
            " " + shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive_.string()) +
            " verify 2>&1");
  EXPECT_TRUE(fs::exists(log)) << "no failure was injected";
  EXPECT_EQ(status, 1) << report;
  EXPECT_NE(report.find(unreadable + ": cannot be read: "), std::string::npos) << report;
  EXPECT_NE(report.find("Input/output error"), std::string::npos) << report;
  EXPECT_NE(report.find("FAILED: "), std::string::npos) << report;
  EXPECT_NE(report.find("in 2 files"), std::string::npos) << report;
}
