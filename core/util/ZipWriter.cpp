#include "util/ZipWriter.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <limits>
#include <stdexcept>
#include <system_error>

namespace vellum::util {

namespace {

// Signatures and fixed values from APPNOTE 6.3.
constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEnd = 0x06054b50;
constexpr std::uint32_t kZip64End = 0x06064b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
constexpr std::uint16_t kVersionStored = 10;          // 1.0: stored entries
constexpr std::uint16_t kVersionZip64 = 45;           // 4.5: ZIP64 extensions
constexpr std::uint16_t kMadeByUnix = (3 << 8) | 63;  // UNIX, APPNOTE 6.3
constexpr std::uint16_t kFlagUtf8 = 1 << 11;
constexpr std::uint32_t kFull32 = 0xFFFFFFFF;
constexpr std::uint16_t kFull16 = 0xFFFF;
constexpr std::size_t kLocalFixed = 30;  // local header without name and extra field
constexpr std::size_t kLocalZip64Extra = 20;

void le16(std::string& out, std::uint64_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void le32(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void le64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

std::uint32_t crc32(std::string_view data, std::uint32_t crc) {
  return static_cast<std::uint32_t>(::crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()),
                                              static_cast<z_size_t>(data.size())));
}

ZipWriter::ZipWriter(int fd) : ZipWriter(fd, Options{}) {}

ZipWriter::ZipWriter(int fd, Options options) : fd_(fd), options_(options) {
  // MS-DOS time: two-second resolution, years from 1980.
  std::time_t t = std::chrono::system_clock::to_time_t(options_.mtime);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  int year = std::clamp(tm.tm_year + 1900, 1980, 2107);
  dos_date_ = static_cast<std::uint16_t>((year - 1980) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
  dos_time_ = static_cast<std::uint16_t>(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
}

void ZipWriter::check_writable(const char* what) const {
  if (finished_)
    throw std::logic_error(std::string("ZipWriter: ") + what +
                           " after finish(), expected it before");
  if (open_)
    throw std::logic_error(std::string("ZipWriter: ") + what + " while entry '" +
                           entries_.back().name + "' is open, expected end_entry() first");
}

void ZipWriter::check_name(const std::string& name) const {
  if (name.empty() || name.size() > 0xFFFF || name.front() == '/' ||
      name.find('\\') != std::string::npos || name.find('\0') != std::string::npos ||
      name == ".." || name.starts_with("../") || name.find("/../") != std::string::npos ||
      name.ends_with("/.."))
    throw std::invalid_argument("ZipWriter: found entry name '" + name +
                                "', expected a relative path with '/' separators and no '..'");
  for (const auto& e : entries_)
    if (e.name == name)
      throw std::invalid_argument("ZipWriter: found a second entry named '" + name +
                                  "', expected every name once");
}

void ZipWriter::put_at(std::uint64_t offset, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::system_error(errno, std::generic_category(), "write ZIP file");
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

void ZipWriter::put(std::string_view bytes) {
  put_at(pos_, bytes);
  pos_ += bytes.size();
}

std::string ZipWriter::local_header(const Entry& e, bool zip64) const {
  std::string h;
  h.reserve(kLocalFixed + e.name.size() + kLocalZip64Extra);
  le32(h, kLocalHeader);
  le16(h, zip64 ? kVersionZip64 : kVersionStored);
  le16(h, is_ascii(e.name) ? 0 : kFlagUtf8);
  le16(h, 0);  // method: stored
  le16(h, dos_time_);
  le16(h, dos_date_);
  le32(h, e.crc32);
  le32(h, zip64 ? kFull32 : e.size);  // compressed size
  le32(h, zip64 ? kFull32 : e.size);  // uncompressed size
  le16(h, e.name.size());
  le16(h, zip64 ? kLocalZip64Extra : 0);
  h += e.name;
  if (zip64) {
    // In a local header the ZIP64 field holds both sizes (APPNOTE 4.5.3).
    le16(h, kZip64ExtraId);
    le16(h, 16);
    le64(h, e.size);  // uncompressed
    le64(h, e.size);  // compressed
  }
  return h;
}

void ZipWriter::begin_entry(const std::string& name) {
  start_entry(name, std::nullopt);
}

void ZipWriter::begin_entry(const std::string& name, std::uint64_t size) {
  start_entry(name, size);
}

void ZipWriter::start_entry(const std::string& name, std::optional<std::uint64_t> size) {
  check_writable("begin_entry");
  check_name(name);
  Entry e;
  e.name = name;
  e.header_offset = pos_;
  // Of unknown size: room for the ZIP64 field. Sizes and CRC are filled in when the entry ends.
  e.zip64_local = !size || needs_zip64(*size);
  put(local_header(e, e.zip64_local));
  e.data_offset = pos_;
  entries_.push_back(std::move(e));
  open_ = true;
  announced_ = size;
}

void ZipWriter::write(std::string_view data) {
  if (!open_) throw std::logic_error("ZipWriter: write without an open entry");
  Entry& e = entries_.back();
  put(data);
  e.crc32 = crc32(data, e.crc32);
  e.size += data.size();
}

void ZipWriter::end_entry() {
  if (!open_) throw std::logic_error("ZipWriter: end_entry without an open entry");
  const Entry& e = entries_.back();
  if (announced_ && *announced_ != e.size)
    throw std::logic_error("ZipWriter: entry " + e.name + " was begun with " +
                           std::to_string(*announced_) + " bytes, " + std::to_string(e.size) +
                           " were written");
  open_ = false;
  put_at(e.header_offset, local_header(e, e.zip64_local));
}

void ZipWriter::add_entry(const std::string& name, std::string_view data) {
  check_writable("add_entry");
  start_entry(name, data.size());
  write(data);
  end_entry();
}

std::uint64_t ZipWriter::data_offset() const {
  if (!open_) throw std::logic_error("ZipWriter: data_offset without an open entry");
  return entries_.back().data_offset;
}

std::uint64_t ZipWriter::entry_size() const {
  if (!open_) throw std::logic_error("ZipWriter: entry_size without an open entry");
  return entries_.back().size;
}

void ZipWriter::finish() {
  check_writable("finish");
  const std::uint64_t cd_offset = pos_;
  std::string cd;
  for (const Entry& e : entries_) {
    // An entry whose local header carries the ZIP64 field carries it here too: a reader that
    // takes a central entry without extra fields to mean a local header without them (as
    // ReplayWeb.page does, to save a read) would otherwise look for the data too early.
    const bool big_size = needs_zip64(e.size) || e.zip64_local;
    const bool big_offset = needs_zip64(e.header_offset);
    std::string extra;
    if (big_size) {
      le64(extra, e.size);  // uncompressed
      le64(extra, e.size);  // compressed
    }
    if (big_offset) le64(extra, e.header_offset);
    const bool zip64 = !extra.empty();
    le32(cd, kCentralHeader);
    le16(cd, kMadeByUnix);
    le16(cd, zip64 || e.zip64_local ? kVersionZip64 : kVersionStored);
    le16(cd, is_ascii(e.name) ? 0 : kFlagUtf8);
    le16(cd, 0);  // stored
    le16(cd, dos_time_);
    le16(cd, dos_date_);
    le32(cd, e.crc32);
    le32(cd, big_size ? kFull32 : e.size);
    le32(cd, big_size ? kFull32 : e.size);
    le16(cd, e.name.size());
    le16(cd, zip64 ? extra.size() + 4 : 0);
    le16(cd, 0);                             // comment length
    le16(cd, 0);                             // disk number start
    le16(cd, 0);                             // internal attributes
    le32(cd, std::uint32_t{0100644} << 16);  // external attributes: a regular file, rw-r--r--
    le32(cd, big_offset ? kFull32 : e.header_offset);
    cd += e.name;
    if (zip64) {
      le16(cd, kZip64ExtraId);
      le16(cd, extra.size());
      cd += extra;
    }
  }
  put(cd);
  const std::uint64_t cd_size = cd.size();
  const std::uint64_t count = entries_.size();
  const bool zip64_end =
      count >= options_.zip64_entry_threshold || needs_zip64(cd_size) || needs_zip64(cd_offset);
  std::string end;
  if (zip64_end) {
    const std::uint64_t end64_offset = pos_;
    le32(end, kZip64End);
    le64(end, 44);  // size of the rest of this record
    le16(end, kMadeByUnix);
    le16(end, kVersionZip64);
    le32(end, 0);  // this disk
    le32(end, 0);  // disk with the central directory
    le64(end, count);
    le64(end, count);
    le64(end, cd_size);
    le64(end, cd_offset);
    le32(end, kZip64Locator);
    le32(end, 0);  // disk with the ZIP64 end record
    le64(end, end64_offset);
    le32(end, 1);  // disks in all
  }
  const bool big_count = count >= options_.zip64_entry_threshold;
  le32(end, kEnd);
  le16(end, 0);
  le16(end, 0);
  le16(end, big_count ? kFull16 : count);
  le16(end, big_count ? kFull16 : count);
  le32(end, zip64_end && needs_zip64(cd_size) ? kFull32 : cd_size);
  le32(end, zip64_end && needs_zip64(cd_offset) ? kFull32 : cd_offset);
  le16(end, 0);  // comment length
  put(end);
  finished_ = true;
}

}  // namespace vellum::util
