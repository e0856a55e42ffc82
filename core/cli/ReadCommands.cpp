// `vellum restore|list|show|verify|reindex`.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <system_error>

#include "archive/ArchiveReader.h"
#include "archive/ArchiveWriter.h"
#include "archive/CaptureArticle.h"
#include "archive/Verifier.h"
#include "cli/Cli.h"
#include "extract/ArticleJson.h"
#include "plugins/PluginHost.h"
#include "util/Digest.h"
#include "util/OutputPath.h"
#include "util/Text.h"
#include "util/Time.h"
#include "util/Url.h"
#include "warc/HttpMessage.h"
#include "warc/WarcReader.h"

namespace vellum::cli {

namespace {

constexpr std::uint64_t kMaxDecoded = 4ull << 30;

// Writes `data` to PATH, or to stdout. A new name or a regular file is written atomically: the
// temporary file is created beside PATH under a fresh name that nobody can have prepared
// (mkostemp: O_EXCL, no symlink followed), then renamed over PATH; if PATH is a symbolic link,
// the link itself is replaced and whatever it pointed to is left alone. A character device or a
// pipe (/dev/null, /dev/stdout, a FIFO) is written into directly. util::check_output_path
// refuses anything else, and every path inside the archive.
void write_output(const std::string& path, std::string_view data,
                  const std::filesystem::path& archive) {
  if (path.empty() || path == "-") {
    std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
    std::cout.flush();
    if (!std::cout) throw std::runtime_error("cannot write to standard output");
    return;
  }
  auto write_all = [&](int fd) {  // 0, or the errno of the write that failed
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fd, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      off += static_cast<std::size_t>(n);
    }
    return 0;
  };
  if (util::check_output_path(path, archive, true) == util::OutputKind::stream) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
    int failed = write_all(fd);
    ::close(fd);
    if (failed) throw std::system_error(failed, std::generic_category(), "cannot write " + path);
    return;
  }
  std::string tmp = path + ".vellum-XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(), "cannot create a file beside " + path);
  auto fail = [&](const std::string& what) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    throw std::system_error(e, std::generic_category(), what);
  };
  // A file written over keeps its permissions (one kept private stays private); a new one gets
  // what the umask allows, as a file the shell's redirection creates.
  mode_t mask = ::umask(0);
  ::umask(mask);
  mode_t mode = 0666 & ~mask;
  if (struct stat st; ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
    mode = st.st_mode & 0777;
  if (::fchmod(fd, mode) != 0) fail("cannot set the mode of " + tmp);
  if (int failed = write_all(fd)) {
    errno = failed;
    fail("cannot write " + tmp);
  }
  if (::fsync(fd) != 0) fail("cannot write " + tmp);
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(e, std::generic_category(), "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(e, std::generic_category(), "cannot rename " + tmp + " to " + path);
  }
}

nlohmann::json row_json(const index::CaptureRow& r) {
  nlohmann::json j;
  j["capture_id"] = r.capture_id;
  j["url"] = r.url;
  j["date"] = r.date;
  j["status"] = r.status;
  j["mime"] = r.mime;
  j["type"] = r.record_type;
  j["payload_digest"] = r.payload_digest;
  if (!r.refers_to.empty()) j["refers_to"] = r.refers_to;
  if (!r.original_uri.empty()) j["original_uri"] = r.original_uri;
  if (!r.location.empty()) j["location"] = r.location;
  if (!r.ip.empty()) j["ip"] = r.ip;
  if (r.truncated) j["truncated"] = true;
  j["warc"] = {
      {"file", r.file}, {"offset", r.offset}, {"length", r.length}, {"record_id", r.record_id}};
  return j;
}

}  // namespace

std::string time_bound(const std::string& option, const std::string& text, bool upper) {
  if (text.empty()) return {};
  auto t = upper ? util::parse_ref_time(text) : util::parse_ref_time_start(text);
  if (!t)
    throw UsageError("cannot read " + option + " '" + text +
                     "': expected YYYY[MM[DD[hh[mm[ss]]]]] or YYYY-MM-DDThh:mm:ssZ");
  return util::warc_date(*t);
}

void print_json_line(const nlohmann::json& j) {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  std::cout.flush();
}

ProgressBar::ProgressBar(std::string label) : label_(std::move(label)), tty_(isatty(2)) {}

ProgressBar::~ProgressBar() {
  if (tty_ && last_permille_ >= 0) std::fputs("\r\033[K", stderr);
}

void ProgressBar::update(std::uint64_t done, std::uint64_t total) {
  if (!tty_ || total == 0) return;
  int permille = static_cast<int>(done * 1000 / total);
  if (permille == last_permille_) return;
  last_permille_ = permille;
  constexpr int kWidth = 30;
  int fill = permille * kWidth / 1000;
  std::fprintf(stderr, "\r%s [%.*s%*s] %5.1f%%", label_.c_str(), fill,
               "##############################", kWidth - fill, "", permille / 10.0);
  std::fflush(stderr);
}

