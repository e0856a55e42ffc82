#include "archive/Verifier.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <system_error>

#include "archive/RecordBuilder.h"
#include "index/TempDatabase.h"
#include "util/Digest.h"
#include "util/Text.h"
#include "warc/WarcReader.h"

namespace vellum::archive {

namespace {

using index::TempDatabase;

struct Seen {
  std::string file;
  std::uint64_t offset = 0;
  std::string type;
  index::CaptureRow fields;  // response and revisit: what the record says, as the index reads it
  RecordLink link;           // response, revisit and request: what pairs a request with it
};

// Seen records as bytes: each text as its length (4 bytes, little-endian) and its bytes, each
// number as 8 bytes.
class Packer {
 public:
  void text(const std::string& s) {
    number(s.size(), 4);
    out_ += s;
  }
  void number(std::uint64_t v, int bytes = 8) {
    for (int i = 0; i < bytes; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class Unpacker {
 public:
  explicit Unpacker(std::string_view in) : in_(in) {}
  std::string text() {
    const std::size_t n = static_cast<std::size_t>(number(4));
    if (n > in_.size()) throw std::logic_error("verify: a seen record does not unpack");
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  std::uint64_t number(int bytes = 8) {
    if (in_.size() < static_cast<std::size_t>(bytes))
      throw std::logic_error("verify: a seen record does not unpack");
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= std::uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    in_.remove_prefix(static_cast<std::size_t>(bytes));
    return v;
  }

 private:
  std::string_view in_;
};

// Every text field of a row, and every number, in the order they are packed.
constexpr std::string index::CaptureRow::*kRowTexts[] = {
    &index::CaptureRow::capture_id,  &index::CaptureRow::record_id,
    &index::CaptureRow::record_type, &index::CaptureRow::url,
    &index::CaptureRow::surt,        &index::CaptureRow::date,
    &index::CaptureRow::mime,        &index::CaptureRow::payload_digest,
    &index::CaptureRow::refers_to,   &index::CaptureRow::original_uri,
    &index::CaptureRow::location,    &index::CaptureRow::ip,
    &index::CaptureRow::file};
constexpr std::uint64_t index::CaptureRow::*kRowNumbers[] = {
    &index::CaptureRow::offset, &index::CaptureRow::length, &index::CaptureRow::request_offset,
    &index::CaptureRow::request_length};

void pack_row(Packer& p, const index::CaptureRow& row) {
  for (auto field : kRowTexts) p.text(row.*field);
  for (auto field : kRowNumbers) p.number(row.*field);
  p.number(static_cast<std::uint32_t>(row.status));
  p.number(row.truncated ? 1 : 0);
}

index::CaptureRow unpack_row(Unpacker& u) {
  index::CaptureRow row;
  for (auto field : kRowTexts) row.*field = u.text();
  for (auto field : kRowNumbers) row.*field = u.number();
  row.status = static_cast<int>(static_cast<std::uint32_t>(u.number()));
  row.truncated = u.number() != 0;
  return row;
}

constexpr std::string index::ArticleRow::*kArticleTexts[] = {
    &index::ArticleRow::capture_id,    &index::ArticleRow::record_id, &index::ArticleRow::file,
    &index::ArticleRow::date,          &index::ArticleRow::title,     &index::ArticleRow::published,
    &index::ArticleRow::source_domain, &index::ArticleRow::extractor};

std::string pack(const Seen& s) {
  Packer p;
  p.text(s.type);
  pack_row(p, s.fields);
  p.text(s.link.record_id);
  p.text(s.link.uri);
  p.number(s.link.concurrent_to.size());
  for (const auto& c : s.link.concurrent_to) p.text(c);
  return std::move(p.bytes());
}

Seen unpack(std::string file, std::uint64_t offset, std::string_view bytes) {
  Seen s;
  s.file = std::move(file);
  s.offset = offset;
  Unpacker u(bytes);
  s.type = u.text();
  s.fields = unpack_row(u);
  s.link.record_id = u.text();
  s.link.uri = u.text();
  for (std::uint64_t n = u.number(); n > 0; --n) s.link.concurrent_to.push_back(u.text());
  return s;
}

// An index row and the article row the index holds for it.
std::string pack(const index::CaptureRow& row, const std::optional<index::ArticleRow>& article) {
  Packer p;
  pack_row(p, row);
  p.number(article ? 1 : 0);
  if (article) {
    for (auto field : kArticleTexts) p.text((*article).*field);
    p.number(article->offset);
    p.number(article->length);
  }
  return std::move(p.bytes());
}

void unpack(std::string_view bytes, index::CaptureRow& row,
            std::optional<index::ArticleRow>& article) {
  Unpacker u(bytes);
  row = unpack_row(u);
  article.reset();
  if (u.number() == 0) return;
  article.emplace();
  for (auto field : kArticleTexts) (*article).*field = u.text();
  article->offset = u.number();
  article->length = u.number();
}

// What the scan of the WARC files has seen, kept in a temporary database rather than in memory
// (held in memory, an archive of a million captures took some 4 GB): response and revisit
// records and article records by record ID, request records by their place (file and offset).
class SeenRecords {
 public:
  SeenRecords() : db_("the records `verify` has seen") {
    db_.exec(
        "CREATE TABLE seen(kind INTEGER, key BLOB, file BLOB, offset INTEGER, data BLOB, "
        "indexed INTEGER DEFAULT 0, PRIMARY KEY(kind, key))");
    db_.exec("CREATE TABLE rows(data BLOB)");
    db_.exec("BEGIN");
    add_row_ = db_.prepare("INSERT INTO rows(data) VALUES(?)");
    rows_ = db_.prepare("SELECT data FROM rows ORDER BY rowid");
    add_ =
        db_.prepare("INSERT OR IGNORE INTO seen(kind, key, file, offset, data) VALUES(?,?,?,?,?)");
    find_ = db_.prepare("SELECT file, offset, data FROM seen WHERE kind = ? AND key = ?");
    mark_ = db_.prepare("UPDATE seen SET indexed = 1 WHERE kind = ? AND key = ?");
    unindexed_ = db_.prepare(
        "SELECT key, file, offset, data FROM seen WHERE kind = ? AND indexed = 0 ORDER BY rowid");
  }

  enum Kind : std::int64_t { capture = 0, article = 1, request = 2 };

  // Adds a record under `key` unless one is there already; false when one was (kept as it was).
  bool add(Kind kind, const std::string& key, const Seen& s) {
    TempDatabase::bind(add_, 1, std::int64_t{kind});
    TempDatabase::bind(add_, 2, key);
    TempDatabase::bind(add_, 3, s.file);
    TempDatabase::bind(add_, 4, static_cast<std::int64_t>(s.offset));
    TempDatabase::bind(add_, 5, pack(s));
    return db_.run(add_) > 0;
  }

  std::optional<Seen> find(Kind kind, const std::string& key) {
    TempDatabase::bind(find_, 1, std::int64_t{kind});
    TempDatabase::bind(find_, 2, key);
    std::optional<Seen> s;
    try {
      if (db_.next(find_))
        s = unpack(std::string(TempDatabase::column(find_, 0)),
                   static_cast<std::uint64_t>(TempDatabase::column_int(find_, 1)),
                   TempDatabase::column(find_, 2));
    } catch (...) {
      TempDatabase::reset(find_);
      throw;
    }
    TempDatabase::reset(find_);
    return s;
  }

  // The index rows, as read in one transaction before the files are scanned.
  void add_row(const index::CaptureRow& row, const std::optional<index::ArticleRow>& article) {
    TempDatabase::bind(add_row_, 1, pack(row, article));
    db_.run(add_row_);
  }

  void each_row(const std::function<void(const index::CaptureRow&,
                                         const std::optional<index::ArticleRow>&)>& each) {
    index::CaptureRow row;
    std::optional<index::ArticleRow> article;
    try {
      while (db_.next(rows_)) {
        unpack(TempDatabase::column(rows_, 0), row, article);
        each(row, article);
      }
    } catch (...) {
      TempDatabase::reset(rows_);
      throw;
    }
  }

  void mark_indexed(Kind kind, const std::string& key) {
    TempDatabase::bind(mark_, 1, std::int64_t{kind});
    TempDatabase::bind(mark_, 2, key);
    db_.run(mark_);
  }

  // The records of `kind` not marked indexed, in the order they were added; `each` returns
  // false to stop.
  void each_unindexed(Kind kind, const std::function<bool(const std::string&, const Seen&)>& each) {
    TempDatabase::bind(unindexed_, 1, std::int64_t{kind});
    try {
      while (db_.next(unindexed_)) {
        const std::string key(TempDatabase::column(unindexed_, 0));
        if (!each(key, unpack(std::string(TempDatabase::column(unindexed_, 1)),
                              static_cast<std::uint64_t>(TempDatabase::column_int(unindexed_, 2)),
                              TempDatabase::column(unindexed_, 3)))) {
          TempDatabase::reset(unindexed_);
          return;
        }
      }
    } catch (...) {
      TempDatabase::reset(unindexed_);
      throw;
    }
  }

 private:
  TempDatabase db_;
  sqlite3_stmt* add_ = nullptr;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* mark_ = nullptr;
  sqlite3_stmt* unindexed_ = nullptr;
  sqlite3_stmt* add_row_ = nullptr;
  sqlite3_stmt* rows_ = nullptr;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Whether the WARC-Refers-To links of a revisit lead, through any revisits between, to a
// response whose payload digest is the revisit's (a revisit that names no original: whether
// the index finds one by URL and payload digest). `seen` holds every response and revisit
// record in the WARC files.
void check_revisit_chain(const index::CaptureRow& row, SeenRecords& seen, index::Index& index,
                         std::vector<std::string>& problems) {
  std::string path = "capture " + row.capture_id + " is a revisit";
  std::vector<std::string> passed{row.record_id};
  const index::CaptureRow* at = &row;
  std::optional<Seen> passing;  // the revisit `at` points into, past the first
  for (int hop = 0;; ++hop) {
    std::string target = at->refers_to;
    if (target.empty()) {
      auto original = original_by_payload(index, *at);
      if (!original) {
        problems.push_back(hop == 0 ? revisit_names_no_original(row)
                                    : path + " that " + no_original_by_payload(*at));
        return;
      }
      target = original->record_id;
      path += " of " + target + " (found by its URL and payload digest)";
    } else {
      path += " of " + target;
    }
    if (contains(passed, target)) {
      problems.push_back(path +
                         ", which it passed already; expected WARC-Refers-To to lead to "
                         "a response");
      return;
    }
    if (hop == kMaxRevisitHops) {
      problems.push_back(path + ": more than " + std::to_string(kMaxRevisitHops) +
                         " revisits in a row; expected a response within them");
      return;
    }
    std::optional<Seen> found = seen.find(SeenRecords::capture, target);
    if (!found) {
      problems.push_back(path + ", which is in no WARC file");
      return;
    }
    const Seen& s = *found;
    if (s.type == "response") {
      auto mine = util::canonical_warc_sha1(row.payload_digest);
      auto theirs = util::canonical_warc_sha1(s.fields.payload_digest);
      if (mine && theirs && *mine != *theirs)
        problems.push_back(path + ", whose payload digest is " + s.fields.payload_digest +
                           "; the revisit says " + row.payload_digest +
                           ", expected the digest of the payload it repeats");
      return;
    }
    passed.push_back(target);
    passing = std::move(found);
    at = &passing->fields;
    path += ", a revisit";
  }
}

}  // namespace

std::vector<std::string> digest_problems(const warc::WarcRecord& rec) {
  std::vector<std::string> problems;
  // Digests in a form Vellum cannot compute (another algorithm) are left unchecked.
  if (const std::string* bd = rec.field("WARC-Block-Digest");
      bd && util::warc_digest_matches(*bd, rec.block) == false)
    problems.push_back("block digest is " + util::warc_sha1(rec.block) + ", the record says " +
                       *bd);
  if (rec.type() != "response") return problems;
  auto head = warc::parse_http_head(rec.block);
  if (!head) {
    // A response of another protocol (dns:, say, as text/dns) has no HTTP head; its payload is
    // its whole block, which the block digest has covered. An HTTP response without one cannot
    // be restored, whether or not it declares a payload digest.
    const std::string* type = rec.field("Content-Type");
    if (type && type->starts_with("application/http"))
      problems.push_back("response block has no HTTP head");
    return problems;
  }
  const std::string* pd = rec.field("WARC-Payload-Digest");
  if (!pd) return problems;
  std::string_view body = std::string_view(rec.block).substr(head->head_length);
  if (warc::payload_digest_matches(body, *head, *pd) == false)
    problems.push_back("payload digest is " + warc::payload_digest(body, *head) +
                       ", the record says " + *pd);
  return problems;
}

void check_record(const warc::WarcRecord& rec, const std::string& where,
                  std::vector<std::string>& problems) {
  for (const std::string& p : digest_problems(rec)) problems.push_back(where + ": " + p);
}

void compare_article(const std::string& refers_to, const std::string& date,
                     const index::ArticleRow& article, const index::CaptureRow& capture,
                     std::vector<std::string>& problems) {
  const std::string at = article.file + ": offset " + std::to_string(article.offset) +
                         ": the article of capture " + capture.capture_id;
  if (refers_to != capture.record_id)
    problems.push_back(at + " has WARC-Refers-To '" + refers_to + "', expected " +
                       capture.record_id + " (the response it was extracted from)");
  if (date != article.date)
    problems.push_back(at + " has WARC-Date '" + date + "', the index says " + article.date);
}

void check_request_of(const RecordLink& request, const RecordLink& response,
                      const std::string& where, std::vector<std::string>& problems) {
  switch (pairing_of(request, response)) {
    case Pairing::paired:
      return;
    case Pairing::not_linked:
      problems.push_back(where + ": found request record " + request.record_id +
                         ", which is not linked to the response " + response.record_id +
                         "; expected its request (WARC-Concurrent-To)");
      return;
    case Pairing::other_uri:
      problems.push_back(where + ": request record " + request.record_id + " is of " + request.uri +
                         ", its response " + response.record_id + " of " + response.uri +
                         "; expected the same WARC-Target-URI");
      return;
  }
}

void check_request_of(const warc::WarcRecord& request, const warc::WarcRecord& response,
                      const std::string& where, std::vector<std::string>& problems) {
  check_request_of(link_of(request), link_of(response), where, problems);
}

void compare_with_index(const index::CaptureRow& stored, const index::CaptureRow& indexed,
                        std::vector<std::string>& problems) {
  const std::string at = indexed.file + ": offset " + std::to_string(indexed.offset);
  auto differ = [&](const char* what, const std::string& record, const std::string& index) {
    if (record != index)
      problems.push_back(at + ": capture " + indexed.capture_id + ": the record's " + what +
                         " is '" + record + "', the index says '" + index +
                         "'; one of them is damaged (`vellum reindex` rebuilds the index from "
                         "the records)");
  };
  differ("type", stored.record_type, indexed.record_type);
  differ("HTTP status", std::to_string(stored.status), std::to_string(indexed.status));
  differ("payload digest", stored.payload_digest, indexed.payload_digest);
  differ("target URI", stored.url, indexed.url);
  differ("date", stored.date, indexed.date);
  differ("WARC-Refers-To", stored.refers_to, indexed.refers_to);
  differ("WARC-Refers-To-Target-URI (of a revisit without WARC-Refers-To)", stored.original_uri,
         indexed.original_uri);
}

namespace {

// Where a listed file is now: one being written when it was listed may have been closed since,
// which renames it. nullopt when it is at neither name.
std::optional<std::filesystem::path> locate(const ArchiveDir& dir, const ArchiveDir::Entry& e,
                                            std::uint64_t& size) {
  std::error_code ec;
  size = std::filesystem::file_size(e.path, ec);
  if (!ec) return e.path;
  if (!e.open) return std::nullopt;
  const auto closed = dir.warc_dir() / e.name;
  size = std::filesystem::file_size(closed, ec);
  if (!ec) return closed;
  return std::nullopt;
}

}  // namespace

VerifyReport verify_archive(ArchiveReader& reader, const VerifyProgress& progress) {
  VerifyReport report;
  // The index file itself first: SQLite reads around a damaged page until a query needs it.
  for (const auto& d : reader.index().damage())
    report.problems.push_back("index: " + d +
                              "; the index is damaged: `vellum reindex` rebuilds it from the WARC "
                              "files");
  // Response and revisit records and metadata records by record id, request records by
  // "file:offset", and the index rows.
  SeenRecords seen;
  // The index as it stood at one moment, read in one transaction before any file is scanned (a
  // writer may run meanwhile: every row read this way names a record already in a file), and
  // kept in the temporary database. An index that cannot be read leaves the files to check; the
  // WARC files are what matter.
  index::Index& idx = reader.index();
  bool index_read = true;
  try {
    idx.begin_read();
    idx.each({}, [&](index::CaptureRow&& row) { seen.add_row(row, idx.article(row.capture_id)); });
    idx.commit();
  } catch (const std::exception& e) {
    idx.rollback();
    index_read = false;
    report.problems.push_back(std::string(e.what()) +
                              "; the index was not compared with the WARC files");
  }
  auto entries = reader.dir().warc_files();
  // A file closed while the directory was read may be listed under both names; it is read once.
  // Both names still there is another matter (a copy put back), and both are read.
  std::erase_if(entries, [&](const ArchiveDir::Entry& e) {
    if (!e.open || std::filesystem::exists(e.path)) return false;
    return std::any_of(entries.begin(), entries.end(),
                       [&](const ArchiveDir::Entry& o) { return !o.open && o.name == e.name; });
  });
  std::uint64_t total = 0, done = 0;
  for (const auto& e : entries) {
    std::uint64_t size = 0;
    if (locate(reader.dir(), e, size)) total += size;
  }
  for (const auto& e : entries) {
    ++report.files;
    // A file being written may end in a record still on its way: check up to what is indexed.
    // That is read now, after the snapshot, so that it covers every row the snapshot holds.
    std::uint64_t limit = UINT64_MAX;
    if (e.open) {
      try {
        auto known = idx.file(e.name);
        limit = known ? known->indexed_to : 0;
      } catch (const std::exception&) {
        limit = 0;  // what is stored of it cannot be told; the index's damage is reported
      }
    }
    std::uint64_t size = 0;
    const auto path = locate(reader.dir(), e, size);
    if (!path) {
      report.problems.push_back(e.path.filename().string() +
                                ": was listed in warc/ but is gone; nothing of it was checked");
      continue;
    }
    limit = std::min(limit, size);
    try {
      std::unique_ptr<warc::WarcReader> reader_ptr;
      try {
        reader_ptr = std::make_unique<warc::WarcReader>(*path);
      } catch (const std::system_error&) {
        // Closed and renamed between the look and the open.
        const auto again = locate(reader.dir(), e, size);
        if (!again || *again == *path) throw;
        reader_ptr = std::make_unique<warc::WarcReader>(*again);
      }
      warc::WarcReader& r = *reader_ptr;
      while (true) {
        std::optional<warc::WarcRecord> rec;
        try {
          rec = r.next();
        } catch (const warc::WarcFormatError& err) {
          if (err.offset() >= limit) break;
          // Damage is reported and reading goes on past it, as restore reads the records there.
          const auto resumed = r.resynchronise();
          report.problems.push_back(
              std::string(err.what()) +
              (resumed ? "; whole records follow from offset " + std::to_string(*resumed)
                       : std::string()));
          if (!resumed) break;
          continue;
        }
        if (!rec) break;
        auto loc = r.last_location();
        if (loc.offset >= limit) break;
        ++report.records;
        std::string where = e.path.filename().string() + ": offset " + std::to_string(loc.offset);
        check_record(*rec, where, report.problems);
        std::string type = rec->type();
        if (type == "response" || type == "revisit") {
          auto fields = row_from_record(*rec);
          const Seen s{e.name, loc.offset, type, fields ? *fields : index::CaptureRow{},
                       link_of(*rec)};
          if (!seen.add(SeenRecords::capture, rec->record_id(), s)) {
            const auto first = seen.find(SeenRecords::capture, rec->record_id());
            report.problems.push_back(where + ": record id " + rec->record_id() + " also used at " +
                                      first->file + ": offset " + std::to_string(first->offset));
          }
        } else if (type == "metadata") {
          index::CaptureRow fields;  // what compare_article reads
          fields.refers_to = rec->field_or("WARC-Refers-To");
          fields.date = rec->field_or("WARC-Date");
          seen.add(SeenRecords::article, rec->record_id(),
                   Seen{e.name, loc.offset, type, fields, {}});
        } else if (type == "request") {
          seen.add(SeenRecords::request, e.name + ":" + std::to_string(loc.offset),
                   Seen{e.name, loc.offset, type, {}, link_of(*rec)});
        }
        if (progress) progress(done + loc.offset + loc.length, total);
      }
    } catch (const warc::WarcFormatError& err) {
      if (err.offset() < limit) report.problems.push_back(err.what());
    }
    done += size;
    if (progress) progress(done, total);
  }

  // Index <-> WARC. Following a revisit without WARC-Refers-To reads the index as it is now: a
  // failure there (a damaged page, a writer holding it too long) is reported with the rest.
  if (!index_read) return report;
  try {
    seen.each_row([&](const index::CaptureRow& row, const std::optional<index::ArticleRow>& art) {
      ++report.captures;
      seen.mark_indexed(SeenRecords::capture, row.record_id);
      const std::optional<Seen> found = seen.find(SeenRecords::capture, row.record_id);
      if (!found) {
        report.problems.push_back("index: capture " + row.capture_id + " (" + row.url + ") names " +
                                  row.file + ": offset " + std::to_string(row.offset) +
                                  ", but no such record is in the WARC files");
        return;
      }
      const Seen& s = *found;
      if (s.file != row.file || s.offset != row.offset)
        report.problems.push_back("index: capture " + row.capture_id + " is at " + s.file +
                                  ": offset " + std::to_string(s.offset) + ", the index says " +
                                  row.file + ": offset " + std::to_string(row.offset));
      else
        compare_with_index(s.fields, row, report.problems);
      if (row.request_length > 0) {
        const auto rq =
            seen.find(SeenRecords::request, row.file + ":" + std::to_string(row.request_offset));
        if (!rq)
          report.problems.push_back("index: the request of capture " + row.capture_id + " names " +
                                    row.file + ": offset " + std::to_string(row.request_offset) +
                                    ", but no request record is there");
        else
          check_request_of(rq->link, s.link,
                           row.file + ": offset " + std::to_string(row.request_offset),
                           report.problems);
      }
      if (row.record_type == "revisit") check_revisit_chain(row, seen, idx, report.problems);
      // The article record the index names for it (what `restore --format text` reads).
      if (art) {
        const auto a = seen.find(SeenRecords::article, art->record_id);
        if (!a)
          report.problems.push_back("index: the article of capture " + row.capture_id + " names " +
                                    art->file + ": offset " + std::to_string(art->offset) +
                                    ", but no such record is in the WARC files");
        else if (a->file != art->file || a->offset != art->offset)
          report.problems.push_back("index: the article of capture " + row.capture_id + " is at " +
                                    a->file + ": offset " + std::to_string(a->offset) +
                                    ", the index says " + art->file + ": offset " +
                                    std::to_string(art->offset));
        else
          compare_article(a->fields.refers_to, a->fields.date, *art, row, report.problems);
      }
    });
  } catch (const std::exception& e) {
    report.problems.push_back(std::string(e.what()) +
                              "; the index rows were not all compared with the WARC files");
    return report;
  }
  // A record the rows lack may have been stored by a writer since they were read: the index as it
  // is now decides.
  seen.each_unindexed(SeenRecords::capture, [&](const std::string& id, const Seen& s) {
    std::optional<index::CaptureRow> now;
    try {
      now = idx.by_record_id(id);
    } catch (const std::exception& e) {
      report.problems.push_back(e.what());
      return false;
    }
    if (now && now->file == s.file && now->offset == s.offset) {
      ++report.captures;
      return true;
    }
    report.problems.push_back(s.file + ": offset " + std::to_string(s.offset) + ": " + s.type +
                              " record " + id + " is not in the index; run `vellum reindex`");
    return true;
  });
  return report;
}

VerifyReport verify_capture(ArchiveReader& reader, const index::CaptureRow& row) {
  VerifyReport report;
  report.files = 1;
  report.captures = 1;
  auto where = [&](std::uint64_t off) { return row.file + ": offset " + std::to_string(off); };
  try {
    warc::WarcRecord resp = reader.read_response(row);
    ++report.records;
    check_record(resp, where(row.offset), report.problems);
    if (auto fields = row_from_record(resp)) compare_with_index(*fields, row, report.problems);
    if (auto req = reader.read_request(row)) {
      ++report.records;
      check_record(*req, where(row.request_offset), report.problems);
      check_request_of(*req, resp, where(row.request_offset), report.problems);
    }
    reader.payload(row);  // checks the payload digest, through revisits
  } catch (const std::exception& e) {
    report.problems.push_back(e.what());
  }
  try {
    if (auto art = reader.index().article(row.capture_id)) {
      const warc::WarcRecord rec =
          warc::read_record_at(reader.dir().warc_path(art->file), {art->offset, art->length});
      ++report.records;
      const std::string at = art->file + ": offset " + std::to_string(art->offset);
      if (rec.record_id() != art->record_id)
        report.problems.push_back(at + ": found record " + rec.record_id() +
                                  ", expected the article record " + art->record_id);
      else
        compare_article(rec.field_or("WARC-Refers-To"), rec.field_or("WARC-Date"), *art, row,
                        report.problems);
      check_record(rec, at, report.problems);
    }
  } catch (const std::exception& e) {
    report.problems.push_back(e.what());
  }
  return report;
}

}  // namespace vellum::archive
