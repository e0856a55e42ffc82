#include "extract/HtmlEntities.h"

#include <algorithm>
#include <iterator>

namespace vellum::extract {

namespace {

constexpr HtmlEntity kEntities[] = {
#include "extract/HtmlEntities.inc"
};

constexpr std::size_t kLongestLegacyName = 6;  // "AElig", "middot", "frac12", ...

}  // namespace

const HtmlEntity* find_html_entity(std::string_view name) {
  const auto* it =
      std::lower_bound(std::begin(kEntities), std::end(kEntities), name,
                       [](const HtmlEntity& e, std::string_view n) { return e.name < n; });
  return it != std::end(kEntities) && it->name == name ? it : nullptr;
}

const HtmlEntity* longest_legacy_entity(std::string_view text) {
  for (std::size_t n = std::min(text.size(), kLongestLegacyName); n >= 2; --n)
    if (const HtmlEntity* e = find_html_entity(text.substr(0, n)); e && e->name.back() != ';')
      return e;
  return nullptr;
}

}  // namespace vellum::extract
