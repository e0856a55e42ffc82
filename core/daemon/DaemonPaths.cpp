#include "daemon/DaemonPaths.h"

#include <cstdlib>
#include <string>

namespace vellum::daemon {

std::filesystem::path control_socket_path(const config::Config& config) {
  if (!config.daemon.socket.empty()) return config.daemon.socket;
  if (const char* runtime = std::getenv("RUNTIME_DIRECTORY"); runtime && *runtime) {
    // systemd may list several directories separated by ':'; the first is ours.
    std::string first(runtime);
    first = first.substr(0, first.find(':'));
    return std::filesystem::path(first) / "vellumd.sock";
  }
  return config.archive.dir / "vellumd.sock";
}

std::filesystem::path state_file_path(const config::Config& config) {
  if (!config.daemon.state_file.empty()) return config.daemon.state_file;
  return config.archive.dir / "state.sqlite3";
}

}  // namespace vellum::daemon
