#include "support/Tools.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace vellum::test {

std::pair<int, std::string> shell(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {-1, output};
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  int status = ::pclose(pipe);
  int code = status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, output};
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) v.push_back(nlohmann::json::parse(line));
  return v;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

bool on_path(const std::string& program) {
  return shell("command -v " + shell_quote(program) + " >/dev/null 2>&1").first == 0;
}

std::string fault_env(const std::vector<std::pair<std::string, std::string>>& settings,
                      const std::filesystem::path& log) {
  std::string env = "LD_PRELOAD=" + shell_quote(VELLUM_FAULTFS_PATH);
  // Sanitizer builds: the library is preloaded ahead of the ASan runtime on purpose.
  const char* asan = std::getenv("ASAN_OPTIONS");
  env +=
      " ASAN_OPTIONS=" + shell_quote(std::string(asan ? asan : "") + ":verify_asan_link_order=0");
  env += " VELLUM_FAULT_LOG=" + shell_quote(log.string());
  for (const auto& [name, value] : settings)
    env += " VELLUM_FAULT_" + name + "=" + shell_quote(value);
  return env;
}

std::filesystem::path npm_prefix() {
  if (const char* env = std::getenv("VELLUM_NPM_PREFIX"); env && *env) return env;
  const char* tmp = std::getenv("TMPDIR");
  std::filesystem::path base = tmp && *tmp ? tmp : std::filesystem::temp_directory_path();
  return base / "vellum-npm";
}

std::string install_warcio() {
  auto prefix = npm_prefix();
  std::error_code ec;
  std::filesystem::create_directories(prefix, ec);
  int lock = ::open((prefix / ".install-lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0) return "cannot create a lock file in " + prefix.string();
  ::flock(lock, LOCK_EX);
  std::pair<int, std::string> r{0, {}};
  if (!std::filesystem::exists(prefix / "node_modules" / "warcio" / "package.json"))
    r = shell("npm install --prefix " + shell_quote(prefix.string()) +
              " --no-audit --no-fund --loglevel=error warcio 2>&1");
  ::flock(lock, LOCK_UN);
  ::close(lock);
  return r.first == 0 ? std::string() : "npm install warcio failed:\n" + r.second;
}

std::vector<nlohmann::json> warcio_cdx(const std::filesystem::path& file, std::string* error) {
  auto [rc, out] =
      shell("cd " + shell_quote(file.parent_path().string()) + " && npx --prefix " +
            shell_quote(npm_prefix().string()) + " --no warcio cdx-index --format json " +
            shell_quote(file.filename().string()) + " 2>&1");
  std::vector<nlohmann::json> rows;
  if (rc != 0) {
    if (error) *error = "warcio cdx-index failed (" + std::to_string(rc) + "): " + out;
    return rows;
  }
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_discarded()) {
      if (error) *error = "warcio printed a line that is not JSON: " + line;
      continue;
    }
    rows.push_back(row);
  }
  return rows;
}

std::filesystem::path build_template_plugin(const std::filesystem::path& work) {
  std::filesystem::path prefix = work / "prefix";
  auto [rc, out] = shell("cmake --install " + shell_quote(VELLUM_BINARY_DIR) + " --prefix " +
                         shell_quote(prefix.string()) + " 2>&1");
  if (rc != 0) throw std::runtime_error("cmake --install failed:\n" + out);
  std::filesystem::path src = std::filesystem::path(VELLUM_SOURCE_DIR) / "examples/hello";
  std::filesystem::path build = work / "hello-build";
  std::tie(rc, out) =
      shell("cmake -S " + shell_quote(src.string()) + " -B " + shell_quote(build.string()) +
            " -DCMAKE_PREFIX_PATH=" + shell_quote(prefix.string()) + " 2>&1 && cmake --build " +
            shell_quote(build.string()) + " 2>&1");
  if (rc != 0) throw std::runtime_error("building examples/hello failed:\n" + out);
  return build / "hello.so";
}

}  // namespace vellum::test
