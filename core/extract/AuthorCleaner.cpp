#include "extract/AuthorCleaner.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "extract/TextUtil.h"
#include "util/Text.h"

namespace vellum::extract {

namespace {

bool is_url(std::string_view s) {
  return s.find("://") != std::string_view::npos || istarts_with(s, "www.") ||
         (s.find('/') != std::string_view::npos && s.find(' ') == std::string_view::npos) ||
         s.find('@') != std::string_view::npos;
}

// Removes a leading "By" / "Written by" / "Author:".
std::string strip_by(std::string s) {
  static const char* prefixes[] = {"written by ", "posted by ", "reported by ", "words by ", "by: ",
                                   "by ",         "author: ",   "authors: ",    "von ",      "par ",
                                   "por ",        "di ",        "door "};
  bool again = true;
  while (again) {
    again = false;
    for (const char* p : prefixes) {
      if (!istarts_with(s, p)) continue;
      std::string rest = trim_ascii(std::string_view(s).substr(std::string_view(p).size()));
      // German "Von", French "Par", Spanish "Por", Italian "Di", Dutch "Door" start names too
      // ("Von Miller", "Di Maria"): a byline has a name with at least two words after them.
      const std::string_view pv = p;
      const bool particle =
          pv == "von " || pv == "par " || pv == "por " || pv == "di " || pv == "door ";
      if (particle && rest.find(' ') == std::string::npos) continue;
      s = std::move(rest);
      again = true;
    }
  }
  return s;
}

// A job title given after the name ("Jane Doe, Senior Correspondent"), not a second person:
// one of its words names a trade.
bool is_role(std::string_view s) {
  static const char* roles[] = {"correspondent", "reporter",  "editor",     "writer",
                                "contributor",   "columnist", "journalist", "photographer",
                                "producer",      "analyst",   "critic",     "chief"};
  const std::string l = util::to_lower(s);
  std::size_t i = 0;
  while (i < l.size()) {
    const std::size_t end = std::min(l.find_first_of(" -", i), l.size());
    const std::string_view word = std::string_view(l).substr(i, end - i);
    for (const char* r : roles)
      if (word == r) return true;
    i = end + 1;
  }
  return false;
}

// Cuts " | Agency", " - Agency", " – Agency", " — Agency".
std::string strip_suffix(std::string s) {
  static const char* seps[] = {
      " | ", " - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ", " / ", " \xE2\x80\xA2 ", " \xC2\xB7 "};
  for (const char* sep : seps) {
    auto pos = s.find(sep);
    if (pos != std::string::npos && pos > 0) s = trim_ascii(std::string_view(s).substr(0, pos));
  }
  return s;
}

void split_into(const std::string& s, std::vector<std::string>& out) {
  // Split on ",", ";", " and ", " & ".
  std::vector<std::string> parts;
  std::string cur;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == ',' || s[i] == ';' || s[i] == '\n') {
      parts.push_back(cur);
      cur.clear();
      ++i;
      continue;
    }
    std::string_view rest = std::string_view(s).substr(i);
    if (istarts_with(rest, " and ")) {
      parts.push_back(cur);
      cur.clear();
      i += 5;
      continue;
    }
    if (istarts_with(rest, " & ")) {
      parts.push_back(cur);
      cur.clear();
      i += 3;
      continue;
    }
    // "and" in other languages, when a name of two words or more follows: "José Ortega y
    // Gasset" is one name.
    bool split = false;
    for (const char* conj : {" und ", " et ", " y ", " e ", " en "}) {
      if (!rest.starts_with(conj)) continue;  // lower case: "MARY E JONES" has an initial
      // The name runs to the next ",", ";", line end, " and " or " & ": it has two words when
      // its first space comes before all of them. Only the first word is read, so that a long
      // value full of conjunctions is still split in one pass.
      const std::string_view next = rest.substr(std::strlen(conj));
      const std::size_t space = next.find(' ');
      if (space == std::string_view::npos) continue;
      if (next.substr(0, space).find_first_of(",;\n") != std::string_view::npos) continue;
      const std::string_view after = next.substr(space);
      if (after.starts_with(" and ") || after.starts_with(" & ")) continue;
      parts.push_back(cur);
      cur.clear();
      i += std::strlen(conj);
      split = true;
      break;
    }
    if (split) continue;
    cur += s[i++];
  }
  parts.push_back(cur);
  for (auto& p : parts) {
    std::string t = strip_by(trim_ascii(p));
    if (istarts_with(t, "and ")) t = trim_ascii(std::string_view(t).substr(4));
    out.push_back(std::move(t));
  }
}

