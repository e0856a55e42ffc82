#include "extract/TextUtil.h"

#include <cstdint>
#include <cstring>

namespace vellum::extract {

namespace {

// Length of a Unicode space or invisible character at `i`, or 0.
std::size_t unicode_space(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  if (b(i) == 0xC2 && i + 1 < s.size() && b(i + 1) == 0xA0) return 2;  // NBSP
  if (b(i) == 0xC2 && i + 1 < s.size() && b(i + 1) == 0xAD) return 2;  // soft hyphen: drop
  if (b(i) == 0xE2 && i + 2 < s.size() && b(i + 1) == 0x80) {
    unsigned char c = b(i + 2);
    // U+2000..U+200B spaces and zero width space, U+202F narrow NBSP
    if ((c >= 0x80 && c <= 0x8B) || c == 0xAF) return 3;
    if (c == 0x8C || c == 0x8D) return 3;  // ZWNJ/ZWJ: drop
  }
  if (b(i) == 0xEF && i + 2 < s.size() && b(i + 1) == 0xBB && b(i + 2) == 0xBF) return 3;
  return 0;
}

}  // namespace

std::size_t control_char(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x20 || c == 0x7F) return 1;
  if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
      static_cast<unsigned char>(s[i + 1]) <= 0x9F)
    return 2;
  return 0;
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\n' && s[i] != '\t') {
      if (std::size_t n = control_char(s, i)) {
        i += n;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

std::string clean_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (std::size_t i = 0; i < s.size();) {
    char c = s[i];
    if (std::size_t n = control_char(s, i)) {  // whitespace among them
      space = true;
      i += n;
      continue;
    }
    if (c == ' ') {
      space = true;
      ++i;
      continue;
    }
    if (static_cast<unsigned char>(c) >= 0xC2) {
      std::size_t n = unicode_space(s, i);
      if (n) {
        // zero-width characters vanish (a soft hyphen too: a word split by it is one word, as
        // it is read and searched), others are spaces
        bool zero_width = (n == 3 && static_cast<unsigned char>(s[i]) == 0xE2 &&
                           (static_cast<unsigned char>(s[i + 2]) >= 0x8B &&
                            static_cast<unsigned char>(s[i + 2]) <= 0x8D)) ||
                          (n == 2 && static_cast<unsigned char>(s[i + 1]) == 0xAD);
        if (!zero_width && !(static_cast<unsigned char>(s[i]) == 0xEF)) space = true;
        i += n;
        continue;
      }
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
    ++i;
  }
  return out;
}

namespace {

// Each line of `s` (split at '\n') through `clean`, the lines it leaves empty dropped, joined by
// '\n'.
template <typename Clean>
std::string join_clean_lines(std::string_view s, Clean clean) {
  std::string out;
  while (true) {
    const auto nl = s.find('\n');
    std::string line = clean(s.substr(0, nl));
    if (!line.empty()) {
      if (!out.empty()) out += '\n';
      out += line;
    }
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

std::string clean_lines(std::string_view s) {
  return join_clean_lines(s, [](std::string_view line) { return clean_text(line); });
}

std::string clean_pre_lines(std::string_view s) {
  return join_clean_lines(s, [](std::string_view raw) {
    if (clean_text(raw).empty()) return std::string();
    std::string line = printable(raw);
    // Trailing white space, the no-break space (U+00A0) and byte order mark included.
    while (true) {
      if (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
        line.pop_back();
      else if (line.ends_with("\xC2\xA0"))
        line.resize(line.size() - 2);
      else if (line.ends_with("\xEF\xBB\xBF"))
        line.resize(line.size() - 3);
      else
        break;
    }
    return line;
  });
}

std::string trim_ascii(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' || s[b - 1] == '\n'))
    --b;
  return std::string(s.substr(a, b - a));
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

bool icontains(std::string_view s, std::string_view needle) {
  if (needle.empty()) return true;
  for (std::size_t i = 0; i + needle.size() <= s.size(); ++i)
    if (istarts_with(s.substr(i), needle)) return true;
  return false;
}

std::size_t char_count(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string bounded_text(std::string s, std::size_t max_bytes) {
  if (s.size() <= max_bytes || max_bytes < 3) return s;
  std::size_t end = max_bytes - 3;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
    --end;  // a code point's start
  s.resize(end);
  s += "\xE2\x80\xA6";
  return s;
}

std::size_t utf8_sequence_length(const unsigned char* p, std::size_t n) {
  unsigned char c = p[0];
  std::size_t len;
  std::uint32_t min;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (n < len) return 0;
  std::uint32_t cp = c & (0xFF >> (len + 1));
  for (std::size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

std::string validate_utf8(std::string_view in) {
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t i = 0, n = in.size(), run = 0;
  while (i < n) {
    // Eight ASCII bytes at a time while none has its high bit set and none is NUL.
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL, kOnes = 0x0101010101010101ULL;
    for (std::uint64_t v; i + 8 <= n; i += 8) {
      std::memcpy(&v, p + i, 8);
      if ((v & kHigh) != 0 || ((v - kOnes) & ~v & kHigh) != 0) break;
    }
    if (i == n) break;
    unsigned char c = p[i];
    if (c < 0x80 && c != 0) {
      ++i;
      continue;
    }
    // A NUL byte would cut the document short in libxml2: replace it too.
    std::size_t len = c == 0 ? 0 : utf8_sequence_length(p + i, n - i);
    if (len) {
      i += len;
      continue;
    }
    if (out.empty()) out.reserve(n + 16);
    out.append(in.data() + run, i - run);
    out += "\xEF\xBF\xBD";  // U+FFFD
    run = ++i;
  }
  if (run == 0) return std::string(in);
  out.append(in.data() + run, n - run);
  return out;
}

}  // namespace vellum::extract
