#include "archive/Verifier.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "archive/ArchiveWriter.h"
#include "archive/RecordBuilder.h"
#include "archive/SeenRecords.h"
#include "util/Digest.h"
#include "util/FileType.h"
#include "util/Json.h"
#include "util/Text.h"
#include "warc/WarcReader.h"

namespace vellum::archive {

namespace {

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

namespace {

// Whether a declared digest names SHA-1 ("sha1:", any case) but holds no SHA-1 in a form any
// tool writes.
bool malformed_sha1(std::string_view declared) {
  const std::size_t colon = declared.find(':');
  return colon != std::string_view::npos &&
         util::iequals(declared.substr(0, colon), std::string_view("sha1")) &&
         !util::canonical_warc_sha1(declared).has_value();
}

}  // namespace

std::vector<std::string> digest_problems(const warc::WarcRecord& rec) {
  std::vector<std::string> problems;
  // A SHA-1 that is none ("sha1:xyz"): a damaged header, or a digest nothing can check.
  for (const char* name : {"WARC-Block-Digest", "WARC-Payload-Digest"})
    if (const std::string* d = rec.field(name); d && malformed_sha1(*d))
      problems.push_back(
          std::string(name == std::string_view("WARC-Block-Digest") ? "block" : "payload") +
          " digest '" + util::terminal_safe(*d) +
          "' is no SHA-1, expected sha1: and 32 base32 or 40 hexadecimal digits");
  if (!problems.empty()) return problems;
  // Digests in a form Vellum cannot compute (another algorithm) are left unchecked.
  if (const std::string* bd = rec.field("WARC-Block-Digest");
      bd && warc::block_digest_matches(rec) == false)
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

// Sidecars found wrong that a full verify looks at again before it names them (a writer may have
// been about to put them in place); beyond these, they are named at once.
constexpr std::size_t kSidecarRechecks = 1000;

// The article record the index names, read once more; nullopt when it does not read (which
// the reading of the files names).
std::optional<warc::WarcRecord> article_record_at(ArchiveReader& reader,
                                                  const index::ArticleRow& art) {
  try {
    return warc::read_record_at(reader.dir().warc_path(art.file), {art.offset, art.length});
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void check_sidecar_file(ArchiveReader& reader, const nlohmann::json& article_json,
                        const std::filesystem::path& path, const std::string& name,
                        const index::ArticleRow& article, const index::CaptureRow& capture,
                        std::vector<std::string>& problems) {
  const std::string remedy = "; `vellum reindex` writes it again from the WARC files";
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    // A file still open is being written (its writer puts the sidecars of each commit in
    // place just after it), or was left by a writer that stopped: the next to open the archive
    // writes the sidecars that one had not.
    if (std::filesystem::exists(reader.dir().warc_dir() / (article.file + ".open"), ec)) return;
    problems.push_back(name + ": the article sidecar of capture " + capture.capture_id +
                       " is missing" + remedy);
    return;
  }
  if (ec) {
    problems.push_back(name + ": cannot look at the article sidecar of capture " +
                       capture.capture_id + ": " + ec.message());
    return;
  }
  // Only a plain file is read (a named pipe would block, a link could lead anywhere).
  if (status.type() != std::filesystem::file_type::regular) {
    problems.push_back(name + ": found " + util::file_type_name(status.type()) +
                       ", expected the article sidecar of capture " + capture.capture_id +
                       " (a file)" + remedy);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problems.push_back(name + ": cannot read the article sidecar of capture " + capture.capture_id +
                       ": " + std::strerror(errno));
    return;
  }
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const nlohmann::json expected = sidecar_json(article_json, article, capture);
  // As written (the common case, read without parsing the file), else equal as JSON.
  if (text == sidecar_text(expected)) return;
  const nlohmann::json found = util::parse_json(text);
  if (found.is_discarded() || !found.is_object()) {
    problems.push_back(name + ": found no JSON object, expected the article of capture " +
                       capture.capture_id + remedy);
    return;
  }
  if (found == expected) return;
  // Superseded since the index was read (`vellum reextract` beside verify): the index as it is
  // now decides.
  const std::string named =
      found.contains("warc") && found["warc"].is_object()
          ? found["warc"].value(nlohmann::json::json_pointer("/article_record/record_id"),
                                std::string())
          : std::string();
  if (named != article.record_id) {
    const auto now = reader.index().article(capture.capture_id);
    if (now && now->record_id == named && !named.empty()) return;
  }
  problems.push_back(name + ": the article sidecar of capture " + capture.capture_id +
                     " differs from its article record at " + article.file + ": offset " +
                     std::to_string(article.offset) + remedy);
}

// Whether the capture's article sidecar is there and holds what its records say (the article
// record's JSON, and where that record and the response lie).
void check_sidecar(ArchiveReader& reader, const warc::WarcRecord& article_record,
                   const index::ArticleRow& article, const index::CaptureRow& capture,
                   std::vector<std::string>& problems) {
  // A record that fails its digest is named as damaged; the sidecar may be the intact copy of
  // the article, which reindex must not be sent to overwrite.
  if (warc::block_digest_matches(article_record) == false) return;
  const auto from_record = article_of_record(article_record);
  if (!from_record) return;  // not an article record: compare_article has named it
  std::filesystem::path path;
  try {
    path = article_sidecar_path(reader.dir(), article);
  } catch (const std::exception& e) {
    problems.push_back(e.what());
    return;
  }
  const std::string name = path.lexically_relative(reader.dir().root()).generic_string();
  try {
    check_sidecar_file(reader, from_record->second, path, name, article, capture, problems);
  } catch (const std::exception& e) {
    problems.push_back(name + ": cannot check the article sidecar of capture " +
                       capture.capture_id + ": " + e.what());
  }
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
  std::vector<std::pair<index::ArticleRow, index::CaptureRow>> recheck;  // sidecars found wrong
  // The index as it stood at one moment, read in one transaction before any file is scanned (a
  // writer may run meanwhile: every row read this way names a record already in a file), and
  // kept in the temporary database. An index that cannot be read leaves the files to check; the
  // WARC files are what matter.
  index::Index& idx = reader.index();
  bool index_read = true;
  try {
    index::ReadTransaction snapshot(idx);
    idx.each({}, [&](index::CaptureRow&& row) { seen.add_row(row, idx.article(row.capture_id)); });
    snapshot.end();
  } catch (const std::exception& e) {
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
        // A record in a unit of several that does not end well is not indexed (reindex skips it
        // too); the damage is named when reading reaches it.
        if (r.last_in_damaged_unit()) continue;
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
    } catch (const std::system_error& err) {
      // A file that cannot be opened or read (permissions, an I/O error) is one problem; the
      // other files are still checked.
      report.problems.push_back(e.path.filename().string() + ": cannot be read: " + err.what() +
                                "; the records after that point were not checked");
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
        else {
          compare_article(a->fields.refers_to, a->fields.date, *art, row, report.problems);
          // The sidecar, against the record read once more (a damaged one was named when the
          // files were read).
          std::vector<std::string> wrong;
          if (auto rec = article_record_at(reader, *art))
            check_sidecar(reader, *rec, *art, row, wrong);
          if (!wrong.empty() && recheck.size() < kSidecarRechecks)
            recheck.emplace_back(*art, row);
          else
            report.problems.insert(report.problems.end(), wrong.begin(), wrong.end());
        }
      }
    });
  } catch (const std::exception& e) {
    report.problems.push_back(std::string(e.what()) +
                              "; the index rows were not all compared with the WARC files");
    return report;
  }
  // A writer puts a capture's sidecar in place just after the index names its article: the
  // sidecars found wrong are looked at again after a moment.
  if (!recheck.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    for (const auto& [art, row] : recheck)
      if (auto rec = article_record_at(reader, art))
        check_sidecar(reader, *rec, art, row, report.problems);
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
    const std::size_t before = report.problems.size();
    check_record(resp, where(row.offset), report.problems);
    // A response whose digests were found wrong above is not named again by restoring it.
    const bool damage_named = report.problems.size() > before && row.record_type == "response";
    if (auto fields = row_from_record(resp)) compare_with_index(*fields, row, report.problems);
    if (auto req = reader.read_request(row)) {
      ++report.records;
      check_record(*req, where(row.request_offset), report.problems);
      check_request_of(*req, resp, where(row.request_offset), report.problems);
    }
    if (!damage_named) reader.payload(row);  // checks the payload digest, through revisits
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
      check_sidecar(reader, rec, *art, row, report.problems);
    }
  } catch (const std::exception& e) {
    report.problems.push_back(e.what());
  }
  return report;
}

}  // namespace vellum::archive
