// Writing WARC files: record encoding (compression) and the append-only file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "warc/Compression.h"
#include "warc/WarcRecord.h"

namespace vellum::warc {

struct EncoderOptions {
  Compression compression = Compression::zstd;
  int level = 3;                                     // zstd level (1..19) or gzip level (1..9)
  std::shared_ptr<const ZstdDictionary> dictionary;  // zstd only; optional
  bool compress_dictionary = true;  // store the dictionary zstd-compressed in its skippable frame
};

// Turns a serialised record into the bytes stored for it: one zstd frame with content size and
// checksum, one gzip member, or the bytes as they are. Thread-safe: workers may encode in
// parallel with one shared encoder.
class RecordEncoder {
 public:
  explicit RecordEncoder(EncoderOptions options);
  std::string encode(std::string_view serialized_record) const;
  // The same for a record given in consecutive pieces (header, block parts, trailer), so that
  // large blocks are compressed where they lie instead of being copied together first.
  std::string encode_parts(std::span<const std::string_view> parts) const;
  // Bytes every file starts with: the dictionary's skippable frame (magic 0x184D2A5D, 4-byte
  // little-endian length, dictionary raw or as one zstd frame); empty without a dictionary.
  std::string file_preamble() const;
  const EncoderOptions& options() const { return options_; }

 private:
  EncoderOptions options_;
};

// Whether another process holds `path` open as a WarcFile (its lock is taken). A file that
// cannot be opened is not being written.
bool is_being_written(const std::filesystem::path& path);

// An append-only WARC file on disk. Not thread-safe; the archive serialises access.
class WarcFile {
 public:
  // Creates `path` (must not exist: O_EXCL) and writes `preamble`. The file stays locked
  // (flock, exclusive) while this object lives, so that another process can tell a file being
  // written from one left open by a process that stopped (is_being_written).
  static std::unique_ptr<WarcFile> create(const std::filesystem::path& path,
                                          std::string_view preamble);
  // Opens an existing file for appending at its current end.
  static std::unique_ptr<WarcFile> open_append(const std::filesystem::path& path);
  ~WarcFile();
  WarcFile(const WarcFile&) = delete;
  WarcFile& operator=(const WarcFile&) = delete;

  // Appends encoded bytes (one or more records) in full; returns the offset they start at.
  // Throws std::system_error on a write error after cutting the file back to where it was, so
  // no partial record stays behind.
  std::uint64_t append(std::string_view bytes);
  // fdatasync; throws std::system_error on failure.
  void sync();
  // Cuts the file back to `size` bytes (dropping whole records appended after it) and makes
  // the cut durable; throws std::system_error on failure.
  void cut_back(std::uint64_t size);
  std::uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // fsync, close, rename to `final_path` (never over a file already there), fsync the
  // directory.
  void close_and_rename(const std::filesystem::path& final_path);

 private:
  WarcFile(std::filesystem::path path, int fd, std::uint64_t size);
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Renames `from` to `to` unless `to` exists: a closed WARC file is never replaced. Throws
// std::system_error (EEXIST when `to` is there).
void rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace vellum::warc
