#include "support/Corpus.h"

#include <algorithm>

#include "support/TempDir.h"

namespace vellum::test {

std::vector<SitePage> build_corpus_site(const std::filesystem::path& root, int copies) {
  namespace fs = std::filesystem;
  std::vector<SitePage> pages;
  fs::path base = root / "site";
  fs::create_directories(base);
  std::vector<fs::path> sources;
  for (const auto& de : fs::recursive_directory_iterator(corpus_dir()))
    if (de.is_regular_file() && de.path().string().ends_with(".html.gz"))
      sources.push_back(de.path());
  std::sort(sources.begin(), sources.end());
  for (const auto& src : sources) {
    fs::path rel = fs::relative(src, corpus_dir());
    std::string name = rel.string();
    name.resize(name.size() - 3);  // drop ".gz"
    fs::path out = base / name;
    fs::create_directories(out.parent_path());
    write_file(out, read_corpus_page(src));
    pages.push_back({"/site/" + name, out});
  }
  std::vector<SitePage> all = pages;
  for (int c = 1; c < copies; ++c) {
    fs::path link = root / ("copy" + std::to_string(c));
    fs::create_directory_symlink(base, link);
    for (const auto& p : pages)
      all.push_back({"/copy" + std::to_string(c) + p.path.substr(5), p.file});
  }
  return all;
}

}  // namespace vellum::test
