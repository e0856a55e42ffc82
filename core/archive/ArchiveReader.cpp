#include "archive/ArchiveReader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <vector>

#include "util/Digest.h"
#include "util/Json.h"
#include "util/Time.h"
#include "util/Url.h"
#include "util/Uuid.h"
#include "warc/WarcReader.h"

namespace vellum::archive {

Reference parse_reference(const std::string& text) {
  Reference ref;
  // A record ID in angle brackets may hold "://" too (`<http://...>`): it is not a URL.
  if (text.find("://") == std::string::npos || (text.starts_with("<") && text.ends_with(">"))) {
    ref.capture_id = util::capture_id_from_user(text);
    return ref;
  }
  ref.url = text;
  auto at = text.rfind('@');
  if (at != std::string::npos) {
    if (auto t = util::parse_ref_time(std::string_view(text).substr(at + 1))) {
      ref.url = text.substr(0, at);
      ref.at_or_before = util::warc_date(*t);
    }
  }
  return ref;
}

ArchiveReader::ArchiveReader(std::filesystem::path dir) : dir_(std::move(dir)) {
  dir_.check_readable();
  index_ = index::Index::open(dir_.index_file(), false);
}

ArchiveReader::~ArchiveReader() = default;

index::CaptureRow ArchiveReader::resolve(const std::string& text) {
  Reference ref = parse_reference(text);
  if (!ref.capture_id.empty()) {
    if (auto row = index_->by_capture_id(ref.capture_id)) return *row;
    // An index built before capture ids were put in one form may hold one as the record had it.
    if (ref.capture_id != text)
      if (auto row = index_->by_capture_id(text)) return *row;
    if (auto ids = index_->capture_ids_starting(ref.capture_id, 4); ids.size() > 1) {
      std::string listed;
      for (std::size_t i = 0; i < std::min<std::size_t>(ids.size(), 3); ++i)
        listed += (i ? ", " : "") + ids[i];
      throw std::runtime_error("capture id prefix '" + ref.capture_id + "' matches " +
                               (ids.size() > 3 ? "more than three captures" : "captures ") +
                               (ids.size() > 3 ? " (" + listed + ", …)" : listed) +
                               "; expected one that names a single capture: give more of it");
    }
    if (auto ids = index_->capture_ids_starting(ref.capture_id, 1);
        !ids.empty() && ref.capture_id.size() < 8)
      throw std::runtime_error("capture id prefix '" + ref.capture_id + "' (of " + ids.front() +
                               ") is shorter than 8 characters; expected at least 8 characters "
                               "of a capture id, or all of it");
    throw std::runtime_error("no capture with id '" + ref.capture_id +
                             "' (expected a capture id, a unique prefix of one of at least 8 "
                             "characters, a URL, or URL@TIMESTAMP)");
  }
  if (auto row = latest_of_page(ref.url, ref.at_or_before)) return *row;
  if (!ref.at_or_before.empty()) {
    // "…?tag=@2019" may be a URL of its own rather than a URL and a time.
    if (auto row = latest_of_page(text, {})) return *row;
    throw std::runtime_error("no capture of " + ref.url + " at or before " + ref.at_or_before);
  }
  std::string hint;
  if (auto at = text.rfind('@'); at != std::string::npos && text.find('/', at) == std::string::npos)
    hint = " (if '" + text.substr(at) +
           "' was meant as a time, expected @YYYY[MM[DD[hh[mm[ss]]]]] or "
           "@YYYY-MM-DDThh:mm:ssZ)";
  throw std::runtime_error("no capture of " + ref.url + " in " + dir_.root().string() + hint);
}

std::optional<index::CaptureRow> ArchiveReader::latest_of_page(const std::string& url,
                                                               const std::string& at_or_before) {
  const std::string page = util::page_key(url);
  auto row = index_->latest(util::surt(url), at_or_before, [&](const index::CaptureRow& r) {
    return util::page_key(r.url) == page;
  });
  if (row && util::page_key(row->url) != page)
    spdlog::warn("no capture of {} itself{}; {} is of {}, whose canonical key is the same", url,
                 at_or_before.empty() ? "" : " at or before " + at_or_before, row->capture_id,
                 row->url);
  return row;
}

index::CaptureRow ArchiveReader::follow_redirects(const index::CaptureRow& start, int max_hops) {
  index::CaptureRow row = start;
  for (int hop = 0; hop < max_hops; ++hop) {
    if (row.status < 300 || row.status >= 400 || row.location.empty()) break;
    if (row.location == row.url) break;  // to itself
    // The capture of the redirect's target: of that very page (http -> https, or /Page ->
    // /page, share a canonical key with the redirect itself), made with it or else before it.
    const std::string key = util::surt(row.location);
    const std::string page = util::page_key(row.location);
    auto is_target = [&](const index::CaptureRow& r) {
      return r.record_id != row.record_id && util::page_key(r.url) == page;
    };
    auto next = index_->first_after(key, row.date, is_target);
    if (!next || !is_target(*next)) next = index_->latest(key, row.date, is_target);
    if (!next || !is_target(*next)) break;
    row = std::move(*next);
  }
  return row;
}

warc::WarcRecord ArchiveReader::read_response(const index::CaptureRow& row) {
  auto path = dir_.warc_path(row.file);
  warc::WarcRecord rec = warc::read_record_at(path, {row.offset, row.length});
  if (rec.record_id() != row.record_id)
    throw std::runtime_error(path.string() + ": offset " + std::to_string(row.offset) +
                             ": found record " + rec.record_id() + ", expected " + row.record_id +
                             "; the index is out of date: run `vellum reindex`");
  return rec;
}

std::optional<warc::WarcRecord> ArchiveReader::read_request(const index::CaptureRow& row) {
  if (row.request_length == 0) return std::nullopt;
  return warc::read_record_at(dir_.warc_path(row.file), {row.request_offset, row.request_length});
}

nlohmann::json ArchiveReader::article(const index::ArticleRow& a) {
  auto path = dir_.warc_path(a.file);
  warc::WarcRecord rec = warc::read_record_at(path, {a.offset, a.length});
  const std::string where = path.string() + ": offset " + std::to_string(a.offset);
  if (rec.record_id() != a.record_id)
    throw std::runtime_error(where + ": found record " + rec.record_id() + ", expected " +
                             a.record_id + "; the index is out of date: run `vellum reindex`");
  if (const std::string* bd = rec.field("WARC-Block-Digest");
      bd && util::warc_digest_matches(*bd, rec.block) == false)
    throw std::runtime_error(where + ": the article of capture " + a.capture_id +
                             " has block digest " + util::warc_sha1(rec.block) +
                             ", the record says " + *bd + "; the stored data is damaged");
  auto j = util::parse_json(rec.block);
  if (!j.is_object())
    throw std::runtime_error(where + ": the article of capture " + a.capture_id +
                             " is not a JSON object, expected the article JSON");
  return j;
}

std::string no_original_by_payload(const index::CaptureRow& revisit) {
  return "names no original (it has no WARC-Refers-To) and no earlier response of " +
         (revisit.original_uri.empty()
              ? std::string("its URL")
              : revisit.original_uri + " (its WARC-Refers-To-Target-URI)") +
         " has its payload digest";
}

std::string revisit_names_no_original(const index::CaptureRow& revisit) {
  return "capture " + revisit.capture_id + " is a revisit that " + no_original_by_payload(revisit) +
         "; expected the record ID of the capture whose payload it repeats";
}

std::optional<index::CaptureRow> original_by_payload(index::Index& index,
                                                     const index::CaptureRow& revisit) {
  std::vector<std::string> digests{revisit.payload_digest};
  if (auto canonical = util::canonical_warc_sha1(revisit.payload_digest);
      canonical && *canonical != revisit.payload_digest)
    digests.push_back(*canonical);
  const std::string surt =
      revisit.original_uri.empty() ? revisit.surt : util::surt(revisit.original_uri);
  return index.latest_response_with_payload(surt, digests, revisit.date);
}

index::CaptureRow original_of(index::Index& index, const index::CaptureRow& revisit) {
  std::string path = "capture " + revisit.capture_id + " is a revisit";
  std::vector<std::string> passed{revisit.record_id};
  index::CaptureRow at = revisit;
  for (int hop = 0; at.record_type == "revisit"; ++hop) {
    if (at.refers_to.empty()) {
      if (auto original = original_by_payload(index, at)) return *original;
      throw std::runtime_error(hop == 0 ? revisit_names_no_original(revisit)
                                        : path + " that " + no_original_by_payload(at));
    }
    path += " of " + at.refers_to;
    if (std::find(passed.begin(), passed.end(), at.refers_to) != passed.end())
      throw std::runtime_error(path +
                               ", which it passed already; expected WARC-Refers-To to "
                               "lead to a response");
    if (hop == kMaxRevisitHops)
      throw std::runtime_error(path + ": more than " + std::to_string(kMaxRevisitHops) +
                               " revisits in a row; expected a response within them");
    auto next = index.by_record_id(at.refers_to);
    if (!next) throw std::runtime_error(path + ", which is not in the index");
    passed.push_back(at.refers_to);
    at = std::move(*next);
    path += ", a revisit";
  }
  return at;
}

RestoredPayload ArchiveReader::payload(const index::CaptureRow& row) {
  warc::WarcRecord rec = read_response(row);
  auto head = warc::parse_http_head(rec.block);
  // A revisit recorded without the response head (WARC allows an empty block): the page is the
  // original's, head and all.
  if (!head && row.record_type == "revisit" && rec.block.empty()) {
    const index::CaptureRow target = original_of(*index_, row);
    RestoredPayload out = payload(target);
    const std::string expected = rec.field_or("WARC-Payload-Digest");
    const auto mine = util::canonical_warc_sha1(expected);
    const auto theirs = util::canonical_warc_sha1(target.payload_digest);
    if (mine && theirs && *mine != *theirs)
      throw std::runtime_error("capture " + row.capture_id + ": payload digest is " +
                               target.payload_digest + " (of capture " + target.capture_id +
                               "), the revisit says " + expected);
    return out;
  }
  if (!head) {
    // A response of another protocol (an imported dns: lookup as text/dns): its payload is its
    // whole block.
    const std::string type = rec.field_or("Content-Type");
    if (row.record_type != "response" || type.empty() || type.starts_with("application/http"))
      throw std::runtime_error("capture " + row.capture_id +
                               ": the stored response has no HTTP head");
    const std::string expected = rec.field_or("WARC-Payload-Digest");
    if (!expected.empty() && util::warc_digest_matches(expected, rec.block) == false)
      throw std::runtime_error("capture " + row.capture_id + ": payload digest is " +
                               util::warc_sha1(rec.block) + ", the record says " + expected +
                               "; the stored data is damaged");
    RestoredPayload out;
    out.entity = std::move(rec.block);
    out.complete = !row.truncated;
    return out;
  }
  RestoredPayload out;
  out.head = *head;
  const warc::WarcRecord* source = &rec;
  warc::WarcRecord original;
  index::CaptureRow target;  // of a revisit: the capture whose record holds the payload
  bool cut = row.truncated;
  if (row.record_type == "revisit") {
    target = original_of(*index_, row);
    original = read_response(target);
    source = &original;
    cut = target.truncated;
  }
  auto source_head = warc::parse_http_head(source->block);
  if (!source_head) throw std::runtime_error("record " + source->record_id() + " has no HTTP head");
  warc::Payload p = warc::http_payload(source->block, *source_head);
  std::string expected = rec.field_or("WARC-Payload-Digest");
  std::string_view body = std::string_view(source->block)
                              .substr(std::min(source_head->head_length, source->block.size()));
  if (!expected.empty() && warc::payload_digest_matches(body, *source_head, expected) == false) {
    if (source == &rec)
      throw std::runtime_error("capture " + row.capture_id + ": payload digest is " +
                               util::warc_sha1(p.bytes) + ", the record says " + expected +
                               "; the stored data is damaged");
    // A revisit: the damage is in the record it takes its payload from, unless that record's
    // payload is the one it declares itself (then the revisit names another payload).
    const std::string own = original.field_or("WARC-Payload-Digest");
    const bool original_intact =
        !own.empty() && warc::payload_digest_matches(body, *source_head, own) == true;
    throw std::runtime_error(
        "capture " + row.capture_id + " is a revisit of capture " + target.capture_id + " (" +
        target.file + ": offset " + std::to_string(target.offset) + "), whose payload digest is " +
        util::warc_sha1(p.bytes) + "; the revisit says " + expected +
        (original_intact ? ", the original " + own + ": the revisit names another payload"
                         : "; the stored data of the original is damaged"));
  }
  out.entity = std::move(p.bytes);
  out.complete = p.complete && !cut;
  return out;
}

}  // namespace vellum::archive
