#include "cli/CliDocs.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace vellum::cli {

namespace {

// Text for roff: backslashes doubled, hyphens as \- (so that they copy as ASCII), and a leading
// '.' or '\'' protected so that it is not read as a request.
std::string roff(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The fixed choices of an option ("TEXT:{a,b,c}" from CLI::IsMember), else empty.
std::vector<std::string> choices(const CLI::Option& opt) {
  std::string type = opt.get_type_name();
  auto open = type.find('{'), close = type.rfind('}');
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos || close < open) return out;
  std::stringstream ss(type.substr(open + 1, close - open - 1));
  for (std::string item; std::getline(ss, item, ',');) {
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool takes_value(const CLI::Option& opt) {
  return opt.get_type_size_max() > 0 && opt.get_items_expected_max() > 0;
}

bool takes_file(const CLI::Option& opt) {
  std::string type = opt.get_type_name();
  if (type.find("FILE") != std::string::npos || type.find("DIR") != std::string::npos ||
      type.find("PATH") != std::string::npos)
    return true;
  for (const auto& n : opt.get_lnames())
    if (n == "archive" || n == "config" || n == "socket" || n == "output" || n == "input" ||
        n == "plugin-dir" || n == "plugin" || n == "cacert")
      return true;
  return false;
}

// What a value is called in the synopsis: the choices, FILE, N, or the option's own name.
std::string value_name(const CLI::Option& opt) {
  auto c = choices(opt);
  if (!c.empty()) {
    std::string s;
    for (const auto& x : c) s += (s.empty() ? "" : "|") + x;
    return s;
  }
  std::string type = opt.get_type_name();
  for (const char* word : {"FILE", "DIR", "PATH"})
    if (type.find(word) != std::string::npos) return word;
  if (type.starts_with("INT") || type.starts_with("UINT")) return "N";
  if (type.starts_with("FLOAT") || type.starts_with("NUMBER")) return "NUMBER";
  if (!opt.get_lnames().empty()) return upper(opt.get_lnames().front());
  return upper(opt.get_name());
}

bool visible(const CLI::Option& opt) {
  return !opt.get_group().empty();
}

std::vector<const CLI::Option*> named_options(const CLI::App& app) {
  return app.get_options(
      [](const CLI::Option* o) { return o->nonpositional() && !o->get_group().empty(); });
}

std::vector<const CLI::Option*> positionals(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->nonpositional(); });
}

std::vector<const CLI::App*> commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* a) { return !a->get_group().empty(); });
}

std::string positional_word(const CLI::Option& p) {
  std::string w = upper(p.get_name());
  if (p.get_items_expected_max() > 1) w += "...";
  return p.get_required() ? w : "[" + w + "]";
}

// Paragraphs separated by blank lines. A paragraph of one line is plain text; one of several
// lines is a tagged paragraph (the first line in bold, the rest below it, indented); lines
// starting with two spaces are shown as they are (examples).
void write_text(std::ostringstream& out, const std::string& text) {
  std::vector<std::vector<std::string>> paragraphs(1);
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) {
    if (line.empty()) {
      if (!paragraphs.back().empty()) paragraphs.emplace_back();
    } else {
      paragraphs.back().push_back(line);
    }
  }
  for (const auto& p : paragraphs) {
    if (p.empty()) continue;
    if (p.front().starts_with("  ")) {
      out << ".PP\n.in +4n\n.nf\n";
      for (const auto& l : p) out << roff(l.starts_with("  ") ? l.substr(2) : l) << "\n";
      out << ".fi\n.in\n";
    } else if (p.size() > 1) {
      out << ".TP\n\\fB" << roff(p.front()) << "\\fR\n";
      for (std::size_t i = 1; i < p.size(); ++i) out << roff(p[i]) << "\n";
    } else {
      out << ".PP\n" << roff(p.front()) << "\n";
    }
  }
}

