// A private nginx on 127.0.0.1 serving a directory, started for a test and stopped after it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace vellum::test {

class Nginx {
 public:
  // Serves `root` on 127.0.0.1 on a free port, gzip off, keep-alive on. Throws when nginx is
  // not installed or does not come up within a few seconds.
  // `listen_options` follow the address in the listen directive (e.g. "ssl http2").
  explicit Nginx(const std::filesystem::path& root, const std::string& extra_config = {},
                 const std::string& listen_options = {});
  ~Nginx();
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const;  // "http://127.0.0.1:PORT" + path

  static bool available();

 private:
  // Writes the configuration for port_ and starts nginx; false when the port was taken.
  bool start(const std::filesystem::path& root, const std::string& extra_config,
             const std::string& listen_options);
  std::filesystem::path work_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A free TCP port on 127.0.0.1 (bound and released).
int free_port();

}  // namespace vellum::test
