// An in-process HTTP/1.1 server for tests.
//
// It listens on 127.0.0.1 with an ephemeral port and runs its own io_context on a background
// thread, so the code under test can use any event loop (or none) on the test's thread. Each
// request target is answered with a scripted Reply: exact raw bytes (nothing is added, so tests
// can send chunked bodies, bad status lines, compressed bodies, ...), followed by keep-alive,
// close, reset, stall or an endless body; sending can be delayed or dripped slowly.
// The server records every request exactly as received and counts connections.
//
//   TestHttpServer server;
//   server.on("/a", Reply::ok("hello"));
//   server.on("/r", Reply::redirect(302, "/a"));
//   server.on("/stuck", Reply::partial(5000, std::string(1000, 'x'), Reply::Then::kStall));
//   fetch(server.url("/a")); ... server.requests()[0].header("User-Agent")
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::test {

// A request as the server received it.
struct ReceivedRequest {
  std::size_t connection = 0;  // 1-based number of the connection it arrived on (accept order)
  std::string raw;             // request line, headers, blank line and body, byte for byte
  std::string method;          // from the request line ("" if it was malformed)
  std::string target;          // from the request line, e.g. "/a?b=c"
  bool malformed = false;      // the request line could not be parsed (answered with 400)

  // First value of a header, name compared case-insensitively, surrounding spaces trimmed;
  // "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

// What the server does with one request.
struct Reply {
  enum class Then {
    kKeepAlive,  // wait for the next request on the same connection
    kClose,      // close the connection normally (FIN)
    kReset,      // abort the connection (SO_LINGER 0 then close: RST)
    kStall,      // send nothing more, keep the connection open until the client goes away
    kEndless,    // send `fill` over and over until the client goes away
  };

  std::string bytes;  // sent first, exactly as given
  Then then = Then::kKeepAlive;
  std::string fill = std::string(16 * 1024, 'x');  // kEndless: repeated
  std::chrono::milliseconds delay{0};              // wait before sending anything
  std::size_t drip_bytes = 0;                      // > 0: send `bytes` in pieces this big ...
  std::chrono::milliseconds drip_interval{0};      // ... with this pause between them

  // `bytes` exactly as given, then `then`.
  static Reply raw(std::string bytes, Then then = Then::kKeepAlive);
  // 200 with Content-Length and Content-Type; extra header lines ("Name: value") are added.
  static Reply ok(std::string_view body, std::string_view content_type = "text/plain",
                  const std::vector<std::string>& headers = {});
  // Any status with Content-Length.
  static Reply status(int code, std::string_view body = {},
                      const std::vector<std::string>& headers = {});
  // `code` (301, 302, 307, ...) with "Location: <location>" and an empty body.
  static Reply redirect(int code, std::string_view location);
  // A 200 head announcing `announced` body bytes, then only `body`, then `then` (kClose, kReset
  // or kStall make a truncated transfer).
  static Reply partial(std::size_t announced, std::string body, Then then);
  // A 200 head without Content-Length ("Connection: close"), then `fill` forever.
  static Reply endless(std::string fill = std::string(16 * 1024, 'x'));
};

// "HTTP/1.1 <code> <reason>\r\n" + header lines + "Content-Length: N\r\n\r\n" + body.
std::string http_response(int code, std::string_view body,
                          const std::vector<std::string>& headers = {});

// Wraps `body` in chunked transfer coding with chunks of at most `chunk` bytes.
std::string chunked(std::string_view body, std::size_t chunk = 1024);

// A 127.0.0.1 port nobody listens on right now (bound to an ephemeral port, then closed).
std::uint16_t unused_port();

// A 127.0.0.1 listener that never accepts and whose accept queue is already full, so new
// connection attempts get no answer at all (their SYNs are dropped) until the client gives up:
// for connect timeouts without leaving the loopback interface.
class SaturatedListener {
 public:
  SaturatedListener();
  ~SaturatedListener();
  SaturatedListener(const SaturatedListener&) = delete;
  SaturatedListener& operator=(const SaturatedListener&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int listen_fd_ = -1;
  std::vector<int> fillers_;  // connections occupying the queue
  std::uint16_t port_ = 0;
};

class TestHttpServer {
 public:
  using Handler = std::function<Reply(const ReceivedRequest&)>;

  // Starts listening on 127.0.0.1:0 and serving on a background thread.
  TestHttpServer();
  // Stops the thread and drops all connections.
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  std::uint16_t port() const;
  std::string base_url() const;                  // "http://127.0.0.1:PORT"
  std::string url(std::string_view path) const;  // base_url() + path

  // Routes a request target (path and query, exact match) to a fixed reply or to a handler.
  // A route ending in '*' matches every target starting with the part before it; exact routes
  // win over prefix routes, longer prefixes over shorter ones. Unrouted targets get a 404.
  // Handlers run on the server thread; one that throws gets a 500 sent for it. A request that
  // does not start with a request line (e.g. a TLS hello) gets a 400 and the connection closed.
  // Routes may be changed while the server runs.
  void on(std::string route, Reply reply);
  void on(std::string route, Handler handler);

  // Every request received so far, in arrival order.
  std::vector<ReceivedRequest> requests() const;
  std::size_t request_count() const;
  // Requests received for one target (exact match).
  std::vector<ReceivedRequest> requests_for(std::string_view target) const;

  std::size_t connections_accepted() const;  // total since start
  std::size_t open_connections() const;      // currently open on the server side
  std::size_t max_open_connections() const;  // most open at the same time

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vellum::test
