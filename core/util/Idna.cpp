#include "util/Idna.h"

#include "util/Text.h"

#include <dlfcn.h>
#include <idn2.h>

#include <algorithm>
#include <memory>

namespace vellum::util {

namespace {

// libidn2 is opened the first time a host needs it, as glibc's getaddrinfo(AI_IDN) does: the
// programs that only read an archive start without it, and almost every host is plain ASCII.
struct Idn2 {
  decltype(&idn2_lookup_u8) lookup = nullptr;
  decltype(&idn2_free) release = nullptr;
  decltype(&idn2_strerror) error = nullptr;
  std::string load_error;

  Idn2() {
    void* lib = dlopen("libidn2.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char* e = dlerror();
      load_error = std::string("cannot load libidn2.so.0: ") + (e ? e : "unknown error");
      return;
    }
    lookup = reinterpret_cast<decltype(lookup)>(dlsym(lib, "idn2_lookup_u8"));
    release = reinterpret_cast<decltype(release)>(dlsym(lib, "idn2_free"));
    error = reinterpret_cast<decltype(error)>(dlsym(lib, "idn2_strerror"));
    if (!lookup || !release || !error) {
      lookup = nullptr;
      load_error = "libidn2.so.0 lacks idn2_lookup_u8, idn2_free or idn2_strerror";
    }
  }
};

const Idn2& idn2() {
  static const Idn2 lib;
  return lib;
}

}  // namespace

std::optional<std::string> host_to_ascii(std::string_view host, std::string* why) {
  if (std::any_of(host.begin(), host.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) == 0x7F;
      })) {
    if (why) *why = "the host name holds a space or a control character";
    return std::nullopt;
  }
  const bool ascii = std::all_of(host.begin(), host.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    // "example.com." names example.com, as the URL parser reads it.
    while (host.size() > 1 && host.back() == '.' && host.front() != '[') host.remove_suffix(1);
    return to_lower(host);
  }
  const Idn2& lib = idn2();
  if (!lib.lookup) {
    if (why) *why = "cannot convert an internationalised host name: " + lib.load_error;
    return std::nullopt;
  }
  const std::string input(host);
  const auto* src = reinterpret_cast<const uint8_t*>(input.c_str());
  uint8_t* out = nullptr;
  int rc = lib.lookup(src, &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    // Names that only IDNA2003 allowed, as libcurl retries them.
    if (out) lib.release(out);
    out = nullptr;
    int retry = lib.lookup(src, &out, IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
    if (retry == IDN2_OK) rc = retry;
  }
  if (rc != IDN2_OK || !out) {
    if (out) lib.release(out);
    if (why)
      *why = std::string("not a valid internationalised domain name (") + lib.error(rc) + ")";
    return std::nullopt;
  }
  std::unique_ptr<uint8_t, decltype(lib.release)> owned(out, lib.release);
  std::string converted = to_lower(reinterpret_cast<const char*>(out));
  // A trailing full stop of another script ("。") becomes one only here.
  while (!converted.empty() && converted.back() == '.') converted.pop_back();
  if (converted.empty()) {
    if (why) *why = "the host name is empty once converted";
    return std::nullopt;
  }
  return converted;
}

}  // namespace vellum::util
