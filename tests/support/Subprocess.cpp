#include "support/Subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace vellum::test {

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::string& stdin_file) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    dup2(fds[1], 1);
    if (!stdin_file.empty()) {
      int in = open(stdin_file.c_str(), O_RDONLY);
      if (in >= 0) dup2(in, 0);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  out_ = fds[0];
}

Subprocess::~Subprocess() {
  if (out_ >= 0) close(out_);
  if (!waited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

bool Subprocess::read_line(std::string& line) {
  while (true) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return true;
    }
    char buf[65536];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (buffer_.empty()) return false;
      line = std::move(buffer_);
      buffer_.clear();
      return true;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

std::string Subprocess::read_all() {
  std::string all = std::move(buffer_);
  buffer_.clear();
  char buf[65536];
  ssize_t n;
  while ((n = ::read(out_, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) all.append(buf, static_cast<std::size_t>(n));
  return all;
}

void Subprocess::kill(int sig) {
  ::kill(pid_, sig);
}

int Subprocess::wait() {
  if (!waited_) {
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    waited_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  return status_;
}

bool Subprocess::running() {
  if (waited_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    waited_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return false;
  }
  return true;
}

int run_vellum(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv{VELLUM_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess p(argv);
  std::string all = p.read_all();
  if (out) *out = std::move(all);
  return p.wait();
}

}  // namespace vellum::test
