#include "archive/Export.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "archive/RecordBuilder.h"
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
constexpr int kMaxRevisitHops = 10;
constexpr std::string_view kWaczWarcName = "data.warc.gz";
constexpr std::string_view kWaczWarcPath = "archive/data.warc.gz";
constexpr std::string_view kWaczIndexPath = "indexes/index.cdxj";
constexpr std::string_view kWaczPagesPath = "pages/pages.jsonl";
constexpr std::string_view kPagesHeader =
    R"({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})";

// The output file while it is written: a temporary file beside the target, renamed over it by
// commit(); removed again when the export fails.
class PendingFile {
 public:
  explicit PendingFile(fs::path target)
      : target_(std::move(target)),
        temp_(target_.string() + ".vellum-tmp-" + std::to_string(::getpid())) {
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw std::system_error(errno, std::generic_category(), "cannot create " + temp_.string());
  }
  ~PendingFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(temp_.c_str());
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
    fs::path dir = target_.parent_path().empty() ? fs::path(".") : target_.parent_path();
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return static_cast<std::uint64_t>(size);
  }

 private:
  fs::path target_;
  fs::path temp_;
  int fd_ = -1;
  bool committed_ = false;
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

// One capture to export. `selected`: chosen by the filter (else added because a selected revisit
// refers to it: its request and response are exported, not its article, and it is no page).
struct Item {
  index::CaptureRow row;
  bool selected = true;
  std::optional<index::ArticleRow> article;
  // The article that names the page: its own, or for a revisit stored without one, the article
  // of the capture holding the same payload.
  std::optional<index::ArticleRow> title_from;
};

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

