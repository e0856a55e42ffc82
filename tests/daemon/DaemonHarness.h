// Runs the real vellumd as a child process against a configuration written by the test, and
// talks to it over its control socket.
#pragma once

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon/ControlClient.h"
#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/Tools.h"

namespace vellum::test {

class DaemonHarness {
 public:
  explicit DaemonHarness(const std::string& tag = "vd")
      : tmp_(tag),
        config_(tmp_ / "vellum.toml"),
        archive_(tmp_ / "archive"),
        socket_(tmp_ / "vellumd.sock"),
        log_(tmp_ / "vellumd.log") {}

  ~DaemonHarness() {
    if (proc_) {
      proc_->kill(SIGKILL);
      proc_->wait();
    }
  }

  const std::filesystem::path& dir() const { return tmp_.path(); }
  const std::filesystem::path& archive() const { return archive_; }
  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& config_file() const { return config_; }

  // A configuration for tests: archive and socket in the scratch directory, loopback allowed,
  // no delays between requests to one host (unless `fetch_extra` sets one); `extra` is appended
  // (sources, overrides in new sections). `fetch_extra` lines go into [fetch].
  std::string config(const std::string& extra, const std::string& fetch_extra = {},
                     bool allow_private = true) const {
    std::string c;
    c += "[archive]\ndir = " + quoted(archive_.string()) + "\n\n";
    c += "[plugins]\ndirs = [" + quoted(VELLUM_PLUGIN_BUILD_DIR) + "]\n\n";
    c += "[fetch]\n";
    c += std::string("allow_private_networks = ") + (allow_private ? "true" : "false") + "\n";
    if (fetch_extra.find("per_host_delay =") == std::string::npos) c += "per_host_delay = \"0s\"\n";
    c += "per_host_concurrency = 8\nconcurrency = 8\n";
    if (fetch_extra.find("\ntimeout =") == std::string::npos && fetch_extra.rfind("timeout =", 0))
      c += "timeout = \"20s\"\n";
    c += "backoff_initial = \"1s\"\n";
    c += fetch_extra + "\n";
    c += "[daemon]\nsocket = " + quoted(socket_.string()) + "\ndrain_timeout = \"20s\"\n\n";
    c += "[log]\nlevel = \"debug\"\ntarget = \"stderr\"\n\n";
    c += extra;
    return c;
  }

  void write_config(const std::string& text) { write_file(config_, text); }

  // Starts vellumd (stderr appended to the log file) and waits until it answers on its socket.
  // `env` is prepended as NAME=value words.
  void start(const std::string& env = {}) {
    std::string cmd = "exec env " + env + " " + shell_quote(VELLUMD_PATH) + " --config " +
                      shell_quote(config_.string()) + " 2>>" + shell_quote(log_.string());
    proc_ = std::make_unique<Subprocess>(std::vector<std::string>{"/bin/sh", "-c", cmd});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!proc_->running())
        throw std::runtime_error("vellumd exited with status " + std::to_string(proc_->wait()) +
                                 " at start-up; its log:\n" + log());
      try {
        auto r = request({{"command", "status"}});
        if (r.value("ok", false)) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("vellumd did not answer on its socket within 30 s; its log:\n" +
                             log());
  }

  nlohmann::json request(const nlohmann::json& req) {
    return daemon::control_request(socket_, req, std::chrono::seconds(10));
  }

  nlohmann::json status() { return request({{"command", "status"}}); }

  // Polls status every 100 ms until `done(status)` holds; false after `timeout`.
  bool wait_for(const std::function<bool(const nlohmann::json&)>& done,
                std::chrono::seconds timeout = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (done(status())) return true;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  // The source called `name` in a status reply.
  static nlohmann::json source(const nlohmann::json& status, const std::string& name) {
    for (const auto& s : status["sources"])
      if (s.value("name", "") == name) return s;
    return nlohmann::json::object();
  }

  void signal(int sig) { proc_->kill(sig); }

  // Sends `sig` and waits for the exit status.
  int stop(int sig = SIGTERM) {
    proc_->kill(sig);
    return wait_exit();
  }

  // Waits for the daemon to exit (after a signal sent with signal()); its exit status.
  int wait_exit() {
    int rc = proc_->wait();
    proc_.reset();
    return rc;
  }

  std::string log() const {
    std::error_code ec;
    return std::filesystem::exists(log_, ec) ? read_file(log_) : std::string();
  }

  // Capture ids from the "captured <id> <status> <url>" lines of the log.
  std::vector<std::string> reported_captures() const {
    std::vector<std::string> ids;
    std::string text = log();
    const std::string marker = " captured ";
    for (std::size_t p = text.find(marker); p != std::string::npos; p = text.find(marker, p + 1)) {
      std::size_t b = p + marker.size();
      std::size_t e = text.find(' ', b);
      if (e != std::string::npos) ids.push_back(text.substr(b, e - b));
    }
    return ids;
  }

  static std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }

 private:
  TempDir tmp_;
  std::filesystem::path config_, archive_, socket_, log_;
  std::unique_ptr<Subprocess> proc_;
};

}  // namespace vellum::test
