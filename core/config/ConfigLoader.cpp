#include "config/ConfigLoader.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <system_error>
#include <tuple>

#include "config/ConfigSchema.h"
#include "config/Units.h"
#include "warc/Compression.h"

namespace vellum::config {

namespace {

namespace fs = std::filesystem;

// ---- Describing what was found ----

std::string json_quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

std::string bare_or_quoted_key(std::string_view key) {
  bool bare = !key.empty();
  for (char c : key)
    bare = bare && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-');
  return bare ? std::string(key) : json_quoted(std::string(key));
}

// A node as it could be written in TOML, for "found ..." in messages.
std::string render(const toml::node& node) {
  if (auto* s = node.as_string()) return json_quoted(s->get());
  if (auto* i = node.as_integer()) return std::to_string(i->get());
  if (auto* f = node.as_floating_point()) {
    std::ostringstream out;
    out << f->get();
    return out.str();
  }
  if (auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  if (auto* a = node.as_array()) {
    std::string out = "[";
    for (std::size_t i = 0; i < a->size(); ++i) out += (i ? ", " : "") + render((*a)[i]);
    return out + "]";
  }
  if (auto* t = node.as_table()) {
    std::string out = "{";
    bool first = true;
    for (auto&& [k, v] : *t) {
      out += std::string(first ? " " : ", ") + bare_or_quoted_key(k.str()) + " = " + render(v);
      first = false;
    }
    return out + (first ? "}" : " }");
  }
  std::ostringstream out;  // dates and times
  node.visit([&out](const auto& v) {
    if constexpr (toml::is_date<decltype(v)> || toml::is_time<decltype(v)> ||
                  toml::is_date_time<decltype(v)>)
      out << v.get();
  });
  return out.str();
}

std::string node_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::array:
      return "array";
    case toml::node_type::table:
      return "table";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// "string \"16\"", "integer 30", "table": the type, and the value when it is short.
std::string found(const toml::node& node) {
  if (node.is_table()) return "a table";
  std::string shown = render(node);
  if (shown.size() > 60) shown = shown.substr(0, 57) + "...";
  return node_type_name(node) + " " + shown;
}

constexpr std::string_view kDurationHint =
    "a duration such as \"500ms\", \"45s\", \"15m\", \"1h30m\" or \"2d\" (units ms, s, m, h, d)";
constexpr std::string_view kSizeHint =
    "a size such as \"512B\", \"64KiB\", \"256MiB\", \"1GiB\" or \"10MB\", or a number of bytes";

// What a value of this type looks like, for "expected ...".
std::string expected_for(const KeySpec& key) {
  switch (key.type) {
    case KeyType::string:
      return "a string";
    case KeyType::path:
      return "a string (a path)";
    case KeyType::integer:
      return "an integer";
    case KeyType::boolean:
      return "true or false";
    case KeyType::floating:
      return "a number";
    case KeyType::duration:
      return std::string(kDurationHint);
    case KeyType::size:
      return std::string(kSizeHint);
    case KeyType::enumeration: {
      std::string out = "one of ";
      for (std::size_t i = 0; i < key.allowed.size(); ++i)
        out += (i ? ", " : "") + json_quoted(key.allowed[i]);
      return out;
    }
    case KeyType::string_array:
      return "an array of strings";
    case KeyType::path_array:
      return "an array of strings (paths)";
    case KeyType::duration_array:
      return "an array of durations such as [\"1h\", \"1d\"]";
    case KeyType::headers:
      return "a table of strings such as { \"Accept-Language\" = \"en\" }";
    case KeyType::tables:
      return "tables [plugins.config.<plugin name>]";
  }
  return "a value";
}

// ---- Suggestions for misspelt names ----

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate closest to `name` when it is close enough to be a likely typo.
std::string closest(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(name, c);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(sep) : "") + parts[i];
  return out;
}

// "a", "a and b", "a, b and c".
std::string join_and(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i)
    out += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return out;
}

std::vector<std::string> section_headers() {
  std::vector<std::string> out;
  for (const auto& s : config_schema()) out.push_back(s.header());
  return out;
}

// The defaults of one section as a TOML table, parsed from the schema's default column.
toml::table defaults_table(const SectionSpec& section) {
  std::string doc;
  for (const auto& key : section.keys)
    if (!key.default_toml.empty()) doc += key.key + " = " + key.default_toml + "\n";
  return toml::parse(doc, std::string_view("ConfigSchema " + section.header()));
}

enum class Role { main, sources };

// Reads files into one Config, collecting every problem rather than stopping at the first.
class Loader {
 public:
  explicit Loader(Config base, bool daemon = false) : config_(std::move(base)), daemon_(daemon) {}