std::vector<Item> plan_export(index::Index& idx, const index::ListFilter& filter,
                              ExportSummary& summary) {
  index::ListFilter f = filter;
  f.limit = -1;
  f.newest_first = false;
  std::vector<Item> items;
  for (auto& row : idx.list(f)) items.push_back({std::move(row), true, {}, {}});
  if (items.empty())
    throw std::runtime_error("nothing to export: no capture matches the selection (" +
                             describe_filter(filter) +
                             "); expected at least one (`vellum list` with the same options shows "
                             "what is selected)");
  summary.captures = items.size();

  // A revisit holds no payload: the record it refers to comes along, so that every revisit in
  // the export can be resolved within it.
  std::unordered_set<std::string> present;
  for (const auto& it : items) present.insert(it.row.record_id);
  const std::size_t selected = items.size();
  for (std::size_t i = 0; i < selected; ++i) {
    const index::CaptureRow* from = &items[i].row;
    for (int hop = 0; hop < kMaxRevisitHops && from->record_type == "revisit"; ++hop) {
      const std::string target = from->refers_to;
      if (target.empty() || present.count(target)) break;
      auto original = idx.by_record_id(target);
      if (!original)
        throw std::runtime_error("capture " + from->capture_id + " (" + from->url + ", " +
                                 from->date + ") is a revisit of record " + target +
                                 ", which the index does not hold; expected it in the archive "
                                 "(`vellum verify` checks the archive, `vellum reindex` rebuilds "
                                 "the index)");
      present.insert(target);
      items.push_back({std::move(*original), false, {}, {}});
      ++summary.referenced;
      from = &items.back().row;
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.row.date < b.row.date; });
  for (auto& it : items) {
    if (!it.selected) continue;
    it.article = idx.article(it.row.capture_id);
    it.title_from = it.article;
    if (!it.article && it.row.record_type == "revisit" && !it.row.refers_to.empty())
      it.title_from = idx.article(util::record_id_uuid(it.row.refers_to));
  }
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

// The bytes of the record stored at (file, offset, length), checked: it is the record the index
// names there and its block is the one its WARC-Block-Digest describes. Throws saying which
// record is wrong and how.
std::string read_checked(const ArchiveDir& dir, const std::string& file, std::uint64_t offset,
                         std::uint64_t length, std::string_view expected_type,
                         const std::string& expected_id) {
  const fs::path path = dir.warc_path(file);
  std::string bytes = warc::read_record_bytes_at(path, {offset, length});
  const std::string where = path.string() + ": offset " + std::to_string(offset);
  const std::size_t head = warc::header_length(bytes);
  warc::WarcRecord header;
  const std::uint64_t block_length =
      warc::parse_header(std::string_view(bytes).substr(0, head), header, path.string(), offset);
  if (header.type() != expected_type || (!expected_id.empty() && header.record_id() != expected_id))
    throw std::runtime_error(where + ": found a " + header.type() + " record " +
                             header.record_id() + ", expected the " + std::string(expected_type) +
                             " record " + expected_id +
                             " the index names there; the index is out of date: run `vellum "
                             "reindex`");
  if (block_length > bytes.size() - head)
    throw std::runtime_error(where + ": the " + header.type() + " record declares " +
                             std::to_string(block_length) + " bytes of content, found " +
                             std::to_string(bytes.size() - head));
  const std::string_view block = std::string_view(bytes).substr(head, block_length);
  if (const std::string* bd = header.field("WARC-Block-Digest");
      bd && util::warc_digest_matches(*bd, block) == false)
    throw std::runtime_error(where + ": the " + header.type() + " record " + header.record_id() +
                             " has block digest " + util::warc_sha1(block) + ", the record says " +
                             *bd + "; the stored data is damaged");
  return bytes;
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
// captures with a record that fails, the revisits whose payload lies in one of those, and the
// articles that fail (their captures stay). Returns one line for each thing left out.
std::vector<std::string> drop_damaged(
    const ArchiveDir& dir, std::vector<Item>& items, ExportSummary& summary,
    const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
  std::vector<std::string> lines;                        // in the order of `items`
  std::unordered_map<std::string, std::string> damaged;  // record id -> why
  std::unordered_map<const Item*, std::string> article_damaged;
  std::uint64_t done = 0;
  for (Item& it : items) {
    const index::CaptureRow& row = it.row;
    try {
      if (row.request_length > 0)
        read_checked(dir, row.file, row.request_offset, row.request_length, "request", {});
      read_checked(dir, row.file, row.offset, row.length, row.record_type, row.record_id);
    } catch (const std::exception& e) {
      damaged.emplace(row.record_id, e.what());
    }
    if (it.article) {
      try {
        read_checked(dir, it.article->file, it.article->offset, it.article->length, "metadata",
                     it.article->record_id);
      } catch (const std::exception& e) {
        article_damaged.emplace(&it, e.what());
        it.article.reset();
      }
    }
    if (progress) progress(++done, 2 * items.size());
  }

  std::unordered_map<std::string, const Item*> by_id;
  for (const Item& it : items) by_id.emplace(it.row.record_id, &it);
  // Why `it` cannot be exported whole: its own records, or those of the record holding its
  // payload (a revisit's target, which may be a revisit in turn); empty when it can.
  auto why_not = [&](const Item& it) -> std::string {
    const Item* at = &it;
    for (int hop = 0; hop <= kMaxRevisitHops && at; ++hop) {
      if (auto d = damaged.find(at->row.record_id); d != damaged.end())
        return at == &it ? d->second
                         : "it is a revisit of record " + at->row.record_id + " (capture " +
                               at->row.capture_id + "), which is damaged: " + d->second;
      if (at->row.record_type != "revisit") break;
      auto next = by_id.find(at->row.refers_to);
      at = next == by_id.end() ? nullptr : next->second;
    }
    return {};
  };
  std::vector<std::string> why(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) why[i] = why_not(items[i]);
  // A capture added only because a revisit refers to it stays while a kept revisit does.
  std::unordered_set<std::string> needed;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].selected || !why[i].empty()) continue;
    for (const Item* at = &items[i]; at->row.record_type == "revisit";) {
      auto next = by_id.find(at->row.refers_to);
      if (next == by_id.end() || !needed.insert(at->row.refers_to).second) break;
      at = next->second;
    }
  }
  std::vector<Item> kept;
  for (std::size_t i = 0; i < items.size(); ++i) {
    Item& it = items[i];
    if (!it.selected) {
      if (why[i].empty() && needed.count(it.row.record_id))
        kept.push_back(std::move(it));
      else
        --summary.referenced;  // a damaged one is named with the revisits that refer to it
      continue;
    }
    if (why[i].empty()) {
      if (auto a = article_damaged.find(&it); a != article_damaged.end())
        lines.push_back("the article of capture " + it.row.capture_id + " (" + it.row.url + ", " +
                        it.row.date + ") is left out, the capture is exported: " + a->second);
      kept.push_back(std::move(it));
      continue;
    }
    --summary.captures;
    ++summary.skipped;
    lines.push_back("capture " + it.row.capture_id + " (" + it.row.url + ", " + it.row.date +
                    ") is left out: " + why[i]);
  }
  items = std::move(kept);
  if (summary.captures == 0)
    throw std::runtime_error("nothing to export: all " + std::to_string(summary.skipped) +
                             " selected captures are damaged (`vellum verify` lists what is "
                             "wrong); expected at least one that reads");
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

// One CDXJ line: "<SURT> <14-digit timestamp> <JSON>".
struct CdxjLine {
  std::string key, timestamp, line;
};

