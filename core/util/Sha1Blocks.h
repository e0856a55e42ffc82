// The SHA-1 compression function (FIPS 180-4, 6.1.2) over whole 64-byte blocks, with the
// implementations util::Sha1 chooses from. Internal to util/Digest; the tests check each one.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vellum::util::sha1 {

using BlockFunction = void (*)(std::uint32_t state[5], const unsigned char* data,
                               std::size_t blocks);

// The state before the first block (FIPS 180-4, 5.3.1).
inline constexpr std::uint32_t kInitialState[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
                                                   0xC3D2E1F0};

// Plain C++, for every processor.
void blocks_portable(std::uint32_t state[5], const unsigned char* data, std::size_t blocks);

// The x86 SHA extensions (SHA-NI); nullptr when this build or this processor has none.
BlockFunction blocks_sha_ni();

// libcrypto's, through SHA1_Transform, when libcrypto is already loaded in this process (the
// capturing programs load it for TLS); nullptr otherwise. Vellum does not link it for this.
BlockFunction blocks_libcrypto();

// The one to use, chosen once: the SHA extensions where the processor has them; else libcrypto's
// vector code where it is loaded (845 MB/s against the portable code's 604 on the reference
// machine with SHA-NI masked, docs/benchmarks.md); else the portable code.
BlockFunction blocks();

}  // namespace vellum::util::sha1
