#include "daemon/ControlServer.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "util/Json.h"

namespace vellum::daemon {

namespace {

namespace asio = boost::asio;
using stream_protocol = asio::local::stream_protocol;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// Requests read ahead of the one being handled; reading pauses beyond this.
constexpr std::size_t kMaxQueued = 16;

nlohmann::json error_response(const std::string& message) {
  return nlohmann::json{{"ok", false}, {"error", message}};
}

std::string to_line(const nlohmann::json& response) {
  // Invalid UTF-8 in a handler's strings must not stop the reply.
  return response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

PeerCredentials peer_credentials(int fd) {
  PeerCredentials peer;
  ucred cred{};
  socklen_t length = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) == 0 && length == sizeof cred) {
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
  }
  return peer;
}

enum class Existing { kNothing, kStale, kLive };

// What is at `path` now: nothing, a socket nobody listens on, or a live server. Throws when it
// is something else or cannot be checked.
Existing probe(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Existing::kNothing;
    throw std::runtime_error("cannot check the control socket path " + path.string() + ": " +
                             std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode))
    throw std::runtime_error(path.string() +
                             " exists and is not a socket; refusing to replace it (remove it, or "
                             "set daemon.socket to another path)");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    throw std::runtime_error(std::string("cannot create a socket: ") + std::strerror(errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.native().size() + 1);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  int error = rc == 0 ? 0 : errno;
  ::close(fd);
  if (rc == 0 || error == EAGAIN || error == EINPROGRESS) return Existing::kLive;
  if (error == ECONNREFUSED) return Existing::kStale;
  if (error == ENOENT) return Existing::kNothing;  // removed meanwhile
  throw std::runtime_error("cannot check whether " + path.string() +
                           " is in use: " + std::strerror(error));
}

}  // namespace

struct ControlServer::Impl : std::enable_shared_from_this<ControlServer::Impl> {
  struct Session;

  Impl(asio::io_context& io, std::filesystem::path path, Handler handler,
       ControlServerOptions options)
      : io(io),
        path(std::move(path)),
        handler(std::move(handler)),
        options(options),
        acceptor(io),
        retry_timer(io) {}

  void start();
  void close();
  void accept();
  void on_accept(const error_code& ec, stream_protocol::socket socket);
  void refuse(stream_protocol::socket socket);

  asio::io_context& io;
  std::filesystem::path path;
  Handler handler;
  ControlServerOptions options;
  stream_protocol::acceptor acceptor;
  asio::steady_timer retry_timer;  // re-accept after running out of descriptors
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions;
  bool open = false;
  bool bound = false;  // the socket file at `path` is ours (dev/ino) and is removed on close
  dev_t dev = 0;
  ino_t ino = 0;
};

// One client connection. Requests are read ahead into `pending` and handed to the handler one
// at a time; each response is queued for writing when it arrives, so they go out in order.
struct ControlServer::Impl::Session : std::enable_shared_from_this<Session> {
  struct Pending {
    nlohmann::json request;
    std::string error;  // not empty: answer with this error instead of calling the handler
  };

  Session(std::weak_ptr<Impl> server, stream_protocol::socket socket,
          const ControlServerOptions& options)
      : server(std::move(server)),
        socket(std::move(socket)),
        idle_timer(this->socket.get_executor()),
        options(options) {}

  void start() {
    peer = peer_credentials(socket.native_handle());
    spdlog::debug("control: connection from pid {} (uid {})", peer.pid, peer.uid);
    last_activity = Clock::now();
    arm_idle_timer();
    read();
  }

