// Writing ZIP files (PKWARE APPNOTE 6.3) whose entries are stored, not compressed: the container
// of WACZ packages, where WARC data must stay uncompressed in the ZIP so that readers can reach a
// record from its offset. ZIP64 records are written where sizes, offsets or the entry count
// need them.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::util {

class ZipWriter {
 public:
  struct Options {
    // Sizes and offsets at or above this value are written in ZIP64 form. 0xFFFFFFFF is the
    // format's own limit; tests lower it to exercise the ZIP64 records without writing 4 GiB.
    std::uint64_t zip64_threshold = 0xFFFFFFFF;
    // The same for the number of entries (the format's limit is 0xFFFF).
    std::uint64_t zip64_entry_threshold = 0xFFFF;
    // Modification time given to every entry (stored as MS-DOS local time, written in UTC).
    std::chrono::system_clock::time_point mtime = std::chrono::system_clock::now();
  };

  struct Entry {
    std::string name;
    std::uint64_t header_offset = 0;  // where its local header starts
    std::uint64_t data_offset = 0;    // where its data starts
    std::uint64_t size = 0;
    std::uint32_t crc32 = 0;
    bool zip64_local = false;  // its local header carries a ZIP64 extra field
  };

  // Writes to `fd`, an empty regular file open for writing (not owned). Each local header is
  // completed in place once its entry's data is written, so the file must allow pwrite.
  explicit ZipWriter(int fd);
  ZipWriter(int fd, Options options);

  // Starts a stored entry of unknown size; its data follows with write(). The local header
  // reserves a ZIP64 extra field so that the entry may grow past 4 GiB. Throws std::logic_error
  // when an entry is already open or the ZIP is finished.
  void begin_entry(const std::string& name);
  // Starts a stored entry of `size` bytes, to come with write() (ZIP64 fields only when needed).
  // end_entry() throws std::logic_error when another number of bytes was written.
  void begin_entry(const std::string& name, std::uint64_t size);
  void write(std::string_view data);
  void end_entry();
  // A whole stored entry whose data is at hand (ZIP64 fields only when needed).
  void add_entry(const std::string& name, std::string_view data);

  // Offset of the open entry's data in the ZIP file, and how much of it is written.
  std::uint64_t data_offset() const;
  std::uint64_t entry_size() const;

  // Writes the central directory and the end records. No entry may be open.
  void finish();

  std::uint64_t size() const { return pos_; }
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  void start_entry(const std::string& name, std::optional<std::uint64_t> size);
  void check_writable(const char* what) const;
  void check_name(const std::string& name) const;
  void put(std::string_view bytes);
  void put_at(std::uint64_t offset, std::string_view bytes);
  std::string local_header(const Entry& e, bool zip64) const;
  bool needs_zip64(std::uint64_t value) const { return value >= options_.zip64_threshold; }

  int fd_;
  Options options_;
  std::uint16_t dos_time_ = 0, dos_date_ = 0;
  std::optional<std::uint64_t> announced_;  // the size the open entry was begun with
  std::uint64_t pos_ = 0;
  std::vector<Entry> entries_;
  bool open_ = false;
  bool finished_ = false;
};

// CRC-32 (ISO 3309, as ZIP and gzip use) of `data`, continuing from `crc`.
std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0);

}  // namespace vellum::util
