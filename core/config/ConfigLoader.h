// Reading vellumd's configuration: the main file, then every *.toml of the sources directory in
// name order. Every key is checked against ConfigSchema; all errors of all files are collected
// and thrown together as one ConfigError, one "FILE:LINE:COLUMN: message" line each, in file
// order and then by position.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "config/Config.h"

namespace vellum::config {

// Where vellumd looks when no --config is given.
inline constexpr const char* kDefaultConfigFile = "/etc/vellum/vellum.toml";

// Who reads the configuration: vellumd itself also checks the files it will open (a cookie
// file, CA certificates) exist and are readable by it; `cli` reads the same files without those
// checks (for checking a configuration); `settings` is what the `vellum` CLI reads for its
// defaults: the main file alone, since a source file with an error, which vellumd reports and
// keeps running past on a reload, must not keep the CLI from reaching the daemon.
enum class Reader { cli, daemon, settings };

// Reads `main_file` and the sources directory (daemon.sources_dir, or sources.d beside the main
// file; a missing default sources.d is no error). Throws ConfigError; a missing main file is an
// error saying where it looked and how to start.
Config load_config(const std::filesystem::path& main_file, Reader reader = Reader::cli);

// Reads one file's text, named `name` in messages and Config::files; no sources directory.
// For tests and for checking a single file.
Config load_config_string(std::string_view toml, const std::string& name);

// Every key at its default (ConfigSchema's defaults); no sources, no files.
Config default_config();

// A short summary for `vellumd --check-config`: files read, archive directory, plugin
// directories, sources per kind, state file, socket, metrics.
std::string describe(const Config& config);

}  // namespace vellum::config
