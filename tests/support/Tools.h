// Running other programs from tests: shell commands, and warcio.js as an independent WARC
// reader.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace vellum::test {

// Runs a shell command; returns its exit status (128 + signal when killed) and stdout.
std::pair<int, std::string> shell(const std::string& command);

// One JSON value per non-empty line of `out` (the CLI's --json output).
std::vector<nlohmann::json> json_lines(const std::string& out);

// Quotes a word for /bin/sh.
std::string shell_quote(const std::string& s);

bool on_path(const std::string& program);

// NAME=value words (for `env`) that preload the fault library tests/faultfs into a program and
// configure it: `settings` maps VELLUM_FAULT_* names without the prefix to values; each failure
// injected is logged to `log`.
std::string fault_env(const std::vector<std::pair<std::string, std::string>>& settings,
                      const std::filesystem::path& log);

// The npm prefix warcio.js is installed under: $VELLUM_NPM_PREFIX, else $TMPDIR/vellum-npm.
std::filesystem::path npm_prefix();

// Installs warcio.js under npm_prefix() once (serialised with a lock between processes);
// returns an error text, empty on success.
std::string install_warcio();

// `warcio cdx-index --format json FILE`: one JSON object per record it indexed. Sets `error`
// when warcio fails.
std::vector<nlohmann::json> warcio_cdx(const std::filesystem::path& file, std::string* error);

// Installs the SDK from the build tree under test into `work`/prefix with `cmake --install`,
// then builds the template plugin in examples/hello out of tree against it with plain cmake.
// Returns the built hello.so; throws with the commands' output when a step fails.
std::filesystem::path build_template_plugin(const std::filesystem::path& work);

}  // namespace vellum::test