void write_sections(std::ostringstream& out, const std::vector<ManSection>& sections) {
  for (const auto& s : sections) {
    out << ".SH " << upper(s.title) << "\n";
    write_text(out, s.text);
  }
}

void write_option(std::ostringstream& out, const CLI::Option& opt) {
  out << ".TP\n";
  std::string names;
  for (const auto& s : opt.get_snames())
    names += (names.empty() ? "" : ", ") + ("\\fB\\-" + roff(s) + "\\fR");
  for (const auto& l : opt.get_lnames())
    names += (names.empty() ? "" : ", ") + ("\\fB\\-\\-" + roff(l) + "\\fR");
  if (takes_value(opt)) names += " \\fI" + roff(value_name(opt)) + "\\fR";
  out << names << "\n";
  std::string desc = opt.get_description();
  if (!opt.get_default_str().empty()) desc += " (default: " + opt.get_default_str() + ")";
  if (opt.get_items_expected_max() > 1 && takes_value(opt) &&
      desc.find("repeat") == std::string::npos)
    desc += "; may be repeated";
  out << roff(desc) << "\n";
}

// Longer text for `vellum`'s commands: what a user reads in the manual beyond --help.
struct CommandNotes {
  const char* description;
  const char* examples;
};

const std::map<std::string, CommandNotes>& vellum_notes() {
  static const std::map<std::string, CommandNotes> notes = {
      {"archive",
       {"Fetches each URL now, without the daemon, following redirects, and stores the request "
        "and response records in the archive's WARC files. Each capture is then extracted into "
        "an article record unless --no-extract is given. One line is printed per URL: the capture "
        "id, the HTTP status and the title, or the reason it failed. A capture is reported only "
        "after its records are durably written.\n\nWhile vellumd runs on the same archive, "
        "archive waits for the writer lock; hand URLs to the daemon with vellum enqueue instead.",
        "  vellum archive https://example.com/news/story\n"
        "  vellum archive -i urls.txt --concurrency 8\n"
        "  vellum archive --resolve example.com:443:127.0.0.1 https://example.com/"}},
      {"restore",
       {"Writes out one capture. REF is a capture id (or a unique prefix of at least 8 "
        "characters), a URL (its latest capture) or URL@TIMESTAMP (the nearest capture at or "
        "before the time; TIMESTAMP is YYYY[MM[DD[hh[mm[ss]]]]] or ISO 8601).\n\ntext, "
        "markdown and json print the article; html prints the payload exactly as the server sent "
        "it (its digest checked, content coding removed); warc prints the stored records. With "
        "-o the output is written to a temporary file beside PATH and renamed when complete.",
        "  vellum restore https://example.com/news/story\n"
        "  vellum restore 'https://example.com/news/story@20260401' --format html -o story.html\n"
        "  vellum restore 3f2a9c1e --format json | jq .title"}},
      {"list", {"Lists captures, newest first, one per line: time, status, capture id, URL.", ""}},
      {"show",
       {"Shows what is stored for one capture: its index row, where its records are and the "
        "HTTP response headers.",
        ""}},
      {"verify",
       {"Reads every record of every WARC file, recomputes the block and payload digests, and "
        "checks that the index and the files agree. With REF only that capture is checked. The "
        "exit status is 1 when anything does not match; each problem is printed on standard "
        "error with where it was found.",
        "  vellum verify && echo archive intact"}},
      {"reindex",
       {"Rebuilds index.sqlite3 from the WARC files. The index holds only derived data; "
        "deleting it loses nothing.",
        ""}},
      {"extract",
       {"Runs extraction on a saved page and prints the article, touching no archive. This is "
        "the plugin author's loop: edit, build, run vellum extract --plugin.",
        "  vellum extract page.html --url https://example.com/news/story --format text\n"
        "  vellum extract page.html --url https://example.com/x --plugin build/libmysite.so"}},
      {"reextract",
       {"Runs extraction again on stored captures, without fetching anything, and stores the "
        "new article records beside the old ones; the newest is the one shown.",
        "  vellum reextract --domain example.com"}},
      {"plugins",
       {"Lists the extractor plugins found in the plugin directories, with their versions, "
        "files and the hosts they handle, or checks that one file would load.",
        "  vellum plugins --check build/libmysite.so"}},
      {"status",
       {"Asks the running vellumd, over its control socket, what it is doing: sources, next "
        "runs, queue depth, captures and errors.",
        ""}},
      {"sources", {"Lists the running vellumd's sources with their schedules.", ""}},
      {"enqueue",
       {"Hands URLs to the running vellumd, which captures them politely with its frontier.",
        "  vellum enqueue https://example.com/news/story"}},
      {"search",
       {"Searches the titles, leads and bodies of the archived articles; the best matches come "
        "first, titles weighing most. All words must occur; \"a phrase\" in double quotes "
        "must occur as written; word* matches every word starting with word; AND, OR, NOT (upper "
        "case) and parentheses combine them. Case and accents do not matter. Each hit is one "
        "URL, shown by its latest matching capture, with a snippet in which matched words are "
        "in [ ]. A query that does not parse is refused with what was found where.",
        "  vellum search 'solar \"power plant\"' --domain example.com --limit 5\n"
        "  vellum search 'bridge NOT (ferry OR toll)' --since 2026"}},
      {"history",
       {"Lists every capture of a URL, oldest first, with whether its payload and its "
        "extracted text changed since the capture before.",
        "  vellum history https://example.com/news/story"}},
      {"export",
       {"Writes the selected captures to one file that other web-archiving tools read: warc.gz "
        "(one gzip member per record) or wacz (WACZ 1.1.1, for replayweb.page and pywb). "
        "Records are copied byte for byte; their digests stay valid.",
        "  vellum export --format wacz -o news.wacz --domain example.com --since 2026"}},
      {"import",
       {"Adds the captures in WARC files made by other tools (wget --warc-file, other crawlers) "
        "or by another Vellum archive: WARC/1.0 or 1.1, plain, gzip or zstd. Each request and "
        "response record is stored byte for byte (only the compression changes) and its article "
        "is extracted as at capture time. Captures already in the archive (same WARC-Record-ID) "
        "are skipped, so importing a file twice adds nothing. A damaged file is imported up to "
        "the damage (a compressed one also after it, from the next intact record); the error "
        "names the file and byte offset. A record whose digest does not match is refused. "
        "Either makes the exit status 1.",
        "  wget --warc-file=site -r https://example.com/ && vellum import site.warc.gz"}},
  };
  return notes;
}

