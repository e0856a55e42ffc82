// A scratch directory removed when the test ends.
#pragma once

#include <filesystem>
#include <string>

namespace vellum::test {

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "t");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Reads a whole file; throws when it cannot.
std::string read_file(const std::filesystem::path& p);
void write_file(const std::filesystem::path& p, const std::string& data);

// ../shared/corpus next to the source tree.
std::filesystem::path corpus_dir();
// Decompressed bytes of a corpus file ending in .gz (or the bytes of any other file).
std::string read_corpus_page(const std::filesystem::path& p);

}  // namespace vellum::test
