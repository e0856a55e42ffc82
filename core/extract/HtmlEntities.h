// The named character references of HTML (WHATWG HTML, "Named character references"): the
// 2,231 names browsers read, where libxml2's HTML parser knows HTML 4's 253 and only with their
// semicolon.
#pragma once

#include <string_view>

namespace vellum::extract {

struct HtmlEntity {
  std::string_view name;  // with its ';' ("check;"), or one of the 106 kept without ("copy")
  char32_t first = 0;
  char32_t second = 0;  // a second code point for the few names that give two; else 0
};

// The reference named exactly `name` ("check;", "copy"), else null.
const HtmlEntity* find_html_entity(std::string_view name);

// The longest name without a semicolon that `text` starts with ("copy" for "copy2024", "not"
// for "notin"), as browsers match a reference that ends without one; else null.
const HtmlEntity* longest_legacy_entity(std::string_view text);

}  // namespace vellum::extract