const char* kExitStatus =
    "0 success.\n\n"
    "1 the command failed: the reason is printed on standard error in one line (with --json, "
    "also as {\"error\": ...} on standard output). For verify, the archive did not check out; "
    "for import, a file was damaged and was imported only up to the damage.\n\n"
    "2 the command line was not understood: an unknown command or option, or a bad value.\n\n"
    "3 the running daemon could not be reached (status, sources, enqueue).";

const char* kEnvironment =
    "VELLUM_PLUGIN_PATH\n"
    "Directories (separated by ':') to load extractor plugins from, when --plugin-dir is not "
    "given.\n\n"
    "VELLUM_SOCKET\n"
    "The daemon's control socket, when --socket and --config are not given.";

const char* kFiles =
    "ARCHIVE/warc/*.warc.zst\n"
    "The WARC files: request, response, revisit and metadata records, one zstd frame per "
    "record. A file being written ends in .open.\n\n"
    "ARCHIVE/articles/\n"
    "The article of each capture as JSON, readable without Vellum.\n\n"
    "ARCHIVE/index.sqlite3\n"
    "The index: derived data only, rebuilt by vellum reindex.\n\n"
    "/etc/vellum/vellum.toml\n"
    "vellumd's configuration; --config reads the archive directory, plugin directories and "
    "control socket from it.";

}  // namespace

