#include "archive/ArchiveDir.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace vellum::archive {

std::filesystem::path ArchiveDir::warc_path(const std::string& name) const {
  auto closed = warc_dir() / name;
  if (std::filesystem::exists(closed)) return closed;
  auto open = warc_dir() / (name + std::string(kOpenSuffix));
  if (std::filesystem::exists(open)) return open;
  return closed;
}

bool is_warc_name(const std::string& name) {
  return name.ends_with(".warc") || name.ends_with(".warc.gz") || name.ends_with(".warc.zst");
}

std::vector<ArchiveDir::Entry> ArchiveDir::warc_files() const {
  std::vector<Entry> out;
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator(warc_dir(), ec)) {
    if (!de.is_regular_file()) continue;
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

std::string local_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  std::string host(buf);
  for (char& c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_')) c = '_';
  return host;
}

}  // namespace vellum::archive
