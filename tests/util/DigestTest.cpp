// SHA-1 as the WARC digests use it: the published test vectors, and the same digest as
// libcrypto's for every length and every way of feeding the data in, on each implementation.
#include <gtest/gtest.h>

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cctype>
#include <cstring>
#include <random>
#include <string>

#include "util/Digest.h"
#include "util/Sha1Blocks.h"

namespace vellum::util {
namespace {

std::string hex(const std::array<std::uint8_t, 20>& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (auto b : d) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string sha1_hex(std::string_view data) {
  Sha1 sha;
  sha.update(data);
  return hex(sha.finish());
}

std::string openssl_hex(std::string_view data) {
  std::array<std::uint8_t, 20> d{};
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data());
  return hex(d);
}

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

// FIPS 180-4 examples (NIST CSRC) and the million-'a' vector of RFC 3174.
TEST(Sha1, PublishedVectors) {
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  EXPECT_EQ(sha1_hex(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

// Every length around the block and padding boundaries, and a large buffer, fed whole and in
// random pieces, against libcrypto; finish() starts the next digest afresh.
TEST(Sha1, SameAsLibcryptoForEveryLengthAndSplit) {
  std::mt19937 rng(1234);
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  lengths.push_back(1 << 20);
  lengths.push_back((1 << 20) + 55);
  Sha1 reused;
  reused.update("a");
  reused.update(std::string_view{});  // a null view changes nothing
  EXPECT_EQ(hex(reused.finish()), openssl_hex("a"));
  for (std::size_t n : lengths) {
    const std::string data = random_bytes(rng, n);
    const std::string want = openssl_hex(data);
    EXPECT_EQ(sha1_hex(data), want) << n << " bytes";
    std::size_t at = 0;
    while (at < n) {
      const std::size_t piece = std::min<std::size_t>(n - at, rng() % 150);
      reused.update(std::string_view(data).substr(at, piece));
      at += piece;
    }
    EXPECT_EQ(hex(reused.finish()), want) << n << " bytes in pieces";
  }
}

// Each implementation gives the same state as the portable one on the same blocks (the digests
// above were made by the one chosen for this processor). This program links libcrypto, so its
// SHA1_Transform is found; the SHA extensions are checked where the processor has them.
TEST(Sha1, EachImplementationComputesTheSameBlocks) {
  ASSERT_NE(sha1::blocks_libcrypto(), nullptr);
  std::vector<std::pair<const char*, sha1::BlockFunction>> engines = {
      {"libcrypto", sha1::blocks_libcrypto()}};
  if (auto shani = sha1::blocks_sha_ni()) engines.emplace_back("SHA-NI", shani);
  EXPECT_EQ(sha1::blocks(),
            sha1::blocks_sha_ni() ? sha1::blocks_sha_ni() : sha1::blocks_libcrypto());
  std::mt19937 rng(99);
  for (std::size_t blocks : {1u, 2u, 3u, 17u, 1000u}) {
    const std::string data = random_bytes(rng, blocks * 64);
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    std::uint32_t want[5];
    std::memcpy(want, sha1::kInitialState, sizeof want);
    std::uint32_t start[5];
    std::memcpy(start, want, sizeof want);
    sha1::blocks_portable(want, p, blocks);
    for (const auto& [name, engine] : engines) {
      std::uint32_t got[5];
      std::memcpy(got, start, sizeof start);
      engine(got, p, blocks);
      EXPECT_EQ(0, std::memcmp(want, got, sizeof want)) << name << ", " << blocks << " blocks";
    }
  }
}

// A declared digest is compared in any of the forms crawlers write: base32 or hexadecimal, in
// either case; another algorithm cannot be checked, and a value that is neither form matches
// nothing.
TEST(WarcDigest, DeclaredFormsCompareAsTheSameDigest) {
  const std::string data = "hello";
  const std::string base32 = warc_sha1(data);  // "sha1:" + 32 base32 digits
  const std::string hexed = "sha1:" + sha1_hex(data);
  std::string lower = base32;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string upper_hex = "SHA1:" + sha1_hex(data);
  for (char& c : upper_hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& form : {base32, hexed, lower, upper_hex}) {
    EXPECT_EQ(canonical_warc_sha1(form), base32) << form;
    EXPECT_EQ(warc_digest_matches(form, data), true) << form;
    EXPECT_EQ(warc_digest_matches(form, "hellO"), false) << form;
    EXPECT_TRUE(same_warc_sha1(form, hexed)) << form;
  }
  EXPECT_EQ(canonical_warc_sha1("md5:5d41402abc4b2a76b9719d911017c592"), std::nullopt);
  EXPECT_EQ(canonical_warc_sha1("sha1:ABC"), std::nullopt);
  EXPECT_EQ(warc_digest_matches("sha1", data), std::nullopt);
  std::string not_hex = hexed;
  not_hex[7] = 'x';
  EXPECT_EQ(warc_digest_matches(not_hex, data), false);
  EXPECT_NE(canonical_warc_sha1(not_hex), base32);
  EXPECT_FALSE(same_warc_sha1(not_hex, base32));
  EXPECT_FALSE(same_warc_sha1("md5:x", "md5:x"));
}

}  // namespace
}  // namespace vellum::util
