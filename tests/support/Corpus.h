// The news pages of ../shared/corpus laid out as a static site for nginx.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vellum::test {

struct SitePage {
  std::string path;  // URL path, "/aeb/1234.html"
  std::filesystem::path file;
};

// Decompresses every corpus page under `root` (aeb/ and fundus/ pages, as .html files) and
// returns them. `copies` > 1 also serves the set under /copyN/ prefixes (symbolic links).
std::vector<SitePage> build_corpus_site(const std::filesystem::path& root, int copies = 1);

}  // namespace vellum::test
