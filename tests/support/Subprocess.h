// A child process with its stdout on a pipe, for driving the CLI from tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace vellum::test {

class Subprocess {
 public:
  // Starts argv[0] with the given arguments; stdin from `stdin_file` when not empty.
  explicit Subprocess(const std::vector<std::string>& argv, const std::string& stdin_file = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Next line of stdout without the newline; false at end of output.
  bool read_line(std::string& line);
  std::string read_all();
  void kill(int sig);
  int wait();  // exit status, or 128 + signal
  // False once the child has exited (its status is then kept for wait()).
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffer_;
  bool waited_ = false;
  int status_ = 0;
};

// Runs the `vellum` CLI built with the tests; returns its exit status.
int run_vellum(const std::vector<std::string>& args, std::string* out = nullptr);

}  // namespace vellum::test
