// Reading an archive: resolving references, reading records, restoring payloads. Readers take
// no lock and work while a writer is active.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "archive/ArchiveDir.h"
#include "index/Index.h"
#include "warc/HttpMessage.h"
#include "warc/WarcRecord.h"

namespace vellum::archive {

// What the user asked for, in `vellum restore REF`: a capture id (or a unique prefix of one), a
// URL (its latest capture) or URL@TIMESTAMP (the nearest capture at or before the time).
struct Reference {
  std::string capture_id;
  std::string url;
  std::string at_or_before;  // WARC-Date text; empty: latest
};
Reference parse_reference(const std::string& text);

// What verify and restore say of a revisit whose record has no WARC-Refers-To when
// original_by_payload finds nothing: the whole sentence, and its end after "… is a revisit that".
std::string revisit_names_no_original(const index::CaptureRow& revisit);
std::string no_original_by_payload(const index::CaptureRow& revisit);

// How many WARC-Refers-To links are followed from a revisit to the response holding its
// payload. Vellum's own revisits refer to a response directly; an imported archive may hold
// revisits of revisits.
inline constexpr int kMaxRevisitHops = 10;

// The original of a revisit that has no WARC-Refers-To (WARC allows that): the latest response
// at or before the revisit, with the revisit's payload digest, of the canonical URL of its
// WARC-Refers-To-Target-URI (a crawler deduplicating across URLs names another one), or without
// that field of its own.
std::optional<index::CaptureRow> original_by_payload(index::Index& index,
                                                     const index::CaptureRow& revisit);

// The capture whose response record holds the payload `revisit` repeats, following
// WARC-Refers-To through revisits of revisits (original_by_payload where a revisit names none).
// Throws std::runtime_error naming each link when an original cannot be found, a record is not
// in the index, or the links return to a record already passed or go on beyond
// kMaxRevisitHops.
index::CaptureRow original_of(index::Index& index, const index::CaptureRow& revisit);

// The payload of a capture as served.
struct RestoredPayload {
  warc::HttpHead head;   // the response head of the capture itself
  std::string entity;    // entity body as served (transfer coding removed, content coding kept)
  bool complete = true;  // false for a capture cut at the size limit
};

class ArchiveReader {
 public:
  explicit ArchiveReader(std::filesystem::path dir);
  ~ArchiveReader();

  index::Index& index() { return *index_; }
  const ArchiveDir& dir() const { return dir_; }

  // Throws std::runtime_error saying what was looked for when nothing matches.
  index::CaptureRow resolve(const std::string& ref);

  // The latest capture of the page `url` names at or before `at_or_before` (empty: the latest):
  // of the URL's canonical key, the latest whose URL is the same page (util::page_key: the
  // path's case kept); when none is, the latest of the key, with a warning that says so.
  std::optional<index::CaptureRow> latest_of_page(const std::string& url,
                                                  const std::string& at_or_before);

  // The capture a redirect leads to: for a 3xx capture whose Location was captured too, the
  // first capture of that page (util::page_key) made at or after it, else the latest before
  // it, the redirect itself aside (http -> https keeps the canonical key). Follows up to
  // `max_hops` redirects; returns the row itself when it is no redirect or the target is not
  // in the archive.
  index::CaptureRow follow_redirects(const index::CaptureRow& row, int max_hops = 10);

  // The stored response/revisit record of a capture, checked to be the one the index names.
  warc::WarcRecord read_response(const index::CaptureRow& row);
  std::optional<warc::WarcRecord> read_request(const index::CaptureRow& row);

  // The article JSON of a capture, read from its metadata record, checked to be the record the
  // index names and against its WARC-Block-Digest (throws std::runtime_error otherwise).
  nlohmann::json article(const index::ArticleRow& a);

  // The payload, taken from the record a revisit refers to when needed, checked against
  // WARC-Payload-Digest (throws std::runtime_error on a mismatch).
  RestoredPayload payload(const index::CaptureRow& row);

 private:
  ArchiveDir dir_;
  std::unique_ptr<index::Index> index_;
};

}  // namespace vellum::archive
