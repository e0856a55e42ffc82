#include "daemon/MetricsServer.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <unordered_map>

namespace vellum::daemon {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

bool valid_name(const std::string& name, bool colon_allowed) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (colon_allowed && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also the double quote.
std::string escape(const std::string& text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// "127.0.0.1:9464" or "[::1]:9464" -> endpoint; throws when malformed or not loopback.
tcp::endpoint parse_listen(const std::string& listen) {
  auto malformed = [&](const std::string& why) {
    return std::runtime_error("metrics listen address '" + listen + "' " + why +
                              "; expected 127.0.0.1:PORT or [::1]:PORT (metrics.listen)");
  };
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find("]:");
    if (close == std::string::npos) throw malformed("has no port after the bracketed address");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw malformed("has no port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string::npos) throw malformed("is an IPv6 address without brackets");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    throw malformed("has an invalid port");
  error_code aec;
  auto address = asio::ip::make_address(host, aec);
  if (aec) throw malformed("does not name an IP address ('" + host + "')");
  if (!address.is_loopback())
    throw std::runtime_error("metrics listen address '" + listen +
                             "' is not a loopback address: the metrics endpoint has no "
                             "authentication, so vellumd serves it on 127.0.0.1 or [::1] only "
                             "(put a proxy in front to expose it)");
  return tcp::endpoint(address, static_cast<unsigned short>(value));
}

std::string http_response(int status, std::string_view reason, std::string_view content_type,
                          const std::string& body, bool head_only,
                          std::string_view extra_headers = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_headers;
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

constexpr std::string_view kPlain = "text/plain; charset=utf-8";
constexpr std::string_view kExposition = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

void MetricsText::add_counter(const std::string& name, const std::string& help, double value,
                              const Labels& labels) {
  add("counter", name, help, value, labels);
}

void MetricsText::add_gauge(const std::string& name, const std::string& help, double value,
                            const Labels& labels) {
  add("gauge", name, help, value, labels);
}

void MetricsText::add(const char* type, const std::string& name, const std::string& help,
                      double value, const Labels& labels) {
  if (!valid_name(name, true)) throw std::invalid_argument("invalid metric name '" + name + "'");
  std::string sample = name;
  if (!labels.empty()) {
    sample += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const auto& [label, text] = labels[i];
      if (!valid_name(label, false) || label.rfind("__", 0) == 0)
        throw std::invalid_argument("invalid label name '" + label + "' on metric " + name);
      if (i > 0) sample += ',';
      sample += label + "=\"" + escape(text, true) + '"';
    }
    sample += '}';
  }
  sample += ' ' + format_value(value);

  for (auto& family : families_) {
    if (family.name != name) continue;
    if (family.type != type)
      throw std::invalid_argument("metric " + name + " is a " + family.type + ", not a " + type);
    family.samples.push_back(std::move(sample));
    return;
  }
  families_.push_back({name, help, type, {std::move(sample)}});
}

std::string MetricsText::str() const {
  std::string out;
  for (const auto& family : families_) {
    out += "# HELP " + family.name + ' ' + escape(family.help, false) + '\n';
    out += "# TYPE " + family.name + ' ' + family.type + '\n';
    for (const auto& sample : family.samples) out += sample + '\n';
  }
  return out;
}

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
  struct Connection;

  Impl(asio::io_context& io, std::string listen, Render render, MetricsServerOptions options)
      : io(io),
        listen(std::move(listen)),
        render(std::move(render)),
        options(options),
        acceptor(io),
        retry_timer(io) {}

  void start();
  void close();
  void accept();
  std::string answer(const std::string& head);

  asio::io_context& io;
  std::string listen;
  Render render;
  MetricsServerOptions options;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
  bool open = false;
  unsigned short port = 0;
};

// One scrape: read the head (bounded in size and time), answer, close.
struct MetricsServer::Impl::Connection : std::enable_shared_from_this<Connection> {
  Connection(std::weak_ptr<Impl> server, tcp::socket socket, const MetricsServerOptions& options)
      : server(std::move(server)),
        socket(std::move(socket)),
        deadline(this->socket.get_executor()),
        options(options) {}

  void start() {
    deadline.expires_after(options.client_timeout);
    deadline.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->close();  // too slow: drop it
    });
    asio::async_read_until(
        socket, asio::dynamic_buffer(input, options.max_head), "\r\n\r\n",
        [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_head(ec, n); });
  }

  void on_head(const error_code& ec, std::size_t n) {
    if (closed) return;
    if (ec == asio::error::not_found) {
      respond(http_response(
          431, "Request Header Fields Too Large", kPlain,
          "request head larger than " + std::to_string(options.max_head) + " bytes\n", false));
      return;
    }
    if (ec) {
      close();
      return;
    }
    auto srv = server.lock();
    if (!srv) {
      close();
      return;
    }
    respond(srv->answer(input.substr(0, n)));
  }

  void respond(std::string response) {
    output = std::move(response);
    asio::async_write(socket, asio::buffer(output),
                      [self = shared_from_this()](const error_code&, std::size_t) {
                        if (self->closed) return;
                        error_code ignored;
                        self->socket.shutdown(tcp::socket::shutdown_send, ignored);
                        self->close();
                      });
  }

  void close() {
    if (closed) return;
    auto keep = shared_from_this();
    closed = true;
    error_code ignored;
    socket.close(ignored);
    deadline.cancel();
    if (auto srv = server.lock()) srv->connections.erase(this);
  }

  std::weak_ptr<Impl> server;
  tcp::socket socket;
  asio::steady_timer deadline;
  MetricsServerOptions options;
  std::string input;
  std::string output;
  bool closed = false;
};

std::string MetricsServer::Impl::answer(const std::string& head) {
  std::string_view line(head);
  line = line.substr(0, line.find("\r\n"));
  auto first = line.find(' ');
  auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.substr(second + 1).rfind("HTTP/1.", 0) != 0)
    return http_response(400, "Bad Request", kPlain, "malformed request line\n", false);
  std::string_view method = line.substr(0, first);
  std::string_view target = line.substr(first + 1, second - first - 1);
  target = target.substr(0, target.find('?'));
  const bool head_only = method == "HEAD";
  if (target != "/metrics")
    return http_response(404, "Not Found", kPlain, "not found; metrics are at /metrics\n",
                         head_only);
  if (method != "GET" && !head_only)
    return http_response(405, "Method Not Allowed", kPlain, "use GET\n", false,
                         "Allow: GET, HEAD\r\n");
  try {
    return http_response(200, "OK", kExposition, render(), head_only);
  } catch (const std::exception& e) {
    spdlog::warn("metrics: rendering failed: {}", e.what());
  } catch (...) {
    spdlog::warn("metrics: rendering failed");
  }
  return http_response(500, "Internal Server Error", kPlain, "metrics unavailable\n", head_only);
}

