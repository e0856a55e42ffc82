#include "archive/ArchiveDir.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

#include "util/FileType.h"

namespace vellum::archive {

std::filesystem::path ArchiveDir::warc_path(const std::string& name) const {
  auto closed = warc_dir() / name;
  if (std::filesystem::exists(closed)) return closed;
  auto open = warc_dir() / (name + std::string(kOpenSuffix));
  if (std::filesystem::exists(open)) return open;
  return closed;
}

namespace {

std::filesystem::file_status status_of(const std::filesystem::path& p) {
  std::error_code ec;
  auto st = std::filesystem::status(p, ec);
  if (ec && st.type() == std::filesystem::file_type::none)
    throw std::runtime_error("cannot look at " + p.string() + ": " + ec.message());
  return st;
}

const std::string kNameOne = " (use --archive DIR to name one)";

}  // namespace

void ArchiveDir::check_readable() const {
  using std::filesystem::file_type;
  auto root = status_of(root_);
  if (root.type() == file_type::not_found)
    throw std::runtime_error("no archive at " + root_.string() + kNameOne);
  if (root.type() != file_type::directory)
    throw std::runtime_error("no archive at " + root_.string() + ": found " +
                             util::file_type_name(root.type()) + ", expected an archive directory" +
                             kNameOne);
  if (status_of(warc_dir()).type() == file_type::not_found &&
      status_of(index_file()).type() == file_type::not_found)
    throw std::runtime_error("no archive at " + root_.string() +
                             ": the directory has neither warc/ nor index.sqlite3 in it, expected "
                             "a directory written by `vellum archive` or vellumd" +
                             kNameOne);
}

void ArchiveDir::create_for_writing() const {
  using std::filesystem::file_type;
  for (const auto& dir : {root_, warc_dir()}) {
    auto st = status_of(dir);
    if (st.type() == file_type::not_found) continue;
    if (st.type() != file_type::directory)
      throw std::runtime_error("cannot write an archive at " + root_.string() + ": found " +
                               util::file_type_name(st.type()) + " at " + dir.string() +
                               ", expected a directory" + (dir == root_ ? kNameOne : ""));
  }
  std::error_code ec;
  std::filesystem::create_directories(warc_dir(), ec);
  if (ec)
    throw std::runtime_error("cannot create the archive directory " + warc_dir().string() + ": " +
                             ec.message());
}

bool is_warc_name(const std::string& name) {
  return name.ends_with(".warc") || name.ends_with(".warc.gz") || name.ends_with(".warc.zst");
}

std::vector<ArchiveDir::Entry> ArchiveDir::warc_files() const {
  std::vector<Entry> out;
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator(warc_dir(), ec)) {
    // What is not a regular file, or cannot be looked at (a symbolic link loop), is not ours.
    std::error_code type_ec;
    if (!de.is_regular_file(type_ec)) continue;
    std::string name = de.path().filename().string();
    bool open = name.ends_with(kOpenSuffix);
    if (open) name.resize(name.size() - kOpenSuffix.size());
    if (!is_warc_name(name)) continue;
    out.push_back({name, de.path(), open});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

std::string warc_file_name(const std::string& prefix, const std::string& stamp, unsigned serial,
                           const std::string& host, std::string_view extension) {
  char serial_text[8];
  std::snprintf(serial_text, sizeof serial_text, "%05u", serial % 100000);
  return prefix + "-" + stamp + "-" + serial_text + "-" + host + std::string(extension);
}

std::optional<unsigned> warc_file_serial(std::string_view name) {
  auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > name.size()) return false;
    for (std::size_t i = at; i < at + n; ++i)
      if (name[i] < '0' || name[i] > '9') return false;
    return true;
  };
  // PREFIX-STAMP-SERIAL-HOST: the prefix and the host may hold '-' themselves.
  for (std::size_t dash = name.find('-'); dash != std::string_view::npos;
       dash = name.find('-', dash + 1)) {
    const std::size_t stamp = dash + 1, serial = stamp + 18;
    if (digits(stamp, 17) && name.size() > serial + 5 && name[serial - 1] == '-' &&
        digits(serial, 5) && name[serial + 5] == '-') {
      unsigned n = 0;
      for (std::size_t i = serial; i < serial + 5; ++i) n = n * 10 + unsigned(name[i] - '0');
      return n;
    }
  }
  return std::nullopt;
}

std::string local_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string host(buf);
  for (char& c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_')) c = '_';
  return host;
}

}  // namespace vellum::archive
