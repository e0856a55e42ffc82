// Manual pages and shell completion written from the programs' own command-line definitions, so
// that what `--help` says, what `man` says and what Tab offers never drift apart.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace vellum::cli {

// A titled block of plain text for a manual page. Paragraphs are separated by blank lines;
// a paragraph whose lines start with two spaces is kept as it is (examples, tables).
struct ManSection {
  std::string title;
  std::string text;
};

struct ManPage {
  std::string name;             // "vellum-restore"
  int section = 1;              // 1 for user commands, 8 for daemons
  std::string version;          // shown in the footer
  std::string summary;          // the NAME line's text after the dash
  std::string synopsis_prefix;  // words before the options, e.g. "vellum [OPTIONS] restore"
  std::vector<ManSection> before_options;  // DESCRIPTION and the like
  std::vector<ManSection> after_options;   // EXIT STATUS, FILES, SEE ALSO, ...
  std::string options_title = "OPTIONS";
};

// The manual page (roff, man(7) macros) for the options and positionals of `app`, with the
// sections of `page` around them. Options in no group (hidden ones) are left out.
std::string man_page(const CLI::App& app, const ManPage& page);

// A bash completion script for a program with subcommands: command names, each command's
// options, the global options, the choices of options that have fixed ones, and file names for
// options that take a file.
std::string bash_completion(const CLI::App& app, const std::string& program);

// Writes `text` to `file`, creating its directory; throws with the path when it cannot.
void write_doc_file(const std::filesystem::path& file, const std::string& text);

// Writes `vellum`'s pages (man1/vellum.1 and man1/vellum-COMMAND.1 for each command) and its
// completion script (bash-completion/vellum) under `dir`. Returns the files written.
std::vector<std::filesystem::path> write_vellum_docs(const CLI::App& app,
                                                     const std::filesystem::path& dir);

}  // namespace vellum::cli
