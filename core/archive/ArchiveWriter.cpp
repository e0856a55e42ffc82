#include "archive/ArchiveWriter.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <system_error>

#include <spdlog/spdlog.h>

#include "archive/ArchiveReader.h"
#include "archive/RecordBuilder.h"
#include "util/Digest.h"
#include "util/Text.h"
#include "util/Time.h"
#include "util/Url.h"
#include "util/Uuid.h"
#include "warc/WarcReader.h"

namespace vellum::archive {

namespace fs = std::filesystem;

namespace {

// How index_warc_file names an uncompressed record whose block does not match its digest.
constexpr std::string_view kBlockDigestDamage = "found a block whose digest is ";
// How a sidecar that could not be written is named among a file's damage (it is none).
constexpr std::string_view kSidecarFailure = "cannot write the article sidecar of capture ";

// Why the response record `original` in `path` cannot stand for its payload again (empty when
// it can): a revisit written against a record that is gone or damaged would keep only a pointer
// to bytes no one can read, and the page just fetched would be lost. A compressed record that
// decodes has passed its frame's checksum; an uncompressed one has only its digests.
std::string record_unreadable(const fs::path& path, const index::CaptureRow& original) {
  const warc::WarcRecord rec = warc::read_record_at(path, {original.offset, original.length});
  if (rec.record_id() != original.record_id)
    return "found record " + rec.record_id() + " where the index says " + original.record_id;
  const auto head = warc::parse_http_head(rec.block);
  if (!head) return "it has no HTTP head";
  if (!original.file.ends_with(".warc")) return {};
  if (const auto block = warc::block_digest_matches(rec))
    return *block ? std::string() : "its block digest does not match its bytes";
  const std::string_view body =
      std::string_view(rec.block).substr(std::min(head->head_length, rec.block.size()));
  if (warc::payload_digest_matches(body, *head, original.payload_digest) == false)
    return "its payload digest does not match its body";
  return {};
}

// Takes the archive's writer lock, waiting for another writer to finish.
int take_lock(const fs::path& path, const ArchiveWriter::Logger& log) {
  for (bool told = false;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::system_error(errno, std::generic_category(), "cannot open lock " + path.string());
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) {
        int e = errno;
        ::close(fd);
        throw std::system_error(e, std::generic_category(), "cannot lock " + path.string());
      }
      char pid[32] = {};
      ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
      std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "?";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      if (log && !told) {
        // The holder wrote "PID PROGRAM" into the lock file.
        std::string msg = "archive " + path.parent_path().string() +
                          " is being written by process " + holder + "; waiting for it to finish";
        if (holder.find("vellumd") != std::string::npos)
          msg += " (`vellum enqueue URL...` hands URLs to the running daemon instead)";
        log(msg);
        told = true;
      }
      while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
          int e = errno;
          ::close(fd);
          throw std::system_error(e, std::generic_category(), "cannot lock " + path.string());
        }
      }
    }
    // The file locked must be the one the name leads to now: one deleted or replaced while
    // this process waited would let a writer that opened the new one in meanwhile run beside it.
    struct stat held {};
    struct stat named {};
    if (::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 &&
        held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      std::string me = std::to_string(getpid()) + " " + program_invocation_short_name + "\n";
      if (ftruncate(fd, 0) == 0) (void)!pwrite(fd, me.data(), me.size(), 0);
      return fd;
    }
    ::close(fd);
  }
}

// Locks warc/ itself (flock on the directory) for as long as the writer runs, beside the lock
// file: a lock file deleted or replaced under a running writer does not let a second one in,
// whether or not the first has a file open. Returns the descriptor to close when done, or -1
// where the file system has no such locks.
int lock_warc_dir(const ArchiveDir& layout) {
  const int fd = ::open(layout.warc_dir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
  const int err = errno;
  ::close(fd);
  if (err == EWOULDBLOCK)
    throw std::runtime_error(
        "cannot write the archive " + layout.root().string() + ": " + layout.warc_dir().string() +
        " is locked by another process writing it, though the archive's lock " +
        layout.lock_file().string() +
        " was free (deleted or replaced under it?); stop the other writer and "
        "try again");
  return -1;
}

// A writer holds the lock of each file it writes (warc::WarcFile). A `.open` file locked while
// this process holds the archive's lock means the lock file was deleted or replaced under a
// running writer: recovering that file, or rebuilding the index, would destroy its captures.
void refuse_files_being_written(const ArchiveDir& layout) {
  for (const auto& e : layout.warc_files())
    if (e.open && warc::is_being_written(e.path))
      throw std::runtime_error(
          "cannot write the archive " + layout.root().string() + ": " + e.path.string() +
          " is being written by another process, though the archive's lock " +
          layout.lock_file().string() +
          " was free (deleted or replaced under it?); stop the other writer and try again");
}

// Makes a file's data, or a directory's entries, durable. A failure throws: a capture must not
// be reported done in a file whose name may not survive a power cut. EINVAL means the file
// system has no such thing to sync (some do not sync directories) and is not a failure.
void fsync_path(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + p.string());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL)
    throw std::system_error(err, std::generic_category(), "cannot sync " + p.string());
}

// Removes the -wal and -shm SQLite keeps beside an index file: they belong to that file and
// must never be taken for another's.
void remove_wal_and_shm(const fs::path& file) {
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(file.string() + suffix);
}

// Where `vellum reindex` builds the new index before it replaces index.sqlite3.
constexpr const char* kRebuildingIndex = "index.sqlite3.rebuilding";
// Where the old index goes while the new one takes its name.
constexpr const char* kReplacedIndex = "index.sqlite3.replaced";

// Removes an index file with its -wal and -shm.
void remove_index_files(const fs::path& file) {
  fs::remove(file);
  remove_wal_and_shm(file);
}

// Renames a damaged index file aside as index.sqlite3.damaged-STAMP and removes its -wal and
// -shm, which belong to it and must not be taken for a new index's.
void set_index_aside(const ArchiveDir& layout, const std::string& why,
                     const ArchiveWriter::Logger& log) {
  const fs::path file = layout.index_file();
  fs::path aside = file;
  aside += ".damaged-" + util::file_stamp(util::now());
  fs::rename(file, aside);
  remove_wal_and_shm(file);
  fsync_path(layout.root(), O_RDONLY | O_DIRECTORY);
  if (log)
    log(why + " -- set aside as " + aside.filename().string() +
        "; rebuilding the index from the WARC files");
}

