// URL parsing, canonical keys (SURT), relative resolution and source domains on arbitrary
// text. A parsed URL must survive a second round unchanged.
#include <cstdint>
#include <string>

#include "util/Url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto split = text.find('\n');
  std::string a = text.substr(0, split);
  std::string b = split == std::string::npos ? std::string() : text.substr(split + 1);
  (void)vellum::util::surt(a);
  if (auto u = vellum::util::parse_url(a)) (void)vellum::util::source_domain(u->host);
  std::string joined = vellum::util::resolve_url(a, b);
  (void)vellum::util::surt(joined);
  (void)vellum::util::parse_url(joined);
  return 0;
}
