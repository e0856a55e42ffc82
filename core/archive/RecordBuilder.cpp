#include "archive/RecordBuilder.h"

#include "archive/ArchiveDir.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include "util/Digest.h"
#include "util/Json.h"
#include "util/Text.h"
#include "util/Time.h"
#include "util/Url.h"
#include "util/Uuid.h"
#include "warc/HttpMessage.h"

namespace vellum::archive {

namespace {

void set_common(warc::WarcRecord& r, std::string_view type, const std::string& id,
                const std::string& date, const std::string& uri) {
  r.fields.clear();
  r.set("WARC-Type", std::string(type));
  r.set("WARC-Record-ID", id);
  r.set("WARC-Date", date);
  r.set("WARC-Target-URI", uri);
}

// A URI field's value; WARC/1.0 writers (wget among them) put it in angle brackets.
std::string uri_field(const warc::WarcRecord& r, std::string_view name) {
  std::string v = r.field_or(name);
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
  return v;
}

// A WARC-Date in the one form the index sorts by (microseconds), whatever precision the
// record gives; kept as it is when it does not parse.
std::string date_field(const warc::WarcRecord& r, std::string_view name) {
  std::string v = r.field_or(name);
  if (auto t = util::parse_warc_date(v)) return util::warc_date(*t);
  return v;
}

}  // namespace

ExchangeRecords build_exchange_records(const fetch::Exchange& hop,
                                       const std::optional<index::CaptureRow>& previous) {
  ExchangeRecords out;
  const std::string date = util::warc_date(hop.started);
  const std::string response_id = util::new_record_id();
  const std::string request_id = util::new_record_id();

  auto head = warc::parse_http_head(hop.response_head);
  std::string payload_digest;
  bool whole_payload = false;  // chunked framing complete: the digest is of the whole entity
  if (head) payload_digest = warc::payload_digest(hop.response_body, *head, &whole_payload);

  // Revisit when the payload is the one already stored for this URL.
  std::string refers_to;
  if (previous && head && whole_payload && !hop.truncated && !previous->truncated &&
      util::same_warc_sha1(previous->payload_digest, payload_digest)) {
    refers_to = previous->record_id;
  }

  warc::WarcRecord& resp = out.response;
  util::Sha1 block_digest;
  block_digest.update(hop.response_head);
  if (!refers_to.empty()) {
    set_common(resp, "revisit", response_id, date, hop.url);
    resp.set("WARC-Profile", std::string(kRevisitProfile));
    resp.set("WARC-Refers-To", refers_to);
    resp.set("WARC-Refers-To-Target-URI", previous->url);
    resp.set("WARC-Refers-To-Date", previous->date);
    out.response_block = {hop.response_head};
  } else {
    set_common(resp, "response", response_id, date, hop.url);
    block_digest.update(hop.response_body);
    out.response_block = {hop.response_head, hop.response_body};
  }
  if (!hop.ip.empty()) resp.set("WARC-IP-Address", hop.ip);
  resp.set("Content-Type", "application/http;msgtype=response");
  resp.set("WARC-Block-Digest", util::warc_sha1(block_digest.finish()));
  if (!payload_digest.empty()) resp.set("WARC-Payload-Digest", payload_digest);
  // A revisit's block is the response cut before its duplicate body, which the identical-
  // payload-digest profile marks as truncated by length (WARC 1.1, 6.7.2).
  if (hop.truncated || !refers_to.empty()) resp.set("WARC-Truncated", "length");

  warc::WarcRecord& req = out.request;
  set_common(req, "request", request_id, date, hop.url);
  if (!hop.ip.empty()) req.set("WARC-IP-Address", hop.ip);
  req.set("WARC-Concurrent-To", response_id);
  req.set("Content-Type", "application/http;msgtype=request");
  req.block = hop.request;
  req.set("WARC-Block-Digest", util::warc_sha1(req.block));

  auto row = row_from_record(resp, hop.response_head);
  if (row) out.row = std::move(*row);
  return out;
}

std::vector<std::string_view> ExchangeRecords::response_parts(std::string& header_storage) const {
  std::uint64_t length = 0;
  for (auto p : response_block) length += p.size();
  header_storage = response.serialize_header(length);
  std::vector<std::string_view> parts{header_storage};
  parts.insert(parts.end(), response_block.begin(), response_block.end());
  parts.push_back("\r\n\r\n");
  return parts;
}

warc::WarcRecord build_article_record(const index::CaptureRow& response, const std::string& json) {
  warc::WarcRecord r;
  set_common(r, "metadata", util::new_record_id(), util::warc_date(util::now()), response.url);
  r.set("WARC-Refers-To", response.record_id);
  r.set("Content-Type", std::string(kArticleContentType));
  r.block = json;
  r.set("WARC-Block-Digest", util::warc_sha1(r.block));
  return r;
}

std::optional<std::pair<index::ArticleRow, nlohmann::json>> article_of_record(
    const warc::WarcRecord& record) {
  if (record.type() != "metadata" || record.field_or("Content-Type") != kArticleContentType)
    return std::nullopt;
  auto j = util::parse_json(record.block);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto row = article_row_from_record(record, j);
  if (!row) return std::nullopt;
  j["capture_id"] = row->capture_id;  // as the index has it, in a sidecar written from `j`
  return std::pair{std::move(*row), std::move(j)};
}

std::optional<index::ArticleRow> article_row_from_record(const warc::WarcRecord& record,
                                                         const nlohmann::json& j) {
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  index::ArticleRow row;
  // The capture is the record the article refers to; a record without WARC-Refers-To (none of
  // Vellum's) names it in the JSON, and only a capture id in its own form is taken from there.
  if (auto refers_to = record.field_or("WARC-Refers-To"); !refers_to.empty())
    row.capture_id = util::capture_id_of(refers_to);
  else
    row.capture_id = str("capture_id");
  if (!util::is_capture_id(row.capture_id)) return std::nullopt;
  row.record_id = record.record_id();
  row.date = record.field_or("WARC-Date");
  row.title = str("title");
  row.published = str("published");
  row.source_domain = str("source_domain");
  if (auto e = j.find("extractor"); e != j.end() && e->is_object())
    row.extractor = e->value("name", "") + "/" + e->value("version", "");
  row.lead = str("lead");
  row.body_text = str("body_text");
  return row;
}

warc::WarcRecord build_warcinfo(const std::string& file_name) {
  warc::WarcRecord r;
  r.set("WARC-Type", "warcinfo");
  r.set("WARC-Record-ID", util::new_record_id());
  r.set("WARC-Date", util::warc_date(util::now()));
  r.set("WARC-Filename", file_name);
  r.set("Content-Type", "application/warc-fields");
  r.block = "software: Vellum/" VELLUM_VERSION
            " (+https://github.com/vellum-archive/vellum)\r\n"
            "format: WARC File Format 1.1\r\n"
            "conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/"
            "warc-1.1/\r\n"
            "hostname: " +
            local_host_name() + "\r\n";
  r.set("WARC-Block-Digest", util::warc_sha1(r.block));
  return r;
}

std::optional<index::CaptureRow> row_from_record(const warc::WarcRecord& record) {
  return row_from_record(record, record.block);
}

std::optional<index::CaptureRow> row_from_record(const warc::WarcRecord& record,
                                                 std::string_view block) {
  std::string type = record.type();
  if (type != "response" && type != "revisit") return std::nullopt;
  index::CaptureRow row;
  row.record_type = type;
  row.record_id = record.record_id();
  row.capture_id = util::capture_id_of(row.record_id);
  row.url = uri_field(record, "WARC-Target-URI");
  row.surt = util::surt(row.url);
  row.date = date_field(record, "WARC-Date");
  row.payload_digest = record.field_or("WARC-Payload-Digest");
  row.refers_to = record.field_or("WARC-Refers-To");
  if (type == "revisit" && row.refers_to.empty())
    row.original_uri = uri_field(record, "WARC-Refers-To-Target-URI");
  row.ip = record.field_or("WARC-IP-Address");
  // On a revisit, WARC-Truncated marks the body left out as a duplicate: the payload is the
  // original's, whole unless the original was cut.
  row.truncated = type != "revisit" && record.field("WARC-Truncated") != nullptr;
  if (auto head = warc::parse_http_head(block)) {
    row.status = head->status;
    row.mime = head->media_type();
    if (row.status >= 300 && row.status < 400) {
      if (const std::string* loc = head->header("Location"))
        row.location = util::resolve_url(row.url, *loc);
    }
  }
  return row;
}

RecordLink link_of(const warc::WarcRecord& record) {
  RecordLink link{record.record_id(), uri_field(record, "WARC-Target-URI"), {}};
  for (const auto& [n, v] : record.fields)
    if (util::iequals(n, "WARC-Concurrent-To")) link.concurrent_to.push_back(v);
  return link;
}

Pairing pairing_of(const RecordLink& request, const RecordLink& response) {
  auto names = [](const RecordLink& r, const std::string& id) {
    return std::find(r.concurrent_to.begin(), r.concurrent_to.end(), id) != r.concurrent_to.end();
  };
  if (!request.concurrent_to.empty() ? !names(request, response.record_id)
                                     : !names(response, request.record_id))
    return Pairing::not_linked;
  return request.uri == response.uri ? Pairing::paired : Pairing::other_uri;
}

}  // namespace vellum::archive
