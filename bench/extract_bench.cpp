// Extraction benchmark: body quality on the Article Extraction Benchmark pages (scored by
// tools/aeb_score.py), title / date / author accuracy of the generic extractor on the fundus
// pages, and single-core throughput of page building plus extraction.
//
// Usage: extract_bench [SHARED_DIR] [--verbose]

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "extract/DateParser.h"
#include "extract/GenericExtractor.h"
#include "extract/PageBuilder.h"
#include "extract/TextUtil.h"

namespace fs = std::filesystem;
using nlohmann::json;
using vellum::extract::build_page_from_html;

// The document the generic extractor gets when it runs on a capture (no plugin for the page).
constexpr auto kScope = vellum::extract::DomScope::article;
using vellum::extract::GenericExtractor;

namespace {

std::string read_gz(const fs::path& p) {
  gzFile f = gzopen(p.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + p.string());
  std::string out;
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return json::parse(in);
}

double pct(int a, int n) {
  return n ? 100.0 * a / n : 0.0;
}

void aeb(const fs::path& shared, bool verbose) {
  fs::path dir = shared / "corpus" / "aeb";
  json gt = read_json(dir / "ground-truth.json");
  json pred = json::object();
  GenericExtractor ex;
  for (auto& [id, v] : gt.items()) {
    fs::path html = dir / "html" / (id + ".html.gz");
    if (!fs::exists(html)) continue;
    auto page = build_page_from_html(read_gz(html), v.value("url", ""), kScope);
    pred[id] = {{"articleBody", ex.extract(page).body_text()}};
  }
  fs::path out = fs::temp_directory_path() / "vellum-aeb-pred.json";
  std::ofstream(out) << pred.dump();
  std::cout << "AEB body (" << pred.size() << " pages): " << std::flush;
  std::string cmd = "python3 '" + (shared / "tools" / "aeb_score.py").string() + "' '" +
                    out.string() + "' '" + (dir / "ground-truth.json").string() + "'";
  if (std::system(cmd.c_str()) != 0) std::cout << "(scoring failed)\n";
  if (verbose) std::cout << "  predictions: " << out << "\n";
}

std::set<std::string> author_set(const std::vector<std::string>& v) {
  std::set<std::string> s;
  for (const auto& a : v) s.insert(vellum::extract::trim_ascii(a));
  return s;
}

void fundus(const fs::path& shared, bool verbose) {
  fs::path dir = shared / "corpus" / "fundus";
  json manifest = read_json(dir / "manifest.json");
  int n = 0, title_ok = 0, date_ok = 0, authors_ok = 0;
  GenericExtractor ex;
  for (const auto& row : manifest) {
    json exp =
        read_json(dir / row["expected"].get<std::string>())[row["expected_key"].get<std::string>()];
    auto page = build_page_from_html(read_gz(dir / row["html"].get<std::string>()),
                                     row["url"].get<std::string>(), kScope);
    auto a = ex.extract(page);
    ++n;
    // Exact after whitespace normalisation: two labels keep a trailing space or no-break space
    // that the page's title had, which an extractor trims.
    std::string et = vellum::extract::clean_text(exp.value("title", ""));
    bool t = a.title == et;
    std::string ed = vellum::extract::normalize_date(exp.value("publishing_date", ""));
    bool d = !ed.empty() && a.published.substr(0, 16) == ed.substr(0, 16);
    std::vector<std::string> ea = exp.value("authors", std::vector<std::string>{});
    bool au = author_set(a.authors) == author_set(ea);
    title_ok += t;
    date_ok += d;
    authors_ok += au;
    if (verbose && (!t || !d || !au)) {
      std::cout << "  " << row["html"].get<std::string>() << "\n";
      if (!t) std::cout << "    title: got '" << a.title << "' want '" << et << "'\n";
      if (!d) std::cout << "    date: got '" << a.published << "' want '" << ed << "'\n";
      if (!au) {
        std::cout << "    authors: got [";
        for (const auto& x : a.authors) std::cout << x << "; ";
        std::cout << "] want [";
        for (const auto& x : ea) std::cout << x << "; ";
        std::cout << "]\n";
      }
    }
  }
  std::printf("fundus metadata (%d pages): title %.1f%%  date %.1f%%  authors %.1f%%\n", n,
              pct(title_ok, n), pct(date_ok, n), pct(authors_ok, n));
}

void speed(const fs::path& shared) {
  std::vector<std::pair<std::string, std::string>> pages;
  for (const auto& e : fs::recursive_directory_iterator(shared / "corpus")) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() > 8 && name.substr(name.size() - 8) == ".html.gz")
      pages.emplace_back(read_gz(e.path()), "https://example.org/" + name);
  }
  // Runs `work` over every page for at least 3 s; prints wall and thread-CPU rates.
  auto measure = [&](const char* label, auto&& work) {
    auto cpu_now = [] {
      timespec ts{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
    };
    std::size_t done = 0, bytes = 0, sink = 0;
    auto start = std::chrono::steady_clock::now();
    double cpu_start = cpu_now();
    double secs = 0;
    while (secs < 3.0) {
      for (const auto& [html, url] : pages) {
        sink += work(html, url);
        bytes += html.size();
        ++done;
      }
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    double cpu = cpu_now() - cpu_start;
    std::printf(
        "speed, %s (one thread): %zu pages (%zu distinct, %.1f MB) in %.2f s wall / %.2f s CPU: "
        "%.1f pages/s wall, %.1f pages/s per CPU-second, %.1f MB/s per CPU-second%s\n",
        label, done, pages.size(), static_cast<double>(bytes) / 1e6, secs, cpu,
        static_cast<double>(done) / secs, static_cast<double>(done) / cpu,
        static_cast<double>(bytes) / cpu / 1e6, sink ? "" : " [no output]");
    return static_cast<double>(done) / cpu;
  };
  double parse = measure("libxml2 parse only", [](const std::string& html, const std::string& url) {
    return vellum::Document::parse(html, url)->root() ? std::size_t{1} : std::size_t{0};
  });
  GenericExtractor ex;
  double full = measure("page + generic extractor, whole DOM",
                        [&](const std::string& html, const std::string& url) {
                          auto page = build_page_from_html(html, url);
                          return ex.extract(page).body_text().size();
                        });
  double article = measure("page + generic extractor, as in capture",
                           [&](const std::string& html, const std::string& url) {
                             auto page = build_page_from_html(html, url, kScope);
                             return ex.extract(page).body_text().size();
                           });
  std::printf("extraction runs at %.2fx the parse-only rate (%.2fx with the whole DOM)\n",
              article / parse, full / parse);
}

}  // namespace

int main(int argc, char** argv) {
  fs::path shared = VELLUM_SHARED_DIR;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--verbose" || a == "-v")
      verbose = true;
    else
      shared = a;
  }
  try {
    aeb(shared, verbose);
    fundus(shared, verbose);
    speed(shared);
  } catch (const std::exception& e) {
    std::cerr << "extract_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
