#include "util/Uuid.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

#include "util/Digest.h"

namespace vellum::util {

namespace {

constexpr std::string_view kUrnUuid = "urn:uuid:";

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// The UUID form in either case: hex digits 8-4-4-4-12.
bool uuid_shaped(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (lower(s[i]) != prefix[i]) return false;
  return true;
}

std::string format_uuid(const std::uint8_t* b) {
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

// RFC 9562 section 5.5: SHA-1 of the namespace's 16 bytes and the name, version 5.
std::string uuid5_url(std::string_view name) {
  static constexpr std::uint8_t kUrlNamespace[16] = {0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad,
                                                     0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0,
                                                     0x4f, 0xd4, 0x30, 0xc8};
  Sha1 h;
  h.update(std::string_view(reinterpret_cast<const char*>(kUrlNamespace), sizeof kUrlNamespace));
  h.update(name);
  auto d = h.finish();
  d[6] = static_cast<std::uint8_t>((d[6] & 0x0f) | 0x50);
  d[8] = static_cast<std::uint8_t>((d[8] & 0x3f) | 0x80);
  return format_uuid(d.data());
}

}  // namespace

std::string uuid4() {
  std::array<std::uint8_t, 16> b{};
  std::size_t got = 0;
  while (got < b.size()) {
    ssize_t n = getrandom(b.data() + got, b.size() - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("uuid: getrandom failed");
    }
    got += static_cast<std::size_t>(n);
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  return format_uuid(b.data());
}

std::string new_record_id() {
  return "<urn:uuid:" + uuid4() + ">";
}

bool is_capture_id(std::string_view text) {
  return uuid_shaped(text) && lowered(text) == text;
}

std::string capture_id_of(std::string_view record_id) {
  std::string_view uri = record_id;
  if (uri.size() >= 2 && uri.front() == '<' && uri.back() == '>')
    uri = uri.substr(1, uri.size() - 2);
  if (starts_with_nocase(uri, kUrnUuid) && uuid_shaped(uri.substr(kUrnUuid.size())))
    return lowered(uri.substr(kUrnUuid.size()));
  return uuid5_url(uri);
}

std::string capture_id_from_user(std::string_view text) {
  // A record ID as `vellum show` prints it, in its angle brackets, whatever its form.
  if (text.size() >= 2 && text.front() == '<' && text.back() == '>') return capture_id_of(text);
  std::string_view t = text;
  if (starts_with_nocase(t, kUrnUuid)) t.remove_prefix(kUrnUuid.size());
  return uuid_shaped(t) ? lowered(t) : std::string(text);
}

}  // namespace vellum::util