  void read() {
    if (reading || input_done || closed || pending.size() >= kMaxQueued) return;
    reading = true;
    asio::async_read_until(
        socket, asio::dynamic_buffer(input, options.max_line + 1), '\n',
        [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const error_code& ec, std::size_t n) {
    reading = false;
    if (closed) return;
    if (ec == asio::error::not_found) {  // the buffer filled up without a newline
      input_done = true;
      input.clear();
      pending.push_back({{},
                         "request line longer than " + std::to_string(options.max_line) +
                             " bytes; closing the connection"});
      process();
      return;
    }
    if (ec) {
      input_done = true;  // end of input (perhaps only half-closed): answer what came, then close
      if (ec != asio::error::eof) {
        close();
        return;
      }
      process();
      return;
    }
    last_activity = Clock::now();
    std::string line = input.substr(0, n - 1);
    input.erase(0, n);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) pending.push_back(parse(line));
    process();
  }

  static Pending parse(const std::string& line) {
    Pending p;
    if (util::json_depth(line) > util::kMaxJsonDepth) {
      p.error = "the request nests arrays and objects more than " +
                std::to_string(util::kMaxJsonDepth) + " deep, expected a flat request";
      return p;
    }
    try {
      p.request = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      p.error = std::string("the request is not valid JSON: ") + e.what();
      return p;
    }
    if (!p.request.is_object() || !p.request.contains("command") ||
        !p.request["command"].is_string())
      p.error = "a request is a JSON object with a \"command\" string";
    return p;
  }

  // Hands the next request to the handler (or answers it with its error) unless one is being
  // handled; then reads on and closes when everything has been answered after end of input.
  void process() {
    while (!closed && !busy && !pending.empty()) {
      Pending next = std::move(pending.front());
      pending.pop_front();
      if (!next.error.empty()) {
        send(error_response(next.error));
        continue;
      }
      auto srv = server.lock();
      if (!srv) {
        close();
        return;
      }
      busy = true;
      Reply reply = make_reply(++sequence);
      try {
        srv->handler(next.request, peer, reply);
      } catch (const std::exception& e) {
        reply(error_response(std::string("internal error: ") + e.what()));
      } catch (...) {
        reply(error_response("internal error"));
      }
    }
    read();
    finish_if_done();
  }

  Reply make_reply(std::uint64_t seq) {
    auto once = std::make_shared<std::atomic<bool>>(false);
    return [weak = weak_from_this(), executor = socket.get_executor(), seq,
            once](nlohmann::json response) {
      if (once->exchange(true)) return;
      // Always through the loop: the handler may reply from another thread or from inside
      // its own call.
      asio::post(executor, [weak, seq, response = std::move(response)]() mutable {
        if (auto self = weak.lock()) self->on_reply(seq, std::move(response));
      });
    };
  }

  void on_reply(std::uint64_t seq, nlohmann::json response) {
    if (closed || !busy || seq != sequence) return;
    busy = false;
    last_activity = Clock::now();
    send(response);
    process();
  }

  void send(const nlohmann::json& response) {
    output.push_back(to_line(response));
    write();
  }

  void write() {
    if (writing || closed || output.empty()) return;
    writing = true;
    asio::async_write(socket, asio::buffer(output.front()),
                      [self = shared_from_this()](const error_code& ec, std::size_t) {
                        self->writing = false;
                        if (self->closed) return;
                        if (ec) {  // the client has gone: nothing more to say to it
                          self->close();
                          return;
                        }
                        self->output.pop_front();
                        self->last_activity = Clock::now();
                        self->write();
                        self->finish_if_done();
                      });
  }

  void finish_if_done() {
    if (input_done && !busy && pending.empty() && output.empty() && !writing) close();
  }

  void arm_idle_timer() {
    idle_timer.expires_at(last_activity + options.idle_timeout);
    idle_timer.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->closed) return;
      if (Clock::now() - self->last_activity >= self->options.idle_timeout) {
        spdlog::debug("control: closing a connection idle for {} ms",
                      self->options.idle_timeout.count());
        self->close();
        return;
      }
      self->arm_idle_timer();
    });
  }

  void close() {
    if (closed) return;
    auto keep = shared_from_this();
    closed = true;
    error_code ignored;
    socket.shutdown(stream_protocol::socket::shutdown_both, ignored);
    socket.close(ignored);
    idle_timer.cancel();
    pending.clear();  // `output` stays: a cancelled write may still refer to its front
    if (auto srv = server.lock()) srv->sessions.erase(this);
  }

  std::weak_ptr<Impl> server;
  stream_protocol::socket socket;
  asio::steady_timer idle_timer;
  ControlServerOptions options;
  PeerCredentials peer;
  std::string input;
  std::deque<Pending> pending;
  std::deque<std::string> output;
  Clock::time_point last_activity;
  std::uint64_t sequence = 0;  // number of the request being handled
  bool reading = false;
  bool writing = false;
  bool busy = false;        // the handler has a request and has not replied yet
  bool input_done = false;  // no more requests will be read
  bool closed = false;
};

