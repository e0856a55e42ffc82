#include "support/TestHttpServer.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <variant>

namespace vellum::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kMaxHead = 1 << 20;

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string reason(int code) {
  switch (code) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

// Parses "METHOD TARGET HTTP/x.y"; false when the line does not look like that.
bool parse_request_line(std::string_view head, std::string& method, std::string& target) {
  auto eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return false;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  if (line.substr(sp2 + 1, 5) != "HTTP/") return false;
  for (char c : line.substr(0, sp1)) {
    if (c < 'A' || c > 'Z') return false;
  }
  method = line.substr(0, sp1);
  target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  return true;
}

}  // namespace

// ---- ReceivedRequest ----

std::string ReceivedRequest::header(std::string_view name) const {
  std::string_view rest(raw);
  auto head_end = rest.find("\r\n\r\n");
  if (head_end != std::string_view::npos) rest = rest.substr(0, head_end + 2);
  auto eol = rest.find("\r\n");
  if (eol == std::string_view::npos) return "";
  rest.remove_prefix(eol + 2);
  while (!rest.empty()) {
    eol = rest.find("\r\n");
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 2);
    auto colon = line.find(':');
    if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), name))
      return std::string(trim(line.substr(colon + 1)));
  }
  return "";
}

bool ReceivedRequest::has_header(std::string_view name) const {
  std::string_view rest(raw);
  auto head_end = rest.find("\r\n\r\n");
  if (head_end != std::string_view::npos) rest = rest.substr(0, head_end + 2);
  std::size_t pos = rest.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < rest.size()) {
    std::size_t next = rest.find("\r\n", pos + 2);
    std::string_view line = rest.substr(pos + 2, next - pos - 2);
    auto colon = line.find(':');
    if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), name)) return true;
    pos = next;
  }
  return false;
}

// ---- Reply builders ----