// What follows a name without being one: "Jane Doe in London", "Jane Doe (AP)", "Jane Doe
// with additional reporting by ...".
std::string strip_name_tail(std::string s) {
  for (const char* cut : {" with additional reporting", " additional reporting",
                          " with reporting by", " contributed to this", " reported from "}) {
    const std::string l = util::to_lower(s);
    if (auto at = l.find(cut); at != std::string::npos && at > 0) s = trim_ascii(s.substr(0, at));
  }
  if (!s.empty() && s.back() == ')') {
    if (auto open = s.rfind(" ("); open != std::string::npos && open > 0)
      s = trim_ascii(s.substr(0, open));
  }
  // " in London": a capitalised place after a name of two words or more.
  if (auto at = s.rfind(" in "); at != std::string::npos && at + 4 < s.size() &&
                                 std::isupper(static_cast<unsigned char>(s[at + 4])) &&
                                 s.substr(0, at).find(' ') != std::string::npos)
    s = trim_ascii(s.substr(0, at));
  return s;
}

// News agencies and publications, and letters after a name (MD, PhD), named beside the
// people who wrote a piece: "Jane Doe, Associated Press".
bool is_agency_or_credential(std::string_view s) {
  static const char* names[] = {"associated press",
                                "the associated press",
                                "ap",
                                "reuters",
                                "thomson reuters",
                                "afp",
                                "agence france-presse",
                                "agence france presse",
                                "bloomberg",
                                "bloomberg news",
                                "dpa",
                                "pa",
                                "pa media",
                                "press association",
                                "efe",
                                "ansa",
                                "xinhua",
                                "upi",
                                "kyodo",
                                "yonhap",
                                "tass",
                                "cnn",
                                "bbc",
                                "bbc news",
                                "the washington post",
                                "the new york times",
                                "washington post",
                                "new york times",
                                "the guardian",
                                "staff",
                                "md",
                                "m.d",
                                "phd",
                                "ph.d",
                                "jr",
                                "sr",
                                "mba"};
  std::string l = util::to_lower(s);
  // "Reuters staff", "AP staff": the agency's own people, unnamed.
  if (l.size() > 6 && l.ends_with(" staff")) l.resize(l.size() - 6);
  for (const char* n : names)
    if (l == n) return true;
  return false;
}

bool all_upper(std::string_view s) {
  for (char c : s)
    if (std::islower(static_cast<unsigned char>(c))) return false;
  return true;
}

// Without social-media handles written beside the name ("Jane Doe @janedoe"), which made the
// whole value look like an address.
std::string without_handles(const std::string& s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t end = s.find(' ', i);
    if (end == std::string::npos) end = s.size();
    const std::string_view word = std::string_view(s).substr(i, end - i);
    const bool handle =
        word.size() > 1 && word[0] == '@' && std::all_of(word.begin() + 1, word.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
        });
    if (!handle && !word.empty()) out += (out.empty() ? "" : " ") + std::string(word);
    i = end + 1;
  }
  return out;
}

bool has_letter(std::string_view s) {
  for (char c : s)
    if (std::isalpha(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0xC0)
      return true;
  return false;
}

}  // namespace

std::vector<std::string> clean_authors(const std::vector<std::string>& raw) {
  std::vector<std::string> out;
  std::vector<std::string> seen;
  for (const auto& r : raw) {
    if (out.size() >= kMaxAuthors) break;
    std::string s = without_handles(clean_text(r));
    if (s.empty() || is_url(s)) continue;
    s = strip_by(s);
    s = strip_suffix(s);
    // "Doe, Jane" -> "Jane Doe"
    auto comma = s.find(',');
    if (comma != std::string::npos && s.find(',', comma + 1) == std::string::npos) {
      std::string last = trim_ascii(std::string_view(s).substr(0, comma));
      std::string first = trim_ascii(std::string_view(s).substr(comma + 1));
      if (!last.empty() && !first.empty() && last.find(' ') == std::string::npos &&
          first.find(' ') == std::string::npos &&
          std::isupper(static_cast<unsigned char>(last[0])) &&
          std::isupper(static_cast<unsigned char>(first[0])) && util::to_lower(first) != "jr" &&
          !(last.size() > 2 && all_upper(last)) && !is_agency_or_credential(last) &&
          !is_agency_or_credential(first))
        s = first + " " + last;  // not "Reuters, Bloomberg": two agencies
    }
    std::vector<std::string> parts;
    split_into(s, parts);
    bool person = false;  // a part that is neither an agency nor letters after a name
    for (auto& p : parts) {
      p = strip_name_tail(strip_suffix(p));
      while (!p.empty() && (p.back() == '.' || p.back() == ':')) p.pop_back();
      person = person || (!p.empty() && !is_agency_or_credential(p));
    }
    for (auto& p : parts) {
      if (out.size() >= kMaxAuthors) break;
      if (person && is_agency_or_credential(p)) continue;
      while (!p.empty() && (p.back() == '.' || p.back() == ':')) p.pop_back();
      if (p.empty() || is_url(p) || !has_letter(p) || char_count(p) > 80 || p[0] == '(' ||
          p.find(':') != std::string::npos || (parts.size() > 1 && is_role(p)))
        continue;
      std::string key = util::to_lower(p);
      bool dup = false;
      for (const auto& k : seen) dup = dup || k == key;
      if (dup) continue;
      seen.push_back(key);
      out.push_back(p);
    }
  }
  return out;
}

}  // namespace vellum::extract