void ControlServer::Impl::start() {
  if (open) return;
  const std::string& p = path.native();
  if (p.empty()) throw std::runtime_error("the control socket path is empty");
  if (p.size() >= sizeof(sockaddr_un{}.sun_path))
    throw std::runtime_error("control socket path " + p + " is too long (" +
                             std::to_string(p.size()) + " bytes; a Unix socket path has at most " +
                             std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + ")");

  std::filesystem::path parent = path.parent_path();
  if (!parent.empty()) {
    std::error_code fec;
    if (!std::filesystem::exists(parent, fec)) {
      std::filesystem::create_directories(parent, fec);
      if (!fec)
        std::filesystem::permissions(parent, std::filesystem::perms(0750),
                                     std::filesystem::perm_options::replace, fec);
      if (fec)
        throw std::runtime_error("cannot create the directory for the control socket " +
                                 parent.string() + ": " + fec.message());
    }
  }

  switch (probe(path)) {
    case Existing::kLive:
      throw std::runtime_error("another vellumd is already listening on " + p +
                               "; stop it first, or give this one another daemon.socket");
    case Existing::kStale:
      spdlog::info("control: removing the stale socket {} left by a daemon that stopped", p);
      if (::unlink(p.c_str()) != 0 && errno != ENOENT)
        throw std::runtime_error("cannot remove the stale control socket " + p + ": " +
                                 std::strerror(errno));
      break;
    case Existing::kNothing:
      break;
  }

  error_code ec;
  acceptor.open(stream_protocol(), ec);
  if (!ec) acceptor.bind(stream_protocol::endpoint(p), ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    if (ec == asio::error::address_in_use)
      throw std::runtime_error("another vellumd is already listening on " + p +
                               " (it appeared while this one was starting)");
    throw std::runtime_error("cannot create the control socket " + p + ": " + ec.message());
  }
  struct stat st {};
  if (::lstat(p.c_str(), &st) == 0) {
    dev = st.st_dev;
    ino = st.st_ino;
    bound = true;
  }
  // The mode is the access control: set it before listen(), so nobody connects in between.
  if (::chmod(p.c_str(), 0660) != 0) {
    int error = errno;
    close();
    throw std::runtime_error("cannot set mode 0660 on the control socket " + p + ": " +
                             std::strerror(error));
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    close();
    throw std::runtime_error("cannot listen on the control socket " + p + ": " + ec.message());
  }
  open = true;
  accept();
}

void ControlServer::Impl::accept() {
  acceptor.async_accept(
      [self = shared_from_this()](const error_code& ec, stream_protocol::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void ControlServer::Impl::on_accept(const error_code& ec, stream_protocol::socket socket) {
  if (!open) return;
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system) {
      // Accepting again at once would spin; wait for descriptors to be freed.
      spdlog::warn("control: cannot accept a connection: {}; retrying shortly", ec.message());
      retry_timer.expires_after(std::chrono::milliseconds(200));
      retry_timer.async_wait([self = shared_from_this()](const error_code& e) {
        if (!e && self->open) self->accept();
      });
      return;
    }
    accept();
    return;
  }
  if (sessions.size() >= options.max_clients) {
    refuse(std::move(socket));
  } else {
    auto session = std::make_shared<Session>(weak_from_this(), std::move(socket), options);
    sessions.emplace(session.get(), session);
    session->start();
  }
  accept();
}

void ControlServer::Impl::refuse(stream_protocol::socket socket) {
  spdlog::warn("control: refused a connection: {} already open", options.max_clients);
  auto s = std::make_shared<stream_protocol::socket>(std::move(socket));
  auto line = std::make_shared<std::string>(
      to_line(error_response("too many control connections (" +
                             std::to_string(options.max_clients) + "); try again later")));
  asio::async_write(*s, asio::buffer(*line), [s, line](const error_code&, std::size_t) {
    error_code ignored;
    s->close(ignored);
  });
}

void ControlServer::Impl::close() {
  open = false;
  error_code ignored;
  acceptor.close(ignored);
  retry_timer.cancel();
  auto all = std::move(sessions);
  sessions.clear();
  for (auto& [raw, session] : all) session->close();
  if (bound) {
    bound = false;
    // Remove the file only when it is still ours (not one a newer daemon created since).
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && st.st_dev == dev && st.st_ino == ino)
      ::unlink(path.c_str());
  }
}

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path socket_path,
                             Handler handler, ControlServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(socket_path), std::move(handler), options)) {}

ControlServer::~ControlServer() {
  impl_->close();
}

void ControlServer::start() {
  impl_->start();
}

void ControlServer::close() {
  impl_->close();
}

const std::filesystem::path& ControlServer::path() const {
  return impl_->path;
}

std::size_t ControlServer::clients() const {
  return impl_->sessions.size();
}

}  // namespace vellum::daemon
