// The control socket: protocol, ordering, limits, socket file handling, and the CLI's client.
#include "daemon/ControlServer.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "daemon/ControlClient.h"
#include "daemon/PumpUntil.h"
#include "support/TempDir.h"

namespace vellum::daemon {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kClientTimeoutS = 5;  // blocking test clients give up after this

using test::pump;

// Runs the loop for `d` (for work that needs no client).
void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
    io.run_for(5ms);
    if (io.stopped()) {
      io.restart();
      std::this_thread::sleep_for(1ms);
    }
  }
}

// A blocking Unix stream client with timeouts, for use on a thread of its own.
class RawClient {
 public:
  explicit RawClient(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{kClientTimeoutS, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& data) {
    for (std::size_t sent = 0; sent < data.size();) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // The next line without its newline; nullopt at end of stream, error or timeout.
  std::optional<std::string> line() {
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string out = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return out;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  std::optional<json> response() {
    auto l = line();
    if (!l) return std::nullopt;
    return json::parse(*l, nullptr, false);
  }

  // True when the server closed the stream (rather than the read timing out).
  bool closed_by_server() {
    char chunk[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// Answers every request at once with its "n" and command.
ControlServer::Handler echo_handler() {
  return [](const json& request, const PeerCredentials&, ControlServer::Reply reply) {
    reply({{"ok", true}, {"command", request["command"]}, {"n", request.value("n", 0)}});
  };
}

std::string request_line(int n, const std::string& command = "status") {
  return json{{"command", command}, {"n", n}}.dump() + "\n";
}

// Leaves a socket file that nobody listens on, as a daemon that was killed does.
void make_stale_socket(const std::filesystem::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ::close(fd);
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  ASSERT_TRUE(S_ISSOCK(st.st_mode));
}

TEST(ControlServer, AnswersSeveralRequestsOnOneConnectionInOrder) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  PeerCredentials seen;
  ControlServer server(
      io, dir / "vellumd.sock",
      [&](const json& request, const PeerCredentials& peer, ControlServer::Reply reply) {
        seen = peer;
        reply({{"ok", true}, {"n", request["n"]}});
      });
  server.start();
  EXPECT_EQ(server.path(), dir / "vellumd.sock");

  auto f = std::async(std::launch::async, [&] {
    RawClient c(server.path());
    std::vector<int> order;
    if (!c.connected()) return order;
    c.send(request_line(1) + request_line(2) + "\n" + request_line(3));  // blank line ignored
    for (int i = 0; i < 3; ++i) {
      auto r = c.response();
      if (!r || !r->is_object() || !(*r)["ok"].get<bool>()) break;
      order.push_back((*r)["n"].get<int>());
    }
    return order;
  });
  EXPECT_EQ(pump(io, f), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(seen.pid, ::getpid());
  EXPECT_EQ(seen.uid, ::getuid());
  EXPECT_EQ(seen.gid, ::getgid());
}

TEST(ControlServer, HandlerMayReplyLaterAndOrderIsKept) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  std::vector<std::unique_ptr<boost::asio::steady_timer>> timers;
  ControlServer server(
      io, dir / "vellumd.sock",
      [&](const json& request, const PeerCredentials&, ControlServer::Reply reply) {
        int n = request["n"];
        if (n != 1) {
          reply({{"ok", true}, {"n", n}});
          return;
        }
        // The first request is answered 150 ms later, from a timer.
        auto& t = timers.emplace_back(std::make_unique<boost::asio::steady_timer>(io, 150ms));
        t->async_wait([reply, n](const boost::system::error_code&) {
          reply({{"ok", true}, {"n", n}, {"late", true}});
        });
      });
  server.start();

  auto f = std::async(std::launch::async, [&] {
    RawClient c(server.path());
    std::vector<json> got;
    c.send(request_line(1) + request_line(2));
    for (int i = 0; i < 2; ++i)
      if (auto r = c.response()) got.push_back(*r);
    return got;
  });
  auto got = pump(io, f);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["n"], 1);
  EXPECT_EQ(got[0]["late"], true);
  EXPECT_EQ(got[1]["n"], 2);
}

TEST(ControlServer, SocketHasMode0660InANewDirectoryWithMode0750) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  const auto path = dir.path() / "run" / "vellum" / "vellumd.sock";
  ControlServer server(io, path, echo_handler());
  server.start();

  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  ASSERT_EQ(::stat(path.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);

  server.close();
  EXPECT_FALSE(std::filesystem::exists(path)) << "close() removes the socket file";
}

TEST(ControlServer, ReplacesAStaleSocketFile) {
  test::TempDir dir("ctl");
  const auto path = dir / "vellumd.sock";
  make_stale_socket(path);

  boost::asio::io_context io;
  ControlServer server(io, path, echo_handler());
  ASSERT_NO_THROW(server.start());
  auto f = std::async(std::launch::async, [&] {
    return control_request(path, {{"command", "status"}}, 5s);
  });
  json r = pump(io, f);
  EXPECT_EQ(r["ok"], true);
  EXPECT_EQ(r["command"], "status");
}

TEST(ControlServer, RefusesToStartWhereAnotherServerListens) {
  test::TempDir dir("ctl");
  const auto path = dir / "vellumd.sock";
  boost::asio::io_context io;
  ControlServer first(io, path, echo_handler());
  first.start();

  ControlServer second(io, path, echo_handler());
  try {
    second.start();
    FAIL() << "a second server started on a live socket";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("another vellumd is already listening on " + path.string()),
        std::string::npos)
        << e.what();
  }
  second.close();  // must not remove the first server's socket

  auto f = std::async(std::launch::async, [&] {
    return control_request(path, {{"command", "status"}}, 5s);
  });
  EXPECT_EQ(pump(io, f)["ok"], true) << "the first server still answers";
}

TEST(ControlServer, RefusesAPathThatIsNotASocket) {
  test::TempDir dir("ctl");
  const auto path = dir / "vellumd.sock";
  test::write_file(path, "precious");
  boost::asio::io_context io;
  ControlServer server(io, path, echo_handler());
  try {
    server.start();
    FAIL() << "started over a regular file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is not a socket"), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(path), "precious");
}

TEST(ControlServer, OversizeLineGetsAnErrorAndTheConnectionIsClosed) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  ControlServer server(io, dir / "vellumd.sock", echo_handler());
  server.start();

  struct Result {
    std::optional<json> response;
    bool closed = false;
  };
  auto f = std::async(std::launch::async, [&] {
    RawClient c(server.path());
    Result r;
    c.send(std::string((1 << 20) + 1, 'x'));  // one byte over the limit, no newline
    r.response = c.response();
    r.closed = c.closed_by_server();
    return r;
  });
  Result r = pump(io, f);
  ASSERT_TRUE(r.response.has_value());
  EXPECT_EQ((*r.response)["ok"], false);
  EXPECT_NE((*r.response)["error"].get<std::string>().find("longer than 1048576 bytes"),
            std::string::npos);
  EXPECT_TRUE(r.closed);
}

TEST(ControlServer, LargeLineWithinTheLimitIsHandled) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  ControlServer server(io, dir / "vellumd.sock",
                       [](const json& request, const PeerCredentials&, ControlServer::Reply reply) {
                         reply({{"ok", true}, {"size", request["urls"].size()}});
                       });
  server.start();
  json request{{"command", "enqueue"}, {"urls", json::array()}};
  for (int i = 0; i < 20'000; ++i)
    request["urls"].push_back("https://example.org/a/long/path/" + std::to_string(i));
  ASSERT_LT(request.dump().size(), 1u << 20);
  ASSERT_GT(request.dump().size(), 512u << 10);
  auto f =
      std::async(std::launch::async, [&] { return control_request(server.path(), request, 5s); });
  EXPECT_EQ(pump(io, f)["size"], 20'000);
}

TEST(ControlServer, BadRequestsGetErrorsAndTheConnectionStaysUsable) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  int handled = 0;
  ControlServer server(
      io, dir / "vellumd.sock",
      [&](const json& request, const PeerCredentials& peer, ControlServer::Reply reply) {
        ++handled;
        if (request["command"] == "boom") throw std::runtime_error("boom");
        echo_handler()(request, peer, reply);
      });
  server.start();
  auto f = std::async(std::launch::async, [&] {
    RawClient c(server.path());
    std::vector<json> got;
    c.send("{not json\n[1,2]\n{\"command\": 7}\n" + request_line(0, "boom") + request_line(5));
    for (int i = 0; i < 5; ++i)
      if (auto r = c.response()) got.push_back(*r);
    return got;
  });
  auto got = pump(io, f);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0]["ok"], false);
  EXPECT_NE(got[0]["error"].get<std::string>().find("not valid JSON"), std::string::npos);
  EXPECT_EQ(got[1]["ok"], false);
  EXPECT_NE(got[1]["error"].get<std::string>().find("\"command\" string"), std::string::npos);
  EXPECT_EQ(got[2]["ok"], false);
  EXPECT_EQ(got[3]["ok"], false);
  EXPECT_EQ(got[3]["error"], "internal error: boom");
  EXPECT_EQ(got[4]["ok"], true);
  EXPECT_EQ(got[4]["n"], 5);
  EXPECT_EQ(handled, 2) << "malformed requests never reach the handler";
}