// Opens the index for writing. A damaged one (not a database, malformed) is derived data that
// would otherwise block every writer and reindex: it is renamed aside as
// index.sqlite3.damaged-STAMP (its -wal and -shm, which belong to it, removed) and a new one is
// created, for the caller to fill from the WARC files.
std::unique_ptr<index::Index> open_index_for_writing(const ArchiveDir& layout,
                                                     const index::Index::BusyHook& busy,
                                                     const ArchiveWriter::Logger& log) {
  try {
    return index::Index::open(layout.index_file(), true, busy);
  } catch (const index::IndexDamaged& e) {
    set_index_aside(layout, e.what(), log);
    return index::Index::open(layout.index_file(), true, busy);
  }
}

}  // namespace

struct ArchiveWriter::OpenFile {
  std::string name;  // final name
  std::unique_ptr<warc::WarcFile> file;
  std::uint64_t indexed_to = 0;
  // Set when a batch failed after its records were appended (a full disk, a failed fsync):
  // records from here on may have no index rows. indexed_to never passes it; the next batch
  // that succeeds reads them back from the file (checksums checked) and indexes them, and a
  // writer opening the archive later does the same for a file closed in this state.
  std::optional<std::uint64_t> unindexed_from;
  // Set (under mu_) when writing the file failed for a reason other than a full disk, or when
  // syncing it failed for any reason (ENOSPC from fdatasync means written data was lost too).
  // After a failed fsync the kernel may have dropped pages it could not write while still
  // serving them from its cache, so nothing past indexed_to can be trusted and a later fsync
  // succeeding proves nothing about it. Such a file takes no more records, every capture in it
  // not yet reported done fails with this error, and it is cut back to indexed_to and closed.
  std::exception_ptr broken;
  bool closed = false;
};

struct ArchiveWriter::Pending {
  std::shared_ptr<OpenFile> file;
  std::vector<index::CaptureRow> rows;
  std::vector<index::ArticleRow> articles;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  bool done = false;
  std::exception_ptr error;
};

std::uint64_t index_warc_file(index::Index& idx, const fs::path& path, const std::string& name,
                              std::uint64_t from, std::uint64_t* captures,
                              const std::function<void(std::uint64_t)>& progress,
                              std::uint64_t until, std::vector<std::string>* damage,
                              std::optional<std::uint64_t>* torn_tail) {
  // Records before `from` are not indexed here, and those past `until` may be being written.
  warc::WarcReader reader(path, from, until);
  // Requests waiting for their response, paired by pairing_of: one that names a response is
  // found by the response's id, one that names none by its own id.
  struct Request {
    warc::RecordLocation loc;
    RecordLink link;
  };
  std::map<std::string, Request> requests;     // response id -> request
  std::map<std::string, Request> request_ids;  // request id -> request
  std::uint64_t end = std::max(reader.data_start(), std::min(from, until));
  for (;;) {
    std::optional<warc::WarcRecord> rec;
    try {
      rec = reader.next();
    } catch (const warc::WarcFormatError& err) {
      if (!damage || err.offset() >= until) throw;
      // One damaged record does not hide the whole ones after it.
      if (reader.resynchronise()) {
        damage->push_back(err.what());
        continue;
      }
      if (torn_tail) {
        *torn_tail = err.offset();
        return end;
      }
      damage->push_back(err.what());
      // Nothing whole after the damage: the file has been read to its end.
      std::error_code ec;
      std::uint64_t size = fs::file_size(path, ec);
      return ec ? err.offset() : std::min(size, until);
    }
    if (!rec) break;
    // A record in a unit of several that is cut short after it (a whole file compressed as one
    // gzip member, never written by Vellum) ends no valid prefix: reading on reaches the damage.
    if (reader.last_in_damaged_unit()) continue;
    warc::RecordLocation loc = reader.last_location();
    if (loc.offset >= until) break;
    end = loc.offset + loc.length;
    if (progress) progress(end);
    if (loc.offset < from) continue;
    // A compressed record's damage fails its checksum above; an uncompressed one has only its
    // block digest. Such a record is indexed all the same (restoring it as WARC may salvage it),
    // and its damage reported.
    if (damage && reader.compression() == warc::Compression::none &&
        warc::block_digest_matches(*rec) == false)
      damage->push_back(path.string() + ": offset " + std::to_string(loc.offset) + ": " +
                        std::string(kBlockDigestDamage) + util::warc_sha1(rec->block) +
                        ", expected the WARC-Block-Digest the record declares, " +
                        rec->field_or("WARC-Block-Digest") +
                        " (an uncompressed record has no other check; `vellum verify` names its "
                        "capture)");
    std::string type = rec->type();
    if (type == "request") {
      Request request{loc, link_of(*rec)};
      for (const auto& id : request.link.concurrent_to) requests[id] = request;
      if (request.link.concurrent_to.empty()) request_ids[request.link.record_id] = request;
      continue;
    }
    if (auto article = article_of_record(*rec)) {
      // An article whose block fails its digest (in an uncompressed file nothing else checks
      // it; a compressed one fails its frame's checksum first) is not taken: restore extracts
      // the page again, and its sidecar, perhaps the intact copy, stays.
      if (warc::block_digest_matches(*rec) == false) continue;
      auto& [row, json] = *article;
      row.file = name;
      row.offset = loc.offset;
      row.length = loc.length;
      idx.add_article(row);
      if (auto response = idx.by_capture_id(row.capture_id)) {
        try {
          write_article_sidecar(ArchiveDir(path.parent_path().parent_path()), std::move(json), row,
                                *response);
        } catch (const std::exception& e) {
          // The record in the WARC file is what counts; reindex says what it could not write.
          if (damage)
            damage->push_back(path.string() + ": offset " + std::to_string(loc.offset) + ": " +
                              std::string(kSidecarFailure) + row.capture_id + ": " + e.what());
        }
      }
      continue;
    }
    auto row = row_from_record(*rec);
    if (!row) continue;
    row->file = name;
    row->offset = loc.offset;
    row->length = loc.length;
    const RecordLink link = link_of(*rec);
    auto pair_with = [&](std::map<std::string, Request>& waiting, const std::string& key) {
      auto it = waiting.find(key);
      if (it == waiting.end() || !is_request_of(it->second.link, link)) return false;
      row->request_offset = it->second.loc.offset;
      row->request_length = it->second.loc.length;
      waiting.erase(it);
      return true;
    };
    if (!pair_with(requests, link.record_id))
      for (const auto& id : link.concurrent_to)
        if (pair_with(request_ids, id)) break;
    idx.add_capture(*row);
    if (captures) ++*captures;
  }
  return end;
}

