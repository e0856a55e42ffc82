// Builds the WARC records for captures, and reads index rows back out of stored records. Both
// directions live together so that a capture indexed while writing and one indexed by
// `vellum reindex` give the same row.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fetch/Fetcher.h"
#include "index/Index.h"
#include "warc/WarcRecord.h"

namespace vellum::archive {

// Content-Type of the metadata records that hold article JSON.
inline constexpr std::string_view kArticleContentType = "application/vnd.vellum.article+json";

inline constexpr std::string_view kRevisitProfile =
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

// The records of one HTTP exchange: request + response, or request + revisit.
// A response's block is not copied together: `response.block` stays empty and
// `response_block` lists its pieces (views into the Exchange, which must outlive this).
struct ExchangeRecords {
  warc::WarcRecord request;
  warc::WarcRecord response;  // WARC-Type response or revisit
  std::vector<std::string_view> response_block;
  index::CaptureRow row;  // everything but file and offsets

  // The pieces of the serialised response record, for RecordEncoder::encode_parts.
  std::vector<std::string_view> response_parts(std::string& header_storage) const;
};

// `previous` is the response record holding the payload last stored for the same canonical URL
// (a response, never a revisit); when its payload digest equals this one's (and both were
// complete), a revisit record referring to it replaces the response.
ExchangeRecords build_exchange_records(const fetch::Exchange& hop,
                                       const std::optional<index::CaptureRow>& previous);

// The metadata record holding a capture's article JSON; refers to the response record.
warc::WarcRecord build_article_record(const index::CaptureRow& response, const std::string& json);

// An article metadata record's index row (file/offset/length left for the caller) and its
// article JSON; nullopt for any other record, or one whose block is no JSON object.
std::optional<std::pair<index::ArticleRow, nlohmann::json>> article_of_record(
    const warc::WarcRecord& record);
// The index row when the record's JSON is already at hand (parsed, or about to be written).
std::optional<index::ArticleRow> article_row_from_record(const warc::WarcRecord& record,
                                                         const nlohmann::json& article);

// The warcinfo record that opens every file.
warc::WarcRecord build_warcinfo(const std::string& file_name);

// Index row for a response or revisit record (file/offset/length left for the caller);
// nullopt for other record types.
std::optional<index::CaptureRow> row_from_record(const warc::WarcRecord& record);
// The same for a record whose block (or at least its HTTP head) is given separately.
std::optional<index::CaptureRow> row_from_record(const warc::WarcRecord& record,
                                                 std::string_view block);

// What pairs a request record with its response.
struct RecordLink {
  std::string record_id;
  std::string uri;                         // WARC-Target-URI, as the index reads it
  std::vector<std::string> concurrent_to;  // its WARC-Concurrent-To values
};
RecordLink link_of(const warc::WarcRecord& record);

// Whether `request` is the request of `response`: a request names its response in
// WARC-Concurrent-To (Vellum, most crawlers), or when it names no record the response names it
// (wget); and both are about the same WARC-Target-URI. Import, reindex and verify pair records
// by this one rule.
enum class Pairing { paired, not_linked, other_uri };
Pairing pairing_of(const RecordLink& request, const RecordLink& response);
inline bool is_request_of(const RecordLink& request, const RecordLink& response) {
  return pairing_of(request, response) == Pairing::paired;
}

}  // namespace vellum::archive
