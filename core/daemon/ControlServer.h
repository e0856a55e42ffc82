// vellumd's control socket: a Unix stream socket that `vellum status|enqueue|sources` talk to.
//
// Protocol: newline-delimited JSON. Each line a client sends is one request object
// ({"command": "...", ...}); each line the server sends back is one response object
// ({"ok": true, ...} or {"ok": false, "error": "..."}). Requests on one connection are answered
// in the order they came. The server knows no commands: it hands each request to a Handler,
// which replies now or later through the Reply it is given.
//
// Access control is the socket file's mode (0660: the daemon's user and group), so anyone who
// can connect may ask anything; the peer's credentials are passed to the handler for its own
// decisions and for logs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

namespace vellum::daemon {

// Who is at the other end of a control connection (SO_PEERCRED); -1 where the kernel did not say.
struct PeerCredentials {
  pid_t pid = -1;
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

struct ControlServerOptions {
  std::size_t max_line = 1 << 20;  // longest request line (bytes, without the newline)
  std::size_t max_clients = 64;    // connections at once; more are told so and closed
  std::chrono::milliseconds idle_timeout{60'000};  // no bytes either way for this long: closed
};

class ControlServer {
 public:
  // Sends one response object back. Callable from any thread, at most once per request (later
  // calls are ignored); the response is dropped when the client has gone. It must not be
  // called after the io_context is destroyed.
  using Reply = std::function<void(nlohmann::json response)>;
  using Handler =
      std::function<void(const nlohmann::json& request, const PeerCredentials& peer, Reply reply)>;

  // `handler` runs on the io_context's thread, one request of a connection at a time; what it
  // throws becomes an {"ok": false} response.
  ControlServer(boost::asio::io_context& io, std::filesystem::path socket_path, Handler handler,
                ControlServerOptions options = {});
  ~ControlServer();  // close()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates the parent directory when missing (mode 0750), replaces a stale socket file left by
  // a daemon that died, binds, sets mode 0660 and starts accepting. Throws std::runtime_error
  // when the path exists and is not a socket, when another live server answers there ("another
  // vellumd is already listening on PATH"), or when binding fails.
  void start();

  // Stops accepting, closes every connection (pending replies are dropped) and removes the
  // socket file (only when it is still the one this server created). Idempotent.
  void close();

  const std::filesystem::path& path() const;
  std::size_t clients() const;  // connections open now

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the handlers of asynchronous operations
};

}  // namespace vellum::daemon
