// Where a daemon using a configuration keeps its control socket and its state: shared by
// vellumd and the `vellum` commands that talk to it.
#pragma once

#include <filesystem>

#include "config/Config.h"

namespace vellum::daemon {

// daemon.socket when set, else $RUNTIME_DIRECTORY/vellumd.sock (systemd's RuntimeDirectory=),
// else <archive.dir>/vellumd.sock.
std::filesystem::path control_socket_path(const config::Config& config);

// daemon.state_file when set, else <archive.dir>/state.sqlite3.
std::filesystem::path state_file_path(const config::Config& config);

}  // namespace vellum::daemon
