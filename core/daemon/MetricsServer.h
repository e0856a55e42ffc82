// Prometheus metrics over HTTP on a loopback address: GET /metrics answers with the text that
// the render callback returns (exposition format 0.0.4); every other path is 404. One request
// per connection. The endpoint has no authentication, so only loopback addresses are accepted.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace vellum::daemon {

// Builds a page in the Prometheus text exposition format. Samples of one family are printed
// together under a single HELP and TYPE line, families in the order first added.
class MetricsText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  // Throw std::invalid_argument for a name that is not a valid metric or label name, or when a
  // family is added again with another type.
  void add_counter(const std::string& name, const std::string& help, double value,
                   const Labels& labels = {});
  void add_gauge(const std::string& name, const std::string& help, double value,
                 const Labels& labels = {});

  std::string str() const;

 private:
  struct Family {
    std::string name;
    std::string help;
    std::string type;
    std::vector<std::string> samples;  // complete lines, without the newline
  };
  void add(const char* type, const std::string& name, const std::string& help, double value,
           const Labels& labels);

  std::vector<Family> families_;
};

struct MetricsServerOptions {
  std::size_t max_head = 8192;  // longest request head (request line and headers)
  std::chrono::milliseconds client_timeout{10'000};  // a connection's whole lifetime
  std::size_t max_clients = 16;                      // connections at once; more are closed at once
};

class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  // `listen` is "127.0.0.1:9464" or "[::1]:9464" (port 0: any free port). `render` runs on the
  // io_context's thread for each scrape; what it throws becomes a 500.
  MetricsServer(boost::asio::io_context& io, std::string listen, Render render,
                MetricsServerOptions options = {});
  ~MetricsServer();  // close()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and starts accepting. Throws std::runtime_error when the address is malformed, not a
  // loopback address, or cannot be bound (in use, not available).
  void start();
  // Stops accepting and closes open connections. Idempotent.
  void close();

  unsigned short port() const;  // the bound port (useful with port 0); 0 before start()
  const std::string& listen() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the handlers of asynchronous operations
};

}  // namespace vellum::daemon
