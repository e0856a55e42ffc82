#include "archive/Importer.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include "archive/CaptureArticle.h"
#include "archive/RecordBuilder.h"
#include "archive/Verifier.h"
#include "util/Digest.h"
#include "util/Text.h"
#include "util/Time.h"
#include "util/Uuid.h"
#include "warc/HttpMessage.h"
#include "warc/WarcReader.h"

namespace vellum::archive {

namespace {

// Requests waiting for their response; a file that interleaves more exchanges than this is
// unusual, and the oldest waiting requests are then given up (counted as skipped).
constexpr std::size_t kMaxWaitingRequests = 1024;

// One file being imported.
class FileImport {
 public:
  FileImport(ArchiveWriter& writer, const ImportOptions& options, ImportReport& report,
             Importer::Refused& refused)
      : writer_(writer), options_(options), report_(report), refused_(refused) {}

  void run(const std::filesystem::path& file) {
    const std::uint64_t size = std::filesystem::file_size(file);
    std::optional<warc::WarcReader> reader;
    try {
      reader.emplace(file);
    } catch (const warc::WarcFormatError& e) {
      report_.errors.push_back(std::string(e.what()) + "; nothing imported from this file");
      return;
    } catch (const std::system_error& e) {
      report_.errors.push_back(file.string() + ": cannot read it (" + e.what() + ")");
      return;
    }
    for (;;) {
      std::optional<warc::WarcRecord> rec;
      try {
        rec = reader->next();
      } catch (const warc::WarcFormatError& e) {
        // Reading goes on at the next record that reads whole (and in a plain file, matches its
        // block digest).
        std::optional<std::uint64_t> resumed = reader->resynchronise();
        report_.errors.push_back(
            damage_message(e, resumed, reader->compression() == warc::Compression::none));
        if (!resumed) break;
        continue;
      } catch (const std::system_error& e) {
        report_.errors.push_back(file.string() + ": reading stopped after " +
                                 std::to_string(report_.records) + " records (" + e.what() + ")");
        break;
      }
      if (!rec) break;
      ++report_.records;
      const warc::RecordLocation loc = reader->last_location();
      at_ = file.string() + ": offset " + std::to_string(loc.offset);
      // The checksum of a unit cut short or damaged further on cannot vouch for the records in
      // it: only one whose block digest can be checked is taken (check_digests checks it).
      if (reader->last_in_damaged_unit() && !rec->field("WARC-Block-Digest")) {
        refuse(*rec,
               "it lies in a gzip member or zstd frame of several records that is damaged or cut "
               "short further on, and has no WARC-Block-Digest to show that it is whole");
        continue;
      }
      take(std::move(*rec));
      if (options_.progress) options_.progress(loc.offset + loc.length, size);
    }
    finish();
  }

 private:
  std::string damage_message(const warc::WarcFormatError& e, std::optional<std::uint64_t> resumed,
                             bool plain) const {
    std::string m = e.what();
    if (report_.records > 0)
      m += "; the " + std::to_string(report_.records) +
           " records before it were read and their captures imported";
    else
      m += "; no record could be read before it";
    if (resumed)
      return m + ", reading resumed at the next intact record, offset " + std::to_string(*resumed) +
             " (" + std::to_string(*resumed - e.offset()) + " bytes skipped)";
    if (plain)
      return m + "; no record after it was found whose WARC-Block-Digest holds (in an " +
             "uncompressed file only such a record is taken for one: a block may hold text that " +
             "looks like a record), so the rest of the file is not imported";
    return m + "; no intact record follows it";
  }

  static std::string describe(const warc::WarcRecord& r, const std::string& at) {
    std::string uri = r.field_or("WARC-Target-URI");
    return at + ": " + r.type() + " record " + r.record_id() + (uri.empty() ? "" : " of " + uri);
  }

  void refuse(const warc::WarcRecord& r, const std::string& why) {
    ++report_.refused;
    report_.errors.push_back(describe(r, at_) + ": " + why + "; not imported");
    if (r.type() != "response" && r.type() != "revisit") return;
    // What refers to it later (its request, revisits of it) must not be imported as if it
    // were there.
    refused_.ids.insert(r.record_id());
    refused_.payloads.insert(payload_key(r));
    for (const auto& [n, v] : r.fields)
      if (util::iequals(n, "WARC-Concurrent-To")) refused_.ids.insert(v);  // its request (wget)
  }

  static std::string payload_key(const warc::WarcRecord& r) {
    return r.field_or("WARC-Target-URI") + " " + r.field_or("WARC-Payload-Digest");
  }

  // Whether `request` belongs to a response refused above.
  bool response_refused(const warc::WarcRecord& request) const {
    if (refused_.ids.count(request.record_id())) return true;
    for (const auto& [n, v] : request.fields)
      if (util::iequals(n, "WARC-Concurrent-To") && refused_.ids.count(v)) return true;
    return false;
  }