ArchiveWriter::ArchiveWriter(WriterOptions options, Logger log)
    : options_(std::move(options)),
      log_(std::move(log)),
      dir_(options_.dir),
      encoder_(options_.encoder) {}

std::unique_ptr<ArchiveWriter> ArchiveWriter::open(WriterOptions options, Logger log) {
  std::unique_ptr<ArchiveWriter> w(new ArchiveWriter(std::move(options), std::move(log)));
  w->dir_.create_for_writing();
  w->lock_fd_ = take_lock(w->dir_.lock_file(), w->log_);
  w->warc_lock_fd_ = lock_warc_dir(w->dir_);
  refuse_files_being_written(w->dir_);
  // What a `vellum reindex` stopped midway left (nothing else uses these names).
  remove_index_files(w->dir_.root() / kRebuildingIndex);
  remove_index_files(w->dir_.root() / kReplacedIndex);
  w->index_ = open_index_for_writing(w->dir_, w->options_.busy, w->log_);
  w->recover();
  return w;
}

ArchiveWriter::~ArchiveWriter() {
  try {
    close();
  } catch (const std::exception& e) {
    if (log_) log_(std::string("closing the archive failed: ") + e.what());
  }
}

void ArchiveWriter::recover() {
  auto entries = dir_.warc_files();
  // Serials go on from the highest in use, in warc/ or in the index: counting the files would
  // give a serial again once a file was removed.
  next_serial_ = static_cast<unsigned>(entries.size());
  for (const auto& e : entries)
    if (auto serial = warc_file_serial(e.name)) next_serial_ = std::max(next_serial_, *serial + 1);
  for (const auto& f : index_->files())
    if (auto serial = warc_file_serial(f.name)) next_serial_ = std::max(next_serial_, *serial + 1);
  // Reading a file of a gigabyte or more takes seconds; whoever waits hears of it.
  std::string step;
  auto last_told = std::chrono::steady_clock::now();
  auto tell = [&](bool starting) {
    if (!options_.busy) return;
    auto now = std::chrono::steady_clock::now();
    if (!starting && now - last_told < std::chrono::seconds(1)) return;
    last_told = now;
    options_.busy(step);
  };
  auto reading = [&](std::uint64_t) { tell(false); };
  std::set<std::string> closed;
  for (const auto& e : entries)
    if (!e.open) closed.insert(e.name);
  std::vector<std::string> damaged_open;  // left open by a process that stopped, damaged inside
  for (ArchiveDir::Entry e : entries) {
    if (e.open && closed.count(e.name)) {
      // Not a file this archive left open: its closed name is taken (a copy put back, say).
      // Neither file is touched, nor the index, which describes the closed one.
      recovery_.messages.push_back(
          e.path.filename().string() + ": left as it is: " + e.name +
          " exists beside it, and which of the two holds what cannot be told; compare them, " +
          "keep what you need and move the other out of warc/");
      continue;
    }
    auto known = index_->file(e.name);
    std::uint64_t from = known ? known->indexed_to : 0;
    if (e.open) {
      // Left behind by a process that died: cut a torn tail, index what is there, close it.
      step = "recovering " + e.path.filename().string() + ", left open by a process that stopped";
      tell(true);
      warc::ScanResult scan = warc::scan_valid_prefix(e.path);
      // A crash tears at most the records being appended, past what the index holds as stored
      // and reported done: that tail is cut. A bad record inside what the index holds is
      // damage instead, and cutting there would destroy captures. Without the index to say
      // what was reported, a whole record readable after the bad one, or a file too large to
      // be a torn first write with no good record in it, means damage too. A damaged file is
      // closed with every byte kept and indexed below as far as it reads; `vellum verify`
      // names the damage.
      constexpr std::uint64_t kTornCreation = 4096;  // the warcinfo record of a new file
      const bool damaged =
          scan.valid_end < scan.file_size &&
          (known ? scan.valid_end < from
                 : scan.resumes_at || (scan.records == 0 && scan.file_size > kTornCreation));
      if (!damaged) {
        recover_torn_file(e, from, scan, reading);
        continue;
      }
      close_damaged_open_file(e, from, scan);
      e.path = dir_.warc_dir() / e.name;
      e.open = false;
      damaged_open.push_back(e.name);  // its sidecars once it is indexed, below
    }
    std::uint64_t size = fs::file_size(e.path);
    if (known && known->closed && known->indexed_to == size) continue;
    // A closed file the index does not (fully) know: index the rest of it. A damaged record
    // does not keep the archive from opening: what precedes it is indexed and the damage is
    // reported (`vellum verify` names it too); the file itself is left as it is.
    step = "indexing " + e.name + " from offset " + std::to_string(from);
    tell(true);
    index_->begin();
    try {
      std::uint64_t n = 0;
      std::vector<std::string> damage;
      std::uint64_t end = from;
      try {
        end = index_warc_file(*index_, e.path, e.name, from, &n, reading, UINT64_MAX, &damage);
      } catch (const warc::WarcFormatError& err) {
        // Not even the file's start reads; the file is left as it is, and so is the index.
        recovery_.messages.push_back(e.name + ": cannot be read, left as it is: " + err.what());
      }
      for (const auto& d : damage)
        recovery_.messages.push_back(
            d.find(kSidecarFailure) != std::string::npos
                ? d
                : e.name +
                      (d.find(kBlockDigestDamage) != std::string::npos
                           ? ": indexed a record whose block does not match its digest (kept for "
                             "salvage): "
                           : ": skipped a damaged record; what reads after it is indexed: ") +
                      d);
      index_->set_file({e.name, std::max(from, end), true});
      index_->commit();
      recovery_.captures_indexed += n;
      if (n) recovery_.messages.push_back(e.name + ": " + std::to_string(n) + " captures indexed");
    } catch (...) {
      index_->rollback();
      throw;
    }
  }
  for (const auto& name : damaged_open) write_missing_sidecars(name, recovery_.messages);
  if (log_)
    for (const auto& m : recovery_.messages) log_(m);
}

