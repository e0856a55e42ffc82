// Content-Encoding decoding, including its output cap against decompression bombs.
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <dlfcn.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "warc/HttpMessage.h"

namespace vellum::warc {
namespace {

const std::string kText =
    "<!doctype html><html><head><title>Brotli</title></head><body><p>Archived with Vellum. "
    "Archived with Vellum. Archived with Vellum.</p></body></html>\n";

// kText compressed with libbrotlienc (quality 11, window 22).
const unsigned char kTextBr[] = {
    0x1b, 0x93, 0x00, 0x48, 0x8c, 0x93, 0x5c, 0xfd, 0xe8, 0x96, 0x6e, 0x2e, 0x36, 0x0d, 0x6d, 0x25,
    0xda, 0x05, 0x0d, 0xc2, 0x44, 0x91, 0xbf, 0x15, 0x40, 0x78, 0x84, 0x38, 0xe5, 0x02, 0xe7, 0xb6,
    0x30, 0xc0, 0xc4, 0xdb, 0x09, 0x0f, 0x74, 0xa0, 0x3b, 0xe5, 0x30, 0xb0, 0xa4, 0x28, 0x6b, 0x1e,
    0xff, 0x13, 0x29, 0x24, 0x3d, 0xe0, 0x1e, 0xdf, 0x3c, 0xd6, 0x8d, 0xa0, 0x03, 0xf0, 0xe2, 0x7d,
    0x88, 0x31, 0x25, 0xaf, 0x2c, 0xc9, 0xdf, 0xa2, 0x58, 0xd2, 0x45, 0x1b, 0x02};

// 64 MiB of zero bytes compressed with libbrotlienc (quality 11, window 22): 106 bytes.
const unsigned char kZerosBr[] = {
    0xcb, 0xff, 0xff, 0x3f, 0xf8, 0x27, 0x00, 0xe2, 0xb1, 0x40, 0x20, 0xf7, 0xfe, 0x8f, 0xff, 0xff,
    0x7f, 0xf0, 0x4f, 0x00, 0xc4, 0x61, 0x11, 0x80, 0xee, 0xfd, 0x1f, 0xff, 0xff, 0xff, 0xe0, 0x9f,
    0x00, 0x88, 0xc3, 0x02, 0x00, 0xdd, 0xfb, 0x3f, 0xfe, 0xff, 0xff, 0xc1, 0x3f, 0x01, 0x10, 0x87,
    0x05, 0x00, 0xba, 0xf7, 0x7f, 0xfc, 0xff, 0xff, 0x83, 0x7f, 0x02, 0x20, 0x0e, 0x0b, 0x00, 0x74,
    0xef, 0xff, 0xf8, 0xff, 0xff, 0x07, 0xff, 0x04, 0x40, 0x1c, 0x16, 0x00, 0xe8, 0xde, 0xff, 0xf1,
    0xff, 0xff, 0x0f, 0xfe, 0x09, 0x80, 0x38, 0x2c, 0x00, 0xd0, 0xbd, 0xff, 0xcb, 0xff, 0xff, 0x3f,
    0xfc, 0x13, 0x00, 0x71, 0x58, 0x00, 0xa0, 0x7b, 0xff, 0x07};

std::string bytes_of(const unsigned char* p, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

// Deflates `total` bytes of `fill` (streamed, never held in memory) with the given window bits.
std::string deflate_stream(std::uint64_t total, int window_bits, char fill = '\0',
                           const std::string* data = nullptr) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string in = data ? *data : std::string(1 << 20, fill);
  if (data) total = data->size();
  std::string out;
  char buf[1 << 16];
  std::uint64_t left = total;
  int flush = Z_NO_FLUSH;
  do {
    std::size_t now = static_cast<std::size_t>(std::min<std::uint64_t>(left, in.size()));
    left -= now;
    flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
    zs.next_in = reinterpret_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(now);
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      deflate(&zs, flush);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&zs);
  return out;
}

std::string gzip(const std::string& s) {
  return deflate_stream(0, 15 + 16, 0, &s);
}
std::string zlib(const std::string& s) {
  return deflate_stream(0, 15, 0, &s);
}
std::string raw_deflate(const std::string& s) {
  return deflate_stream(0, -15, 0, &s);
}

std::string zstd(const std::string& s) {
  std::string out(ZSTD_compressBound(s.size()), '\0');
  std::size_t n = ZSTD_compress(out.data(), out.size(), s.data(), s.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A zstd stream of `total` zero bytes, compressed piece by piece.
std::string zstd_zeros(std::uint64_t total) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
  std::string in(1 << 20, '\0'), out;
  std::string buf(ZSTD_CStreamOutSize(), '\0');
  for (std::uint64_t left = total; left > 0;) {
    std::size_t now = static_cast<std::size_t>(std::min<std::uint64_t>(left, in.size()));
    left -= now;
    ZSTD_EndDirective mode = left == 0 ? ZSTD_e_end : ZSTD_e_continue;
    ZSTD_inBuffer ib{in.data(), now, 0};
    std::size_t rc;
    do {
      ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
      rc = ZSTD_compressStream2(cctx, &ob, &ib, mode);
      out.append(buf.data(), ob.pos);
    } while (mode == ZSTD_e_end ? rc != 0 : ib.pos < ib.size);
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

std::optional<std::string> decode(const std::string& data, std::string_view coding,
                                  std::string* error, std::uint64_t cap = 1 << 20) {
  return decode_content(data, coding, cap, error);
}

TEST(DecodeContent, EachCoding) {
  std::string error;
  EXPECT_EQ(decode(gzip(kText), "gzip", &error).value_or("?"), kText) << error;
  EXPECT_EQ(decode(gzip(kText), " X-GZIP ", &error).value_or("?"), kText) << error;
  EXPECT_EQ(decode(zlib(kText), "deflate", &error).value_or("?"), kText) << error;
  EXPECT_EQ(decode(raw_deflate(kText), "deflate", &error).value_or("?"), kText) << error;
  EXPECT_EQ(decode(bytes_of(kTextBr, sizeof kTextBr), "br", &error).value_or("?"), kText) << error;
  EXPECT_EQ(decode(zstd(kText), "zstd", &error).value_or("?"), kText) << error;
  EXPECT_EQ(decode(kText, "identity", &error).value_or("?"), kText) << error;
  EXPECT_EQ(decode(kText, "", &error).value_or("?"), kText) << error;
  // Two gzip members in a row are one gzip stream.
  EXPECT_EQ(decode(gzip("abc") + gzip("def"), "gzip", &error).value_or("?"), "abcdef") << error;
}

TEST(DecodeContent, SeveralCodingsAreUndoneInReverseOrder) {
  std::string error;
  // "gzip, zstd": gzip was applied first, zstd last.
  std::string twice = zstd(gzip(kText));
  EXPECT_EQ(decode(twice, "gzip, zstd", &error).value_or("?"), kText) << error;
  EXPECT_FALSE(decode(twice, "zstd, gzip", &error));
}

TEST(DecodeContent, UnknownCorruptOrTruncatedDataIsAnError) {
  std::string error;
  EXPECT_FALSE(decode(kText, "compress", &error));
  EXPECT_NE(error.find("compress"), std::string::npos) << error;

  std::string corrupt = gzip(kText);
  corrupt[corrupt.size() / 2] ^= 0x55;
  corrupt[corrupt.size() - 5] ^= 0x55;  // CRC as well
  error.clear();
  EXPECT_FALSE(decode(corrupt, "gzip", &error));
  EXPECT_FALSE(error.empty());

  for (auto [data, coding] :
       {std::pair{gzip(kText), "gzip"}, std::pair{zstd(kText), "zstd"},
        std::pair{bytes_of(kTextBr, sizeof kTextBr), "br"}, std::pair{zlib(kText), "deflate"}}) {
    error.clear();
    EXPECT_FALSE(decode(data.substr(0, data.size() / 2), coding, &error)) << coding;
    EXPECT_NE(error.find("ends early"), std::string::npos) << coding << ": " << error;
  }
  EXPECT_FALSE(decode("not brotli at all", "br", &error));
  EXPECT_FALSE(decode("not zstd", "zstd", &error));
}

// A body cut short (a capture stopped at its size cap) still gives what arrived when the caller
// asks for it, as extraction does; a whole body is not marked partial.
// `text` brotli-encoded by libbrotlienc, loaded at run time (Vellum decodes brotli and links
// only the decoder); empty when the library is not installed.
std::string brotli_encoded(const std::string& text) {
  void* lib = dlopen("libbrotlienc.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return {};
  using Compress =
      int (*)(int, int, int, std::size_t, const std::uint8_t*, std::size_t*, std::uint8_t*);
  auto compress = reinterpret_cast<Compress>(dlsym(lib, "BrotliEncoderCompress"));
  std::string out(text.size() + 1024, '\0');
  std::size_t size = out.size();
  const bool ok = compress && compress(5, 22, 0, text.size(),
                                       reinterpret_cast<const std::uint8_t*>(text.data()), &size,
                                       reinterpret_cast<std::uint8_t*>(out.data())) == 1;
  dlclose(lib);
  out.resize(ok ? size : 0);
  return out;
}

TEST(DecodeContent, DataCutShortGivesWhatArrivedWhenAskedFor) {
  std::string text;
  // Large enough for several zstd blocks (128 KiB each), which decode whole or not at all.
  std::uint32_t x = 1;
  for (int i = 0; i < 40000; ++i) {
    x = x * 1664525u + 1013904223u;  // numbers that do not repeat, so every block has its share
    text += "Paragraph " + std::to_string(x) + ". ";
  }
  std::vector<std::pair<std::string, const char*>> cases = {
      {gzip(text), "gzip"}, {zstd(text), "zstd"}, {zlib(text), "deflate"}};
  // Brotli holds decoded bytes back until its output buffer is asked for them again: more than
  // one buffer's worth (64 KiB) must come out of a cut body.
  if (std::string br = brotli_encoded(text); !br.empty()) cases.emplace_back(br, "br");
  for (const auto& [data, coding] : cases) {
    std::string error;
    bool partial = false;
    auto whole = decode_content(data, coding, 4 << 20, &error, &partial);
    ASSERT_TRUE(whole) << coding << ": " << error;
    EXPECT_EQ(*whole, text);
    EXPECT_FALSE(partial) << coding;
    auto cut = decode_content(data.substr(0, data.size() / 2), coding, 4 << 20, &error, &partial);
    ASSERT_TRUE(cut) << coding << ": " << error;
    EXPECT_TRUE(partial) << coding;
    EXPECT_GT(cut->size(), text.size() / 4) << coding;
    EXPECT_EQ(text.rfind(*cut, 0), 0u) << coding << ": not a prefix";
  }
}

TEST(DecodeContent, OutputIsCappedExactly) {
  std::string error;
  EXPECT_EQ(decode(gzip(kText), "gzip", &error, kText.size()).value_or("?"), kText);
  EXPECT_FALSE(decode(gzip(kText), "gzip", &error, kText.size() - 1));
  EXPECT_NE(error.find("limit of " + std::to_string(kText.size() - 1) + " bytes"),
            std::string::npos)
      << error;
  EXPECT_FALSE(decode(kText, "identity", &error, 10));
}

TEST(DecodeContent, GzipBombStopsAtTheCap) {
  const std::uint64_t kGiB = 1ull << 30;
  std::string bomb = deflate_stream(kGiB, 15 + 16);
  ASSERT_LT(bomb.size(), 2u << 20);  // about a thousandth of what it expands to
  std::string error;
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(decode(bomb, "gzip", &error, 8 << 20));
  EXPECT_NE(error.find("exceeds the limit of 8388608 bytes"), std::string::npos) << error;
  // Stopping at the cap means decoding about 8 MiB, not the whole GiB.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(DecodeContent, BrotliAndZstdBombsStopAtTheCap) {
  std::string error;
  std::string br = bytes_of(kZerosBr, sizeof kZerosBr);
  EXPECT_FALSE(decode(br, "br", &error, 1 << 20));
  EXPECT_NE(error.find("exceeds the limit"), std::string::npos) << error;
  auto all = decode(br, "br", &error, 64 << 20);  // the whole 64 MiB fits exactly
  ASSERT_TRUE(all) << error;
  EXPECT_EQ(all->size(), 64u << 20);
  EXPECT_EQ(all->find_first_not_of('\0'), std::string::npos);

  std::string z = zstd_zeros(1ull << 30);
  ASSERT_LT(z.size(), 1u << 20);
  EXPECT_FALSE(decode(z, "zstd", &error, 8 << 20));
  EXPECT_NE(error.find("exceeds the limit"), std::string::npos) << error;
}

// A body's codings are Content-Encoding's, then Transfer-Encoding's other than chunked (which
// the payload has already lost), in the order they were applied.
TEST(DecodeContent, BodyCodingsAreContentThenTransferCodings) {
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(
      body_codings(Headers{{"Content-Encoding", "gzip"}, {"Transfer-Encoding", "br, chunked"}}),
      "gzip, br");
  EXPECT_EQ(body_codings(Headers{{"transfer-encoding", "GZIP"}, {"Content-Length", "9"}}), "gzip");
  EXPECT_EQ(body_codings(Headers{{"Transfer-Encoding", "chunked"}}), "");
  EXPECT_EQ(body_codings(Headers{{"Content-Encoding", "identity"}}), "");
  std::string error;
  const std::string both = zstd(gzip(kText));  // gzip as content coding, zstd as transfer coding
  EXPECT_EQ(decode(both,
                   body_codings(Headers{{"Content-Encoding", "gzip"},
                                        {"Transfer-Encoding", "zstd, chunked"}}),
                   &error)
                .value_or("?"),
            kText)
      << error;
}

}  // namespace
}  // namespace vellum::warc
