// The one table of every configuration key: name, type, default, description and checks, per
// section. It drives the defaults (default_config), the validation in ConfigLoader, the key
// reference in docs/configuration.md and the shipped etc/vellum.toml; tests assert that those
// files equal what is rendered here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/Config.h"

namespace vellum::config {

// curl's --resolve form, HOST:PORT:ADDR[,ADDR]... with IPv4 or IPv6 addresses (IPv6 with or
// without brackets) and a port from 1 to 65535: for `fetch.resolve` and `--resolve`.
bool is_resolve_entry(const std::string& s);

enum class KeyType {
  string,
  path,     // a string naming a file or directory, kept as written
  integer,  // fits in an int
  boolean,
  floating,     // a float, or an integer taken as one
  duration,     // "15m", "1h30m" (Units.h)
  size,         // "256MiB", "10MB", or an integer count of bytes (Units.h)
  enumeration,  // a string from KeySpec::allowed
  string_array,
  path_array,
  duration_array,
  headers,  // a table of string values, kept in the order written
  tables,   // a table of free-form tables ([plugins.config.<name>]), converted to JSON
};

using Headers = std::vector<std::pair<std::string, std::string>>;
using PluginTables = std::map<std::string, nlohmann::json>;

// A value once read and converted to its key's type. Strings, paths and enumerations are
// std::string; sizes are std::uint64_t; integers std::int64_t; floats double.
using Value = std::variant<bool, std::int64_t, double, std::string, Duration, std::uint64_t,
                           std::vector<std::string>, std::vector<Duration>, Headers, PluginTables>;

// A rule a value must follow beyond its type. `text` completes both "found X, expected ..." in
// errors and "Allowed: ..." in the docs. `test` returns nullopt when the value passes, else an
// optional detail for the error message (empty when there is nothing to add).
struct Check {
  std::string text;
  std::function<std::optional<std::string>(const Value&)> test;
};

struct KeySpec {
  std::string key;
  KeyType type = KeyType::string;
  // The default as TOML text ("16", "\"15m\"", "[]"); empty when the key is required or unset
  // by default.
  std::string default_toml;
  std::string description;
  std::vector<std::string> allowed;   // KeyType::enumeration only
  std::vector<Check> checks;          // on the whole value
  std::vector<Check> element_checks;  // on each element of an array
  bool required = false;
  // The value shown in the commented-out examples of etc/vellum.toml, when not the default.
  std::string example_toml;
  // A file vellumd opens (KeyType::path): when the daemon loads its configuration, it must be
  // a regular file vellumd can read (daemon_readable_file). Other readers of the configuration
  // (the CLI) do not check it: they neither open it nor run as the daemon's user.
  bool daemon_reads = false;
  // Stores a checked value. Keys of [[source]] write Config::sources.back().
  std::function<void(Config&, const Value&)> store;
};

struct SectionSpec {
  std::string name;    // "fetch"; "source" for [[source]]
  bool array = false;  // an array of tables: [[source]]
  std::string description;
  std::vector<KeySpec> keys;

  const KeySpec* find(std::string_view key) const;
  std::string header() const;  // "[fetch]", "[[source]]"
};

// The check of a daemon_reads key: empty, or a regular file this process can open for reading.
Check daemon_readable_file();

// Every section, in the order of etc/vellum.toml.
const std::vector<SectionSpec>& config_schema();
const SectionSpec* find_section(std::string_view name);

// How a key's type is named in messages and docs: "integer", "duration", "array of strings".
std::string type_name(const KeySpec& key);

// The shipped etc/vellum.toml: every key at its default with a comment above it, and [[source]]
// as a commented-out example.
std::string default_config_toml();

// The key reference of docs/configuration.md (Markdown, one table per section).
std::string config_reference_markdown();

}  // namespace vellum::config
