// The fetcher: libcurl's multi interface driven by a Boost.Asio io_context (socket and timer
// callbacks, no polling, no thread per request). Records each HTTP exchange as it crossed the
// wire and follows redirects itself so that every hop is its own exchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "util/Time.h"

struct sockaddr;

namespace vellum::fetch {

struct FetchOptions {
  int concurrency = 16;  // transfers in flight at once; more wait in a queue
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds total_timeout{120'000};    // per hop
  std::chrono::milliseconds low_speed_window{30'000};  // abort when < 1 byte/s for this long
  std::uint64_t max_body_bytes = 256ull << 20;  // larger bodies are cut here: truncated = true
  int max_redirects = 10;
  std::string user_agent;            // empty: default_user_agent()
  std::vector<std::string> resolve;  // "HOST:PORT:ADDR" entries, curl's --resolve meaning
  bool http2 = true;                 // offer HTTP/2 over TLS (ALPN)
  std::vector<std::pair<std::string, std::string>> extra_headers;
  std::string ca_file;  // PEM bundle to verify servers with; empty: the system's
  // Called with each address before connecting; returning false refuses the connection
  // (the private-network guard). Null: every address is allowed.
  std::function<bool(const struct sockaddr*)> address_filter;
};

// Options for one fetch() that differ from the fetcher's: what a daemon source adds.
struct RequestOptions {
  // Extra request headers (e.g. If-None-Match, an account's token). Sent only to the URL's own
  // origin (scheme, host and port): a redirect to another site does not receive them.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string
      cookie_file;  // Netscape cookie file (curl's format), read for every hop; never written
  std::uint64_t max_body_bytes = 0;  // 0: FetchOptions::max_body_bytes
  // Asked before a redirect is followed, with its absolute target: false ends the fetch there,
  // successfully, the redirect the last hop (its `location` says where it led). Runs on the
  // io_context thread. Empty: every redirect is followed.
  std::function<bool(const std::string& next)> follow;
};

// "Vellum/<version> (+https://github.com/vellum-archive/vellum)"
std::string default_user_agent();

// One request and its response, as they crossed the wire.
struct Exchange {
  std::string url;            // the URL requested
  std::string request;        // request line + headers (+ body) exactly as sent
  std::string response_head;  // status line + header lines + blank line, as received
  std::string response_body;  // body bytes as received: transfer and content coding intact
  std::string ip;             // server address connected to (WARC-IP-Address)
  int status = 0;             // HTTP status code
  std::string http_version;   // "1.1", "2", ...
  bool truncated = false;     // body cut at max_body_bytes (WARC-Truncated: length)
  std::string location;       // absolute redirect target for 3xx with Location, else empty
  util::TimePoint started;    // when the request was sent (WARC-Date)
};

struct FetchResult {
  std::string url;             // as asked
  std::vector<Exchange> hops;  // one per request made, in order (redirects included)
                               // (on failure: the hops completed before the failing one)
  std::string final_url;       // URL of the last hop
  std::string error;           // one-line reason; empty on success
  // What kind of failure `error` is, for deciding whether to try again.
  enum class Failure {
    kNone,       // success
    kTransient,  // network, timeout, server trouble: worth retrying later
    kPermanent,  // the URL or its redirects are bad (scheme, syntax, loop, too many hops)
    kRefused,    // the address filter refused every address of the host
  };
  Failure failure = Failure::kNone;
  bool ok() const { return error.empty(); }
};

class Fetcher {
 public:
  Fetcher(boost::asio::io_context& io, FetchOptions options);
  // Abandons queued and running fetches without calling their callbacks.
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Queues a fetch; `done` runs on the io_context thread once the URL (and its redirects) has
  // been fetched or has failed. Never throws for network or protocol failures.
  // Call it on the io_context's thread (or while the io_context is not running).
  void fetch(std::string url, std::function<void(FetchResult)> done);
  void fetch(std::string url, RequestOptions request, std::function<void(FetchResult)> done);

  std::size_t in_flight() const;
  std::size_t queued() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vellum::fetch