void ArchiveWriter::recover_torn_file(const ArchiveDir::Entry& e, std::uint64_t from,
                                      const warc::ScanResult& scan,
                                      const std::function<void(std::uint64_t)>& reading) {
  if (scan.valid_end < scan.file_size) {
    if (::truncate(e.path.c_str(), static_cast<off_t>(scan.valid_end)) != 0)
      throw std::system_error(errno, std::generic_category(),
                              "cannot truncate torn tail of " + e.path.string());
    fsync_path(e.path, O_RDONLY);
    recovery_.bytes_cut += scan.file_size - scan.valid_end;
    recovery_.messages.push_back(e.path.filename().string() + ": removed a torn tail of " +
                                 std::to_string(scan.file_size - scan.valid_end) +
                                 " bytes at offset " + std::to_string(scan.valid_end) + " (" +
                                 scan.error.value_or("incomplete record") + ")");
  }
  index_->begin();
  try {
    index_->remove_from(e.name, scan.valid_end);
    if (scan.records == 0) {
      index_->remove_file(e.name);
      fs::remove(e.path);
      recovery_.messages.push_back(e.path.filename().string() + ": removed (no complete record)");
    } else {
      std::uint64_t n = 0;
      index_warc_file(*index_, e.path, e.name, std::min(from, scan.valid_end), &n, reading);
      recovery_.captures_indexed += n;
      warc::rename_no_replace(e.path, dir_.warc_dir() / e.name);
      fsync_path(dir_.warc_dir(), O_RDONLY | O_DIRECTORY);
      index_->set_file({e.name, scan.valid_end, true});
      recovery_.messages.push_back(e.path.filename().string() + ": closed as " + e.name + " (" +
                                   std::to_string(n) + " captures re-indexed)");
    }
    index_->commit();
  } catch (...) {
    index_->rollback();
    throw;
  }
  ++recovery_.files_recovered;
  if (scan.records) write_missing_sidecars(e.name, recovery_.messages);
}

// The sidecars of `file` that are not there, written from its article records: those a process
// that stopped between a commit and its sidecars left unwritten (recovery), and those a full
// disk kept from being written (when the file is closed). What it did goes to `messages`.
void ArchiveWriter::write_missing_sidecars(const std::string& file,
                                           std::vector<std::string>& messages) {
  std::size_t written = 0;
  for (const index::ArticleRow& a : index_->articles_in_file(file)) {
    try {
      std::error_code ec;
      if (fs::exists(article_sidecar_path(dir_, a), ec)) continue;
      const auto capture = index_->by_capture_id(a.capture_id);
      if (!capture) continue;
      auto article =
          article_of_record(warc::read_record_at(dir_.warc_path(file), {a.offset, a.length}));
      if (!article) continue;
      write_article_sidecar(dir_, std::move(article->second), a, *capture);
      ++written;
    } catch (const std::exception& e) {
      // The article is safe in the WARC file; `vellum reindex` writes the sidecar again.
      messages.push_back(file + ": cannot write the article sidecar of capture " + a.capture_id +
                         ": " + e.what());
    }
  }
  if (written)
    messages.push_back(file + ": wrote " + std::to_string(written) +
                       " article sidecars that were missing");
}

void ArchiveWriter::close_damaged_open_file(const ArchiveDir::Entry& e, std::uint64_t from,
                                            const warc::ScanResult& scan) {
  std::string why;
  if (scan.resumes_at)
    why = "whole records follow it from offset " + std::to_string(*scan.resumes_at);
  else if (scan.valid_end < from)
    why = "it lies inside the " + std::to_string(from) + " bytes already stored";
  else
    why = "no record of the file reads, and it is too large to be a file torn as it was created";
  warc::rename_no_replace(e.path, dir_.warc_dir() / e.name);
  fsync_path(dir_.warc_dir(), O_RDONLY | O_DIRECTORY);
  ++recovery_.files_recovered;
  recovery_.damaged.push_back(e.name);
  recovery_.messages.push_back(e.path.filename().string() + ": damaged record at offset " +
                               std::to_string(scan.valid_end) + " (" +
                               scan.error.value_or("unreadable") + "), not a torn tail: " + why +
                               "; closed as " + e.name +
                               " with every byte kept, nothing cut; `vellum verify` names the "
                               "damage");
}

std::shared_ptr<ArchiveWriter::OpenFile> ArchiveWriter::current_file_locked() {
  if (current_) return current_;
  auto f = std::make_shared<OpenFile>();
  f->name = warc_file_name(options_.prefix, util::file_stamp(util::now()), next_serial_++,
                           local_host_name(), warc::file_extension(options_.encoder.compression));
  fs::path path = dir_.warc_dir() / (f->name + std::string(kOpenSuffix));
  f->file = warc::WarcFile::create(path, encoder_.file_preamble());
  try {
    f->file->append(encoder_.encode(build_warcinfo(f->name).serialize()));
    f->indexed_to = f->file->size();
    // Until its name is durable, nothing may be reported done in the file.
    fsync_path(dir_.warc_dir(), O_RDONLY | O_DIRECTORY);
  } catch (...) {
    // Nothing but the warcinfo is in it: remove it rather than leave an empty file behind.
    f->file.reset();
    std::error_code ec;
    fs::remove(path, ec);
    throw;
  }
  current_ = f;
  return f;
}

