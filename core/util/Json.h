// Parsing JSON that comes from outside (web pages, imported WARC files, other processes) with
// a bound on its nesting: a value nested thousands deep is valid JSON, but copying or walking
// it recursively would exhaust the stack.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace vellum::util {

inline constexpr std::size_t kMaxJsonDepth = 64;

// Follows JSON text one character at a time and tells which characters are a string's content
// (not its quotes, not structure).
class JsonStringTracker {
 public:
  bool inside(char c) {
    if (!in_string_) {
      in_string_ = c == '"';
      return false;
    }
    if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      in_string_ = false;
      return false;
    }
    return true;
  }

 private:
  bool in_string_ = false;
  bool escaped_ = false;
};

// The deepest nesting of arrays and objects in `text`, counted outside strings; stops counting
// once `limit` is passed (then returns limit + 1).
std::size_t json_depth(std::string_view text, std::size_t limit = kMaxJsonDepth);

// nlohmann::json::parse without exceptions: a discarded value when `text` is not JSON or nests
// deeper than `max_depth`.
nlohmann::json parse_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

}  // namespace vellum::util
