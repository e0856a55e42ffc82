#include "util/Sha1Blocks.h"

#include <dlfcn.h>
// Only the SHA_CTX layout: libcrypto is found at run time when the process has loaded it.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define VELLUM_SHA1_X86 1
#endif

namespace vellum::util::sha1 {

namespace {

inline std::uint32_t rotl(std::uint32_t x, int n) {
  return (x << n) | (x >> (32 - n));
}

inline std::uint32_t load_be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// One round t of 80, with the message schedule kept as 16 words in a ring (w[t % 16] holds
// W[t] once round t has computed it). Unrolled by the template so that the round function and
// constant are fixed and the five variables rotate by name, not by moves.
template <int T>
inline void round(std::uint32_t a, std::uint32_t& b, std::uint32_t c, std::uint32_t d,
                  std::uint32_t& e, std::uint32_t (&w)[16]) {
  if constexpr (T >= 16)
    w[T % 16] = rotl(w[(T - 3) % 16] ^ w[(T - 8) % 16] ^ w[(T - 14) % 16] ^ w[T % 16], 1);
  std::uint32_t f, k;
  if constexpr (T < 20) {
    f = d ^ (b & (c ^ d));
    k = 0x5A827999;
  } else if constexpr (T < 40) {
    f = b ^ c ^ d;
    k = 0x6ED9EBA1;
  } else if constexpr (T < 60) {
    f = (b & c) | (d & (b | c));
    k = 0x8F1BBCDC;
  } else {
    f = b ^ c ^ d;
    k = 0xCA62C1D6;
  }
  e += rotl(a, 5) + f + k + w[T % 16];
  b = rotl(b, 30);
}

// Rounds T..T+4 with the variables renamed in turn instead of shifted.
template <int T>
inline void five_rounds(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c, std::uint32_t& d,
                        std::uint32_t& e, std::uint32_t (&w)[16]) {
  round<T>(a, b, c, d, e, w);
  round<T + 1>(e, a, b, c, d, w);
  round<T + 2>(d, e, a, b, c, w);
  round<T + 3>(c, d, e, a, b, w);
  round<T + 4>(b, c, d, e, a, w);
}

template <int... G>
inline void all_rounds(std::uint32_t& a, std::uint32_t& b, std::uint32_t& c, std::uint32_t& d,
                       std::uint32_t& e, std::uint32_t (&w)[16], std::integer_sequence<int, G...>) {
  (five_rounds<5 * G>(a, b, c, d, e, w), ...);
}

}  // namespace

void blocks_portable(std::uint32_t state[5], const unsigned char* data, std::size_t blocks) {
  std::uint32_t w[16];
  for (; blocks > 0; --blocks, data += 64) {
    for (int t = 0; t < 16; ++t) w[t] = load_be32(data + 4 * t);
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
    all_rounds(a, b, c, d, e, w, std::make_integer_sequence<int, 16>{});
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
  }
}

#ifdef VELLUM_SHA1_X86

namespace {

// Four rounds per instruction: the 80 rounds are 20 groups, and the message schedule is kept
// as four vectors of four words (group g's words replace group g - 4's).
struct ShaNiBlock {
  __m128i abcd, e, w[4];
  const unsigned char* data;
  __m128i shuffle;

  template <int G>
  __attribute__((target("sha,sse4.1"))) inline void group(__m128i& e_next) {
    __m128i wg;
    if constexpr (G < 4) {
      wg = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * G)),
                            shuffle);
    } else {
      wg = _mm_sha1msg2_epu32(
          _mm_xor_si128(_mm_sha1msg1_epu32(w[G % 4], w[(G + 1) % 4]), w[(G + 2) % 4]),
          w[(G + 3) % 4]);
    }
    w[G % 4] = wg;
    // E for these four rounds: the saved E plus the words in the first group, then A of four
    // rounds earlier rotated by 30 plus the words (SHA1NEXTE).
    const __m128i ew = G == 0 ? _mm_add_epi32(e_next, wg) : _mm_sha1nexte_epu32(e_next, wg);
    e_next = abcd;
    abcd = _mm_sha1rnds4_epu32(abcd, ew, G / 5);
  }

  template <int... G>
  __attribute__((target("sha,sse4.1"))) inline void rounds(std::integer_sequence<int, G...>) {
    __m128i e_next = e;
    (group<G>(e_next), ...);
    e = e_next;
  }
};

__attribute__((target("sha,sse4.1"))) void blocks_shani_impl(std::uint32_t state[5],
                                                             const unsigned char* data,
                                                             std::size_t blocks) {
  ShaNiBlock s;
  s.shuffle = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
  s.abcd = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(state)), 0x1B);
  __m128i e = _mm_set_epi32(static_cast<int>(state[4]), 0, 0, 0);
  for (; blocks > 0; --blocks, data += 64) {
    const __m128i abcd_saved = s.abcd, e_saved = e;
    s.data = data;
    s.e = e;
    s.rounds(std::make_integer_sequence<int, 20>{});
    // s.e is now ABCD before the last group: its A, rotated, is the new E.
    e = _mm_sha1nexte_epu32(s.e, e_saved);
    s.abcd = _mm_add_epi32(s.abcd, abcd_saved);
  }
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_shuffle_epi32(s.abcd, 0x1B));
  state[4] = static_cast<std::uint32_t>(_mm_extract_epi32(e, 3));
}

bool cpu_has_sha_ni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool sha = b & (1u << 29);
  return ssse3 && sse41 && sha;
}

}  // namespace

BlockFunction blocks_sha_ni() {
  static const bool available = cpu_has_sha_ni();
  return available ? &blocks_shani_impl : nullptr;
}

#else

BlockFunction blocks_sha_ni() {
  return nullptr;
}

#endif

namespace {

using Transform = void (*)(SHA_CTX*, const unsigned char*);

Transform libcrypto_transform() {
  static const Transform found = reinterpret_cast<Transform>(dlsym(RTLD_DEFAULT, "SHA1_Transform"));
  return found;
}

void blocks_libcrypto_impl(std::uint32_t state[5], const unsigned char* data, std::size_t blocks) {
  const Transform transform = libcrypto_transform();
  SHA_CTX ctx{};
  ctx.h0 = state[0];
  ctx.h1 = state[1];
  ctx.h2 = state[2];
  ctx.h3 = state[3];
  ctx.h4 = state[4];
  for (; blocks > 0; --blocks, data += 64) transform(&ctx, data);
  state[0] = ctx.h0;
  state[1] = ctx.h1;
  state[2] = ctx.h2;
  state[3] = ctx.h3;
  state[4] = ctx.h4;
}

}  // namespace

BlockFunction blocks_libcrypto() {
  return libcrypto_transform() ? &blocks_libcrypto_impl : nullptr;
}

BlockFunction blocks() {
  static const BlockFunction chosen = [] {
    if (auto f = blocks_sha_ni()) return f;
    if (auto f = blocks_libcrypto()) return f;
    return &blocks_portable;
  }();
  return chosen;
}

}  // namespace vellum::util::sha1