std::string http_response(int code, std::string_view body,
                          const std::vector<std::string>& headers) {
  std::string out = "HTTP/1.1 " + std::to_string(code) + " " + reason(code) + "\r\n";
  for (const auto& h : headers) out += h + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

std::string chunked(std::string_view body, std::size_t chunk) {
  static const char* hex = "0123456789abcdef";
  if (chunk == 0) chunk = 1024;
  std::string out;
  for (std::size_t pos = 0; pos < body.size(); pos += chunk) {
    std::size_t n = std::min(chunk, body.size() - pos);
    std::string size;
    for (std::size_t v = n; v > 0; v >>= 4) size.insert(size.begin(), hex[v & 15]);
    out += size + "\r\n";
    out += body.substr(pos, n);
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

Reply Reply::raw(std::string bytes, Then then) {
  Reply r;
  r.bytes = std::move(bytes);
  r.then = then;
  return r;
}

Reply Reply::ok(std::string_view body, std::string_view content_type,
                const std::vector<std::string>& headers) {
  std::vector<std::string> all{"Content-Type: " + std::string(content_type)};
  all.insert(all.end(), headers.begin(), headers.end());
  return raw(http_response(200, body, all));
}

Reply Reply::status(int code, std::string_view body, const std::vector<std::string>& headers) {
  return raw(http_response(code, body, headers));
}

Reply Reply::redirect(int code, std::string_view location) {
  return raw(http_response(code, "", {"Location: " + std::string(location)}));
}

Reply Reply::partial(std::size_t announced, std::string body, Then then) {
  return raw("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                 std::to_string(announced) + "\r\n\r\n" + body,
             then);
}

Reply Reply::endless(std::string fill) {
  Reply r =
      raw("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
          Then::kEndless);
  r.fill = std::move(fill);
  if (r.fill.empty()) r.fill = "x";
  return r;
}

std::uint16_t unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind() failed");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

SaturatedListener::SaturatedListener() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::listen(listen_fd_, 0) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("cannot set up a listener");
  }
  port_ = ntohs(addr.sin_port);
  // With a backlog of 0 the queue holds one connection; a few more make sure it is full.
  for (int i = 0; i < 3; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    fillers_.push_back(fd);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
}

SaturatedListener::~SaturatedListener() {
  for (int fd : fillers_) ::close(fd);
  ::close(listen_fd_);
}

// ---- server ----

namespace {

// The server's shared state and event loop.
struct Core {
  using Route = std::variant<Reply, TestHttpServer::Handler>;

  // Shared with the server thread (guarded by mu).
  mutable std::mutex mu;
  std::map<std::string, Route, std::less<>> exact;
  std::map<std::string, Route, std::less<>> prefix;  // key without the trailing '*'
  std::vector<ReceivedRequest> requests;
  std::size_t accepted = 0;
  std::size_t open = 0;
  std::size_t max_open = 0;

  // Declared after the shared data: pending handlers (and the connections they hold) are destroyed
  // with the io_context and still update the counters above.
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
  std::uint16_t port = 0;

  void accept();

  Reply route(const ReceivedRequest& req) {
    Route found;
    {
      std::lock_guard lock(mu);
      requests.push_back(req);
      if (req.malformed) {
        return Reply::raw(http_response(400, "bad request\n", {"Connection: close"}),
                          Reply::Then::kClose);
      }
      if (auto it = exact.find(req.target); it != exact.end()) {
        found = it->second;
      } else {
        const Route* best = nullptr;
        std::size_t best_len = 0;
        for (const auto& [p, r] : prefix) {
          if (req.target.compare(0, p.size(), p) == 0 && (!best || p.size() >= best_len)) {
            best = &r;
            best_len = p.size();
          }
        }
        if (!best) return Reply::status(404, "not found\n", {"Content-Type: text/plain"});
        found = *best;
      }
    }
    if (auto* reply = std::get_if<Reply>(&found)) return *reply;
    try {
      return std::get<TestHttpServer::Handler>(found)(req);
    } catch (const std::exception& e) {
      return Reply::raw(http_response(500, std::string("handler threw: ") + e.what() + "\n",
                                      {"Connection: close"}),
                        Reply::Then::kClose);
    }
  }

  // Counts a new connection; returns its number.
  std::size_t opened() {
    std::lock_guard lock(mu);
    ++accepted;
    ++open;
    max_open = std::max(max_open, open);
    return accepted;
  }

  void closed() {
    std::lock_guard lock(mu);
    --open;
  }
};

// One accepted connection: reads requests, sends scripted replies.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Core& state, tcp::socket socket, std::size_t id)
      : state_(state), socket_(std::move(socket)), timer_(socket_.get_executor()), id_(id) {}
  ~Connection() { state_.closed(); }

  void start() { next_request(); }

 private:
  void read_more() {
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (ec) return;  // client went away: the connection ends
          self->buf_.append(self->chunk_.data(), n);
          self->next_request();
        });
  }

  // Serves the next complete request in the buffer, or reads more.
  void next_request() {
    if (buf_.empty()) return read_more();
    ReceivedRequest req;
    req.connection = id_;
    // Anything that does not start like a request line (a TLS hello, binary junk) is answered
    // at once instead of waiting for a blank line that will never come.
    if (buf_[0] < 'A' || buf_[0] > 'Z') {
      req.malformed = true;
      req.raw = std::move(buf_);
      buf_.clear();
      return serve(state_.route(req));
    }
    auto end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (buf_.size() > kMaxHead) {
        req.malformed = true;
        req.raw = std::move(buf_);
        buf_.clear();
        return serve(state_.route(req));
      }
      return read_more();
    }
    std::size_t head_len = end + 4;
    req.raw = buf_.substr(0, head_len);
    std::size_t body_len = 0;
    if (std::string cl = req.header("Content-Length"); !cl.empty()) {
      try {
        body_len = std::stoul(cl);
      } catch (...) {
        req.malformed = true;
      }
    }
    if (buf_.size() < head_len + body_len) return read_more();
    req.raw = buf_.substr(0, head_len + body_len);
    buf_.erase(0, head_len + body_len);
    if (!parse_request_line(req.raw, req.method, req.target)) req.malformed = true;
    serve(state_.route(req));
  }

  void serve(Reply reply) {
    reply_ = std::move(reply);
    if (reply_.delay.count() > 0) {
      timer_.expires_after(reply_.delay);
      timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->send(0);
      });
      return;
    }
    send(0);
  }

  // Sends reply_.bytes from `pos`, all at once or dripped.
  void send(std::size_t pos) {
    if (pos >= reply_.bytes.size()) return after();
    std::size_t n = reply_.bytes.size() - pos;
    if (reply_.drip_bytes > 0) n = std::min(n, reply_.drip_bytes);
    asio::async_write(
        socket_, asio::buffer(reply_.bytes.data() + pos, n),
        [self = shared_from_this(), pos, n](const boost::system::error_code& ec, std::size_t) {
          if (ec) return;
          std::size_t next = pos + n;
          if (self->reply_.drip_bytes == 0 || next >= self->reply_.bytes.size())
            return self->send(next);
          self->timer_.expires_after(self->reply_.drip_interval);
          self->timer_.async_wait([self, next](const boost::system::error_code& e) {
            if (!e) self->send(next);
          });
        });
  }

  void after() {
    boost::system::error_code ec;
    switch (reply_.then) {
      case Reply::Then::kKeepAlive:
        return next_request();
      case Reply::Then::kClose:
        socket_.shutdown(tcp::socket::shutdown_both, ec);
        socket_.close(ec);
        return;
      case Reply::Then::kReset:
        socket_.set_option(asio::socket_base::linger(true, 0), ec);
        socket_.close(ec);
        return;
      case Reply::Then::kStall:
        return drain();
      case Reply::Then::kEndless:
        return pour();
    }
  }

  // Reads and discards until the client closes.
  void drain() {
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (!ec) self->drain();
        });
  }

  // Writes the fill until the client closes.
  void pour() {
    asio::async_write(
        socket_, asio::buffer(reply_.fill),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (!ec) self->pour();
        });
  }

  Core& state_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::size_t id_;
  std::array<char, 16 * 1024> chunk_{};
  std::string buf_;
  Reply reply_;
};

