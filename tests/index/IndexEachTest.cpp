// Index::each on a real SQLite file: every selected row once, in date order and then in the order
// the rows were added, across the batches it reads in (many rows with one date straddle them),
// with a limit, with a filter, and with a writer adding rows while the rows are handed on.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>

#include <string>
#include <vector>

#include "index/Index.h"
#include "support/TempDir.h"
#include "util/Url.h"

using namespace vellum::index;
using vellum::test::TempDir;

namespace {

CaptureRow row(int n, const std::string& host, const std::string& date) {
  CaptureRow c;
  c.capture_id = "id-" + std::to_string(n);
  c.record_id = "<urn:uuid:" + c.capture_id + ">";
  c.record_type = "response";
  c.url = "http://" + host + "/" + std::to_string(n);
  c.surt = vellum::util::surt(c.url);
  c.date = date;
  c.status = 200;
  c.file = "a.warc.zst";
  c.offset = static_cast<std::uint64_t>(n) * 100;
  c.length = 100;
  return c;
}

std::vector<std::string> ids(Index& idx, const ListFilter& f) {
  std::vector<std::string> out;
  idx.each(f, [&](CaptureRow&& r) { out.push_back(r.capture_id); });
  return out;
}

class IndexEachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    idx_ = Index::open(tmp_ / "index.sqlite3", true);
    idx_->begin();
    // 2,600 rows: the first 2,500 share one date (more than two batches of it), the rest later;
    // every third row on another host. Added newest date first, so that rowid order and date
    // order differ.
    for (int n = 2500; n < 2600; ++n)
      add(n, "2026-02-01T00:00:" + std::to_string(10 + n % 50) + ".000000Z");
    for (int n = 0; n < 2500; ++n) add(n, "2026-01-01T00:00:00.000000Z");
    idx_->commit();
  }
  void add(int n, const std::string& date) {
    const CaptureRow c = row(n, n % 3 == 0 ? "other.example" : "www.example.com", date);
    idx_->add_capture(c);
    rows_.push_back(c);
  }
  // What `each` should give: by date, then in the order added; newest first reverses both.
  std::vector<std::string> expected(bool newest_first, const std::string& host_suffix = {}) {
    std::vector<std::pair<std::string, std::size_t>> keyed;
    for (std::size_t i = 0; i < rows_.size(); ++i)
      if (host_suffix.empty() || rows_[i].url.find(host_suffix) != std::string::npos)
        keyed.emplace_back(rows_[i].date, i);
    std::sort(keyed.begin(), keyed.end());
    if (newest_first) std::reverse(keyed.begin(), keyed.end());
    std::vector<std::string> out;
    for (const auto& [date, i] : keyed) out.push_back(rows_[i].capture_id);
    return out;
  }

  TempDir tmp_{"each"};
  std::unique_ptr<Index> idx_;
  std::vector<CaptureRow> rows_;
};

TEST_F(IndexEachTest, EveryRowOnceInOrderAcrossBatches) {
  ListFilter oldest;
  oldest.newest_first = false;
  EXPECT_EQ(ids(*idx_, oldest), expected(false));
  EXPECT_EQ(ids(*idx_, ListFilter{}), expected(true));
  // `list` gives the same rows.
  std::vector<std::string> listed;
  for (const auto& r : idx_->list(oldest)) listed.push_back(r.capture_id);
  EXPECT_EQ(listed, expected(false));
}

TEST_F(IndexEachTest, LimitAndFilterHoldAcrossBatches) {
  for (std::int64_t limit : {0, 1, 999, 1000, 1001, 2345, 5000}) {
    ListFilter f;
    f.limit = limit;
    auto want = expected(true);
    want.resize(std::min<std::size_t>(want.size(), static_cast<std::size_t>(limit)));
    EXPECT_EQ(ids(*idx_, f), want) << "limit " << limit;
  }
  ListFilter domain;
  domain.domain = "example.com";
  domain.newest_first = false;
  EXPECT_EQ(ids(*idx_, domain), expected(false, "www.example.com"));
}

