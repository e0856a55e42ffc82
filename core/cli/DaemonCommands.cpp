// `vellum status`, `vellum sources`, `vellum enqueue`: requests to the running daemon over its
// control socket.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "cli/Cli.h"
#include "daemon/ControlClient.h"

namespace vellum::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::chrono::milliseconds kTimeout{10'000};

fs::path socket_path(const GlobalOptions& g) {
  if (!g.socket.empty()) return g.socket;
  if (const char* env = std::getenv("VELLUM_SOCKET"); env && *env) return env;
  fs::path system = "/run/vellum/vellumd.sock";
  std::error_code ec;
  if (fs::exists(system, ec)) return system;
  return g.archive / "vellumd.sock";
}

json ask(const GlobalOptions& g, const json& request) {
  json reply = daemon::control_request(socket_path(g), request, kTimeout);
  if (!reply.value("ok", false))
    throw std::runtime_error("vellumd refused: " +
                             reply.value("error", std::string("no reason given")));
  return reply;
}

std::string text(const json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void print_sources(const json& list) {
  for (const auto& s : list) {
    std::cout << text(s, "name") << "  " << text(s, "kind") << "  " << text(s, "url") << "\n"
              << "    every " << text(s, "interval") << ", next run " << text(s, "next_run");
    if (s.value("running", false)) std::cout << " (running now)";
    if (!s.value("enabled", true)) std::cout << " (disabled)";
    std::cout << "\n";
    if (s.contains("last_run") && !s["last_run"].is_null()) {
      std::cout << "    last run " << text(s, "last_run") << ": ";
      std::string err = s.value("last_error", std::string());
      if (err.empty() && s.contains("last_status") && s["last_status"].is_number())
        std::cout << "ok, HTTP " << text(s, "last_status");
      else if (err.empty())
        std::cout << "ok";
      else
        std::cout << err;
      std::cout << "; " << text(s, "urls_found") << " URLs found in " << text(s, "runs")
                << " runs\n";
    }
  }
}

}  // namespace

void read_url_list(const std::string& input, std::vector<std::string>& out) {
  std::ifstream file;
  if (input != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec))
      throw UsageError("-i " + input + ": found a directory, expected a file of URLs, one a line");
    errno = 0;
    file.open(input);
    const int err = errno;
    if (!file)
      throw std::runtime_error("cannot read URL list " + input + ": " +
                               (err ? std::strerror(err) : "it cannot be opened"));
  }
  std::istream& in = input == "-" ? std::cin : file;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 BOM
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    // A comment after the URL ("https://… # why"): white space then '#'. (A fragment is never
    // sent, and a URL as a browser writes it has no white space.)
    for (std::size_t at = line.find('#', b); at != std::string::npos; at = line.find('#', at + 1))
      if (line[at - 1] == ' ' || line[at - 1] == '\t') {
        line.erase(at);
        break;
      }
    auto e = line.find_last_not_of(" \t\r");
    std::string url = line.substr(b, e - b + 1);
    // A URL has no control bytes: binary data is not a list of URLs.
    for (unsigned char c : url)
      if (c < 0x20 || c == 0x7f)
        throw UsageError("URL list " + input + ", line " + std::to_string(number) +
                         ": found a control byte (0x" + "0123456789abcdef"[c >> 4] +
                         "0123456789abcdef"[c & 15] + "), expected one URL a line");
    out.push_back(std::move(url));
  }
}

int run_status(const GlobalOptions& g) {
  json r = ask(g, {{"command", "status"}});
  if (g.json) {
    print_json_line(r);
    return 0;
  }
  const json& q = r["queue"];
  std::cout << "vellumd " << text(r, "version") << " (pid " << text(r, "pid") << "), up "
            << text(r, "uptime_seconds") << " s, archive " << text(r, "archive")
            << (r.value("draining", false) ? "  DRAINING" : "") << "\n"
            << "queue: " << text(q, "queued") << " queued, " << text(q, "in_flight")
            << " fetching, " << text(q, "storing") << " storing, " << text(q, "due")
            << " due, over " << text(q, "hosts") << " hosts\n"
            << "this run: " << text(r, "captures") << " captures (" << text(r, "revisits")
            << " unchanged), " << text(r, "errors") << " failed attempts (retries counted), "
            << text(r, "robots_refused") << " refused by robots.txt\n"
            << "known URLs: " << text(r["urls"], "known") << ", captured "
            << text(r["urls"], "captured") << ", given up " << text(r["urls"], "given_up")
            << "\n\nsources:\n";
  print_sources(r["sources"]);
  return 0;
}

int run_sources(const GlobalOptions& g) {
  json r = ask(g, {{"command", "sources"}});
  if (g.json) {
    for (const auto& s : r["sources"]) print_json_line(s);
    return 0;
  }
  print_sources(r["sources"]);
  return 0;
}

int run_enqueue(const GlobalOptions& g, const EnqueueOptions& o) {
  std::vector<std::string> urls = o.urls;
  if (!o.input.empty()) read_url_list(o.input, urls);
  if (urls.empty()) throw UsageError("no URLs given (name them, or use -i FILE)");
  json req{{"command", "enqueue"}, {"urls", urls}};
  if (!o.plugin.empty()) req["plugin"] = o.plugin;
  json r = ask(g, req);
  if (g.json) {
    print_json_line(r);
  } else {
    for (const auto& u : r["queued"]) std::cout << "queued  " << u.get<std::string>() << "\n";
    for (const auto& x : r["rejected"])
      std::cout << "refused " << text(x, "url") << "  " << text(x, "error") << "\n";
  }
  return r["rejected"].empty() ? 0 : 1;
}

}  // namespace vellum::cli