CdxjLine cdxj_line(const index::CaptureRow& row, const Copied& at) {
  CdxjLine c;
  c.key = row.surt.empty() ? util::surt(row.url) : row.surt;
  c.timestamp = stamp14_of(row.date);
  ordered_json j;
  j["url"] = row.url;
  j["mime"] = row.record_type == "revisit" ? "warc/revisit" : (row.mime.empty() ? "unk" : row.mime);
  if (row.status > 0) j["status"] = std::to_string(row.status);
  // CDX tradition: a SHA-1 digest is its base32 form alone.
  if (!row.payload_digest.empty())
    j["digest"] =
        row.payload_digest.starts_with("sha1:") ? row.payload_digest.substr(5) : row.payload_digest;
  j["length"] = std::to_string(at.length);
  j["offset"] = std::to_string(at.offset);
  j["filename"] = std::string(kWaczWarcName);
  c.line = c.key + " " + c.timestamp + " " +
           j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
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
  std::vector<Item> items = plan_export(reader.index(), options.filter, summary);
  // With skip_damaged the progress counts the checking pass and then the writing pass.
  const std::uint64_t passes = options.skip_damaged ? 2 : 1;
  if (options.skip_damaged)
    summary.left_out = drop_damaged(reader.dir(), items, summary, options.progress);
  const util::TimePoint created = options.created.value_or(util::now());
  const bool wacz = options.format == ExportFormat::wacz;

  PendingFile out(options.output);
  std::optional<util::ZipWriter> zip;
  std::optional<WarcSink> sink;
  if (wacz) {
    util::ZipWriter::Options zo;
    zo.mtime = std::chrono::time_point_cast<std::chrono::system_clock::duration>(created);
    zip.emplace(out.fd(), zo);
    zip->begin_entry(std::string(kWaczWarcPath));
    sink.emplace(*zip);
  } else {
    sink.emplace(out);
  }
  RecordCopier copier(*sink);

  const std::string warc_name =
      wacz ? std::string(kWaczWarcName) : options.output.filename().string();
  copier.write(export_warcinfo(warc_name, created, options.filter, summary.captures).serialize());

  std::vector<CdxjLine> cdxj;
  std::string pages = std::string(kPagesHeader) + "\n";
  std::uint64_t done = 0;
  for (const Item& it : items) {
    const index::CaptureRow& row = it.row;
    std::string request, response, article;
    try {
      if (row.request_length > 0)
        request = read_checked(reader.dir(), row.file, row.request_offset, row.request_length,
                               "request", {});
      response = read_checked(reader.dir(), row.file, row.offset, row.length, row.record_type,
                              row.record_id);
      if (it.article)
        article = read_checked(reader.dir(), it.article->file, it.article->offset,
                               it.article->length, "metadata", it.article->record_id);
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
      cdxj.push_back(cdxj_line(row, at));
      const bool ok = row.status >= 200 && row.status < 300;
      if (it.selected && ok && (is_html(row.mime) || it.title_from)) {
        ordered_json p;
        p["id"] = row.capture_id;
        p["url"] = row.url;
        p["ts"] = row.date;
        if (it.title_from)
          if (auto title = article_title(*it.title_from)) p["title"] = *title;
        pages += p.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
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
    std::sort(cdxj.begin(), cdxj.end(), [](const CdxjLine& a, const CdxjLine& b) {
      return std::tie(a.key, a.timestamp, a.line) < std::tie(b.key, b.timestamp, b.line);
    });
    std::string index;
    for (const auto& c : cdxj) index += c.line;
    zip->add_entry(std::string(kWaczIndexPath), index);
    zip->add_entry(std::string(kWaczPagesPath), pages);

    auto resource = [](std::string_view path, const std::string& hash, std::uint64_t bytes) {
      ordered_json r;
      r["name"] = fs::path(path).filename().string();
      r["path"] = std::string(path);
      r["hash"] = hash;
      r["bytes"] = bytes;
      return r;
    };
    ordered_json dp;
    dp["profile"] = "wacz";
    dp["wacz_version"] = "1.2.0";
    dp["title"] = "Vellum export";
    dp["description"] = std::to_string(summary.captures) +
                        " captures exported from a Vellum archive (" +
                        describe_filter(options.filter) + ").";
    dp["created"] = util::warc_date(created);
    dp["software"] = "Vellum " VELLUM_VERSION;
    dp["resources"] =
        ordered_json::array({resource(kWaczWarcPath, warc_hash, warc_size),
                             resource(kWaczIndexPath, sha256_of(index), index.size()),
                             resource(kWaczPagesPath, sha256_of(pages), pages.size())});
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