void write_doc_file(const std::filesystem::path& file, const std::string& text) {
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) throw std::runtime_error("cannot write " + file.string());
}

std::string man_page(const CLI::App& app, const ManPage& page) {
  std::ostringstream out;
  out << ".\\\" " << page.name << "(" << page.section
      << "), written by the program from its command-line definitions.\n";
  out << ".TH " << upper(roff(page.name)) << " " << page.section << " \"\" \"Vellum "
      << roff(page.version) << "\" \"Vellum Manual\"\n";
  out << ".SH NAME\n" << roff(page.name) << " \\- " << roff(page.summary) << "\n";
  out << ".SH SYNOPSIS\n.B " << roff(page.synopsis_prefix) << "\n";
  std::string words;
  if (!named_options(app).empty()) words += "[OPTIONS]";
  if (!commands(app).empty()) words += std::string(words.empty() ? "" : " ") + "COMMAND [ARGS]";
  for (const auto* p : positionals(app)) words += (words.empty() ? "" : " ") + positional_word(*p);
  if (!words.empty()) out << roff(words) << "\n";
  write_sections(out, page.before_options);

  auto cmds = commands(app);
  if (!cmds.empty()) {
    out << ".SH COMMANDS\n";
    for (const auto* c : cmds) {
      out << ".TP\n\\fB" << roff(c->get_name()) << "\\fR\n" << roff(c->get_description()) << "\n";
    }
  }
  auto opts = named_options(app);
  if (!opts.empty()) {
    out << ".SH " << page.options_title << "\n";
    for (const auto* o : opts)
      if (visible(*o)) write_option(out, *o);
  }
  write_sections(out, page.after_options);
  return out.str();
}

std::string bash_completion(const CLI::App& app, const std::string& program) {
  auto word_list = [](const std::vector<const CLI::Option*>& opts) {
    std::string s;
    for (const auto* o : opts) {
      for (const auto& n : o->get_snames()) s += (s.empty() ? "-" : " -") + n;
      for (const auto& n : o->get_lnames()) s += (s.empty() ? "--" : " --") + n;
    }
    return s;
  };
  auto globals = named_options(app);
  auto cmds = commands(app);
  std::string names;
  for (const auto* c : cmds) names += (names.empty() ? "" : " ") + c->get_name();

  // Options that take a value: per command, those with choices and those taking files.
  auto value_cases = [&](const std::vector<const CLI::Option*>& opts, const std::string& indent) {
    std::ostringstream o;
    std::set<std::string> seen;
    for (const auto* opt : opts) {
      if (!takes_value(*opt)) continue;
      std::string pattern;
      for (const auto& n : opt->get_snames()) pattern += (pattern.empty() ? "-" : "|-") + n;
      for (const auto& n : opt->get_lnames()) pattern += (pattern.empty() ? "--" : "|--") + n;
      if (!seen.insert(pattern).second) continue;
      auto c = choices(*opt);
      o << indent << pattern << ")\n";
      if (!c.empty()) {
        std::string w;
        for (const auto& x : c) w += (w.empty() ? "" : " ") + x;
        o << indent << "  COMPREPLY=($(compgen -W \"" << w << "\" -- \"$cur\"))\n";
      } else if (takes_file(*opt)) {
        o << indent << "  COMPREPLY=($(compgen -f -- \"$cur\"))\n";
      } else {
        o << indent << "  COMPREPLY=()\n";
      }
      o << indent << "  return 0 ;;\n";
    }
    return o.str();
  };

  std::string fn = "_" + program;
  for (char& ch : fn)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  std::ostringstream out;
  out << "# bash completion for " << program
      << ", written by the program from its command-line definitions.\n";
  out << fn << "() {\n"
      << "  local cur prev cmd i\n"
      << "  cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
      << "  prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
      << "  cmd=\"\"\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    case \"${COMP_WORDS[i]}\" in\n";
  if (!names.empty()) {
    std::string alts = names;
    for (char& ch : alts)
      if (ch == ' ') ch = '|';
    out << "      " << alts << ") cmd=\"${COMP_WORDS[i]}\"; break ;;\n";
  }
  out << "    esac\n"
      << "  done\n"
      << "  case \"$cmd\" in\n";
  for (const auto* c : cmds) {
    out << "    " << c->get_name() << ")\n"
        << "      case \"$prev\" in\n"
        << value_cases(named_options(*c), "        ") << "      esac ;;\n";
  }
  out << "  esac\n"
      << "  case \"$prev\" in\n"
      << value_cases(globals, "    ") << "  esac\n"
      << "  local words\n"
      << "  case \"$cmd\" in\n"
      << "    \"\") words=\"" << names << " " << word_list(globals) << "\" ;;\n";
  for (const auto* c : cmds) {
    bool files = false;
    for (const auto* p : positionals(*c)) {
      std::string n = p->get_name();
      if (n == "page" || n == "files" || n == "file") files = true;
    }
    out << "    " << c->get_name() << ")\n"
        << "      words=\"" << word_list(named_options(*c)) << " " << word_list(globals) << "\"\n";
    if (files)
      out << "      if [[ \"$cur\" != -* ]]; then COMPREPLY=($(compgen -f -- \"$cur\")); return 0; "
             "fi\n";
    out << "      ;;\n";
  }
  out << "  esac\n"
      << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      << "}\n"
      << "complete -F " << fn << " " << program << "\n";
  return out.str();
}