void MetricsServer::Impl::start() {
  if (open) return;
  tcp::endpoint endpoint = parse_listen(listen);
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    std::string why = ec.message();
    if (ec == asio::error::address_in_use)
      why =
          "the address is already in use (another vellumd, or another exporter on that "
          "port?); choose a free port in metrics.listen";
    else if (ec == boost::system::errc::address_not_available)
      why = "the address is not available on this machine";
    throw std::runtime_error("cannot serve metrics on " + listen + ": " + why);
  }
  port = acceptor.local_endpoint(ec).port();
  open = true;
  accept();
}

void MetricsServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    if (!self->open || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (self->connections.size() >= self->options.max_clients) {
        error_code ignored;
        socket.close(ignored);
      } else {
        auto c =
            std::make_shared<Connection>(self->weak_from_this(), std::move(socket), self->options);
        self->connections.emplace(c.get(), c);
        c->start();
      }
      self->accept();
      return;
    }
    // Out of descriptors or similar: accepting again at once would spin.
    spdlog::debug("metrics: accept failed: {}", ec.message());
    self->retry_timer.expires_after(std::chrono::milliseconds(200));
    self->retry_timer.async_wait([self](const error_code& e) {
      if (!e && self->open) self->accept();
    });
  });
}

void MetricsServer::Impl::close() {
  open = false;
  error_code ignored;
  acceptor.close(ignored);
  retry_timer.cancel();
  auto all = std::move(connections);
  connections.clear();
  for (auto& [raw, connection] : all) connection->close();
}

MetricsServer::MetricsServer(asio::io_context& io, std::string listen, Render render,
                             MetricsServerOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(listen), std::move(render), options)) {}

MetricsServer::~MetricsServer() {
  impl_->close();
}

void MetricsServer::start() {
  impl_->start();
}

void MetricsServer::close() {
  impl_->close();
}

unsigned short MetricsServer::port() const {
  return impl_->port;
}

const std::string& MetricsServer::listen() const {
  return impl_->listen;
}

}  // namespace vellum::daemon
