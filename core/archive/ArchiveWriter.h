// Writing captures into an archive directory: one writer per archive at a time (lock file),
// group-committed appends (records are durable before a capture is reported done), file
// rotation, re-capture dedup, and recovery of files a killed process left behind.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <optional>

#include "archive/ArchiveDir.h"
#include "fetch/Fetcher.h"
#include "index/Index.h"
#include "warc/WarcReader.h"
#include "warc/WarcWriter.h"

namespace vellum::archive {

enum class SyncPolicy {
  // fdatasync the WARC file before any capture in it is reported done; concurrent captures
  // share one sync (group commit). The default.
  always,
  // Leave flushing to the kernel: a process crash loses nothing, a power failure may lose the
  // last seconds. For bulk imports and benchmarks only.
  never,
};

// Turns a stored response into its article JSON (capture_id, url, ... as in
// extract::article_json); nullopt when the capture has no article. Runs on the storing thread.
using ArticleHook =
    std::function<std::optional<nlohmann::json>(const fetch::Exchange&, const index::CaptureRow&)>;

struct WriterOptions {
  std::filesystem::path dir = "vellum-archive";
  warc::EncoderOptions encoder;
  std::uint64_t rotate_bytes = 1ull << 30;  // start a new file once one reaches this size
  std::string prefix = "vellum";
  bool dedup = true;  // revisit records for unchanged payloads
  SyncPolicy sync = SyncPolicy::always;
  ArticleHook extract;  // null: no articles (--no-extract)
  // Told what opening is doing during its long steps (upgrading the index, recovering a file
  // left open, indexing a file the index does not know): when each starts and about once a
  // second while it runs. vellumd extends systemd's start-up timeout with it.
  index::Index::BusyHook busy;
};

// One stored exchange (a redirect chain stores several).
struct StoredHop {
  std::string capture_id;
  std::string url;
  int status = 0;
  bool revisit = false;
  bool truncated = false;
  std::string title;  // of the article extracted, when there is one
};

struct StoreResult {
  std::vector<StoredHop> hops;
};

// A capture read from another WARC file (`vellum import`). Its records are stored with their
// bytes unchanged (the header as read, the block, CRLF CRLF), only compressed the archive's way.
struct ImportedCapture {
  std::optional<warc::WarcRecord> request;
  warc::WarcRecord response;  // WARC-Type response or revisit
  index::CaptureRow row;      // row_from_record(response); file and offsets are set when stored
  std::optional<nlohmann::json> article;  // extracted at import: a metadata record after it
};

struct RecoveryReport {
  unsigned files_recovered = 0;        // ".open" files closed on open
  std::uint64_t bytes_cut = 0;         // torn tails removed
  std::uint64_t captures_indexed = 0;  // captures added to the index while catching up
  std::vector<std::string> messages;   // one line per action taken
  std::vector<std::string> damaged;    // ".open" files closed as they were, damaged inside
};

class ArchiveWriter {
 public:
  using Logger = std::function<void(const std::string&)>;

  // Creates the layout when missing, takes the writer lock (waiting for another writer, after
  // telling `log`), recovers files left open and brings the index in line with the WARC files.
  static std::unique_ptr<ArchiveWriter> open(WriterOptions options, Logger log = {});
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // Writes the records of every hop of a fetch and indexes them. Thread-safe; compression runs
  // on the calling thread. Returns once the records are durable (per SyncPolicy). Throws
  // std::system_error / std::runtime_error when they could not be written.
  StoreResult store(const fetch::FetchResult& result);

  // Stores a (new) article for a capture already in the archive: a metadata record referring
  // to its response, indexed and written as a sidecar; it supersedes older ones. Durable on
  // return, like store().
  void store_article(const index::CaptureRow& response, const nlohmann::json& article);

  // Stores imported captures in one group commit: each request right before its response, the
  // article's metadata record right after it. Durable and indexed on return, like store().
  void store_imported(const std::vector<ImportedCapture>& captures);

  // The capture the index holds whose response/revisit record has this WARC-Record-ID, else
  // the one with this capture id (another record ID that gives the same one: util::capture_id_of).
  std::optional<index::CaptureRow> stored_capture(const std::string& record_id,
                                                  const std::string& capture_id);

  // The stored response a revisit without WARC-Refers-To restores (original_by_payload).
  std::optional<index::CaptureRow> stored_original_by_payload(const index::CaptureRow& revisit);

  // Closes the current file (sync, rename away ".open") and releases the lock. Idempotent.
  void close();

  const RecoveryReport& recovery() const { return recovery_; }
  const ArchiveDir& dir() const { return dir_; }

