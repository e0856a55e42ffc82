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

// Quotes a word for /bin/sh.
std::string shell_quote(const std::string& s);

bool on_path(const std::string& program);

// The npm prefix warcio.js is installed under: $VELLUM_NPM_PREFIX, else $TMPDIR/vellum-npm.
std::filesystem::path npm_prefix();

// Installs warcio.js under npm_prefix() once (serialised with a lock between processes);
// returns an error text, empty on success.
std::string install_warcio();

// `warcio cdx-index --format json FILE`: one JSON object per record it indexed. Sets `error`
// when warcio fails.
std::vector<nlohmann::json> warcio_cdx(const std::filesystem::path& file, std::string* error);

}  // namespace vellum::test
