// SHA-1 digests in the WARC "sha1:<base32>" form.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vellum::util {

// Incremental SHA-1 (FIPS 180-4), with the x86 SHA extensions where the processor has them.
class Sha1 {
 public:
  Sha1();
  ~Sha1();
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;

  void update(std::string_view data);
  std::array<std::uint8_t, 20> finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// RFC 4648 base32 (upper case, with '=' padding when the input is not a multiple of 5 bytes).
std::string base32(std::span<const std::uint8_t> bytes);

// "sha1:" + base32(SHA-1(data)), the form WARC-Block-Digest and WARC-Payload-Digest use.
std::string warc_sha1(std::string_view data);

// Same, for a digest already computed.
std::string warc_sha1(const std::array<std::uint8_t, 20>& digest);

// Whether a declared WARC digest ("sha1:" with the SHA-1 in base32, as Vellum writes, or in
// hexadecimal, as some other tools write; either case) is that of `data`. nullopt when the
// declaration names another algorithm or is not a well-formed SHA-1, so it cannot be checked.
std::optional<bool> warc_digest_matches(std::string_view declared, std::string_view data);
std::optional<bool> warc_digest_matches(std::string_view declared,
                                        const std::array<std::uint8_t, 20>& digest);

// A declared SHA-1 digest (base32 or hexadecimal, either case) in the form Vellum writes,
// "sha1:" + base32, so that two declarations can be compared; nullopt as above. A value that is
// not base32 or hexadecimal comes back as it is, in upper case, and so equals no digest.
std::optional<std::string> canonical_warc_sha1(std::string_view declared);

// Whether two declared SHA-1 digests name the same digest, in whatever forms they are written;
// false when either cannot be read as one.
bool same_warc_sha1(std::string_view a, std::string_view b);

}  // namespace vellum::util