TEST(ControlServer, ClientLeavingMidRequestHarmsNothing) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  std::vector<std::unique_ptr<boost::asio::steady_timer>> timers;
  int late_replies = 0;
  ControlServer server(
      io, dir / "vellumd.sock",
      [&](const json& request, const PeerCredentials&, ControlServer::Reply reply) {
        auto& t = timers.emplace_back(std::make_unique<boost::asio::steady_timer>(io, 100ms));
        t->async_wait([&, reply, request](const boost::system::error_code&) {
          ++late_replies;
          reply({{"ok", true}, {"n", request["n"]}});
          reply({{"ok", true}, {"n", -1}});  // a second reply is ignored
        });
      });
  server.start();

  auto gone = std::async(std::launch::async, [&] {
    RawClient a(server.path());  // asks, then leaves before the answer
    a.send(request_line(1));
    a.close();
    RawClient b(server.path());  // leaves in the middle of a line
    b.send("{\"command\": \"sta");
    b.close();
    return true;
  });
  EXPECT_TRUE(pump(io, gone));
  // The late reply goes to a closed connection (up to 5 s on a loaded machine).
  for (int i = 0; i < 500 && (late_replies < 1 || server.clients() != 0); ++i) run_for(io, 10ms);
  EXPECT_EQ(late_replies, 1);
  EXPECT_EQ(server.clients(), 0u);

  auto f = std::async(std::launch::async, [&] {
    RawClient c(server.path());
    c.send(request_line(2));
    auto first = c.response();
    c.send(request_line(3));
    auto second = c.response();
    return std::make_pair(first, second);
  });
  auto [first, second] = pump(io, f);
  ASSERT_TRUE(first && second);
  EXPECT_EQ((*first)["n"], 2);
  EXPECT_EQ((*second)["n"], 3) << "only one reply per request reaches the client";
}