// The article of a capture: the one stored at capture time, else extracted now from the
// stored payload (nothing is written). A stored article that cannot be read (a damaged record)
// is extracted again too, with a warning: the page it came from is what matters.
nlohmann::json capture_article(const GlobalOptions& g, archive::ArchiveReader& reader,
                               const index::CaptureRow& row) {
  std::string unreadable;
  if (auto a = reader.index().article(row.capture_id)) {
    try {
      nlohmann::json j = reader.article(*a);
      archive::add_response_location(j, row);
      return j;
    } catch (const std::exception& e) {
      unreadable = e.what();
    }
  }
  return extract_capture_article(g, reader, row, unreadable);
}

namespace {

// --json with -o: what was written where (the output itself went to the file).
void report_restored(const GlobalOptions& g, const RestoreOptions& o, const index::CaptureRow& row,
                     std::size_t bytes) {
  if (!g.json || o.output.empty() || o.output == "-") return;
  print_json_line({{"capture_id", row.capture_id},
                   {"url", row.url},
                   {"date", row.date},
                   {"format", o.format},
                   {"output", o.output},
                   {"bytes", bytes}});
}

}  // namespace

int run_restore(const GlobalOptions& g, const RestoreOptions& o) {
  archive::ArchiveReader reader(g.archive);
  index::CaptureRow row = reader.resolve(o.ref);
  if (o.format == "text" || o.format == "markdown" || o.format == "json") {
    index::CaptureRow target = o.no_follow ? row : reader.follow_redirects(row);
    nlohmann::json j = capture_article(g, reader, target);
    std::string out = o.format == "text" ? extract::article_text(j)
                      : o.format == "markdown"
                          ? extract::article_markdown(j) + "\n"
                          : j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    write_output(o.output, out, g.archive);
    report_restored(g, o, target, out.size());
    return 0;
  }
  if (o.format == "warc") {
    // The records are written as stored, damaged or not (they may be all there is to salvage),
    // but a block that does not match its digest is reported and fails the command.
    std::string out;
    int damaged = 0;
    auto add = [&](const warc::WarcRecord& rec) {
      if (const std::string* bd = rec.field("WARC-Block-Digest");
          bd && warc::block_digest_matches(rec) == false) {
        spdlog::error(
            "capture {}: the {} record {} has block digest {}, the record says {}; it "
            "is written as stored, damaged",
            row.capture_id, rec.type(), rec.record_id(), util::warc_sha1(rec.block), *bd);
        ++damaged;
      }
      out += rec.as_read();  // an imported record as its source wrote it
    };
    // A record that does not read whole (a compressed one failing its checksum, or cut short)
    // is written as far as its stored bytes decode, checksums unchecked.
    auto add_salvaged = [&](const char* what, warc::RecordLocation loc, auto read) {
      try {
        if (auto rec = read()) add(*rec);
        return;
      } catch (const warc::WarcFormatError&) {
      }
      std::string damage;
      const std::string bytes =
          warc::salvage_record_bytes_at(reader.dir().warc_path(row.file), loc, damage);
      spdlog::error(
          "capture {}: its {} record does not read whole ({}); the {} bytes it decodes "
          "to are written as they are",
          row.capture_id, what, damage, bytes.size());
      ++damaged;
      out += bytes;
    };
    if (row.request_length > 0)
      add_salvaged("request", {row.request_offset, row.request_length},
                   [&] { return reader.read_request(row); });
    add_salvaged(row.record_type.c_str(), {row.offset, row.length},
                 [&] { return std::optional<warc::WarcRecord>(reader.read_response(row)); });
    write_output(o.output, out, g.archive);
    report_restored(g, o, row, out.size());
    return damaged ? kExitFailure : kExitOk;
  }
  if (!o.no_follow) {
    index::CaptureRow target = reader.follow_redirects(row);
    if (target.capture_id != row.capture_id) {
      spdlog::info("{} redirected ({}); restoring {} captured {}", row.url, row.status, target.url,
                   target.date);
      row = std::move(target);
    }
  }
  archive::RestoredPayload p = reader.payload(row);
  std::string body = std::move(p.entity);
  if (const std::string ce = warc::body_codings(p.head.headers); !ce.empty()) {
    std::string error;
    // A capture cut at the size limit ends inside its coded data: what decodes is its start.
    bool partial = false;
    auto decoded =
        warc::decode_content(body, ce, kMaxDecoded, &error, p.complete ? nullptr : &partial);
    if (!decoded)
      throw std::runtime_error("capture " + row.capture_id +
                               ": cannot decode its content coding '" + ce + "': " + error);
    body = std::move(*decoded);
  }
  if (!p.complete)
    spdlog::warn("capture {} was cut at the size limit when captured; this is its first {} bytes",
                 row.capture_id, body.size());
  if (!o.no_follow && warc::is_redirect_status(row.status)) {
    // The index holds the Location, made absolute. follow_redirects also stops at a loop and
    // after ten hops, with the target captured.
    const std::string& location = row.location;
    const bool captured = !location.empty() && reader.index().latest(util::surt(location));
    spdlog::warn("capture {} is an HTTP {} redirect {}; this is the redirect's own body ({} bytes)",
                 row.capture_id, row.status,
                 location.empty() ? std::string("naming no Location")
                 : captured
                     ? "to " + util::terminal_safe(location) +
                           ", which is captured but not reached from here (a redirect loop, or "
                           "more than ten redirects)"
                     : "to " + util::terminal_safe(location) + ", which was not captured",
                 body.size());
  }
  write_output(o.output, body, g.archive);
  report_restored(g, o, row, body.size());
  return 0;
}

