#include "support/Nginx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "support/TempDir.h"

namespace vellum::test {

namespace {

const char* kNginx = "/usr/sbin/nginx";

bool can_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a port on 127.0.0.1");
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool Nginx::available() {
  return access(kNginx, X_OK) == 0;
}

Nginx::Nginx(const std::filesystem::path& root, const std::string& extra_config,
             const std::string& listen_options) {
  if (!available())
    throw std::runtime_error("nginx is not installed (apt-get install nginx-light)");
  char templ[] = "/tmp/vellum-nginx-XXXXXX";
  if (!mkdtemp(templ)) throw std::runtime_error("mkdtemp failed");
  work_ = templ;
  // The port is free when chosen but may be taken by another test before nginx binds it: then
  // nginx exits saying so, and another port is tried.
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    if (start(root, extra_config, listen_options)) return;
    if (attempt == 5) throw std::runtime_error("nginx found its port taken five times");
  }
}

bool Nginx::start(const std::filesystem::path& root, const std::string& extra_config,
                  const std::string& listen_options) {
  std::error_code ec;
  std::filesystem::remove(work_ / "error.log", ec);  // what an earlier attempt said
  std::string user = geteuid() == 0 ? "user root;\n" : "";
  std::string conf = user +
                     "daemon off;\nmaster_process off;\nworker_processes 1;\n"
                     "pid " +
                     (work_ / "nginx.pid").string() +
                     ";\n"
                     "error_log " +
                     (work_ / "error.log").string() +
                     " warn;\n"
                     "events { worker_connections 1024; }\n"
                     "http {\n"
                     "  access_log off;\n  gzip off;\n  sendfile on;\n"
                     "  keepalive_requests 100000;\n"
                     "  default_type text/html;\n"
                     "  client_body_temp_path " +
                     (work_ / "body").string() +
                     ";\n"
                     "  proxy_temp_path " +
                     (work_ / "proxy").string() +
                     ";\n"
                     "  fastcgi_temp_path " +
                     (work_ / "fastcgi").string() +
                     ";\n"
                     "  uwsgi_temp_path " +
                     (work_ / "uwsgi").string() +
                     ";\n"
                     "  scgi_temp_path " +
                     (work_ / "scgi").string() +
                     ";\n"
                     "  server {\n"
                     "    listen 127.0.0.1:" +
                     std::to_string(port_) + " " + listen_options +
                     ";\n"
                     "    root " +
                     std::filesystem::absolute(root).string() + ";\n" + extra_config +
                     "  }\n"
                     "}\n";
  write_file(work_ / "nginx.conf", conf);
  pid_ = fork();
  if (pid_ == 0) {
    execl(kNginx, kNginx, "-c", (work_ / "nginx.conf").c_str(), "-p", work_.c_str(), nullptr);
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!can_connect(port_)) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::string log;
      try {
        log = read_file(work_ / "error.log");
      } catch (...) {
      }
      if (log.find("Address already in use") != std::string::npos) return false;
      throw std::runtime_error("nginx exited at start: " + log);
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("nginx did not come up on port " + std::to_string(port_));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

Nginx::~Nginx() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status;
    waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(work_, ec);
}

std::string Nginx::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace vellum::test
