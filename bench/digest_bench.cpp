// SHA-1 throughput of util::Sha1 (each implementation this processor runs) against libcrypto's
// SHA1(), on the bodies of the news corpus: every capture computes two SHA-1 digests over its
// response (WARC-Block-Digest and WARC-Payload-Digest).
//
//   build/bench/digest_bench [SHARED_DIR]
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "util/Digest.h"
#include "util/Sha1Blocks.h"

namespace {

std::string gunzip(const std::filesystem::path& path) {
  std::string out;
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  gzclose(f);
  return out;
}

template <typename F>
double seconds(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path shared = argc > 1 ? argv[1] : VELLUM_SHARED_DIR;
  std::vector<std::string> pages;
  std::size_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(shared / "corpus")) {
    if (e.path().string().ends_with(".html.gz")) {
      pages.push_back(gunzip(e.path()));
      bytes += pages.back().size();
    }
  }
  if (pages.empty()) {
    std::fprintf(stderr, "digest_bench: no pages under %s/corpus\n", shared.c_str());
    return 2;
  }
  constexpr int kRounds = 10;
  std::printf("%zu pages, %.1f MB, each digested %d times\n", pages.size(), bytes / 1e6, kRounds);
  unsigned sink = 0;
  auto report = [&](const char* name, double s) {
    std::printf("  %-34s %7.0f MB/s\n", name, bytes * kRounds / 1e6 / s);
  };
  report("libcrypto SHA1()", seconds([&] {
           for (int r = 0; r < kRounds; ++r)
             for (const auto& p : pages) {
               unsigned char d[20];
               SHA1(reinterpret_cast<const unsigned char*>(p.data()), p.size(), d);
               sink += d[0];
             }
         }));
  report("vellum Sha1 (as chosen)", seconds([&] {
           for (int r = 0; r < kRounds; ++r)
             for (const auto& p : pages) sink += vellum::util::warc_sha1(p)[5];
         }));
  auto blocks_only = [&](vellum::util::sha1::BlockFunction f) {
    return seconds([&] {
      for (int r = 0; r < kRounds; ++r)
        for (const auto& p : pages) {
          std::uint32_t st[5];
          std::memcpy(st, vellum::util::sha1::kInitialState, sizeof st);
          f(st, reinterpret_cast<const unsigned char*>(p.data()), p.size() / 64);
          sink += st[0];
        }
    });
  };
  report("  blocks, portable C++", blocks_only(&vellum::util::sha1::blocks_portable));
  if (auto libcrypto = vellum::util::sha1::blocks_libcrypto())
    report("  blocks, libcrypto SHA1_Transform", blocks_only(libcrypto));
  if (auto shani = vellum::util::sha1::blocks_sha_ni())
    report("  blocks, SHA extensions", blocks_only(shani));
  else
    std::printf("  (no SHA extensions on this processor)\n");
  return sink == 0xFFFFFFFF ? 1 : 0;
}
