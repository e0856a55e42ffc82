#include "daemon/ControlClient.h"

#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <thread>

#include "util/FileType.h"
#include "util/Json.h"

namespace vellum::daemon {

namespace {

using Clock = std::chrono::steady_clock;
using Kind = ControlError::Kind;

// Longest response accepted; `sources` on a large configuration stays far below this.
constexpr std::size_t kMaxReply = 64u << 20;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string timeout_message(const std::filesystem::path& socket,
                            std::chrono::milliseconds timeout) {
  return "vellumd did not answer within " + std::to_string(timeout.count()) + " ms (socket " +
         socket.string() + "); it may be busy or stuck, see its log";
}

// "the group 'vellum'" when the socket's group has a name, else "the group that owns it".
std::string owning_group(const std::filesystem::path& socket) {
  struct stat st {};
  if (::stat(socket.c_str(), &st) != 0) return "the group that owns it";
  if (const group* g = ::getgrgid(st.st_gid))
    return "the group that owns it ('" + std::string(g->gr_name) + "')";
  return "the group that owns it (gid " + std::to_string(st.st_gid) + ")";
}

[[noreturn]] void connect_failed(const std::filesystem::path& socket, int error) {
  const std::string p = socket.string();
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      throw ControlError(Kind::kNoDaemon, "no daemon is listening at " + p +
                                              " (is vellumd running? it creates the socket at "
                                              "start)");
    case EACCES:
    case EPERM:
      throw ControlError(Kind::kPermissionDenied,
                         "permission denied on " + p +
                             ": the control socket is open to vellumd's user and group only; add "
                             "yourself to " +
                             owning_group(socket) + " and log in again");
    case ECONNREFUSED: {
      // connect() refuses a path that is not a socket the same way as a socket no one listens on.
      std::error_code ec;
      auto type = std::filesystem::status(socket, ec).type();
      if (!ec && type != std::filesystem::file_type::socket)
        throw ControlError(Kind::kFailed, "cannot connect to vellumd at " + p + ": found " +
                                              util::file_type_name(type) +
                                              ", expected vellumd's control socket (is "
                                              "--socket or daemon.socket the right path?)");
    }
      throw ControlError(Kind::kStale, "nothing answers at " + p +
                                           ": the socket file is stale (vellumd stopped without "
                                           "removing it); start vellumd again");
    default:
      throw ControlError(Kind::kFailed,
                         "cannot connect to vellumd at " + p + ": " + std::strerror(error));
  }
}

// Milliseconds left until `deadline` for poll(), at least 0.
int remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

// Waits until `fd` is ready for `events`; false when the deadline passed first.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, remaining(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR)
      throw ControlError(Kind::kFailed, std::string("poll failed: ") + std::strerror(errno));
  }
}

}  // namespace

nlohmann::json control_request(const std::filesystem::path& socket, const nlohmann::json& request,
                               std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const std::string& p = socket.native();
  sockaddr_un address{};
  if (p.empty() || p.size() >= sizeof address.sun_path)
    throw ControlError(Kind::kFailed, "control socket path '" + p + "' is empty or too long");
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, p.c_str(), p.size() + 1);

  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0)
    throw ControlError(Kind::kFailed,
                       std::string("cannot create a socket: ") + std::strerror(errno));
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0)
      break;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) connect_failed(socket, errno);
    // The daemon's accept queue is full: it is alive but busy. Try again until the deadline.
    if (remaining(deadline) == 0)
      throw ControlError(Kind::kTimeout, timeout_message(socket, timeout));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  const std::string line =
      request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  for (std::size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN)
      throw ControlError(Kind::kFailed,
                         "vellumd closed the connection while the request was sent (" +
                             std::string(std::strerror(errno)) + ")");
    if (!wait_for(fd.get(), POLLOUT, deadline))
      throw ControlError(Kind::kTimeout, timeout_message(socket, timeout));
  }

  std::string reply;
  for (;;) {
    char buffer[64 * 1024];
    ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      reply.append(buffer, static_cast<std::size_t>(n));
      if (reply.find('\n') != std::string::npos) break;
      if (reply.size() > kMaxReply)
        throw ControlError(Kind::kMalformedReply,
                           "vellumd sent a malformed reply: no end of line "
                           "within " +
                               std::to_string(kMaxReply) + " bytes");
      continue;
    }
    if (n == 0)
      throw ControlError(Kind::kMalformedReply,
                         reply.empty() ? "vellumd closed the connection without replying"
                                       : "vellumd sent a malformed reply: it ended mid-line");
    if (errno == EINTR) continue;
    if (errno != EAGAIN)
      throw ControlError(Kind::kFailed,
                         std::string("reading vellumd's reply failed: ") + std::strerror(errno));
    if (!wait_for(fd.get(), POLLIN, deadline))
      throw ControlError(Kind::kTimeout, timeout_message(socket, timeout));
  }

  reply.resize(reply.find('\n'));
  nlohmann::json response = util::parse_json(reply);
  if (response.is_discarded())
    throw ControlError(Kind::kMalformedReply, "vellumd sent a malformed reply: not JSON");
  if (!response.is_object())
    throw ControlError(Kind::kMalformedReply, "vellumd sent a malformed reply: a JSON " +
                                                  std::string(response.type_name()) +
                                                  " where an object was expected");
  return response;
}

}  // namespace vellum::daemon
