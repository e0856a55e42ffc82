// Per-record compression of WARC files: plain, gzip (one member per record) or zstd (one frame
// per record, IIPC "WARC Zstandard compression" proposal, optional dictionary).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::warc {

enum class Compression { none, gzip, zstd };

// ".warc", ".warc.gz", ".warc.zst"
std::string_view file_extension(Compression c);
// "none", "gzip", "zstd"
std::string_view compression_name(Compression c);
// Accepts "none"/"plain"/"warc", "gzip"/"gz"/"warc.gz", "zstd"/"zst"/"warc.zst".
std::optional<Compression> parse_compression(std::string_view name);

// The highest compression level: 22 for zstd, 9 for gzip, 0 for none (no levels). The lowest
// is 1.
int max_level(Compression c);

// Magic numbers from RFC 8878 and the WARC-zstd proposal.
inline constexpr std::uint32_t kZstdFrameMagic = 0xFD2FB528;
inline constexpr std::uint32_t kZstdDictionaryFrameMagic = 0x184D2A5D;

// A zstd dictionary shared by writer and reader. Holds the raw dictionary bytes and the
// prepared compression/decompression tables.
class ZstdDictionary {
 public:
  // `raw` is a dictionary as ZDICT_trainFromBuffer or `zstd --train` produce. Throws
  // std::invalid_argument when zstd cannot load it.
  explicit ZstdDictionary(std::string raw, int level = 3);
  ~ZstdDictionary();
  ZstdDictionary(const ZstdDictionary&) = delete;
  ZstdDictionary& operator=(const ZstdDictionary&) = delete;

  const std::string& bytes() const { return raw_; }
  unsigned id() const;
  const void* cdict() const { return cdict_; }  // ZSTD_CDict*
  const void* ddict() const { return ddict_; }  // ZSTD_DDict*

  // Trains a dictionary of at most `max_size` bytes from sample records.
  static std::string train(const std::vector<std::string>& samples, std::size_t max_size);

 private:
  std::string raw_;
  void* cdict_ = nullptr;
  void* ddict_ = nullptr;
};

}  // namespace vellum::warc