  void read_text(std::string_view text, const std::string& name, Role role) {
    begin_file(name);
    try {
      toml::table root = toml::parse(text, std::string_view(name));
      apply_root(root, role);
    } catch (const toml::parse_error& e) {
      syntax_error(e);
    }
  }

  // A file that could not be read at all.
  void unreadable(const std::string& name, const std::string& message) {
    begin_file(name);
    problems_.push_back({file_, 0, 0, name + ": " + message});
  }

  void apply_defaults(const SectionSpec& section) {
    begin_file("ConfigSchema " + section.header());
    apply_keys(section, defaults_table(section));
  }

  // Where a key of a section was set ("file:line:column"); empty when it was not.
  std::string position_of(const std::string& dotted_key) const {
    auto it = positions_.find(dotted_key);
    return it == positions_.end() ? "" : it->second;
  }

  void report(const std::string& at, std::size_t line, std::size_t column, std::string message) {
    problems_.push_back({file_, line, column, at + ": " + std::move(message)});
  }

  const Config& config() const { return config_; }

  // The configuration, or a ConfigError with every problem found.
  Config finish() {
    if (problems_.empty()) {
      return std::move(config_);
    }
    std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
      return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
    });
    std::string text;
    for (const auto& p : problems_) text += (text.empty() ? "" : "\n") + p.text;
    throw ConfigError(text);
  }

 private:
  struct Problem {
    std::size_t file;
    std::size_t line;
    std::size_t column;
    std::string text;
  };

  void begin_file(const std::string& name) {
    file_ = file_count_++;
    name_ = name;
    if (!main_known_) {
      main_name_ = name;
      main_known_ = true;
    }
  }

  std::string at(const toml::source_position& p) const {
    return name_ + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
  }

  void error(const toml::source_region& where, std::string message) {
    problems_.push_back(
        {file_, where.begin.line, where.begin.column, at(where.begin) + ": " + std::move(message)});
  }

  void syntax_error(const toml::parse_error& e) {
    std::string text(e.description());
    // toml++ starts with "Error while parsing <what>: "; the position says that already.
    if (auto colon = text.find(": ");
        text.rfind("Error while parsing", 0) == 0 && colon != std::string::npos)
      text = "invalid TOML in " + text.substr(20, colon - 20) + ": " + text.substr(colon + 2);
    else
      text = "invalid TOML: " + text;
    if (text.find("redefine") != std::string::npos)
      text += " (each key and table may be defined only once)";
    error(e.source(), text);
  }

  void apply_root(const toml::table& root, Role role) {
    for (auto&& [key, node] : root) {
      std::string name(key.str());
      const SectionSpec* section = find_section(name);
      std::string shown = node.is_table() ? "[" + name + "]" : "key '" + name + "'";
      if (role == Role::sources && !(section && section->array)) {
        error(key.source(), shown +
                                " is not allowed in a sources directory file, which may hold only "
                                "[[source]] tables; move it to " +
                                main_name_);
        continue;
      }
      if (!section) {
        error(key.source(), unknown_section(name, node));
        continue;
      }
      if (section->array) {
        const toml::array* list = node.as_array();
        bool tables = list && std::all_of(list->begin(), list->end(),
                                          [](const toml::node& n) { return n.is_table(); });
        if (!tables) {
          error(node.source(), "found " + found(node) + ", expected " + section->header() +
                                   " tables (write [[" + name + "]] with two brackets)");
          continue;
        }
        for (const toml::node& element : *list) apply_source(*section, *element.as_table());
        continue;
      }
      const toml::table* table = node.as_table();
      if (!table) {
        error(node.source(), "found " + found(node) + ", expected the table " + section->header());
        continue;
      }
      apply_keys(*section, *table);
      cross_check(*section, *table);
    }
  }

  std::string unknown_section(const std::string& name, const toml::node& node) const {
    std::string valid = "valid sections: " + join(section_headers(), ", ");
    if (!node.is_table()) {
      for (const auto& s : config_schema())
        if (!s.array && s.find(name))
          return "key '" + name + "' outside any section; it belongs in " + s.header();
      return "key '" + name + "' outside any section; " + valid;
    }
    std::vector<std::string> names;
    for (const auto& s : config_schema()) names.push_back(s.name);
    std::string guess = closest(name, names);
    std::string hint =
        guess.empty() ? "" : " (did you mean " + find_section(guess)->header() + "?)";
    return "unknown section [" + name + "]" + hint + "; " + valid;
  }

  std::string unknown_key(const SectionSpec& section, const std::string& key) const {
    std::vector<std::string> names;
    for (const auto& k : section.keys) names.push_back(k.key);
    std::string guess = closest(key, names);
    std::string hint = guess.empty() ? "" : " (did you mean '" + guess + "'?)";
    return "unknown key '" + key + "' in " + section.header() + hint +
           "; valid keys: " + join(names, ", ");
  }

  void apply_keys(const SectionSpec& section, const toml::table& table) {
    for (auto&& [k, node] : table) {
      std::string key(k.str());
      const KeySpec* spec = section.find(key);
      if (!spec) {
        error(k.source(), unknown_key(section, key));
        continue;
      }
      std::string where = section.name + "." + key;
      std::optional<Value> value = convert(where, *spec, node);
      if (!value || !passes(where, *spec, *value, node)) continue;
      spec->store(config_, *value);
      if (!section.array) positions_[where] = at(node.source().begin);
    }
  }

  void apply_source(const SectionSpec& section, const toml::table& table) {
    static const toml::table defaults = defaults_table(section);
    config_.sources.emplace_back();
    apply_keys(section, defaults);
    config_.sources.back().origin = at(table.source().begin);
    apply_keys(section, table);
    SourceConfig& source = config_.sources.back();

    std::vector<std::string> required, missing;
    for (const auto& key : section.keys) {
      if (!key.required) continue;
      required.push_back(key.key);
      if (!table.contains(key.key)) missing.push_back(key.key);
    }
    if (!missing.empty())
      error(table.source(), "[[source]] without " + join_and(missing) + "; every source needs a " +
                                join_and(required));

    const toml::node* pattern = table.get("link_pattern");
    // A pattern of the wrong type or a bad regex was reported already.
    bool no_pattern = !pattern || (pattern->is_string() && pattern->as_string()->get().empty());
    if (source.kind == "page" && no_pattern)
      error(table.source(), "source " + json_quoted(source.name) +
                                " has kind = \"page\" but no link_pattern; add link_pattern, the "
                                "regular expression that the links to capture match");
    if (source.kind != "page" && !source.link_pattern.empty() && pattern)
      error(pattern->source(),
            "source.link_pattern: only used with kind = \"page\", and this "
            "source has kind = " +
                json_quoted(source.kind) + "; remove link_pattern");

    if (const toml::node* revisit = table.get("revisit"); revisit && source.kind == "url")
      error(revisit->source(),
            "source.revisit: only used with kinds feed, sitemap and page (the pages they lead to "
            "are revisited), and this source has kind = \"url\", whose page is captured on every "
            "run; remove revisit or set interval");

    if (const toml::node* name = table.get("name"); name && !source.name.empty()) {
      auto [it, inserted] = source_names_.emplace(source.name, source.origin);
      if (!inserted)
        error(name->source(), "duplicate source name " + json_quoted(source.name) +
                                  "; first declared at " + it->second +
                                  "; give each source its own name");
    }
  }

  // Rules between keys of one section.
  void cross_check(const SectionSpec& section, const toml::table& table) {
    if (section.name == "archive") {
      const ArchiveConfig& a = config_.archive;
      const auto compression = warc::parse_compression(a.compression);
      const int max = compression ? warc::max_level(*compression) : 0;
      const toml::node* level = table.get("level");
      if (max > 0 && level && (a.level < 1 || a.level > max))
        error(level->source(), "archive.level: found " + render(*level) + ", expected 1 to " +
                                   std::to_string(max) +
                                   " for compression = " + json_quoted(a.compression));
    }
    if (section.name == "fetch") {
      const FetchConfig& f = config_.fetch;
      const toml::node* at_node = table.get("backoff_max");
      if (!at_node) at_node = table.get("backoff_initial");
      if (at_node && f.backoff_max < f.backoff_initial)
        error(at_node->source(), "fetch.backoff_max (" + format_duration(f.backoff_max) +
                                     ") is shorter than fetch.backoff_initial (" +
                                     format_duration(f.backoff_initial) +
                                     "); expected backoff_max at least backoff_initial");
    }
  }

  bool passes(const std::string& where, const KeySpec& spec, const Value& value,
              const toml::node& node) {
    bool ok = true;
    auto run = [&](const Check& check, const Value& v, const toml::node& n, const std::string& w) {
      if (auto detail = check.test(v)) {
        error(n.source(), w + ": found " + render(n) + ", expected " + check.text +
                              (detail->empty() ? "" : " (" + *detail + ")"));
        ok = false;
      }
    };
    if (!spec.element_checks.empty()) {
      const toml::array& list = *node.as_array();
      for (std::size_t i = 0; i < list.size(); ++i) {
        Value element = std::holds_alternative<std::vector<Duration>>(value)
                            ? Value(std::get<std::vector<Duration>>(value)[i])
                            : Value(std::get<std::vector<std::string>>(value)[i]);
        for (const auto& check : spec.element_checks)
          run(check, element, list[i], where + "[" + std::to_string(i) + "]");
      }
    }
    if (ok)
      for (const auto& check : spec.checks) run(check, value, node, where);
    if (ok && spec.daemon_reads && daemon_) run(daemon_readable_file(), value, node, where);
    return ok;
  }

  // The node as the key's type; nullopt (with the problem reported) when it is not one.
  std::optional<Value> convert(const std::string& where, const KeySpec& spec,
                               const toml::node& node) {
    auto wrong = [&](const std::string& expected) -> std::optional<Value> {
      error(node.source(), where + ": found " + found(node) + ", expected " + expected);
      return std::nullopt;
    };
    switch (spec.type) {
      case KeyType::string:
      case KeyType::path:
        if (auto* s = node.as_string()) return Value(s->get());
        return wrong(expected_for(spec));
      case KeyType::enumeration:
        if (auto* s = node.as_string()) {
          if (std::find(spec.allowed.begin(), spec.allowed.end(), s->get()) != spec.allowed.end())
            return Value(s->get());
          error(node.source(),
                where + ": found " + json_quoted(s->get()) + ", expected " + expected_for(spec));
          return std::nullopt;
        }
        return wrong(expected_for(spec));
      case KeyType::integer:
        if (auto* i = node.as_integer()) {
          if (i->get() >= std::numeric_limits<int>::min() &&
              i->get() <= std::numeric_limits<int>::max())
            return Value(i->get());
          return wrong("an integer that fits in 32 bits");
        }
        return wrong(expected_for(spec));
      case KeyType::boolean:
        if (auto* b = node.as_boolean()) return Value(b->get());
        return wrong(expected_for(spec));
      case KeyType::floating:
        if (auto* f = node.as_floating_point()) return Value(f->get());
        if (auto* i = node.as_integer()) return Value(static_cast<double>(i->get()));
        return wrong(expected_for(spec));
      case KeyType::duration:
        if (auto d = duration(where, node)) return Value(*d);
        return std::nullopt;
      case KeyType::size:
        if (auto* i = node.as_integer()) {
          if (i->get() >= 0) return Value(static_cast<std::uint64_t>(i->get()));
        } else if (auto* s = node.as_string()) {
          if (auto bytes = parse_size(s->get())) return Value(*bytes);
          error(node.source(), where + ": found " + json_quoted(s->get()) + ", expected " +
                                   std::string(kSizeHint));
          return std::nullopt;
        }
        return wrong(expected_for(spec));
      case KeyType::string_array:
      case KeyType::path_array: {
        const toml::array* list = node.as_array();
        if (!list) return wrong(expected_for(spec));
        std::vector<std::string> out;
        bool ok = true;
        for (std::size_t i = 0; i < list->size(); ++i) {
          const toml::node& element = (*list)[i];
          if (auto* s = element.as_string()) {
            out.push_back(s->get());
          } else {
            error(element.source(), where + "[" + std::to_string(i) + "]: found " + found(element) +
                                        ", expected a string");
            ok = false;
          }
        }
        if (!ok) return std::nullopt;
        return Value(std::move(out));
      }
      case KeyType::duration_array: {
        const toml::array* list = node.as_array();
        if (!list) return wrong(expected_for(spec));
        std::vector<Duration> out;
        bool ok = true;
        for (std::size_t i = 0; i < list->size(); ++i) {
          if (auto d = duration(where + "[" + std::to_string(i) + "]", (*list)[i]))
            out.push_back(*d);
          else
            ok = false;
        }
        if (!ok) return std::nullopt;
        return Value(std::move(out));
      }
      case KeyType::headers: {
        const toml::table* table = node.as_table();
        if (!table) return wrong(expected_for(spec));
        // toml++ keeps keys sorted; the order written is recovered from their positions.
        std::vector<std::pair<toml::source_position, std::pair<std::string, std::string>>> entries;
        bool ok = true;
        for (auto&& [k, v] : *table) {
          if (auto* s = v.as_string()) {
            entries.push_back({k.source().begin, {std::string(k.str()), s->get()}});
          } else {
            error(v.source(), where + "." + std::string(k.str()) + ": found " + found(v) +
                                  ", expected a string");
            ok = false;
          }
        }
        if (!ok) return std::nullopt;
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
          return std::tie(a.first.line, a.first.column) < std::tie(b.first.line, b.first.column);
        });
        Headers out;
        for (auto& entry : entries) out.push_back(std::move(entry.second));
        return Value(std::move(out));
      }
      case KeyType::tables: {
        const toml::table* table = node.as_table();
        if (!table) return wrong(expected_for(spec));
        PluginTables out;
        bool ok = true;
        for (auto&& [k, v] : *table) {
          if (const toml::table* plugin = v.as_table()) {
            out[std::string(k.str())] = to_json(*plugin);
          } else {
            error(v.source(), where + "." + std::string(k.str()) + ": found " + found(v) +
                                  ", expected a table [" + where + "." +
                                  bare_or_quoted_key(k.str()) + "]");
            ok = false;
          }
        }
        if (!ok) return std::nullopt;
        return Value(std::move(out));
      }
    }
    return std::nullopt;
  }

  std::optional<Duration> duration(const std::string& where, const toml::node& node) {
    if (auto* s = node.as_string()) {
      // Timers count nanoseconds in 64 bits (292 years): a longer wait would wrap around and
      // fire at once.
      constexpr Duration kLongest = std::chrono::hours(24 * 36500);
      if (auto d = parse_duration(s->get()); d && *d > kLongest) {
        error(node.source(), where + ": found " + json_quoted(s->get()) + ", expected at most " +
                                 json_quoted(format_duration(kLongest)) + " (100 years)");
        return std::nullopt;
      } else if (d) {
        return d;
      }
      error(node.source(), where + ": found " + json_quoted(s->get()) + ", expected " +
                               std::string(kDurationHint));
      return std::nullopt;
    }
    std::string hint = "a duration string such as \"30s\" (units ms, s, m, h, d)";
    if (auto* i = node.as_integer())
      hint = "a duration string with its unit, such as \"" + std::to_string(i->get()) +
             "s\" or \"" + std::to_string(i->get()) + "ms\"";
    error(node.source(), where + ": found " + found(node) + ", expected " + hint);
    return std::nullopt;
  }

  static nlohmann::json to_json(const toml::node& node) {
    if (auto* t = node.as_table()) {
      nlohmann::json out = nlohmann::json::object();
      for (auto&& [k, v] : *t) out[std::string(k.str())] = to_json(v);
      return out;
    }
    if (auto* a = node.as_array()) {
      nlohmann::json out = nlohmann::json::array();
      for (const toml::node& v : *a) out.push_back(to_json(v));
      return out;
    }
    if (auto* s = node.as_string()) return s->get();
    if (auto* i = node.as_integer()) return i->get();
    if (auto* f = node.as_floating_point()) return f->get();
    if (auto* b = node.as_boolean()) return b->get();
    return render(node);  // dates and times, as TOML writes them
  }

  Config config_;
  bool daemon_ = false;  // check the files vellumd reads (KeySpec::daemon_reads)
  std::vector<Problem> problems_;
  std::map<std::string, std::string> positions_;     // "fetch.timeout" -> "file:line:col"
  std::map<std::string, std::string> source_names_;  // name -> where it was first declared
  std::size_t file_ = 0;
  std::size_t file_count_ = 0;
  std::string name_;
  std::string main_name_;
  bool main_known_ = false;
};