void Core::accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) std::make_shared<Connection>(*this, std::move(socket), opened())->start();
    accept();
  });
}

}  // namespace

struct TestHttpServer::State : Core {};

TestHttpServer::TestHttpServer() : state_(std::make_unique<State>()) {
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
  state_->acceptor.open(endpoint.protocol());
  state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state_->acceptor.bind(endpoint);
  state_->acceptor.listen();
  state_->port = state_->acceptor.local_endpoint().port();
  state_->accept();
  state_->thread = std::thread([s = state_.get()] { s->io.run(); });
}

TestHttpServer::~TestHttpServer() {
  state_->work.reset();
  state_->io.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

std::uint16_t TestHttpServer::port() const {
  return state_->port;
}

std::string TestHttpServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(state_->port);
}

std::string TestHttpServer::url(std::string_view path) const {
  return base_url() + std::string(path);
}

void TestHttpServer::on(std::string route, Reply reply) {
  std::lock_guard lock(state_->mu);
  if (!route.empty() && route.back() == '*') {
    route.pop_back();
    state_->prefix.insert_or_assign(std::move(route), std::move(reply));
  } else {
    state_->exact.insert_or_assign(std::move(route), std::move(reply));
  }
}

void TestHttpServer::on(std::string route, Handler handler) {
  std::lock_guard lock(state_->mu);
  if (!route.empty() && route.back() == '*') {
    route.pop_back();
    state_->prefix.insert_or_assign(std::move(route), std::move(handler));
  } else {
    state_->exact.insert_or_assign(std::move(route), std::move(handler));
  }
}

std::vector<ReceivedRequest> TestHttpServer::requests() const {
  std::lock_guard lock(state_->mu);
  return state_->requests;
}

std::size_t TestHttpServer::request_count() const {
  std::lock_guard lock(state_->mu);
  return state_->requests.size();
}

std::vector<ReceivedRequest> TestHttpServer::requests_for(std::string_view target) const {
  std::lock_guard lock(state_->mu);
  std::vector<ReceivedRequest> out;
  for (const auto& r : state_->requests) {
    if (r.target == target) out.push_back(r);
  }
  return out;
}

std::size_t TestHttpServer::connections_accepted() const {
  std::lock_guard lock(state_->mu);
  return state_->accepted;
}

std::size_t TestHttpServer::open_connections() const {
  std::lock_guard lock(state_->mu);
  return state_->open;
}

std::size_t TestHttpServer::max_open_connections() const {
  std::lock_guard lock(state_->mu);
  return state_->max_open;
}

}  // namespace vellum::test
