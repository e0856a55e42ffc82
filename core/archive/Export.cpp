#include "archive/Export.h"

#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "archive/RecordBuilder.h"
#include "archive/Verifier.h"
#include "index/LineSpool.h"
#include "util/Digest.h"
#include "util/OutputPath.h"
#include "util/Url.h"
#include "util/Uuid.h"
#include "util/ZipWriter.h"
#include "warc/WarcReader.h"
#include "warc/WarcWriter.h"

namespace vellum::archive {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

namespace {

constexpr int kGzipLevel = 6;
constexpr std::string_view kWaczWarcName = "data.warc.gz";
constexpr std::string_view kWaczWarcPath = "archive/data.warc.gz";
constexpr std::string_view kWaczIndexPath = "indexes/index.cdx";
constexpr std::string_view kWaczPagesPath = "pages/pages.jsonl";
constexpr std::string_view kPagesHeader =
    R"({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})";

// The temporary file of the export under way, for the handler below (empty: none).
char g_pending_temp[PATH_MAX];

// An export stopped by Ctrl-C, SIGTERM or a closed terminal removes its temporary file as a
// failed one does, then ends as the signal would have ended it.
extern "C" void remove_pending_and_end(int sig) {
  if (g_pending_temp[0] != 0) ::unlink(g_pending_temp);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

// The output file while it is written: a temporary file beside the target, renamed over it by
// commit(); removed again when the export fails or is stopped by a signal.
class PendingFile {
 public:
  explicit PendingFile(fs::path target) : target_(std::move(target)) {
    // The stop signals wait until the file exists and its handler knows it: one that came in
    // between would end the process and leave the file behind.
    sigset_t stops, before;
    sigemptyset(&stops);
    for (int sig : kStopSignals) sigaddset(&stops, sig);
    ::pthread_sigmask(SIG_BLOCK, &stops, &before);
    struct Unblock {
      const sigset_t* mask;
      ~Unblock() { ::pthread_sigmask(SIG_SETMASK, mask, nullptr); }
    } unblock{&before};
    // A new file of its own: a name already there (a stale file, a planted symlink) is left
    // alone and the next name tried.
    const std::string base = target_.string() + ".vellum-tmp-" + std::to_string(::getpid());
    for (int attempt = 0; fd_ < 0; ++attempt) {
      temp_ = attempt == 0 ? base : base + "-" + std::to_string(attempt);
      fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd_ < 0 && (errno != EEXIST || attempt == 99))
        throw std::system_error(errno, std::generic_category(), "cannot create " + temp_.string());
    }
    if (temp_.native().size() < sizeof g_pending_temp) {
      std::memcpy(g_pending_temp, temp_.c_str(), temp_.native().size() + 1);
      struct sigaction sa {};
      sa.sa_handler = remove_pending_and_end;
      sigemptyset(&sa.sa_mask);
      // A signal the caller ignores (SIGHUP under nohup, say) stays ignored.
      for (std::size_t i = 0; i < std::size(kStopSignals); ++i) {
        ::sigaction(kStopSignals[i], nullptr, &previous_[i]);
        if (previous_[i].sa_handler != SIG_IGN) ::sigaction(kStopSignals[i], &sa, nullptr);
      }
      handling_ = true;
    }
  }
  ~PendingFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
    stop_handling();
  }
  PendingFile(const PendingFile&) = delete;
  PendingFile& operator=(const PendingFile&) = delete;

  int fd() const { return fd_; }

  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        throw std::system_error(errno, std::generic_category(), "cannot write " + temp_.string());
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // fsync, close, rename over the target, fsync the directory. Returns the file's size.
  std::uint64_t commit() {
    off_t size = ::lseek(fd_, 0, SEEK_END);
    if (size < 0 || ::fsync(fd_) != 0)
      throw std::system_error(errno, std::generic_category(), "cannot write " + temp_.string());
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0)
      throw std::system_error(errno, std::generic_category(), "cannot write " + temp_.string());
    if (std::rename(temp_.c_str(), target_.c_str()) != 0)
      throw std::system_error(errno, std::generic_category(),
                              "cannot rename " + temp_.string() + " to " + target_.string());
    committed_ = true;
    stop_handling();
    fs::path dir = target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return static_cast<std::uint64_t>(size);
  }