// The whole file, or nullopt with errno's reason in `why`.
std::optional<std::string> slurp(const fs::path& file, std::string& why) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    why = "is a directory; expected a TOML file";
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    why = std::string("cannot be read: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    why = std::string("cannot be read: ") + std::strerror(errno);
    return std::nullopt;
  }
  return text.str();
}

}  // namespace

Config default_config() {
  static const Config defaults = [] {
    Loader loader{Config{}};
    for (const auto& section : config_schema())
      if (!section.array) loader.apply_defaults(section);
    Config c = loader.finish();
    c.files.clear();
    return c;
  }();
  return defaults;
}

Config load_config_string(std::string_view toml, const std::string& name) {
  Loader loader(default_config());
  loader.read_text(toml, name, Role::main);
  Config c = loader.finish();
  c.files = {name};
  return c;
}

Config load_config(const fs::path& main_file, Reader reader) {
  std::error_code ec;
  std::string main_name = main_file.string();
  bool exists = fs::exists(main_file, ec);
  if (ec)
    throw ConfigError(main_name + ": cannot be checked: " + ec.message() +
                      "; expected vellumd's configuration file here");
  if (!exists)
    throw ConfigError(main_name +
                      ": no such file; vellumd reads its configuration from here. To start, "
                      "copy etc/vellum.toml (shipped with Vellum: every key at its default) to " +
                      main_name + ", or name another file with --config FILE");

  Loader loader(default_config(), reader == Reader::daemon);
  std::vector<fs::path> files{main_file};
  std::string why;
  if (auto text = slurp(main_file, why))
    loader.read_text(*text, main_name, Role::main);
  else
    loader.unreadable(main_name, why);

  // The sources directory: as set in the main file, else sources.d beside it.
  const fs::path& configured = loader.config().daemon.sources_dir;
  fs::path dir = configured.empty() ? main_file.parent_path() / "sources.d" : configured;
  std::vector<fs::path> sources;
  if (reader == Reader::settings) {
    // The main file's settings alone.
  } else if (fs::is_directory(dir, ec)) {
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".toml" && entry.is_regular_file(ec))
        sources.push_back(entry.path());
    }
    if (ec) loader.report(dir.string(), 0, 0, "cannot list the sources directory: " + ec.message());
    std::sort(sources.begin(), sources.end(), [](const fs::path& a, const fs::path& b) {
      return a.filename().string() < b.filename().string();
    });
  } else if (!configured.empty()) {
    std::string at = loader.position_of("daemon.sources_dir");
    loader.report(at.empty() ? main_name : at, 0, 0,
                  "daemon.sources_dir: " + json_quoted(configured.string()) +
                      " is not a directory; expected the directory of the [[source]] files "
                      "(create it, or set sources_dir = \"\" for sources.d beside " +
                      main_name + ")");
  }

  for (const auto& file : sources) {
    files.push_back(file);
    if (auto text = slurp(file, why))
      loader.read_text(*text, file.string(), Role::sources);
    else
      loader.unreadable(file.string(), why);
  }
  Config c = loader.finish();
  c.files = std::move(files);
  return c;
}