StoreResult ArchiveWriter::store(const fetch::FetchResult& result) {
  StoreResult out;
  if (result.hops.empty()) return out;

  // One store at a time per canonical key (stores run on several threads): the same URL twice
  // in one run is found by its second store, not stored whole twice. All the keys of the
  // capture are taken at once, so no two stores wait for each other.
  std::set<std::string> keys;
  if (options_.dedup)
    for (const fetch::Exchange& hop : result.hops) keys.insert(util::surt(hop.url));
  {
    std::unique_lock lk(storing_mu_);
    storing_cv_.wait(lk, [&] {
      return std::none_of(keys.begin(), keys.end(),
                          [&](const std::string& k) { return storing_.count(k) > 0; });
    });
    storing_.insert(keys.begin(), keys.end());
  }
  struct Release {
    ArchiveWriter& w;
    const std::set<std::string>& keys;
    ~Release() {
      {
        std::lock_guard lk(w.storing_mu_);
        for (const auto& k : keys) w.storing_.erase(k);
      }
      w.storing_cv_.notify_all();
    }
  } release{*this, keys};

  // Build and compress every record of the capture on this thread.
  std::string bytes;
  std::vector<index::CaptureRow> rows;
  std::vector<index::ArticleRow> articles;
  std::vector<nlohmann::json> article_json;
  for (const fetch::Exchange& hop : result.hops) {
    std::optional<index::CaptureRow> previous;
    if (options_.dedup) {
      std::lock_guard lk(index_mu_);
      if (!index_) throw std::runtime_error("archive writer is closed");
      previous = index_->latest(util::surt(hop.url));
      // A revisit refers to the record that holds the payload, with that record's URI and
      // date, not to the revisit before it. When that record cannot be found (an imported
      // revisit whose original was not imported), the payload is stored whole.
      if (previous && previous->record_type == "revisit") {
        std::optional<index::CaptureRow> original;
        try {
          original = original_of(*index_, *previous);
        } catch (const std::runtime_error&) {
        }
        if (original && util::same_warc_sha1(original->payload_digest, previous->payload_digest))
          previous = std::move(original);
        else
          previous.reset();
      }
    }
    ExchangeRecords recs = build_exchange_records(hop, previous);
    if (recs.row.record_type == "revisit")
      if (const std::string why = unreadable_original(*previous); !why.empty()) {
        spdlog::warn(
            "{}: the capture it repeats ({}, {} at offset {}) cannot be read back ({}); storing "
            "the page whole instead of a revisit (`vellum verify` names the damage)",
            hop.url, previous->capture_id, previous->file, previous->offset, why);
        recs = build_exchange_records(hop, std::nullopt);
      }
    std::string req = encoder_.encode(recs.request.serialize());
    std::string header;
    std::string resp = encoder_.encode_parts(recs.response_parts(header));
    recs.row.request_offset = bytes.size();
    recs.row.request_length = req.size();
    bytes += req;
    recs.row.offset = bytes.size();
    recs.row.length = resp.size();
    bytes += resp;
    StoredHop stored{recs.row.capture_id, hop.url,
                     recs.row.status,     recs.row.record_type == "revisit",
                     hop.truncated,       {}};
    // The article, as a metadata record right after its response.
    if (options_.extract && recs.row.record_type == "response") {
      if (auto json = options_.extract(hop, recs.row)) {
        warc::WarcRecord meta = build_article_record(recs.row, json->dump());
        if (auto article = article_row_from_record(meta, *json)) {
          std::string encoded = encoder_.encode(meta.serialize());
          article->offset = bytes.size();
          article->length = encoded.size();
          bytes += encoded;
          stored.title = article->title;
          articles.push_back(std::move(*article));
          article_json.push_back(std::move(*json));
        }
      }
    }
    out.hops.push_back(std::move(stored));
    rows.push_back(std::move(recs.row));
  }

  append_and_commit(bytes, std::move(rows), std::move(articles), std::move(article_json));
  return out;
}

namespace {

// A record read from a file, compressed with its bytes as they were read.
std::string encode_as_read(const warc::RecordEncoder& encoder, const warc::WarcRecord& r) {
  std::string rebuilt = r.header_as_read.empty() ? r.serialize_header() : std::string();
  const std::string_view parts[] = {
      r.header_as_read.empty() ? std::string_view(rebuilt) : std::string_view(r.header_as_read),
      r.block, "\r\n\r\n"};
  return encoder.encode_parts(parts);
}

}  // namespace

void ArchiveWriter::store_imported(const std::vector<ImportedCapture>& captures) {
  std::string bytes;
  std::vector<index::CaptureRow> rows;
  std::vector<index::ArticleRow> articles;
  std::vector<nlohmann::json> article_json;
  for (const ImportedCapture& c : captures) {
    index::CaptureRow row = c.row;
    row.request_offset = row.request_length = 0;
    if (c.request) {
      std::string req = encode_as_read(encoder_, *c.request);
      row.request_offset = bytes.size();
      row.request_length = req.size();
      bytes += req;
    }
    std::string resp = encode_as_read(encoder_, c.response);
    row.offset = bytes.size();
    row.length = resp.size();
    bytes += resp;
    if (c.article) {
      warc::WarcRecord meta = build_article_record(row, c.article->dump());
      if (auto article = article_row_from_record(meta, *c.article)) {
        std::string encoded = encoder_.encode(meta.serialize());
        article->offset = bytes.size();
        article->length = encoded.size();
        bytes += encoded;
        articles.push_back(std::move(*article));
        article_json.push_back(*c.article);
      }
    }
    rows.push_back(std::move(row));
  }
  if (!rows.empty())
    append_and_commit(bytes, std::move(rows), std::move(articles), std::move(article_json));
}