  // The record a revisit refers to, when it was refused above: by WARC-Refers-To, or without
  // one by its URI and payload digest.
  std::optional<std::string> refers_to_refused(const warc::WarcRecord& revisit) const {
    if (const std::string* id = revisit.field("WARC-Refers-To"))
      return refused_.ids.count(*id) ? std::optional<std::string>(*id) : std::nullopt;
    std::string uri = revisit.field_or("WARC-Refers-To-Target-URI");
    if (uri.empty()) uri = revisit.field_or("WARC-Target-URI");
    std::string key = uri + " " + revisit.field_or("WARC-Payload-Digest");
    if (!refused_.payloads.count(key) || imported_payloads_.count(key)) return std::nullopt;
    // A response with that payload stored before (an intact copy) is the one it restores.
    if (auto row = row_from_record(revisit); row && writer_.stored_original_by_payload(*row))
      return std::nullopt;
    return "the response of " + uri;
  }

  // A record read, with whether it carries a block digest Vellum could check.
  struct Taken {
    warc::WarcRecord record;
    bool undigested = false;
    std::string at;   // "<file>: offset <n>"
    RecordLink link;  // what pairs a request with its response, read once
  };

  // Checks the digests a request, response or revisit declares, as verify does; nullopt when
  // one does not match (the record is refused), else whether the block digest was left
  // unchecked.
  std::optional<bool> check_digests(const warc::WarcRecord& r) {
    if (auto problems = digest_problems(r); !problems.empty()) {
      std::string why = "its " + problems.front();
      if (problems.front().starts_with("block digest"))
        why += " (its bytes are not the ones the digest was made of)";
      refuse(r, why);
      return std::nullopt;
    }
    return !warc::block_digest_matches(r).has_value();
  }

  void take(warc::WarcRecord rec) {
    const std::string type = rec.type();
    if (type.empty()) {
      refuse(rec,
             "it has no WARC-Type, expected one (a record of every type must say which it is; "
             "request, response and revisit are imported)");
      return;
    }
    if (type != "request" && type != "response" && type != "revisit") {
      ++report_.skipped;
      return;
    }
    std::optional<bool> undigested = check_digests(rec);
    if (!undigested) return;
    RecordLink link = link_of(rec);
    Taken taken{std::move(rec), *undigested, at_, std::move(link)};
    if (type == "request") {
      if (waiting_response_ && belong_together(taken, *waiting_response_)) {
        Taken response = std::move(*waiting_response_);
        waiting_response_.reset();
        emit(std::move(response), std::move(taken));
        return;
      }
      flush_waiting_response();
      requests_.push_back(std::move(taken));
      if (requests_.size() > kMaxWaitingRequests) {
        give_up(requests_.front());
        requests_.pop_front();
      }
      return;
    }
    flush_waiting_response();
    if (type == "revisit") {
      if (auto original = refers_to_refused(taken.record)) {
        refuse(taken.record, "it refers to " + *original +
                                 ", which was refused above (a revisit of it would restore "
                                 "nothing)");
        return;
      }
    }
    if (taken.record.record_id().empty()) {
      refuse(taken.record,
             "it has no WARC-Record-ID, expected one (the archive finds captures by it)");
      return;
    }
    if (const std::string date = taken.record.field_or("WARC-Date"); !util::parse_warc_date(date)) {
      refuse(taken.record, (date.empty() ? std::string("it has no WARC-Date")
                                         : "its WARC-Date is '" + date + "'") +
                               ", expected a date and time such as 2026-11-26T02:11:17Z (the "
                               "archive orders captures by it)");
      return;
    }
    if (taken.record.field_or("WARC-Target-URI").find_first_not_of(" \t") == std::string::npos) {
      refuse(taken.record,
             "it has no WARC-Target-URI, expected the URI it captured (the archive finds captures "
             "by it)");
      return;
    }
    for (auto it = requests_.begin(); it != requests_.end(); ++it) {
      if (!belong_together(*it, taken)) continue;
      Taken request = std::move(*it);
      requests_.erase(it);
      emit(std::move(taken), std::move(request));
      return;
    }
    // Some crawlers write the request after its response: wait for the next record.
    waiting_response_ = std::move(taken);
  }

  void give_up(const Taken& r) {
    ++report_.skipped;
    if (!options_.log) return;
    std::string why = ": no response for this request in the file; skipped";
    if (response_refused(r.record))
      why = ": its response was refused (named with the refusals of this file); skipped";
    else if (auto other = other_uri_.find(r.record.record_id()); other != other_uri_.end())
      why = ": it is linked to the response " + other->second.record_id + ", which is of " +
            other->second.uri + "; expected a request of the same WARC-Target-URI; skipped";
    options_.log(describe(r.record, r.at) + why);
  }

  // Pairs a request with a response the way index_warc_file does when it reads the archive
  // again; remembers a request linked to a response of another URI, for give_up's message.
  bool belong_together(const Taken& request, const Taken& response) {
    const Pairing p = pairing_of(request.link, response.link);
    if (p == Pairing::other_uri) other_uri_[request.link.record_id] = response.link;
    return p == Pairing::paired;
  }