 private:
  void stop_handling() {
    if (!handling_) return;
    handling_ = false;
    for (std::size_t i = 0; i < std::size(kStopSignals); ++i)
      ::sigaction(kStopSignals[i], &previous_[i], nullptr);
    g_pending_temp[0] = 0;
  }

  fs::path target_;
  fs::path temp_;
  int fd_ = -1;
  bool committed_ = false;
  bool handling_ = false;
  struct sigaction previous_[std::size(kStopSignals)]{};
};

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("SHA-256: cannot initialise OpenSSL's digest");
  }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  // "sha256:<64 lower-case hex digits>", the form datapackage.json uses.
  std::string finish() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, md, &n);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned i = 0; i < n; ++i) {
      out += kHex[md[i] >> 4];
      out += kHex[md[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string sha256_of(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

// One capture to export, as the plan holds it: what finds its index row again when its records
// are written, and what orders and resolves it. The plan keeps no rows (a million captures' rows
// took gigabytes). `selected`: chosen by the filter (else added because a selected revisit refers
// to it: its request and response are exported, not its article, and it is no page).
struct Item {
  std::string record_id;
  std::string date;  // WARC-Date, the order of the export
  bool selected = true;
  bool revisit = false;
  bool with_request = true;  // false: its request record is damaged and left out
  bool with_article = true;  // false: its article record is damaged and left out
  // Why a revisit cannot be resolved: the record it refers to is not in the index (only with
  // skip_damaged; otherwise that stops the export).
  std::string unresolved;
  // A revisit's original: its WARC-Refers-To, or for one that names none, the response the
  // index finds by its URL and payload digest (empty when there is none).
  std::string payload_from;
};

Item make_item(index::Index& idx, const index::CaptureRow& row, bool selected) {
  Item it;
  it.record_id = row.record_id;
  it.date = row.date;
  it.selected = selected;
  it.revisit = row.record_type == "revisit";
  if (it.revisit) {
    it.payload_from = row.refers_to;
    if (it.payload_from.empty())
      if (auto original = original_by_payload(idx, row)) it.payload_from = original->record_id;
  }
  return it;
}

// The index row of `it`, read again. Rows are only ever replaced by rows of the same records, or
// removed with the torn records of a file a writer died writing (never one reported stored).
index::CaptureRow row_of(index::Index& idx, const Item& it) {
  auto row = idx.by_record_id(it.record_id);
  if (!row)
    throw std::runtime_error("record " + it.record_id +
                             " left the index while the export ran; expected the index to hold "
                             "what it held when the export began (run the export again)");
  if (!it.with_request) row->request_length = 0;
  return std::move(*row);
}

std::string named(const index::CaptureRow& row) {
  return "capture " + row.capture_id + " (" + row.url + ", " + row.date + ")";
}

// The article rows a capture is written with: its own, and the one that names its page (its
// own, or for a revisit stored without one, the article of the capture holding the same
// payload). A damaged article record is left out, its title still names the page.
struct Articles {
  std::optional<index::ArticleRow> own, title_from;
};

Articles articles_of(index::Index& idx, const Item& it, const index::CaptureRow& row) {
  Articles a;
  if (!it.selected) return a;
  a.title_from = idx.article(row.capture_id);
  if (a.title_from) {
    if (it.with_article) a.own = a.title_from;
    return a;
  }
  // A revisit of a revisit: the first capture along the way that has an article.
  std::string from = it.revisit ? it.payload_from : std::string();
  for (int hop = 0; !from.empty() && hop < kMaxRevisitHops; ++hop) {
    if ((a.title_from = idx.article(util::capture_id_of(from)))) break;
    auto original = idx.by_record_id(from);
    if (!original || original->record_type != "revisit") break;
    from = make_item(idx, *original, false).payload_from;
  }
  return a;
}

std::string describe_filter(const index::ListFilter& f) {
  std::string parts;
  auto add = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    if (!parts.empty()) parts += ", ";
    parts += name;
    parts += ' ';
    parts += value;
  };
  add("domain", f.domain);
  add("since", f.since);
  add("until", f.until);
  return parts.empty() ? "all captures" : parts;
}

std::vector<Item> plan_export(index::Index& idx, const index::ListFilter& filter, bool skip_damaged,
                              ExportSummary& summary) {
  index::ListFilter f = filter;
  f.limit = -1;
  f.newest_first = false;
  std::vector<Item> items;
  idx.each(f, [&](index::CaptureRow&& row) { items.push_back(make_item(idx, row, true)); });
  if (items.empty())
    throw std::runtime_error("nothing to export: no capture matches the selection (" +
                             describe_filter(filter) +
                             "); expected at least one (`vellum list` with the same options shows "
                             "what is selected)");
  summary.captures = items.size();

  // A revisit holds no payload: the record it refers to comes along, so that every revisit in
  // the export can be resolved within it.
  std::unordered_set<std::string> present;
  for (const auto& it : items) present.insert(it.record_id);
  const std::size_t selected = items.size();
  for (std::size_t i = 0; i < selected; ++i) {
    std::size_t from = i;  // an index: push_back moves the items
    for (int hop = 0; hop < kMaxRevisitHops && items[from].revisit; ++hop) {
      const std::string target = items[from].payload_from;
      if (target.empty() || present.count(target)) break;
      auto original = idx.by_record_id(target);
      if (!original && skip_damaged) {
        items[from].unresolved =
            "it is a revisit of record " + target + ", which the index does not hold";
        break;
      }
      if (!original)
        throw std::runtime_error(named(row_of(idx, items[from])) + " is a revisit of record " +
                                 target +
                                 ", which the index does not hold; expected it in the archive "
                                 "(`vellum verify` checks the archive, `vellum reindex` rebuilds "
                                 "the index; `--skip-damaged` exports the rest)");
      present.insert(target);
      items.push_back(make_item(idx, *original, false));
      ++summary.referenced;
      from = items.size() - 1;
    }
  }
  // Links that go round in a circle, or on past kMaxRevisitHops, lead to no payload: such a
  // revisit is treated as one whose original is missing.
  for (std::size_t i = 0; i < selected; ++i) {
    Item& it = items[i];
    if (!it.revisit || it.payload_from.empty() || !it.unresolved.empty()) continue;
    const index::CaptureRow row = row_of(idx, it);
    try {
      original_of(idx, row);
    } catch (const std::runtime_error& e) {
      if (!skip_damaged)
        throw std::runtime_error(std::string(e.what()) +
                                 " (`vellum verify` checks the archive; `--skip-damaged` exports "
                                 "the rest)");
      std::string why = e.what();
      const std::string self = "capture " + row.capture_id + " is ";
      it.unresolved = why.starts_with(self) ? "it is " + why.substr(self.size()) : why;
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.date < b.date; });
  return items;
}

// Where the gzip members go: the output file itself, or the WARC entry of the WACZ.
class WarcSink {
 public:
  explicit WarcSink(PendingFile& file) : file_(&file) {}
  explicit WarcSink(util::ZipWriter& zip) : zip_(&zip) {}

  // Appends one member; returns its offset in the WARC file.
  std::uint64_t append(std::string_view member) {
    const std::uint64_t at = size_;
    if (zip_) {
      zip_->write(member);
      sha_.update(member);
    } else {
      file_->write(member);
    }
    size_ += member.size();
    return at;
  }
  std::uint64_t size() const { return size_; }
  std::string sha256() { return sha_.finish(); }

 private:
  PendingFile* file_ = nullptr;
  util::ZipWriter* zip_ = nullptr;
  Sha256 sha_;
  std::uint64_t size_ = 0;
};

struct Copied {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// A record read from the archive and checked: its stored bytes and what its header says.
struct Checked {
  std::string bytes;
  warc::WarcRecord record;  // a capture's: header fields only (its block is dropped once read)
};

[[noreturn]] void damaged(const std::vector<std::string>& problems) {
  std::string text;
  for (const auto& p : problems) text += (text.empty() ? "" : "; ") + p;
  throw std::runtime_error(text);
}

// The record stored at (file, offset, length), checked: it reads whole, it is the record the
// index names there, and its block (and a response's payload) match their digests. Throws
// saying which record is wrong and how.
Checked read_checked(const ArchiveDir& dir, const std::string& file, std::uint64_t offset,
                     std::uint64_t length, std::string_view expected_type,
                     const std::string& expected_id) {
  const fs::path path = dir.warc_path(file);
  Checked c;
  c.bytes = warc::read_record_bytes_at(path, {offset, length});
  c.record = warc::parse_record(c.bytes, path.string(), offset);
  const std::string where = path.string() + ": offset " + std::to_string(offset);
  if (c.record.type() != expected_type ||
      (!expected_id.empty() && c.record.record_id() != expected_id))
    throw std::runtime_error(where + ": found a " + c.record.type() + " record " +
                             c.record.record_id() + ", expected the " + std::string(expected_type) +
                             " record " + expected_id +
                             " the index names there; the record is damaged or the index is out "
                             "of date (`vellum verify` tells which)");
  std::vector<std::string> problems;
  check_record(c.record, where, problems);
  if (!problems.empty()) damaged(problems);
  return c;
}

// The response or revisit record of `row`, which must also say what the index says of it.
Checked read_capture(const ArchiveDir& dir, const index::CaptureRow& row) {
  Checked c = read_checked(dir, row.file, row.offset, row.length, row.record_type, row.record_id);
  std::vector<std::string> problems;
  if (auto fields = row_from_record(c.record)) compare_with_index(*fields, row, problems);
  // The bytes are kept to be written; the parsed copy of the block is not needed again.
  c.record.block.clear();
  c.record.block.shrink_to_fit();
  if (!problems.empty()) damaged(problems);
  return c;
}

// The request record of `row`, which must belong to its response.
Checked read_request(const ArchiveDir& dir, const index::CaptureRow& row,
                     const warc::WarcRecord& response) {
  Checked c = read_checked(dir, row.file, row.request_offset, row.request_length, "request", {});
  std::vector<std::string> problems;
  check_request_of(
      c.record, response,
      dir.warc_path(row.file).string() + ": offset " + std::to_string(row.request_offset),
      problems);
  if (!problems.empty()) damaged(problems);
  return c;
}

// The article record of `row`, which must refer to its response and have the date the index
// holds.
Checked read_article(const ArchiveDir& dir, const index::ArticleRow& article,
                     const index::CaptureRow& row) {
  Checked c = read_checked(dir, article.file, article.offset, article.length, "metadata",
                           article.record_id);
  std::vector<std::string> problems;
  compare_article(c.record.field_or("WARC-Refers-To"), c.record.field_or("WARC-Date"), article, row,
                  problems);
  if (!problems.empty()) damaged(problems);
  return c;
}

// Writes records to the sink, one gzip member each.
class RecordCopier {
 public:
  explicit RecordCopier(WarcSink& sink)
      : sink_(sink), encoder_({warc::Compression::gzip, kGzipLevel, nullptr, false}) {}

  Copied write(std::string_view record_bytes) {
    std::string member = encoder_.encode(record_bytes);
    Copied c{sink_.append(member), member.size()};
    ++records;
    return c;
  }

  std::uint64_t records = 0;

 private:
  WarcSink& sink_;
  warc::RecordEncoder encoder_;
};

// For --skip-damaged: reads and checks every record of `items` first, then leaves out the
// captures whose response or revisit record fails and the revisits whose payload lies in one of
// those (or in no record the index holds), and the requests and articles that fail (their
// captures stay). Returns one line for each thing left out.
std::vector<std::string> drop_damaged(
    const ArchiveDir& dir, index::Index& idx, std::vector<Item>& items, ExportSummary& summary,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  std::vector<std::string> lines;                        // in the order of `items`
  std::unordered_map<std::string, std::string> damaged;  // record id -> why
  // Requests and articles left out of captures that are exported.
  std::unordered_map<const Item*, std::string> part_damaged;
  std::uint64_t done = 0;
  for (Item& it : items) {
    const index::CaptureRow row = row_of(idx, it);
    if (!it.unresolved.empty()) damaged.emplace(it.record_id, it.unresolved);
    std::optional<Checked> response;
    try {
      response = read_capture(dir, row);
    } catch (const std::exception& e) {
      damaged.emplace(it.record_id, e.what());
    }
    std::string parts;
    if (response && row.request_length > 0) {
      try {
        read_request(dir, row, response->record);
      } catch (const std::exception& e) {
        parts = std::string("its request record is left out: ") + e.what();
        it.with_request = false;
      }
    }
    if (const auto article = articles_of(idx, it, row).own) {
      try {
        read_article(dir, *article, row);
      } catch (const std::exception& e) {
        parts += std::string(parts.empty() ? "" : "; ") + "its article is left out: " + e.what();
        it.with_article = false;
      }
    }
    if (!parts.empty()) part_damaged.emplace(&it, std::move(parts));
    if (progress) progress(++done, 2 * items.size());
  }

  std::unordered_map<std::string_view, const Item*> by_id;
  for (const Item& it : items) by_id.emplace(it.record_id, &it);
  // Why `it` cannot be exported whole: its own records, or those of the record holding its
  // payload (a revisit's target, which may be a revisit in turn); empty when it can.
  auto why_not = [&](const Item& it) -> std::string {
    const Item* at = &it;
    for (int hop = 0; hop <= kMaxRevisitHops && at; ++hop) {
      if (auto d = damaged.find(at->record_id); d != damaged.end())
        return at == &it
                   ? d->second
                   : "it is a revisit of record " + at->record_id + " (capture " +
                         row_of(idx, *at).capture_id + "), which cannot be exported: " + d->second;
      if (!at->revisit) break;
      auto next = by_id.find(at->payload_from);
      at = next == by_id.end() ? nullptr : next->second;
    }
    return {};
  };
  std::vector<std::string> why(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) why[i] = why_not(items[i]);
  // A capture added only because a revisit refers to it stays while a kept revisit does.
  std::unordered_set<std::string_view> needed;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].selected || !why[i].empty()) continue;
    for (const Item* at = &items[i]; at->revisit;) {
      auto next = by_id.find(at->payload_from);
      if (next == by_id.end() || !needed.insert(next->second->record_id).second) break;
      at = next->second;
    }
  }
  // Decided before any item moves: the views above point into the items.
  std::vector<bool> is_needed(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) is_needed[i] = needed.count(items[i].record_id);
  std::vector<Item> kept;
  for (std::size_t i = 0; i < items.size(); ++i) {
    Item& it = items[i];
    const auto part = part_damaged.find(&it);
    if (!it.selected) {
      if (why[i].empty() && is_needed[i]) {
        if (part != part_damaged.end())
          lines.push_back(named(row_of(idx, it)) +
                          ", added for the revisits that refer to it, is exported without "
                          "what is damaged: " +
                          part->second);
        kept.push_back(std::move(it));
      } else
        --summary.referenced;  // a damaged one is named with the revisits that refer to it
      continue;
    }
    if (why[i].empty()) {
      if (part != part_damaged.end())
        lines.push_back(named(row_of(idx, it)) +
                        " is exported without what is damaged: " + part->second);
      kept.push_back(std::move(it));
      continue;
    }
    --summary.captures;
    ++summary.skipped;
    lines.push_back(named(row_of(idx, it)) + " is left out: " + why[i]);
  }
  items = std::move(kept);
  if (summary.captures == 0)
    throw std::runtime_error("nothing to export: none of the " + std::to_string(summary.skipped) +
                             " selected captures can be exported (the first: " + lines.front() +
                             "); expected at least one that reads");
  return lines;
}

warc::WarcRecord export_warcinfo(const std::string& file_name, util::TimePoint created,
                                 const index::ListFilter& filter, std::uint64_t captures) {
  warc::WarcRecord r = build_warcinfo(file_name);
  r.set("WARC-Date", util::warc_date(created));
  r.block += "description: " + std::to_string(captures) +
             " captures exported from a Vellum archive by `vellum export` (" +
             describe_filter(filter) + ")\r\n";
  r.set("WARC-Block-Digest", util::warc_sha1(r.block));
  return r;
}

std::string stamp14_of(const std::string& warc_date) {
  auto t = util::parse_warc_date(warc_date);
  if (!t)
    throw std::runtime_error("found WARC-Date '" + warc_date +
                             "' in the index, expected "
                             "YYYY-MM-DDThh:mm:ss[.ffffff]Z; run `vellum reindex`");
  return util::stamp14(*t);
}

bool is_html(const std::string& mime) {
  return mime == "text/html" || mime == "application/xhtml+xml";
}

// One CDXJ line: "<SURT> <14-digit timestamp> <JSON>" (without its line end).
struct CdxjLine {
  std::string key, timestamp, line;
};

CdxjLine cdxj_line(const index::CaptureRow& row, const Copied& at) {
  CdxjLine c;
  // The key pywb computes for a URL when it looks it up, not the index's own.
  c.key = util::cdx_surt(row.url);
  c.timestamp = stamp14_of(row.date);
  ordered_json j;
  j["url"] = row.url;
  j["mime"] = row.record_type == "revisit" ? "warc/revisit" : (row.mime.empty() ? "unk" : row.mime);
  if (row.status > 0) j["status"] = std::to_string(row.status);
  // CDX tradition: a SHA-1 digest is its base32 form alone, also where the record (imported)
  // gives it in hexadecimal; another algorithm's stays as declared.
  if (!row.payload_digest.empty()) {
    const std::string d =
        util::canonical_warc_sha1(row.payload_digest).value_or(row.payload_digest);
    j["digest"] = d.starts_with("sha1:") ? d.substr(5) : d;
  }
  j["length"] = std::to_string(at.length);
  j["offset"] = std::to_string(at.offset);
  j["filename"] = std::string(kWaczWarcName);
  c.line = c.key + " " + c.timestamp + " " +
           j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return c;
}

std::optional<std::string> article_title(const index::ArticleRow& a) {
  if (a.title.empty()) return std::nullopt;
  return a.title;
}

void check_output(const fs::path& out, const fs::path& archive) {
  if (out.empty()) throw std::runtime_error("no output file given, expected -o OUT");
  if (out == "-")
    throw std::runtime_error(
        "cannot write an export to standard output (a WACZ is completed in place), expected a "
        "file name");
  const fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw std::runtime_error("cannot write " + out.string() + ": directory " + dir.string() +
                             " does not exist, expected an existing directory (create it first)");
  // A WACZ is completed in place and renamed over its name: no device, pipe or archive file.
  util::check_output_path(out, archive, false);
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "warc.gz") return ExportFormat::warc_gz;
  if (name == "wacz") return ExportFormat::wacz;
  return std::nullopt;
}