std::vector<std::filesystem::path> write_vellum_docs(const CLI::App& app,
                                                     const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> written;
  std::string see_also = "vellumd(8)";
  for (const auto* c : commands(app)) see_also += ", vellum-" + c->get_name() + "(1)";

  ManPage top;
  top.name = "vellum";
  top.version = VELLUM_VERSION;
  top.summary = "archive web pages as WARC, find them, restore them byte for byte";
  top.synopsis_prefix = "vellum";
  top.before_options = {
      {"DESCRIPTION",
       "vellum captures web pages into an archive directory of WARC/1.1 files, extracts an "
       "article from each page, and finds, checks, restores, exports and imports what is "
       "stored. vellumd(8) does the same on schedules, as a service; vellum talks to it over "
       "its control socket.\n\nEach command has its own page: man vellum-COMMAND. The options "
       "below may be given before or after the command."}};
  top.options_title = "GLOBAL OPTIONS";
  top.after_options = {{"EXIT STATUS", kExitStatus},
                       {"ENVIRONMENT", kEnvironment},
                       {"FILES", kFiles},
                       {"SEE ALSO", see_also}};
  auto p = dir / "man1" / "vellum.1";
  write_doc_file(p, man_page(app, top));
  written.push_back(p);

  for (const auto* c : commands(app)) {
    ManPage page;
    page.name = "vellum-" + c->get_name();
    page.version = VELLUM_VERSION;
    page.summary = c->get_description();
    page.synopsis_prefix = "vellum [GLOBAL OPTIONS] " + c->get_name();
    auto it = vellum_notes().find(c->get_name());
    if (it != vellum_notes().end()) {
      page.before_options.push_back({"DESCRIPTION", it->second.description});
      if (*it->second.examples) page.after_options.push_back({"EXAMPLES", it->second.examples});
    } else {
      page.before_options.push_back({"DESCRIPTION", c->get_description()});
    }
    page.after_options.push_back({"EXIT STATUS", "As for every vellum command; see vellum(1)."});
    page.after_options.push_back({"SEE ALSO", "vellum(1)"});
    p = dir / "man1" / (page.name + ".1");
    write_doc_file(p, man_page(*c, page));
    written.push_back(p);
  }
  p = dir / "bash-completion" / "vellum";
  write_doc_file(p, bash_completion(app, "vellum"));
  written.push_back(p);
  return written;
}

}  // namespace vellum::cli