std::string describe(const Config& c) {
  std::ostringstream out;
  out << "configuration: ";
  for (std::size_t i = 0; i < c.files.size(); ++i) out << (i ? ", " : "") << c.files[i].string();
  out << "\narchive: " << c.archive.dir.string() << " (" << c.archive.compression;
  if (c.archive.compression != "none") out << " level " << c.archive.level;
  out << ", WARC files rotated at " << format_size(c.archive.rotate_size) << ", sync "
      << c.archive.sync << (c.archive.extract ? ", articles extracted" : ", no extraction")
      << ")\n";

  out << "plugin directories: ";
  if (c.plugins.dirs.empty()) out << "the installed plugin directory";
  for (std::size_t i = 0; i < c.plugins.dirs.size(); ++i)
    out << (i ? ", " : "") << c.plugins.dirs[i].string();
  if (!c.plugins.config.empty()) {
    out << " (settings for";
    for (const auto& [name, settings] : c.plugins.config) out << " " << name;
    out << ")";
  }

  std::map<std::string, int> per_kind;
  int enabled = 0;
  for (const auto& s : c.sources) {
    if (!s.enabled) continue;
    ++enabled;
    ++per_kind[s.kind];
  }
  out << "\nsources: " << enabled << " enabled";
  if (enabled > 0) {
    out << " (";
    bool first = true;
    for (const char* kind : {"feed", "sitemap", "url", "page"}) {
      if (per_kind[kind] == 0) continue;
      out << (first ? "" : ", ") << kind << " " << per_kind[kind];
      first = false;
    }
    out << ")";
  }
  if (auto disabled = c.sources.size() - static_cast<std::size_t>(enabled); disabled > 0)
    out << ", " << disabled << " disabled";

  out << "\nstate file: "
      << (c.daemon.state_file.empty() ? (c.archive.dir / "state.sqlite3").string()
                                      : c.daemon.state_file.string());
  out << "\ncontrol socket: ";
  if (c.daemon.socket.empty())
    out << "vellumd.sock in $RUNTIME_DIRECTORY, else " << (c.archive.dir / "vellumd.sock").string();
  else
    out << c.daemon.socket.string();
  out << "\nmetrics: " << (c.metrics.enabled ? "http://" + c.metrics.listen + "/metrics" : "off")
      << "\n";
  return out.str();
}

}  // namespace vellum::config
