// robots.txt parsing and matching on arbitrary bytes: the file, then paths to check from the
// same input.
#include <cstdint>
#include <string>

#include "sources/Robots.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  auto split = all.find('\0');
  std::string_view body = all.substr(0, split);
  auto rules = vellum::sources::RobotsRules::parse(body, "vellum");
  (void)rules.crawl_delay();
  (void)rules.sitemaps();
  std::string_view paths = split == std::string_view::npos ? "/" : all.substr(split + 1);
  std::size_t start = 0;
  for (int n = 0; n < 16 && start <= paths.size(); ++n) {
    auto end = paths.find('\n', start);
    (void)rules.allowed(paths.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return 0;
}
