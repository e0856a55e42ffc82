#include "util/Uuid.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace vellum::util {

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
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

std::string new_record_id() {
  return "<urn:uuid:" + uuid4() + ">";
}

std::string record_id_uuid(const std::string& record_id) {
  static constexpr std::string_view kPrefix = "<urn:uuid:";
  if (record_id.size() > kPrefix.size() + 1 && record_id.starts_with(kPrefix) &&
      record_id.back() == '>')
    return record_id.substr(kPrefix.size(), record_id.size() - kPrefix.size() - 1);
  return record_id;
}

}  // namespace vellum::util