TEST(ControlServer, HalfClosedClientStillGetsItsAnswer) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  ControlServer server(io, dir / "vellumd.sock", echo_handler());
  server.start();
  auto f = std::async(std::launch::async, [&] {
    RawClient c(server.path());
    c.send(request_line(7));
    c.shutdown_write();  // as `nc -N` does
    auto r = c.response();
    return std::make_pair(r, c.closed_by_server());
  });
  auto [r, closed] = pump(io, f);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["n"], 7);
  EXPECT_TRUE(closed);
}

TEST(ControlServer, IdleClientsAreClosed) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  ControlServerOptions options;
  options.idle_timeout = 200ms;
  ControlServer server(io, dir / "vellumd.sock", echo_handler(), options);
  server.start();
  const auto t0 = Clock::now();
  auto f = std::async(std::launch::async, [&] {
    RawClient c(server.path());
    return c.closed_by_server();
  });
  EXPECT_TRUE(pump(io, f));
  auto elapsed = Clock::now() - t0;
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 4s);
}

TEST(ControlServer, TooManyClientsAreTurnedAway) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  ControlServerOptions options;
  options.max_clients = 2;
  ControlServer server(io, dir / "vellumd.sock", echo_handler(), options);
  server.start();
  struct Result {
    bool first_two_answered = false;
    std::optional<json> third;
    bool third_closed = false;
  };
  auto f = std::async(std::launch::async, [&] {
    Result r;
    RawClient a(server.path());
    RawClient b(server.path());
    a.send(request_line(1));
    b.send(request_line(2));
    r.first_two_answered = a.response().has_value() && b.response().has_value();
    RawClient c(server.path());
    r.third = c.response();
    r.third_closed = c.closed_by_server();
    return r;
  });
  Result r = pump(io, f);
  EXPECT_TRUE(r.first_two_answered);
  ASSERT_TRUE(r.third.has_value());
  EXPECT_EQ((*r.third)["ok"], false);
  EXPECT_NE((*r.third)["error"].get<std::string>().find("too many control connections"),
            std::string::npos);
  EXPECT_TRUE(r.third_closed);
}