std::string ArchiveWriter::unreadable_original(const index::CaptureRow& original) {
  {
    std::lock_guard lk(originals_mu_);
    if (originals_whole_.count(original.record_id)) return {};
  }
  std::string why;
  // A file renamed from ".open" between finding its name and opening it is looked for again.
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      why = record_unreadable(dir_.warc_path(original.file), original);
      break;
    } catch (const std::system_error& e) {
      why = e.what();
      if (e.code() != std::errc::no_such_file_or_directory) break;
    } catch (const std::exception& e) {
      why = e.what();
      break;
    }
  }
  if (why.empty()) {
    std::lock_guard lk(originals_mu_);
    constexpr std::size_t kRemembered = 4096;
    if (originals_whole_.insert(original.record_id).second) {
      originals_order_.push_back(original.record_id);
      if (originals_order_.size() > kRemembered) {
        originals_whole_.erase(originals_order_.front());
        originals_order_.pop_front();
      }
    }
  }
  return why;
}

std::optional<index::CaptureRow> ArchiveWriter::stored_capture(const std::string& record_id,
                                                               const std::string& capture_id) {
  std::lock_guard lk(index_mu_);
  if (auto row = index_->by_record_id(record_id)) return row;
  return index_->by_capture_id(capture_id);
}

std::optional<index::CaptureRow> ArchiveWriter::stored_original_by_payload(
    const index::CaptureRow& revisit) {
  std::lock_guard lk(index_mu_);
  return original_by_payload(*index_, revisit);
}

void ArchiveWriter::store_article(const index::CaptureRow& response, const nlohmann::json& j) {
  warc::WarcRecord meta = build_article_record(response, j.dump());
  auto article = article_row_from_record(meta, j);
  if (!article) throw std::runtime_error("not an article record for " + response.capture_id);
  std::string bytes = encoder_.encode(meta.serialize());
  article->offset = 0;
  article->length = bytes.size();
  std::vector<index::ArticleRow> articles{std::move(*article)};
  append_and_commit(bytes, {}, std::move(articles), {j}, &response);
}

void ArchiveWriter::append_and_commit(const std::string& bytes, std::vector<index::CaptureRow> rows,
                                      std::vector<index::ArticleRow> articles,
                                      std::vector<nlohmann::json> article_json,
                                      const index::CaptureRow* known_response) {
  Pending pending;
  {
    std::lock_guard lk(mu_);
    if (closed_) throw std::runtime_error("archive writer is closed");
    pending.file = current_file_locked();
    std::uint64_t base = 0;
    try {
      base = pending.file->file->append(bytes);
    } catch (const std::exception& e) {
      // append() cut the partial record off again; a full disk leaves the file usable.
      if (!out_of_space(e)) mark_broken_locked(pending.file, std::current_exception());
      throw;
    }
    pending.start = base;
    pending.end = base + bytes.size();
    for (auto& r : rows) {
      r.file = pending.file->name;
      r.offset += base;
      if (r.request_length) r.request_offset += base;
    }
    for (auto& a : articles) {
      a.file = pending.file->name;
      a.offset += base;
    }
    pending.rows = std::move(rows);
    pending.articles = std::move(articles);
    queue_.push_back(&pending);
    if (pending.file->file->size() >= options_.rotate_bytes) {
      retired_.push_back(std::move(current_));
      current_.reset();
    }
  }
  commit(pending);
  if (known_response) pending.rows.push_back(*known_response);
  write_sidecars(pending.articles, article_json, pending.rows);
}

void ArchiveWriter::write_sidecars(const std::vector<index::ArticleRow>& articles,
                                   std::vector<nlohmann::json>& article_json,
                                   const std::vector<index::CaptureRow>& rows) {
  for (std::size_t i = 0; i < articles.size(); ++i) {
    const index::ArticleRow& a = articles[i];
    for (const auto& r : rows) {
      if (r.capture_id != a.capture_id) continue;
      try {
        write_article_sidecar(dir_, std::move(article_json.at(i)), a, r);
      } catch (const std::exception& e) {
        // The article is safe in the WARC file; `vellum reindex` writes the sidecar again.
        if (log_) log_(std::string("cannot write the article sidecar: ") + e.what());
      }
    }
  }
}

bool out_of_space(const std::exception& e) {
  if (auto* se = dynamic_cast<const std::system_error*>(&e))
    if (se->code().value() == ENOSPC || se->code().value() == EDQUOT) return true;
  std::string_view what = e.what();
  return what.find("disk is full") != std::string_view::npos ||
         what.find("No space left on device") != std::string_view::npos;
}

void add_response_location(nlohmann::json& j, const index::CaptureRow& response) {
  j["warc"] = {{"file", response.file},
               {"offset", response.offset},
               {"length", response.length},
               {"record_id", response.record_id},
               {"payload_digest", response.payload_digest}};
}

nlohmann::json sidecar_json(nlohmann::json j, const index::ArticleRow& article,
                            const index::CaptureRow& response) {
  add_response_location(j, response);
  j["warc"]["article_record"] = {{"file", article.file},
                                 {"offset", article.offset},
                                 {"length", article.length},
                                 {"record_id", article.record_id}};
  return j;
}

std::string sidecar_text(const nlohmann::json& sidecar) {
  return sidecar.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

fs::path article_sidecar_path(const ArchiveDir& dir, const index::ArticleRow& article) {
  // The file's name is the capture id: only an id in its own form (hex digits and dashes) names
  // a file, so no record read from elsewhere can place one outside the folder.
  if (!util::is_capture_id(article.capture_id))
    throw std::runtime_error("no article sidecar can be named after capture '" +
                             article.capture_id +
                             "': expected a capture id of the form "
                             "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx");
  std::string domain = article.source_domain.empty() ? "unknown" : article.source_domain;
  for (char& c : domain)
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  if (domain == "." || domain == "..") domain = "_";
  return dir.articles_dir() / domain / (article.capture_id + ".json");
}

void write_article_sidecar(const ArchiveDir& dir, nlohmann::json j,
                           const index::ArticleRow& article, const index::CaptureRow& response) {
  j = sidecar_json(std::move(j), article, response);
  const fs::path target = article_sidecar_path(dir, article);
  fs::create_directories(target.parent_path());
  fs::path tmp = target;
  tmp += ".tmp";
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << sidecar_text(j);
      if (!out) throw std::runtime_error("cannot write " + tmp.string());
    }
    fs::rename(tmp, target);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);  // no half-written file left beside the sidecar
    throw;
  }
}

