// Internationalised host names (IDNA2008 with UTS #46 mapping), as libcurl sends them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vellum::util {

// The host as it goes into DNS, the Host header and WARC-Target-URI: "Bücher.example" ->
// "xn--bcher-kva.example". A host of ASCII letters, digits and punctuation is returned lower-cased
// and otherwise unchanged. Anything else is read as UTF-8, normalised to NFC and converted with
// libidn2 the way libcurl converts it (non-transitional processing, transitional as a fallback).
// nullopt when the name holds a space or control character, is not a valid internationalised
// host name, or libidn2 cannot be loaded; `why` then says which, as a phrase that can follow
// "malformed URL '…': ".
std::optional<std::string> host_to_ascii(std::string_view host, std::string* why = nullptr);

}  // namespace vellum::util