TEST(ControlServer, CloseDropsClientsAndRemovesTheSocket) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  ControlServer server(io, dir / "vellumd.sock",
                       [](const json&, const PeerCredentials&, ControlServer::Reply) {});
  server.start();
  std::promise<void> asked;
  auto f = std::async(std::launch::async, [&] {
    RawClient c(server.path());
    c.send(request_line(1));
    asked.set_value();
    return c.closed_by_server();
  });
  asked.get_future().wait();
  for (int i = 0; i < 500 && server.clients() != 1; ++i) run_for(io, 10ms);
  EXPECT_EQ(server.clients(), 1u);
  server.close();
  EXPECT_TRUE(pump(io, f));
  EXPECT_EQ(server.clients(), 0u);
  EXPECT_FALSE(std::filesystem::exists(server.path()));
  server.close();  // twice is fine
}

// ControlClient

ControlError::Kind expect_control_error(const std::function<void()>& call,
                                        const std::string& needle) {
  try {
    call();
  } catch (const ControlError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no ControlError";
  return ControlError::Kind::kFailed;
}

TEST(ControlClient, RoundTrip) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  ControlServer server(
      io, dir / "vellumd.sock",
      [](const json& request, const PeerCredentials&, ControlServer::Reply reply) {
        reply(
            {{"ok", false}, {"error", "unknown command " + request["command"].get<std::string>()}});
      });
  server.start();
  auto f = std::async(std::launch::async, [&] {
    return control_request(server.path(), {{"command", "fly"}}, 5s);
  });
  json r = pump(io, f);
  EXPECT_EQ(r["ok"], false) << "an error response is returned, not thrown";
  EXPECT_EQ(r["error"], "unknown command fly");
}

TEST(ControlClient, MissingSocketSaysNoDaemon) {
  test::TempDir dir("ctl");
  const auto path = dir / "vellumd.sock";
  auto kind = expect_control_error(
      [&] {
        control_request(path, {{"command", "status"}}, 1s);
      },
      "no daemon is listening at " + path.string() +
          " (is vellumd running? it creates the socket at start)");
  EXPECT_EQ(kind, ControlError::Kind::kNoDaemon);
}

