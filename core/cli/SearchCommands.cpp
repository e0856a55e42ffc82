// `vellum search` (full text over the articles) and `vellum history` (every capture of a URL).
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <optional>

#include "archive/ArchiveReader.h"
#include "cli/Cli.h"
#include "util/Digest.h"
#include "util/Text.h"
#include "util/Time.h"
#include "util/Url.h"

namespace vellum::cli {

namespace {

// "2026-11-26T09:10:00.123456Z" -> "2026-11-26T09:10:00Z"
std::string short_date(const std::string& date) {
  return date.size() >= 19 ? date.substr(0, 19) + "Z" : date;
}

// What the extracted text of a capture was: a digest of its article's title and body, and the
// title. A revisit has the text of the capture whose payload it repeats (through revisits of
// revisits, or found by payload digest, as restore finds it); unknown when there is none.
struct CaptureText {
  std::string digest;
  std::string title;
};

std::optional<CaptureText> capture_text(index::Index& idx, const index::CaptureRow& row) {
  std::string capture_id = row.capture_id;
  if (row.record_type == "revisit") {
    try {
      capture_id = archive::original_of(idx, row).capture_id;
    } catch (const std::runtime_error&) {
      return std::nullopt;
    }
  }
  auto text = idx.article_text(capture_id);
  if (!text) return std::nullopt;
  return CaptureText{util::warc_sha1(text->title + "\n\n" + text->body), text->title};
}

// "first" when there is nothing to compare with, "unknown" when the value is not known.
std::string change_word(const std::optional<bool>& changed, bool known) {
  if (!known) return "unknown";
  if (!changed) return "first";
  return *changed ? "changed" : "unchanged";
}

nlohmann::json optional_bool(const std::optional<bool>& b) {
  return b ? nlohmann::json(*b) : nlohmann::json(nullptr);
}

}  // namespace

int run_search(const GlobalOptions& g, const SearchOptions& o) {
  index::SearchQuery q;
  for (const auto& w : o.words) q.text += (q.text.empty() ? "" : " ") + w;
  q.domain = o.domain;
  q.since = time_bound("--since", o.since, false);
  q.until = time_bound("--until", o.until, true);
  q.limit = o.limit;
  archive::ArchiveReader reader(g.archive);
  auto hits = reader.index().search(q);
  int rank = 0;
  for (const auto& h : hits) {
    ++rank;
    const auto& c = h.capture;
    if (g.json) {
      nlohmann::json j = {
          {"rank", rank},
          {"score", h.score},
          {"capture_id", c.capture_id},
          {"url", c.url},
          {"date", c.date},
          {"status", c.status},
          {"title", h.title},
          {"published", h.published.empty() ? nlohmann::json() : nlohmann::json(h.published)},
          {"snippet", h.snippet}};
      print_json_line(j);
      continue;
    }
    if (rank > 1) std::cout << "\n";
    std::cout << rank << ". " << util::terminal_safe(h.title.empty() ? c.url : h.title) << "\n"
              << "   " << short_date(c.date) << "  " << util::terminal_safe(c.capture_id) << "  "
              << util::terminal_safe(c.url) << "\n";
    if (!h.snippet.empty()) std::cout << "   " << h.snippet << "\n";
  }
  if (hits.empty() && g.verbosity >= 0)
    std::cerr << "vellum: no article matches '" << q.text << "'\n";
  return 0;
}

int run_history(const GlobalOptions& g, const std::string& ref_text) {
  archive::ArchiveReader reader(g.archive);
  auto& idx = reader.index();
  archive::Reference ref = archive::parse_reference(ref_text);
  std::string url = ref.url;
  if (!ref.capture_id.empty()) url = reader.resolve(ref.capture_id).url;
  index::ListFilter f;
  f.surt = util::surt(url);
  f.until = ref.at_or_before;
  f.newest_first = false;
  auto rows = idx.list(f);
  // The captures of this page: a server that tells case apart serves another at /A.html, which
  // has the same canonical key. Without any of this page, those of the page `show` and
  // `restore` take instead: the one of the key captured last.
  std::string page = util::page_key(url);
  auto of_page = [&] {
    std::vector<index::CaptureRow> found;
    for (const auto& r : rows)
      if (util::page_key(r.url) == page) found.push_back(r);
    return found;
  };
  if (auto found = of_page(); !found.empty()) {
    rows = std::move(found);
  } else if (!rows.empty()) {
    page = util::page_key(rows.back().url);
    rows = of_page();
    spdlog::warn("no capture of {} itself{}; these are of {}, whose canonical key is the same",
                 util::terminal_safe(url),
                 ref.at_or_before.empty() ? "" : " at or before " + ref.at_or_before,
                 util::terminal_safe(rows.back().url));
  }
  if (rows.empty())
    throw std::runtime_error("no capture of " + url + " in " + g.archive.string() +
                             (ref.at_or_before.empty() ? "" : " at or before " + ref.at_or_before) +
                             " (expected a URL captured before, as `vellum list` shows it)");

  if (!g.json)
    std::cout << fmt::format("{:<20}  {:<6}  {:<8}  {:<9}  {:<9}  {}\n", "DATE", "STATUS", "TYPE",
                             "PAYLOAD", "TEXT", "CAPTURE ID");
  const index::CaptureRow* previous = nullptr;
  std::optional<std::string> last_text;  // digest of the latest earlier capture with known text
  for (const auto& row : rows) {
    std::optional<bool> payload_changed;
    // The same SHA-1 in base32 or hexadecimal (imported records) is the same payload.
    if (previous)
      payload_changed = row.payload_digest != previous->payload_digest &&
                        !util::same_warc_sha1(row.payload_digest, previous->payload_digest);
    auto text = capture_text(idx, row);
    std::optional<bool> text_changed;
    if (text && last_text) text_changed = text->digest != *last_text;
    if (g.json) {
      nlohmann::json j = {
          {"capture_id", row.capture_id},
          {"url", row.url},
          {"date", row.date},
          {"status", row.status},
          {"type", row.record_type},
          {"payload_digest", row.payload_digest},
          {"payload_changed", optional_bool(payload_changed)},
          {"text_digest", text ? nlohmann::json(text->digest) : nullptr},
          {"text_changed", optional_bool(text_changed)},
          {"title", text && !text->title.empty() ? nlohmann::json(text->title) : nlohmann::json()}};
      print_json_line(j);
    } else {
      std::cout << fmt::format("{:<20}  {:<6}  {:<8}  {:<9}  {:<9}  {}\n", short_date(row.date),
                               row.status, row.record_type, change_word(payload_changed, true),
                               change_word(text_changed, text.has_value()),
                               util::terminal_safe(row.capture_id));
    }
    if (text) last_text = text->digest;
    previous = &row;
  }
  std::cout.flush();
  return 0;
}

}  // namespace vellum::cli
