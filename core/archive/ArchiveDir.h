// The layout of an archive directory: warc/, index.sqlite3, the writer lock.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vellum::archive {

inline constexpr std::string_view kOpenSuffix = ".open";

class ArchiveDir {
 public:
  explicit ArchiveDir(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path warc_dir() const { return root_ / "warc"; }
  std::filesystem::path index_file() const { return root_ / "index.sqlite3"; }
  std::filesystem::path lock_file() const { return root_ / "lock"; }
  std::filesystem::path articles_dir() const { return root_ / "articles"; }

  // Path of a WARC file by its final name: the closed file, or the ".open" one while it is
  // still being written (or was left behind by a process that died).
  std::filesystem::path warc_path(const std::string& name) const;

  // Every WARC file in warc/, sorted by name; `open` ones carry their ".open" suffix.
  struct Entry {
    std::string name;  // final name
    std::filesystem::path path;
    bool open = false;
  };
  std::vector<Entry> warc_files() const;

  // For readers: throws a std::runtime_error saying what was found when the root is not an
  // archive (nothing there, something other than a directory, or a directory with neither
  // warc/ nor an index in it).
  void check_readable() const;
  // For writers: creates the root and warc/ where they are missing; what stands in the way
  // (a file where a directory belongs) is named in the error.
  void create_for_writing() const;

 private:
  std::filesystem::path root_;
};

// "<prefix>-<YYYYMMDDhhmmssSSS>-<serial5>-<host>.warc.zst"
std::string warc_file_name(const std::string& prefix, const std::string& stamp, unsigned serial,
                           const std::string& host, std::string_view extension);

// The serial of a name warc_file_name made (the five digits after the 17-digit time stamp);
// nullopt for a name of another form.
std::optional<unsigned> warc_file_serial(std::string_view name);

// The machine's host name with characters unsafe in file names replaced by '_'.
std::string local_host_name();

bool is_warc_name(const std::string& name);

}  // namespace vellum::archive
