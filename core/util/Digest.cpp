#include "util/Digest.h"

#include "util/Sha1Blocks.h"

#include <algorithm>
#include <cstring>

namespace vellum::util {

// FIPS 180-4: the message in 64-byte blocks, then a 1 bit, zeros, and the length in bits.
struct Sha1::Impl {
  std::uint32_t state[5];
  unsigned char buffer[64];
  std::size_t buffered = 0;
  std::uint64_t length = 0;  // bytes
  sha1::BlockFunction compress = sha1::blocks();

  void reset() {
    std::memcpy(state, sha1::kInitialState, sizeof state);
    buffered = 0;
    length = 0;
  }
};

Sha1::Sha1() : impl_(std::make_unique<Impl>()) {
  impl_->reset();
}

Sha1::~Sha1() = default;

void Sha1::update(std::string_view data) {
  if (data.empty()) return;  // also a null view: memcpy must not be given a null pointer
  Impl& s = *impl_;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  s.length += n;
  if (s.buffered > 0) {
    const std::size_t take = std::min(n, sizeof s.buffer - s.buffered);
    std::memcpy(s.buffer + s.buffered, p, take);
    s.buffered += take;
    p += take;
    n -= take;
    if (s.buffered < sizeof s.buffer) return;
    s.compress(s.state, s.buffer, 1);
    s.buffered = 0;
  }
  if (n >= 64) {
    s.compress(s.state, p, n / 64);
    p += n / 64 * 64;
    n %= 64;
  }
  if (n > 0) {
    std::memcpy(s.buffer, p, n);
    s.buffered = n;
  }
}

std::array<std::uint8_t, 20> Sha1::finish() {
  Impl& s = *impl_;
  const std::uint64_t bits = s.length * 8;
  unsigned char tail[128] = {0x80};
  const std::size_t pad = (s.buffered < 56 ? 56 : 120) - s.buffered;
  for (int i = 0; i < 8; ++i) tail[pad + i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  update(std::string_view(reinterpret_cast<const char*>(tail), pad + 8));
  std::array<std::uint8_t, 20> out{};
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 4; ++j)
      out[4 * i + j] = static_cast<std::uint8_t>(s.state[i] >> (24 - 8 * j));
  s.reset();
  return out;
}

std::string base32(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  out.reserve((bytes.size() + 4) / 5 * 8);
  std::uint64_t buffer = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  while (out.size() % 8 != 0) out.push_back('=');
  return out;
}

std::string warc_sha1(std::string_view data) {
  Sha1 sha;
  sha.update(data);
  return warc_sha1(sha.finish());
}

std::string warc_sha1(const std::array<std::uint8_t, 20>& digest) {
  return "sha1:" + base32(digest);
}

std::optional<bool> warc_digest_matches(std::string_view declared, std::string_view data) {
  Sha1 sha;
  sha.update(data);
  return warc_digest_matches(declared, sha.finish());
}

std::optional<bool> warc_digest_matches(std::string_view declared,
                                        const std::array<std::uint8_t, 20>& digest) {
  auto canonical = canonical_warc_sha1(declared);
  if (!canonical) return std::nullopt;
  return *canonical == warc_sha1(digest);
}

std::optional<std::string> canonical_warc_sha1(std::string_view declared) {
  auto upper = [](std::string_view s) {
    std::string out(s);
    for (char& c : out)
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
  };
  std::size_t colon = declared.find(':');
  if (colon == std::string_view::npos || upper(declared.substr(0, colon)) != "SHA1")
    return std::nullopt;
  std::string value = upper(declared.substr(colon + 1));
  if (value.size() == 32) return "sha1:" + value;
  if (value.size() != 40) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::array<std::uint8_t, 20> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    int hi = nibble(value[2 * i]), lo = nibble(value[2 * i + 1]);
    if (hi < 0 || lo < 0) return "sha1:" + value;  // matches no digest
    bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return warc_sha1(bytes);
}

bool same_warc_sha1(std::string_view a, std::string_view b) {
  auto x = canonical_warc_sha1(a);
  return x && x == canonical_warc_sha1(b);
}

}  // namespace vellum::util