void ArchiveWriter::mark_broken_locked(const std::shared_ptr<OpenFile>& f,
                                       std::exception_ptr error) {
  if (f->broken) return;
  f->broken = std::move(error);
  if (current_ == f) {
    retired_.push_back(std::move(current_));
    current_.reset();
  }
}

void ArchiveWriter::commit(Pending& pending) {
  std::unique_lock lk(mu_);
  while (!pending.done) {
    if (leader_busy_) {
      cv_.wait(lk);
      continue;
    }
    // Become the leader: make everything queued so far durable and indexed in one go.
    leader_busy_ = true;
    std::deque<Pending*> batch;
    batch.swap(queue_);
    std::vector<std::shared_ptr<OpenFile>> retired;
    retired.swap(retired_);
    lk.unlock();
    try {
      lead(batch, retired);
    } catch (...) {
      // Nothing escapes lead() once the batch is indexed, so none of it was reported done:
      // fail what has no error yet, and keep the writer going for the next batch.
      for (Pending* p : batch)
        if (!p->error) p->error = std::current_exception();
    }
    lk.lock();
    for (Pending* p : batch) p->done = true;
    leader_busy_ = false;
    cv_.notify_all();
  }
  if (pending.error) std::rethrow_exception(pending.error);
}

void ArchiveWriter::lead(std::deque<Pending*>& batch,
                         std::vector<std::shared_ptr<OpenFile>>& retired) {
  std::map<OpenFile*, std::shared_ptr<OpenFile>> files;
  for (Pending* p : batch) files.emplace(p->file.get(), p->file);

  // Sync each file once; a file whose sync fails is broken, and so are the captures in it.
  if (options_.sync == SyncPolicy::always) {
    for (auto& [raw, f] : files) {
      {
        std::lock_guard blk(mu_);
        if (f->broken) continue;
      }
      try {
        f->file->sync();
      } catch (...) {
        std::lock_guard blk(mu_);
        mark_broken_locked(f, std::current_exception());
        retired.push_back(f);
      }
    }
  }
  std::vector<Pending*> good;
  {
    std::lock_guard blk(mu_);
    for (Pending* p : batch) {
      if (p->file->broken)
        p->error = p->file->broken;
      else
        good.push_back(p);
    }
  }

  std::exception_ptr error;
  try {
    std::lock_guard ilk(index_mu_);
    index_->begin();
    try {
      std::map<OpenFile*, std::uint64_t> ends;
      for (Pending* p : good) {
        for (const auto& r : p->rows) index_->add_capture(r);
        for (const auto& a : p->articles) index_->add_article(a);
        ends[p->file.get()] = std::max(ends[p->file.get()], p->end);
      }
      // Records an earlier failed batch left without index rows: now that writing works
      // again, read them back (each checked) up to the end of this batch and index them.
      for (auto& [f, end] : ends)
        if (f->unindexed_from)
          index_warc_file(*index_, f->file->path(), f->name, *f->unindexed_from, nullptr, {}, end);
      for (auto& [f, end] : ends) index_->set_file({f->name, end, false});
      index_->commit();
      for (auto& [f, end] : ends) {
        f->indexed_to = end;
        f->unindexed_from.reset();
      }
    } catch (...) {
      index_->rollback();
      throw;
    }
  } catch (...) {
    error = std::current_exception();
    for (Pending* p : good) {
      p->error = error;
      auto& from = p->file->unindexed_from;
      from = std::min(from.value_or(p->start), p->start);
    }
  }
  // Files that rotated out or broke: every record they hold was in this batch or an earlier
  // one, or (a broken file) fails without being read again.
  for (auto& f : retired) close_retired(*f);
}

void ArchiveWriter::close_retired(OpenFile& f) noexcept {
  // The file stays ".open" and the next writer to open the archive recovers it. With
  // SyncPolicy::always every capture reported done in it was synced already.
  auto report = [&](const char* why) noexcept {
    try {
      if (log_) log_("cannot close " + f.name + ": " + why);
    } catch (...) {
    }
  };
  try {
    close_file(f);
  } catch (const std::exception& e) {
    report(e.what());
  } catch (...) {
    report("unknown error");
  }
}

void ArchiveWriter::close_file(OpenFile& f) {
  if (f.closed) return;
  f.closed = true;
  if (f.broken) {
    std::uint64_t size = f.file->size();
    f.file->cut_back(f.indexed_to);
    f.unindexed_from.reset();
    if (log_ && size > f.indexed_to)
      log_(f.name + ": cut back to " + std::to_string(f.indexed_to) +
           " bytes after a failed write or sync; the " + std::to_string(size - f.indexed_to) +
           " bytes after it held only captures that were reported as failed");
  }
  f.file->close_and_rename(dir_.warc_dir() / f.name);
  std::vector<std::string> messages;
  {
    std::lock_guard ilk(index_mu_);
    index_->set_file({f.name, f.indexed_to, true});
    // Sidecars a full disk kept from being written, now that the file is done.
    write_missing_sidecars(f.name, messages);
  }
  if (log_)
    for (const auto& m : messages) log_(m);
}