// Rows added while `each` hands rows on, to an index in rollback-journal mode (as `reindex`
// leaves it until a writer opens it), where a reader's open statement would hold a lock that
// makes a writer's commit fail: none is open while the rows of a batch are handed on. Every row
// there before is handed on once, in order, and so is every row added past the cursor (a later
// date, or the cursor's own date with a later rowid) while a batch is still to be read; rows
// added before the cursor are not, nor rows added while the last, short batch is handed on (2,600
// rows: batches end at 1,000, 2,000 and 2,600).
class IndexEachWriterTest : public IndexEachTest {
 protected:
  void SetUp() override {
    IndexEachTest::SetUp();
    idx_->leave_wal();
    ASSERT_EQ(sqlite3_open((tmp_ / "index.sqlite3").c_str(), &writer_), SQLITE_OK);
    sqlite3_busy_timeout(writer_, 0);  // a lock held by the reader fails the write at once
  }
  void TearDown() override { sqlite3_close(writer_); }

  // A copy of the first row under another id and date, written through the other connection.
  void insert(const std::string& id, const std::string& date) {
    const std::string sql = "INSERT INTO captures SELECT '" + id + "', '<urn:uuid:" + id +
                            ">', record_type, url, surt, host, '" + date +
                            "', status, mime, payload_digest, refers_to, original_uri, location, "
                            "ip, truncated, file, offset, length, request_offset, request_length "
                            "FROM captures LIMIT 1";
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(writer_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "") << " adding " << id;
    sqlite3_free(err);
  }
  void expect_later(const std::string& id, const std::string& date) {
    CaptureRow r;
    r.capture_id = id;
    r.date = date;
    r.url = "added";
    rows_.push_back(r);
  }

  // Where two lists of ids part, rather than the first thirty of each.
  static void expect_same(const std::vector<std::string>& got,
                          const std::vector<std::string>& want) {
    EXPECT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i)
      if (got[i] != want[i]) {
        ADD_FAILURE() << "at " << i << ": " << got[i] << ", expected " << want[i];
        return;
      }
  }

  sqlite3* writer_ = nullptr;
};

TEST_F(IndexEachWriterTest, OldestFirst) {
  const std::string shared = "2026-01-01T00:00:00.000000Z";  // the first 2,500 rows' date
  std::vector<std::string> seen;
  int round = 0;
  ListFilter oldest;
  oldest.newest_first = false;
  idx_->each(oldest, [&](CaptureRow&& r) {
    seen.push_back(r.capture_id);
    if (seen.size() % 700 != 0) return;
    const std::string n = std::to_string(round++);
    const bool more_to_read = seen.size() <= 2000;
    insert("before-" + n, "2025-12-31T00:00:00.000000Z");
    insert("same-" + n, shared);  // the cursor (row 1,000 or 2,000) has the shared date
    insert("after-" + n, "2027-01-01T00:00:00.000000Z");
    if (more_to_read) {
      expect_later("same-" + n, shared);
      expect_later("after-" + n, "2027-01-01T00:00:00.000000Z");
    }
  });
  EXPECT_GE(round, 3);
  expect_same(seen, expected(false));
}

TEST_F(IndexEachWriterTest, NewestFirst) {
  std::vector<std::string> seen;
  int round = 0;
  idx_->each(ListFilter{}, [&](CaptureRow&& r) {
    seen.push_back(r.capture_id);
    if (seen.size() % 700 != 0) return;
    const std::string n = std::to_string(round++);
    insert("newer-" + n, "2027-01-01T00:00:00.000000Z");
    insert("same-" + n, r.date);  // a later rowid: before the cursor, newest first
    insert("older-" + n, "2025-12-31T00:00:00.000000Z");
    if (seen.size() <= 2000) expect_later("older-" + n, "2025-12-31T00:00:00.000000Z");
  });
  EXPECT_GE(round, 3);
  expect_same(seen, expected(true));
}

}  // namespace