  void flush_waiting_response() {
    if (!waiting_response_) return;
    Taken response = std::move(*waiting_response_);
    waiting_response_.reset();
    emit(std::move(response), std::nullopt);
  }

  void emit(Taken response, std::optional<Taken> request) {
    const std::string id = response.record.record_id();
    auto row = row_from_record(response.record);
    if (!row) return;  // (only responses and revisits come here)
    std::optional<index::CaptureRow> there;
    if (auto it = imported_.find(row->capture_id); it != imported_.end())
      there = it->second;
    else
      there = writer_.stored_capture(id, row->capture_id);
    if (there) {
      // The same record again (the file imported before, or a record repeated in it) adds
      // nothing; another record under an ID already taken (or one giving the same capture id,
      // in another case) cannot be stored, since the archive finds captures by it.
      if (there->record_id == id && there->record_type == row->record_type &&
          there->url == row->url && there->date == row->date &&
          there->payload_digest == row->payload_digest) {
        ++report_.duplicates;
        return;
      }
      // Not refuse(): the ID stays the stored record's, which what refers to it may use.
      ++report_.refused;
      report_.errors.push_back(describe(response.record, response.at) + ": its WARC-Record-ID " +
                               (there->record_id == id
                                    ? std::string("is already that of another record")
                                    : "gives the capture id " + row->capture_id +
                                          ", already that of record " + there->record_id) +
                               " in the archive (a " + there->record_type + " of " + there->url +
                               " at " + there->date + "); expected an ID of its own; not imported");
      return;
    }
    imported_.emplace(row->capture_id, *row);
    if (row->record_type == "response") imported_payloads_.insert(payload_key(response.record));
    ImportedCapture capture;
    capture.row = std::move(*row);
    capture.article = article(response.record, capture.row);
    batch_undigested_ += response.undigested;
    pending_bytes_ += response.record.block.size();
    capture.response = std::move(response.record);
    if (request) {
      batch_undigested_ += request->undigested;
      pending_bytes_ += request->record.block.size();
      capture.request = std::move(request->record);
    }
    batch_.push_back(std::move(capture));
    if (batch_.size() >= options_.batch_captures || pending_bytes_ >= options_.batch_bytes)
      store_batch();
  }

  std::optional<nlohmann::json> article(const warc::WarcRecord& response,
                                        const index::CaptureRow& row) {
    if (!options_.extract || row.record_type != "response" || row.status < 200 || row.status >= 300)
      return std::nullopt;
    auto head = warc::parse_http_head(response.block);
    if (!head) return std::nullopt;
    extract::ExtractionResult result;
    try {
      auto json = capture_article(row, *head, warc::http_payload(response.block, *head).bytes,
                                  options_.plugins, {}, result);
      if (!result.extractor.plugin_error.empty() && options_.log)
        options_.log(row.url + ": " + result.extractor.plugin_error +
                     "; used the generic extractor");
      return json;
    } catch (const std::exception& e) {
      // The capture is imported all the same; `vellum reextract` can try again.
      if (options_.log) options_.log(row.url + ": no article: " + e.what());
      return std::nullopt;
    }
  }

  void store_batch() {
    if (batch_.empty()) return;
    writer_.store_imported(batch_);
    for (const ImportedCapture& c : batch_) {
      ++report_.captures;
      if (c.request) ++report_.requests;
      if (c.article) ++report_.articles;
    }
    report_.undigested += batch_undigested_;
    batch_undigested_ = 0;
    batch_.clear();
    pending_bytes_ = 0;
    // Stored, the batch's captures are found by stored_capture: the map need only hold the
    // next batch's (a file of a million records held every id).
    imported_.clear();
  }

  void finish() {
    flush_waiting_response();
    for (const auto& r : requests_) give_up(r);
    requests_.clear();
    store_batch();
  }

  ArchiveWriter& writer_;
  const ImportOptions& options_;
  ImportReport& report_;
  std::string at_;  // "<file>: offset <n>" of the record being taken
  std::deque<Taken> requests_;
  std::map<std::string, RecordLink> other_uri_;  // request id -> the response of another URI
  std::optional<Taken> waiting_response_;
  // The captures of the batch not yet stored, by capture id.
  std::map<std::string, index::CaptureRow> imported_;
  Importer::Refused& refused_;
  std::set<std::string> imported_payloads_;  // payload_key() of responses imported
  std::vector<ImportedCapture> batch_;
  std::uint64_t pending_bytes_ = 0;
  std::uint64_t batch_undigested_ = 0;
};

}  // namespace

Importer::Importer(ArchiveWriter& writer, ImportOptions options)
    : writer_(writer), options_(std::move(options)) {}

ImportReport Importer::import_file(const std::filesystem::path& file) {
  ImportReport report;
  report.file = file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    report.errors.push_back(file.string() + ": " +
                            (std::filesystem::exists(file, ec)
                                 ? "found something that is not a regular file"
                                 : "found no such file") +
                            ", expected a WARC file (.warc, .warc.gz or .warc.zst)");
    return report;
  }
  FileImport(writer_, options_, report, refused_).run(file);
  return report;
}

}  // namespace vellum::archive