int run_list(const GlobalOptions& g, const ListOptions& o) {
  index::ListFilter f;
  f.domain = o.domain;
  f.since = time_bound("--since", o.since, false);
  f.until = time_bound("--until", o.until, true);
  f.limit = o.limit;
  archive::ArchiveReader reader(g.archive);
  // Printed as read: a whole archive's rows are not held.
  reader.index().each(f, [&](index::CaptureRow&& r) {
    if (g.json) {
      print_json_line(row_json(r));
    } else {
      // Fields of imported records are printed with their control characters escaped: a
      // WARC file from elsewhere does not get to drive the terminal.
      std::cout << r.date.substr(0, 19) << "Z  " << r.status << "  "
                << util::terminal_safe(r.capture_id) << "  " << util::terminal_safe(r.url)
                << (r.record_type == "revisit" ? "  (revisit)" : "") << "\n";
    }
  });
  return 0;
}

int run_show(const GlobalOptions& g, const std::string& ref) {
  archive::ArchiveReader reader(g.archive);
  index::CaptureRow row = reader.resolve(ref);
  warc::WarcRecord rec = reader.read_response(row);
  nlohmann::json j = row_json(row);
  auto head = warc::parse_http_head(rec.block);
  if (head) {
    nlohmann::json headers = nlohmann::json::array();
    for (const auto& [k, v] : head->headers) headers.push_back({k, v});
    j["http_headers"] = headers;
  }
  if (g.json) {
    print_json_line(j);
    return 0;
  }
  // Imported records may carry control characters: escaped, as util::terminal_safe does.
  auto t = [](const std::string& v) { return util::terminal_safe(v); };
  std::cout << "capture_id:     " << t(row.capture_id) << "\n"
            << "url:            " << t(row.url) << "\n"
            << "date:           " << row.date << "\n"
            << "status:         " << row.status << "\n"
            << "type:           " << t(row.record_type) << "\n"
            << "content type:   " << t(row.mime) << "\n"
            << "payload digest: " << t(row.payload_digest) << "\n";
  if (!row.refers_to.empty()) std::cout << "refers to:      " << t(row.refers_to) << "\n";
  if (!row.original_uri.empty()) std::cout << "original at:    " << t(row.original_uri) << "\n";
  if (!row.location.empty()) std::cout << "redirects to:   " << t(row.location) << "\n";
  if (!row.ip.empty()) std::cout << "server address: " << t(row.ip) << "\n";
  if (row.truncated) std::cout << "truncated:      yes (cut at the size limit)\n";
  std::cout << "warc:           " << row.file << " offset " << row.offset << " length "
            << row.length << "\n"
            << "record id:      " << t(row.record_id) << "\n";
  if (head) {
    std::cout << "http headers:\n";
    for (const auto& [k, v] : head->headers) std::cout << "  " << t(k) << ": " << t(v) << "\n";
  }
  return 0;
}

int run_verify(const GlobalOptions& g, const std::string& ref) {
  archive::ArchiveReader reader(g.archive);
  archive::VerifyReport report;
  if (!ref.empty()) {
    report = archive::verify_capture(reader, reader.resolve(ref));
  } else {
    ProgressBar bar("verifying");
    report = archive::verify_archive(
        reader, [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); });
  }
  for (const auto& p : report.problems) std::cerr << "vellum: verify: " << p << "\n";
  if (g.json) {
    print_json_line({{"ok", report.ok()},
                     {"files", report.files},
                     {"records", report.records},
                     {"captures", report.captures},
                     {"problems", report.problems}});
  } else if (g.verbosity >= 0) {
    std::cout << (report.ok() ? "ok" : "FAILED") << ": " << report.records << " records in "
              << report.files << " files, " << report.captures << " captures checked";
    if (!report.ok()) std::cout << ", " << report.problems.size() << " problems";
    std::cout << "\n";
  }
  return report.ok() ? 0 : 1;
}

int run_reindex(const GlobalOptions& g) {
  archive::ReindexReport report;
  {
    ProgressBar bar("reindexing");
    report = archive::reindex(
        g.archive, [](const std::string& m) { spdlog::info(m); },
        [&](std::uint64_t done, std::uint64_t total) { bar.update(done, total); });
  }
  for (const auto& p : report.problems) std::cerr << "vellum: reindex: " << p << "\n";
  if (g.json)
    print_json_line(
        {{"files", report.files}, {"captures", report.captures}, {"problems", report.problems}});
  else if (g.verbosity >= 0)
    std::cout << "indexed " << report.captures << " captures from " << report.files
              << " WARC files\n";
  return report.problems.empty() ? 0 : 1;
}

}  // namespace vellum::cli
