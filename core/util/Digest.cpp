#include "util/Digest.h"

// SHA-1 through libcrypto's direct functions rather than EVP: in OpenSSL 3 the first EVP digest
// of a process loads the configuration file and registers every algorithm of the default
// provider, about 1.5 ms that every `vellum restore` would pay at start-up. SHA-1 is fixed by the
// WARC format, so choosing an implementation through providers gains nothing here. The
// functions are marked deprecated in OpenSSL 3 but remain part of its API.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <stdexcept>

namespace vellum::util {

struct Sha1::Impl {
  SHA_CTX ctx;
};

Sha1::Sha1() : impl_(std::make_unique<Impl>()) {
  if (SHA1_Init(&impl_->ctx) != 1)
    throw std::runtime_error("SHA-1: libcrypto could not initialise a digest context");
}

Sha1::~Sha1() = default;

void Sha1::update(std::string_view data) {
  if (!data.empty()) SHA1_Update(&impl_->ctx, data.data(), data.size());
}

std::array<std::uint8_t, 20> Sha1::finish() {
  std::array<std::uint8_t, 20> out{};
  SHA1_Final(out.data(), &impl_->ctx);
  SHA1_Init(&impl_->ctx);
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
  if (value.size() == 32) return value == base32(digest);
  if (value.size() == 40) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string hex;
    for (std::uint8_t b : digest) {
      hex += kHex[b >> 4];
      hex += kHex[b & 15];
    }
    return value == hex;
  }
  return std::nullopt;
}

}  // namespace vellum::util