 private:
  struct OpenFile;
  struct Pending;
  ArchiveWriter(WriterOptions options, Logger log);
  void recover();
  // Recovery of a ".open" file whose only bad bytes are a tail torn by a crash: cut, indexed,
  // closed (or removed when no record in it is whole).
  void recover_torn_file(const ArchiveDir::Entry& e, std::uint64_t from,
                         const warc::ScanResult& scan,
                         const std::function<void(std::uint64_t)>& reading);
  // Recovery of a ".open" file that is damaged, not torn: renamed to its final name with every
  // byte kept (the caller indexes it as far as it reads).
  void close_damaged_open_file(const ArchiveDir::Entry& e, std::uint64_t from,
                               const warc::ScanResult& scan);
  std::shared_ptr<OpenFile> current_file_locked();
  void commit(Pending& pending);
  // Appends `bytes` (records whose rows carry offsets relative to its start), makes them
  // durable and indexes them; then writes the article sidecars from `article_json` (the JSON of
  // each of `articles`, in the same order).
  void append_and_commit(const std::string& bytes, std::vector<index::CaptureRow> rows,
                         std::vector<index::ArticleRow> articles,
                         std::vector<nlohmann::json> article_json,
                         const index::CaptureRow* known_response = nullptr);
  // Closes a file; a broken one is first cut back to what was reported done.
  void close_file(OpenFile& file);
  // close_file() for a file retired while writing goes on: a failure is logged, not thrown.
  void close_retired(OpenFile& file) noexcept;
  // The leader's part of a group commit: syncs the files of `batch`, indexes its good records,
  // sets each failed pending's error, closes `retired` files.
  void lead(std::deque<Pending*>& batch, std::vector<std::shared_ptr<OpenFile>>& retired);
  // Stops new records going to `file` after a write or sync error; see OpenFile::broken.
  void mark_broken_locked(const std::shared_ptr<OpenFile>& file, std::exception_ptr error);
  void write_missing_sidecars(const std::string& file, std::vector<std::string>& messages);
  void write_sidecars(const std::vector<index::ArticleRow>& articles,
                      std::vector<nlohmann::json>& article_json,
                      const std::vector<index::CaptureRow>& rows);

  WriterOptions options_;
  Logger log_;
  ArchiveDir dir_;
  warc::RecordEncoder encoder_;
  int lock_fd_ = -1;
  int warc_lock_fd_ = -1;  // flock on warc/, beside the lock file
  unsigned next_serial_ = 0;
  RecoveryReport recovery_;

  std::mutex index_mu_;  // guards index_
  std::unique_ptr<index::Index> index_;

  // Whether the response `original` reads back whole, for a revisit to refer to it: empty when
  // it does, else why not. The record IDs last found whole are remembered (unchanged pages are
  // revisited again and again), so each is read once in a while, not at every revisit.
  std::string unreadable_original(const index::CaptureRow& original);
  std::mutex originals_mu_;  // guards the two below
  std::deque<std::string> originals_order_;
  std::set<std::string> originals_whole_;

  // The canonical keys of the captures being stored: a second store of one of them waits until
  // the first is indexed, so that it finds it (and is stored as a revisit when unchanged).
  std::mutex storing_mu_;
  std::condition_variable storing_cv_;
  std::set<std::string> storing_;

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::shared_ptr<OpenFile> current_;
  std::vector<std::shared_ptr<OpenFile>> retired_;
  std::deque<Pending*> queue_;
  bool leader_busy_ = false;
  bool closed_ = false;
};

// Rebuilds the index of an archive from its WARC files (takes the writer lock).
struct ReindexReport {
  unsigned files = 0;
  std::uint64_t captures = 0;
  std::vector<std::string> problems;  // files or records that could not be read
};
// Called with the bytes of WARC files read so far and their total.
using ReindexProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;
ReindexReport reindex(const std::filesystem::path& dir, ArchiveWriter::Logger log = {},
                      const ReindexProgress& progress = {});

// Sets the article JSON's "warc" object to where the capture's response lies: file, offset,
// length, record_id, payload_digest.
void add_response_location(nlohmann::json& article, const index::CaptureRow& response);

// Whether `e` says the disk (or a quota) is full: ENOSPC or EDQUOT from a file write, or SQLite's
// "database or disk is full". Such a failure goes away once there is room again.
bool out_of_space(const std::exception& e);

// A capture's article sidecar as it is written: the article JSON with "warc" set to where the
// capture's response lies and, in it, "article_record" to where the article record lies.
nlohmann::json sidecar_json(nlohmann::json article_json, const index::ArticleRow& article,
                            const index::CaptureRow& response);

// The bytes of a sidecar file holding `sidecar` (indented JSON and a line end).
std::string sidecar_text(const nlohmann::json& sidecar);

// Where a capture's article sidecar is: articles/<source domain>/<capture id>.json. Throws
// when the capture id is not in its own form (it could name a file elsewhere).
std::filesystem::path article_sidecar_path(const ArchiveDir& dir, const index::ArticleRow& article);

// Writes a capture's article JSON as a plain file, articles/<domain>/<capture id>.json,
// with its WARC location added (atomically: temporary file, then rename).
void write_article_sidecar(const ArchiveDir& dir, nlohmann::json article_json,
                           const index::ArticleRow& article, const index::CaptureRow& response);

// Indexes the captures (and articles) of one WARC file whose records start at or after
// `from`, rewriting article sidecars; returns the offset just past the last record read.
// `progress` is called with the offset past each record read; records starting at or past
// `until` are left alone. A bad record throws warc::WarcFormatError, unless `damage` is given:
// then its error is added there and indexing goes on with the next whole record after it
// (WarcReader::resynchronise); with none, the file counts as read to its end, unless
// `torn_tail` is given: then a bad record with no whole one after it is a tail torn by a
// process that stopped mid-write (its offset is stored there, nothing is added to `damage`),
// and the offset returned is the end of the last whole record, where a writer cuts the file.
std::uint64_t index_warc_file(index::Index& idx, const std::filesystem::path& path,
                              const std::string& name, std::uint64_t from,
                              std::uint64_t* captures = nullptr,
                              const std::function<void(std::uint64_t end)>& progress = {},
                              std::uint64_t until = UINT64_MAX,
                              std::vector<std::string>* damage = nullptr,
                              std::optional<std::uint64_t>* torn_tail = nullptr);

}  // namespace vellum::archive
