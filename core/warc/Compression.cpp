#include "warc/Compression.h"

#include "util/Text.h"

#include <zdict.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <numeric>
#include <stdexcept>

namespace vellum::warc {

std::string_view file_extension(Compression c) {
  switch (c) {
    case Compression::none:
      return ".warc";
    case Compression::gzip:
      return ".warc.gz";
    case Compression::zstd:
      return ".warc.zst";
  }
  return ".warc";
}

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::none:
      return "none";
    case Compression::gzip:
      return "gzip";
    case Compression::zstd:
      return "zstd";
  }
  return "none";
}

std::optional<Compression> parse_compression(std::string_view name) {
  std::string n = util::to_lower(name);
  if (n == "none" || n == "plain" || n == "warc") return Compression::none;
  if (n == "gzip" || n == "gz" || n == "warc.gz") return Compression::gzip;
  if (n == "zstd" || n == "zst" || n == "warc.zst") return Compression::zstd;
  return std::nullopt;
}

int max_level(Compression c) {
  switch (c) {
    case Compression::zstd:
      return 22;
    case Compression::gzip:
      return 9;
    case Compression::none:
      break;
  }
  return 0;
}

ZstdDictionary::ZstdDictionary(std::string raw, int level) : raw_(std::move(raw)) {
  if (raw_.size() < 8) throw std::invalid_argument("zstd dictionary: too short to be one");
  cdict_ = ZSTD_createCDict(raw_.data(), raw_.size(), level);
  ddict_ = ZSTD_createDDict(raw_.data(), raw_.size());
  if (!cdict_ || !ddict_) {
    ZSTD_freeCDict(static_cast<ZSTD_CDict*>(cdict_));
    ZSTD_freeDDict(static_cast<ZSTD_DDict*>(ddict_));
    throw std::invalid_argument("zstd dictionary: zstd cannot load these " +
                                std::to_string(raw_.size()) + " bytes as a dictionary");
  }
}

ZstdDictionary::~ZstdDictionary() {
  ZSTD_freeCDict(static_cast<ZSTD_CDict*>(cdict_));
  ZSTD_freeDDict(static_cast<ZSTD_DDict*>(ddict_));
}

unsigned ZstdDictionary::id() const {
  return ZSTD_getDictID_fromDict(raw_.data(), raw_.size());
}

std::string ZstdDictionary::train(const std::vector<std::string>& samples, std::size_t max_size) {
  std::string joined;
  std::vector<std::size_t> sizes;
  sizes.reserve(samples.size());
  joined.reserve(std::accumulate(samples.begin(), samples.end(), std::size_t{0},
                                 [](std::size_t n, const std::string& s) { return n + s.size(); }));
  for (const std::string& s : samples) {
    joined += s;
    sizes.push_back(s.size());
  }
  std::string dict(max_size, '\0');
  std::size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), joined.data(), sizes.data(),
                                        static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n))
    throw std::runtime_error(std::string("zstd dictionary training failed: ") +
                             ZDICT_getErrorName(n));
  dict.resize(n);
  return dict;
}

}  // namespace vellum::warc