std::string_view export_format_name(ExportFormat f) {
  return f == ExportFormat::wacz ? "wacz" : "warc.gz";
}

std::optional<ExportFormat> export_format_of(const fs::path& file) {
  const std::string name = file.filename().string();
  if (name.ends_with(".wacz")) return ExportFormat::wacz;
  if (name.ends_with(".warc.gz")) return ExportFormat::warc_gz;
  return std::nullopt;
}

ExportSummary export_archive(ArchiveReader& reader, const ExportOptions& options) {
  check_output(options.output, reader.dir().root());
  ExportSummary summary;
  summary.file = options.output;
  // The plan is made in one read transaction, so that it sees the index at one moment whatever a
  // running vellumd commits meanwhile. Writing reads each row again by its record ID, outside it:
  // a transaction held that long would keep vellumd from checkpointing its log (or, on an index
  // `reindex` left out of WAL mode, from writing at all).
  index::Index& idx = reader.index();
  std::vector<Item> items;
  {
    index::ReadTransaction planning(idx);
    items = plan_export(idx, options.filter, options.skip_damaged, summary);
    planning.end();
  }
  // With skip_damaged the progress counts the checking pass and then the writing pass.
  const std::uint64_t passes = options.skip_damaged ? 2 : 1;
  if (options.skip_damaged)
    summary.left_out = drop_damaged(reader.dir(), idx, items, summary, options.progress);
  const util::TimePoint created = options.created.value_or(util::now());
  const bool wacz = options.format == ExportFormat::wacz;

  PendingFile out(options.output);
  std::optional<util::ZipWriter> zip;
  std::optional<WarcSink> sink;
  // The CDXJ lines and pages of a WACZ wait in a temporary database until the WARC is written.
  std::optional<index::LineSpool> spool;
  std::uint64_t index_bytes = 0, pages_bytes = 0;  // of the entries, each line with its end
  if (wacz) {
    util::ZipWriter::Options zo;
    zo.mtime = std::chrono::time_point_cast<std::chrono::system_clock::duration>(created);
    zip.emplace(out.fd(), zo);
    zip->begin_entry(std::string(kWaczWarcPath));
    sink.emplace(*zip);
    spool.emplace();
    spool->add(kPagesHeader);
    pages_bytes += kPagesHeader.size() + 1;
  } else {
    sink.emplace(out);
  }
  RecordCopier copier(*sink);

  const std::string warc_name =
      wacz ? std::string(kWaczWarcName) : options.output.filename().string();
  copier.write(export_warcinfo(warc_name, created, options.filter, summary.captures).serialize());

  std::uint64_t done = 0;
  for (const Item& it : items) {
    const index::CaptureRow row = row_of(idx, it);
    const Articles articles = articles_of(idx, it, row);
    std::string request, response, article;
    try {
      Checked stored = read_capture(reader.dir(), row);
      if (row.request_length > 0) request = read_request(reader.dir(), row, stored.record).bytes;
      response = std::move(stored.bytes);
      if (articles.own) article = read_article(reader.dir(), *articles.own, row).bytes;
    } catch (const std::exception& e) {
      if (options.skip_damaged) throw;  // changed since it was checked
      throw std::runtime_error(std::string(e.what()) +
                               " (`--skip-damaged` exports the captures that read and names the "
                               "rest)");
    }
    if (!request.empty()) copier.write(request);
    const Copied at = copier.write(response);
    if (!article.empty()) copier.write(article);
    if (wacz) {
      const CdxjLine cdxj = cdxj_line(row, at);
      spool->add_sorted(cdxj.key, cdxj.timestamp, cdxj.line);
      index_bytes += cdxj.line.size() + 1;
      const bool ok = row.status >= 200 && row.status < 300;
      if (it.selected && ok && (is_html(row.mime) || articles.title_from)) {
        ordered_json p;
        p["id"] = row.capture_id;
        p["url"] = row.url;
        p["ts"] = row.date;
        if (articles.title_from)
          if (auto title = article_title(*articles.title_from)) p["title"] = *title;
        const std::string line = p.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        spool->add(line);
        pages_bytes += line.size() + 1;
        ++summary.pages;
      }
    }
    ++done;
    if (options.progress)
      options.progress((passes - 1) * items.size() + done, passes * items.size());
  }
  summary.records = copier.records;

  if (wacz) {
    zip->end_entry();
    const std::uint64_t warc_size = sink->size();
    const std::string warc_hash = sink->sha256();
    // Streams one entry of `size` bytes from the spool, a line at a time (end_entry checks the
    // size); returns its hash.
    auto entry = [&](std::string_view path, bool sorted, std::uint64_t size) {
      zip->begin_entry(std::string(path), size);
      Sha256 sha;
      std::string buffer;
      auto flush = [&] {
        zip->write(buffer);
        sha.update(buffer);
        buffer.clear();
      };
      auto add = [&](std::string_view line) {
        buffer += line;
        buffer += '\n';
        if (buffer.size() >= (1u << 20)) flush();
      };
      if (sorted)
        spool->each_sorted(add);
      else
        spool->each(add);
      flush();
      zip->end_entry();
      return sha.finish();
    };
    const std::string index_hash = entry(kWaczIndexPath, true, index_bytes);
    const std::string pages_hash = entry(kWaczPagesPath, false, pages_bytes);
    spool.reset();

    auto resource = [](std::string_view path, const std::string& hash, std::uint64_t bytes) {
      ordered_json r;
      r["name"] = fs::path(path).filename().string();
      r["path"] = std::string(path);
      r["hash"] = hash;
      r["bytes"] = bytes;
      return r;
    };
    ordered_json dp;
    dp["profile"] = "data-package";
    dp["wacz_version"] = "1.1.1";
    dp["title"] = "Vellum export";
    dp["description"] = std::to_string(summary.captures) +
                        " captures exported from a Vellum archive (" +
                        describe_filter(options.filter) + ").";
    dp["created"] = util::warc_date(created);
    dp["software"] = "Vellum " VELLUM_VERSION;
    dp["resources"] = ordered_json::array({resource(kWaczWarcPath, warc_hash, warc_size),
                                           resource(kWaczIndexPath, index_hash, index_bytes),
                                           resource(kWaczPagesPath, pages_hash, pages_bytes)});
    const std::string datapackage =
        dp.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    zip->add_entry("datapackage.json", datapackage);
    ordered_json digest;
    digest["path"] = "datapackage.json";
    digest["hash"] = sha256_of(datapackage);
    zip->add_entry("datapackage-digest.json", digest.dump(2) + "\n");
    zip->finish();
  }
  summary.bytes = out.commit();
  return summary;
}

}  // namespace vellum::archive