void ArchiveWriter::close() {
  std::unique_lock lk(mu_);
  if (closed_) return;
  cv_.wait(lk, [&] { return !leader_busy_ && queue_.empty(); });
  closed_ = true;
  std::vector<std::shared_ptr<OpenFile>> files;
  files.swap(retired_);
  if (current_) files.push_back(std::move(current_));
  lk.unlock();
  std::exception_ptr error;
  for (auto& f : files) {
    try {
      close_file(*f);
    } catch (...) {
      // The file stays ".open"; the next writer recovers it.
      if (!error) error = std::current_exception();
    }
  }
  {
    std::lock_guard ilk(index_mu_);
    index_.reset();
  }
  if (warc_lock_fd_ >= 0) {
    ::close(warc_lock_fd_);
    warc_lock_fd_ = -1;
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  if (error) std::rethrow_exception(error);
}

ReindexReport reindex(const fs::path& dir, ArchiveWriter::Logger log,
                      const ReindexProgress& progress) {
  ArchiveDir layout(dir);
  layout.check_readable();
  // Without warc/ there is nothing to rebuild from; clearing the index would lose the only
  // record of captures whose files are elsewhere (an unmounted disk, a moved directory).
  if (!fs::is_directory(layout.warc_dir()))
    throw std::runtime_error("no WARC files to index in " + dir.string() + ": found no directory " +
                             layout.warc_dir().string() +
                             ", expected the directory of WARC files the index is built from");
  int lock = take_lock(layout.lock_file(), log);
  int warc_lock = -1;
  ReindexReport report;
  try {
    warc_lock = lock_warc_dir(layout);
    refuse_files_being_written(layout);
    // What the index held, file by file, to tell of captures a rebuild no longer finds. A
    // damaged index tells nothing, which is no reason not to rebuild it.
    std::map<std::string, std::uint64_t> before_counts;
    std::optional<std::string> old_damage;  // kept aside, as a writer keeps a damaged index
    try {
      before_counts = index::Index::open(layout.index_file(), false)->captures_per_file();
    } catch (const index::IndexDamaged& e) {
      old_damage = e.what();
    } catch (const std::exception&) {
    }
    // The new index is built in a file of its own, whatever state the old one is in (damage
    // SQLite does not call corruption would otherwise stop the rebuild), and replaces it only
    // when complete: readers use the old one meanwhile, and a rebuild stopped midway leaves it.
    const fs::path building = layout.root() / kRebuildingIndex;
    remove_index_files(building);
    remove_index_files(layout.root() / kReplacedIndex);
    auto idx = index::Index::open(building, true);
    idx->begin();
    auto files = layout.warc_files();
    std::uint64_t total = 0, before = 0;
    for (const auto& e : files) {
      std::error_code ec;
      auto size = fs::file_size(e.path, ec);
      total += ec ? 0 : size;
    }
    std::set<std::string> damaged;  // files whose damage is reported already
    for (const auto& e : files) {
      ++report.files;
      const std::size_t problems_before = report.problems.size();
      std::uint64_t end = 0;
      auto on_record = [&](std::uint64_t offset) {
        if (progress) progress(before + offset, total);
      };
      // A file still open was left by a process that stopped (a writer holds the lock while it
      // writes): a bad record at its end, with nothing whole after it, is the last write torn,
      // which the next writer cuts. Its end stays at the last whole record for that writer.
      std::optional<std::uint64_t> torn;
      try {
        // A damaged record is reported, never silently dropped, and the whole records after
        // it are indexed.
        end = index_warc_file(*idx, e.path, e.name, 0, &report.captures, on_record, UINT64_MAX,
                              &report.problems, e.open ? &torn : nullptr);
        if (torn && log)
          log(e.name + ": a torn last write from offset " + std::to_string(*torn) +
              " (the process writing it stopped); the next capture cuts it");
      } catch (const warc::WarcFormatError& err) {
        report.problems.push_back(err.what());  // the file's start cannot be read
        end = err.offset();
      }
      if (std::any_of(report.problems.begin() + static_cast<std::ptrdiff_t>(problems_before),
                      report.problems.end(), [](const std::string& p) {
                        return p.find(kSidecarFailure) == std::string::npos;
                      }))
        damaged.insert(e.name);
      idx->set_file({e.name, end, !e.open});
      std::error_code ec;
      auto size = fs::file_size(e.path, ec);
      before += ec ? end : size;
    }
    // A file gone from warc/ (or cut short, or damaged) takes its captures out of the rebuilt
    // index: said aloud with how many, since the captures may be on a disk not mounted or in a
    // file moved by mistake, and damage that hid some is worth a count as well as an offset.
    const auto after_counts = idx->captures_per_file();
    for (const auto& [file_name, had] : before_counts) {
      const std::string& name = file_name;  // a structured binding cannot be captured (clang)
      auto it = after_counts.find(name);
      const std::uint64_t has = it == after_counts.end() ? 0 : it->second;
      if (has >= had) continue;
      const bool present = std::any_of(files.begin(), files.end(),
                                       [&](const ArchiveDir::Entry& e) { return e.name == name; });
      if (present && damaged.count(name)) {
        report.problems.push_back(name + ": the index held " + std::to_string(had) +
                                  " captures in it, the damage named above leaves " +
                                  std::to_string(has) + " that can be read");
        continue;
      }
      report.problems.push_back(
          name + ": the index held " + std::to_string(had) + " captures in it, " +
          (present ? "the file now holds " + std::to_string(has)
                   : std::string("but the file is gone from ") + layout.warc_dir().string()) +
          "; the captures missing are no longer in the index (put the file back and run "
          "`vellum reindex` again to restore them)");
    }
    idx->commit();
    // Everything into the main file and out of WAL mode, so that the file moves on its own.
    idx->leave_wal();
    idx.reset();
    fsync_path(building, O_RDONLY);
    // The old index's -wal and -shm must not be applied to the new file. When everything of the
    // old index is in its main file (checkpointed, the -wal empty), they are removed and the new
    // file replaces the old in one rename, so that readers find one index or the other at every
    // moment. Otherwise (damaged, or busy) the old index moves out of the way first: stopped
    // between the steps, the archive has no index, or the new one, and a writer opening it
    // indexes every file the index does not know.
    const fs::path replaced = layout.root() / kReplacedIndex;
    if (old_damage) {
      set_index_aside(layout, *old_damage, log);
    } else if (!index::Index::checkpoint(layout.index_file())) {
      std::error_code ec;
      fs::rename(layout.index_file(), replaced, ec);
      if (ec && ec != std::errc::no_such_file_or_directory)
        throw fs::filesystem_error("cannot move the old index aside", layout.index_file(), replaced,
                                   ec);
    }
    remove_wal_and_shm(layout.index_file());
    fs::rename(building, layout.index_file());
    fsync_path(layout.root(), O_RDONLY | O_DIRECTORY);
    remove_index_files(replaced);
  } catch (...) {
    if (warc_lock >= 0) ::close(warc_lock);
    ::close(lock);
    throw;
  }
  if (warc_lock >= 0) ::close(warc_lock);
  ::close(lock);
  return report;
}

}  // namespace vellum::archive