TEST(ControlClient, StaleSocketIsNamed) {
  test::TempDir dir("ctl");
  const auto path = dir / "vellumd.sock";
  make_stale_socket(path);
  auto kind = expect_control_error(
      [&] {
        control_request(path, {{"command", "status"}}, 1s);
      },
      "stale");
  EXPECT_EQ(kind, ControlError::Kind::kStale);
}

TEST(ControlClient, TimesOutWhenTheHandlerNeverReplies) {
  test::TempDir dir("ctl");
  boost::asio::io_context io;
  ControlServer server(io, dir / "vellumd.sock",
                       [](const json&, const PeerCredentials&, ControlServer::Reply) {});
  server.start();
  const auto t0 = Clock::now();
  auto f = std::async(std::launch::async, [&] {
    try {
      control_request(server.path(), {{"command", "status"}}, 300ms);
    } catch (const ControlError& e) {
      return std::make_pair(e.kind(), std::string(e.what()));
    }
    return std::make_pair(ControlError::Kind::kFailed, std::string("no error"));
  });
  auto [kind, message] = pump(io, f);
  auto elapsed = Clock::now() - t0;
  EXPECT_EQ(kind, ControlError::Kind::kTimeout);
  EXPECT_NE(message.find("did not answer within 300 ms"), std::string::npos) << message;
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 5s);
}

// A one-shot server on another thread that reads a line and answers with `answer` verbatim.
std::future<void> fake_daemon(const std::filesystem::path& path, std::string answer) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::listen(fd, 1), 0);
  return std::async(std::launch::async, [fd, answer] {
    timeval tv{kClientTimeoutS, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);  // bounds accept() too
    int c = ::accept(fd, nullptr, nullptr);
    if (c >= 0) {
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char ch = 0;
      while (::recv(c, &ch, 1, 0) == 1 && ch != '\n') {
      }
      (void)!::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
    ::close(fd);
  });
}

TEST(ControlClient, MalformedRepliesAreReported) {
  test::TempDir dir("ctl");
  struct Case {
    std::string answer;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {"this is not json\n", "malformed reply: not JSON"},
      {"[1, 2]\n", "a JSON array where an object was expected"},
      {"{\"ok\": tr", "ended mid-line"},
      {"", "closed the connection without replying"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const auto path = dir / ("fake" + std::to_string(i++) + ".sock");
    auto server = fake_daemon(path, c.answer);
    auto kind = expect_control_error(
        [&] {
          control_request(path, {{"command", "status"}}, 5s);
        },
        c.needle);
    EXPECT_EQ(kind, ControlError::Kind::kMalformedReply) << c.answer;
    server.get();
  }
}

TEST(ControlClient, PermissionDeniedSaysWhichGroupToJoin) {
  test::TempDir dir("ctl");
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  boost::asio::io_context io;
  ControlServer server(io, dir / "vellumd.sock", echo_handler());
  server.start();
  const std::string needle = "add yourself to the group that owns it";

  if (::geteuid() != 0) {
    // The owner is refused too once the mode says so.
    ASSERT_EQ(::chmod(server.path().c_str(), 0), 0);
    auto kind = expect_control_error(
        [&] {
          control_request(server.path(), {{"command", "x"}}, 1s);
        },
        needle);
    EXPECT_EQ(kind, ControlError::Kind::kPermissionDenied);
    return;
  }
  // As root, ask from a child running as an unprivileged user outside the socket's group.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(3);
    try {
      control_request(server.path(), {{"command", "x"}}, 1s);
    } catch (const ControlError& e) {
      bool right = e.kind() == ControlError::Kind::kPermissionDenied &&
                   std::string(e.what()).find(needle) != std::string::npos;
      _exit(right ? 0 : 1);
    } catch (...) {
    }
    _exit(2);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: wrong error, 2: no error, 3: could not drop root";
}

}  // namespace
}  // namespace vellum::daemon
