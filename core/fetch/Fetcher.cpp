// The fetcher: a libcurl multi handle whose sockets and timeout are watched by the io_context.
//
// Curl tells us which descriptors it wants to watch (socket callback) and when it next needs a
// timeout call (timer callback); both only arm asio waits. The wait handlers call
// curl_multi_socket_action, then collect finished transfers. No curl_multi_* call is ever made
// from inside a curl callback, and completion callbacks are posted to the io_context.
//
// Connection sockets are created and closed by us (open/close socket callbacks), so each
// descriptor object is released exactly when curl closes its fd and never closes it itself.
#include "fetch/Fetcher.h"

#include "warc/HttpMessage.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "util/Idna.h"
#include "util/Text.h"
#include "util/Url.h"

#ifndef VELLUM_VERSION
#define VELLUM_VERSION "unknown"
#endif

namespace vellum::fetch {

namespace asio = boost::asio;

namespace {

constexpr const char* kAcceptEncoding = "Accept-Encoding: gzip, deflate, br, zstd";

// curl_global_init once per process, cleaned up at exit.
void ensure_curl_global() {
  struct Global {
    Global() {
      if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        throw std::runtime_error("curl_global_init failed");
    }
    ~Global() { curl_global_cleanup(); }
  };
  static Global global;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

bool is_http_url(std::string_view url) {
  return starts_with_nocase(url, "http://") || starts_with_nocase(url, "https://");
}

// Comparable form of a URL for loop detection.
std::string normalised(const std::string& url) {
  if (auto u = util::parse_request_url(url)) return u->str();
  return url;
}

// A --resolve entry names the host as curl is given it, so an internationalised host in it is
// converted as the URLs are ("Bücher.example:443:…" matches "https://bücher.example/").
std::string ascii_resolve_entry(const std::string& entry) {
  // curl's "+HOST:…" (entries that time out) and "-HOST:PORT" (removal) keep their prefix.
  const std::size_t start = !entry.empty() && (entry[0] == '+' || entry[0] == '-') ? 1 : 0;
  const auto colon = entry.find(':', start);
  if (colon == std::string::npos) return entry;
  auto host = util::host_to_ascii(std::string_view(entry).substr(start, colon - start));
  return host ? entry.substr(0, start) + *host + entry.substr(colon) : entry;
}

std::string host_of(const std::string& url) {
  if (auto u = util::parse_url(url)) return u->host;
  return url;
}

std::string sockaddr_ip(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  } else {
    return "address family " + std::to_string(sa->sa_family);
  }
  return buf;
}

std::string sockaddr_endpoint(const sockaddr* sa) {
  std::string ip = sockaddr_ip(sa);
  if (sa->sa_family == AF_INET)
    return ip + ":" + std::to_string(ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port));
  if (sa->sa_family == AF_INET6)
    return "[" + ip +
           "]:" + std::to_string(ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port));
  return ip;
}

std::string version_name(long v) {
  switch (v) {
    case CURL_HTTP_VERSION_1_0:
      return "1.0";
    case CURL_HTTP_VERSION_1_1:
      return "1.1";
    case CURL_HTTP_VERSION_2_0:
      return "2";
    case CURL_HTTP_VERSION_3:
      return "3";
    default:
      return "";
  }
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

std::string default_user_agent() {
  return std::string("Vellum/") + VELLUM_VERSION + " (+https://github.com/vellum-archive/vellum)";
}

struct Fetcher::Impl {
  struct Job;

  // One request/response: an easy handle and what it recorded.
  struct Hop {
    Impl* impl = nullptr;
    Job* job = nullptr;
    CURL* easy = nullptr;
    Exchange ex;
    char errbuf[CURL_ERROR_SIZE] = {};
    bool head_done = false;     // blank line seen after the final status line
    bool request_sent = false;  // a complete request head went out
    int sockets_opened = 0;     // connection attempts that got a socket
    std::string last_endpoint;  // "ip:port" of the last connection attempt
    std::string refused_ip;     // first address the filter refused
    std::string internal_error;
  };

  // One fetch() call: the URL, its redirect hops and the callback.
  struct Job {
    ~Job() { curl_slist_free_all(headers); }
    std::string url;
    RequestOptions request;
    std::string origin;             // scheme://host:port of `url`: where request.headers go
    curl_slist* headers = nullptr;  // the fetcher's headers + request.headers; null: none extra
    std::function<void(FetchResult)> done;
    FetchResult result;
    std::vector<std::string> chain;  // normalised URLs requested, for loop detection
    std::unique_ptr<Hop> hop;        // the hop in progress
  };

  // A descriptor curl asked us to watch.
  struct Sock {
    Sock(asio::io_context& io, curl_socket_t s, bool own) : sd(io, s), fd(s), owned(own) {}
    ~Sock() {
      if (sd.is_open()) sd.release();  // the fd belongs to curl: never close it here
    }
    asio::posix::stream_descriptor sd;
    curl_socket_t fd;
    bool owned;            // created by our open callback; closed by our close callback
    int want = 0;          // CURL_POLL_* interest
    bool reading = false;  // a read wait is pending
    bool writing = false;  // a write wait is pending
    bool failed = false;   // a wait reported an error: stop waiting on it
    bool closed = false;   // released: pending handlers must not touch it
    unsigned gen = 0;      // bumped on cancel; handlers from older waits are ignored
  };

  Impl(asio::io_context& io_context, FetchOptions o)
      : io(io_context), opts(std::move(o)), timer(io_context) {
    ensure_curl_global();
    if (opts.concurrency < 1) opts.concurrency = 1;
    user_agent = opts.user_agent.empty() ? default_user_agent() : opts.user_agent;
    multi = curl_multi_init();
    if (!multi) throw std::runtime_error("curl_multi_init failed");
    try {
      curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::socket_cb);
      curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
      curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::timer_cb);
      curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
      curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
      headers = append(headers, kAcceptEncoding);
      for (const auto& [name, value] : opts.extra_headers) {
        // "Name;" is curl's way to send a header with an empty value.
        headers = append(headers, value.empty() ? name + ";" : name + ": " + value);
      }
      for (const auto& entry : opts.resolve) resolve = append(resolve, ascii_resolve_entry(entry));
    } catch (...) {
      curl_multi_cleanup(multi);
      curl_slist_free_all(headers);
      curl_slist_free_all(resolve);
      throw;
    }
  }

  ~Impl() {
    for (auto& [job, owned] : active) {
      if (job->hop && job->hop->easy) {
        curl_multi_remove_handle(multi, job->hop->easy);
        curl_easy_cleanup(job->hop->easy);
        job->hop->easy = nullptr;
      }
    }
    curl_multi_cleanup(multi);  // closes cached connections through close_cb
    for (auto& [fd, sock] : socks) detach(*sock);
    socks.clear();
    boost::system::error_code ec;
    timer.cancel(ec);
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
  }

  static curl_slist* append(curl_slist* list, const std::string& s) {
    curl_slist* next = curl_slist_append(list, s.c_str());
    if (!next) throw std::bad_alloc();  // `list` is still intact and owned by the caller
    return next;
  }

  // ---- queue ----

  void enqueue(std::string url, RequestOptions request, std::function<void(FetchResult)> done) {
    auto job = std::make_unique<Job>();
    job->result.url = url;
    job->result.final_url = url;
    job->url = std::move(url);
    job->done = std::move(done);
    if (!request.headers.empty()) {
      job->origin = origin_of(job->url);
      job->headers = append(job->headers, kAcceptEncoding);
      for (const auto& [name, value] : opts.extra_headers)
        job->headers = append(job->headers, value.empty() ? name + ";" : name + ": " + value);
      for (const auto& [name, value] : request.headers)
        job->headers = append(job->headers, value.empty() ? name + ";" : name + ": " + value);
    }
    job->request = std::move(request);
    queue.push_back(std::move(job));
    schedule_pump();
  }

  void schedule_pump() {
    if (pump_posted) return;
    pump_posted = true;
    asio::post(io, [this, alive = std::weak_ptr<char>(life)] {
      if (alive.expired()) return;
      pump_posted = false;
      pump();
    });
  }

  // Starts queued jobs while there is room. Never called from inside a curl callback.
  void pump() {
    while (active.size() < static_cast<std::size_t>(opts.concurrency) && !queue.empty()) {
      std::unique_ptr<Job> owned = std::move(queue.front());
      queue.pop_front();
      Job* job = owned.get();
      active.emplace(job, std::move(owned));
      start_hop(job, job->url);
    }
  }

  void start_hop(Job* job, const std::string& given) {
    job->result.final_url = given;
    if (!is_http_url(given)) {
      finish(job, "not an http(s) URL: " + given, FetchResult::Failure::kPermanent);
      return;
    }
    // What curl is given is what it sends and what the records name as WARC-Target-URI: the URL
    // without its fragment (never sent, RFC 9110, 4.2.4), dot segments resolved and unsafe bytes
    // percent-encoded, as a browser requests it.
    std::string why;
    auto parsed = util::parse_request_url(given, &why);
    if (!parsed) {  // e.g. no host: do not let curl guess
      finish(job, "malformed URL '" + given + "'" + (why.empty() ? std::string() : ": " + why),
             FetchResult::Failure::kPermanent);
      return;
    }
    const std::string url = parsed->str();
    job->result.final_url = url;
    job->chain.push_back(url);

    auto hop = std::make_unique<Hop>();
    hop->impl = this;
    hop->job = job;
    hop->ex.url = url;
    CURL* e = curl_easy_init();
    if (!e) {
      finish(job, "could not create a transfer handle");
      return;
    }
    hop->easy = e;
    configure(e, hop.get());
    hop->ex.started = util::now();
    job->hop = std::move(hop);
    if (CURLMcode mc = curl_multi_add_handle(multi, e); mc != CURLM_OK) {
      curl_easy_cleanup(e);
      job->hop.reset();
      finish(job, std::string("could not start the transfer: ") + curl_multi_strerror(mc));
    }
  }

  // "scheme://host:port" of a URL as it is requested (an internationalised host in its IDNA
  // form, as each hop's URL has it), empty when it does not parse.
  static std::string origin_of(const std::string& url) {
    auto u = util::parse_request_url(url);
    if (!u) return {};
    return u->scheme + "://" + u->host + ":" + std::to_string(u->effective_port());
  }

  void configure(CURL* e, Hop* hop) {
    curl_easy_setopt(e, CURLOPT_URL, hop->ex.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void*>(hop));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, hop->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_PROXY, "");  // ignore proxy environment variables
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     opts.http2 ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                : static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(e, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);  // fewer reads and callbacks per page
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent.c_str());
    const Job& job = *hop->job;
    bool own_origin = job.headers && origin_of(hop->ex.url) == job.origin;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, own_origin ? job.headers : headers);
    if (!job.request.cookie_file.empty()) {
      // Read-only: the cookie engine starts from the file for each hop and writes nothing back.
      curl_easy_setopt(e, CURLOPT_COOKIEFILE, job.request.cookie_file.c_str());
    }
    if (resolve) curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
    if (!opts.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, opts.ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opts.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(opts.total_timeout.count()));
    if (opts.low_speed_window.count() > 0) {
      long secs = static_cast<long>((opts.low_speed_window.count() + 999) / 1000);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, secs);
    }
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, static_cast<void*>(hop));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, static_cast<void*>(hop));
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, &Impl::debug_cb);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, static_cast<void*>(hop));
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);  // needed for the debug callback
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Impl::open_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, static_cast<void*>(hop));
    // Connections outlive hops in the cache, so the close callback gets the Impl.
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Impl::close_cb);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, static_cast<void*>(this));
  }

  // Hands a finished job to its callback (posted) and frees its slot.
  void finish(Job* job, std::string error,
              FetchResult::Failure kind = FetchResult::Failure::kTransient) {
    job->result.error = util::one_line(error);
    if (!error.empty() && job->result.error.empty()) job->result.error = "unknown error";
    job->result.failure = job->result.error.empty() ? FetchResult::Failure::kNone : kind;
    auto it = active.find(job);
    std::unique_ptr<Job> owned;
    if (it != active.end()) {
      owned = std::move(it->second);
      active.erase(it);
    }
    asio::post(io, [done = std::move(job->done), result = std::move(job->result)]() mutable {
      if (done) done(std::move(result));
    });
  }

  // ---- completion ----

  void process_completions() {
    std::vector<std::pair<CURL*, CURLcode>> finished;
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg == CURLMSG_DONE) finished.emplace_back(m->easy_handle, m->data.result);
    }
    for (auto [easy, code] : finished) {
      char* priv = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      if (priv) finish_hop(reinterpret_cast<Hop*>(priv), code);
    }
  }

  struct HopInfo {
    long os_errno = 0;
    curl_off_t content_length = -1;
  };

  void finish_hop(Hop* hop, CURLcode code) {
    Job* job = hop->job;
    CURL* e = hop->easy;
    HopInfo info;
    char* str = nullptr;
    if (curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &str) == CURLE_OK && str) hop->ex.ip = str;
    long version = 0;
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
    hop->ex.http_version = version_name(version);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &info.os_errno);
    curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &info.content_length);

    bool ok = hop->internal_error.empty() &&
              (code == CURLE_OK || (code == CURLE_WRITE_ERROR && hop->ex.truncated));
    std::string error = ok ? std::string() : describe(*hop, code, info);
    if (ok && !hop->head_done) {  // curl accepts a head cut short by the connection closing
      ok = false;
      error = "connection closed before the end of the response head";
    }
    // The record says what the head says: the status and the redirect are read from it, not
    // from libcurl, which reads some heads its own way (a status line in lower case).
    std::string location;
    if (ok) {
      auto head = warc::parse_http_head(hop->ex.response_head);
      if (head) {
        status = head->status;
        error = check_framing(*head, hop->ex);
        ok = error.empty();
        if (warc::is_redirect_status(head->status))
          if (const std::string* l = head->header("Location")) location = *l;
      }
    }
    hop->ex.status = static_cast<int>(status);

    curl_multi_remove_handle(multi, e);
    curl_easy_cleanup(e);
    hop->easy = nullptr;
    std::unique_ptr<Hop> done = std::move(job->hop);

    if (!ok) {
      auto kind = FetchResult::Failure::kTransient;
      if (code == CURLE_URL_MALFORMAT) kind = FetchResult::Failure::kPermanent;
      if (code == CURLE_COULDNT_CONNECT && refused(*done)) kind = FetchResult::Failure::kRefused;
      finish(job, error, kind);
      return;
    }
    // The Location resolved against this hop's URL as a browser resolves it, in the form it is
    // requested in (a space in the query is %20).
    std::string next = location.empty() ? std::string() : util::resolve_url(hop->ex.url, location);
    if (auto request = util::parse_request_url(next)) next = request->str();
    hop->ex.location = next;
    job->result.hops.push_back(std::move(hop->ex));
    if (location.empty()) {
      finish(job, "");
      return;
    }
    if (next.empty()) {
      const std::string shown = util::one_line(location);
      const auto colon = location.find(':'), delim = location.find_first_of("/?#\\");
      const bool other_scheme =
          colon != std::string::npos && colon > 0 && colon < delim && !is_http_url(location);
      finish(job,
             other_scheme ? "redirect to a non-http(s) URL: " + shown
                          : "redirect to a malformed URL: Location '" + shown + "'",
             FetchResult::Failure::kPermanent);
      return;
    }
    if (job->request.follow && !job->request.follow(next)) {
      finish(job, "");
      return;
    }
    // The whole chain, from the URL asked for: at most fetch.max_redirects (50) hops.
    auto chain = [&] {
      std::string text;
      for (const auto& h : job->result.hops) text += h.url + " -> ";
      return text + next;
    };
    std::string key = normalised(next);
    for (const auto& seen : job->chain) {
      if (seen == key) {
        finish(job, "redirect loop: " + chain(), FetchResult::Failure::kPermanent);
        return;
      }
    }
    if (job->result.hops.size() > static_cast<std::size_t>(std::max(opts.max_redirects, 0))) {
      finish(job, "too many redirects (" + std::to_string(opts.max_redirects) + "): " + chain(),
             FetchResult::Failure::kPermanent);
      return;
    }
    start_hop(job, next);
  }

  // Content-Length fields that disagree, as one line; empty when they do not.
  static std::string conflicting_lengths(const warc::HttpHead& head) {
    const std::vector<std::string> lengths = warc::split_list(head.combined("Content-Length"));
    for (const std::string& length : lengths)
      if (length != lengths.front())
        return "conflicting Content-Length fields: " + lengths.front() + " and " + length +
               " (a response must give one length)";
    return {};
  }

  // What a response's framing breaks that libcurl lets through, as one line (empty when
  // nothing): Content-Length fields that disagree, which RFC 9112 (6.3) makes an unrecoverable
  // error, as libcurl silently takes the last. Bytes after the end of a chunked body are not
  // the response's (libcurl hands them on when it does not decode the chunks): they are cut.
  static std::string check_framing(const warc::HttpHead& head, Exchange& ex) {
    if (std::string conflict = conflicting_lengths(head); !conflict.empty()) return conflict;
    if (!ex.truncated && warc::is_chunked(head))
      if (auto length = warc::chunked_length(ex.response_body);
          length && *length < ex.response_body.size())
        ex.response_body.resize(*length);
    return {};
  }

  // Whether the address filter turned down every address the hop tried (and none was opened).
  static bool refused(const Hop& hop) { return hop.sockets_opened == 0 && !hop.refused_ip.empty(); }

  // One line saying what went wrong with a hop.
  std::string describe(const Hop& hop, CURLcode code, const HopInfo& info) const {
    if (!hop.internal_error.empty()) return hop.internal_error;
    const std::string detail = hop.errbuf[0] ? std::string(hop.errbuf) : curl_easy_strerror(code);
    const std::string endpoint =
        hop.last_endpoint.empty() ? host_of(hop.ex.url) : hop.last_endpoint;
    const std::size_t got = hop.ex.response_body.size();
    std::string progress = std::to_string(got);
    if (info.content_length >= 0) progress += " of " + std::to_string(info.content_length);
    progress += " body bytes";
    const bool have_head = hop.head_done;

    switch (code) {
      case CURLE_COULDNT_RESOLVE_HOST:
        return "could not resolve host '" + host_of(hop.ex.url) + "'";
      case CURLE_COULDNT_CONNECT:
        if (refused(hop))
          return "refused to connect to " + hop.refused_ip + ": address not allowed";
        switch (info.os_errno) {
          case ECONNREFUSED:
            return "connection refused by " + endpoint;
          case ENETUNREACH:
            return "network unreachable for " + endpoint;
          case EHOSTUNREACH:
            return "host unreachable: " + endpoint;
          default:
            return "could not connect to " + endpoint + ": " + detail;
        }
      case CURLE_OPERATION_TIMEDOUT:
        if (contains(detail, "Resolving"))
          return "timed out resolving host '" + host_of(hop.ex.url) + "'";
        if (!hop.request_sent) {  // still connecting (TCP or TLS)
          auto limit = opts.connect_timeout;
          if (opts.total_timeout.count() > 0 && (limit.count() <= 0 || opts.total_timeout < limit))
            limit = opts.total_timeout;
          return (contains(detail, "SSL") ? "TLS handshake with " : "connection to ") + endpoint +
                 " timed out after " + std::to_string(limit.count()) + " ms";
        }
        if (contains(detail, "too slow"))
          return "stalled: under 1 byte/s for " + std::to_string(opts.low_speed_window.count()) +
                 " ms (" + (have_head ? progress : "no response head") + " received)";
        return "timed out after " + std::to_string(opts.total_timeout.count()) + " ms (" +
               (have_head ? progress : "no response head") + " received)";
      case CURLE_PARTIAL_FILE:
        return "connection closed after " + progress;
      case CURLE_GOT_NOTHING:
        // Nothing at all, or bytes without a line feed (libcurl reads a head line by line, so
        // a head with CR-only line ends never becomes a line): either way no status line.
        return "server closed the connection without sending a status line";
      case CURLE_RECV_ERROR:
        if (info.os_errno == ECONNRESET) {
          if (!have_head)
            return "connection reset by " + endpoint + " before a complete response head";
          return "connection reset after " + progress;
        }
        if (contains(detail, "chunk")) return "server sent a malformed chunked body: " + detail;
        return "receive failed: " + detail;
      case CURLE_SEND_ERROR:
        if (info.os_errno == ECONNRESET || info.os_errno == EPIPE)
          return "connection reset by " + endpoint + " while sending the request";
        return "send failed: " + detail;
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_UNSUPPORTED_PROTOCOL:  // URL schemes are checked before, so: the response's
        if (!have_head && (contains(detail, "status line") || contains(detail, "HTTP version") ||
                           contains(detail, "response code") || contains(detail, "HTTP/0.9")))
          return "server sent a malformed status line";
        return "server sent a malformed response: " + detail;
      case CURLE_URL_MALFORMAT:
        return "malformed URL '" + hop.ex.url + "'";
      case CURLE_SSL_CONNECT_ERROR:
        return "TLS handshake failed: " + detail;
      case CURLE_PEER_FAILED_VERIFICATION:
        return "TLS certificate verification failed: " + detail;
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_ENGINE_NOTFOUND:
      case CURLE_SSL_ENGINE_SETFAILED:
      case CURLE_SSL_ENGINE_INITFAILED:
      case CURLE_SSL_SHUTDOWN_FAILED:
      case CURLE_SSL_INVALIDCERTSTATUS:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return "TLS error: " + detail;
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
        return "HTTP/2 error: " + detail;
      case CURLE_OUT_OF_MEMORY:
        // libcurl gives this code for a header line over its limit too (CURL_MAX_HTTP_HEADER,
        // 100 KiB), which is far more likely once a response has started.
        if (hop.request_sent && !have_head)
          return "server sent a response header line longer than libcurl reads (102400 bytes)";
        return "out of memory";
      default:
        return std::string(curl_easy_strerror(code)) + ": " + detail;
    }
  }

  // ---- sockets and timer (asio side) ----

  void detach(Sock& s) {
    if (s.closed) return;
    s.closed = true;
    s.want = 0;
    s.reading = s.writing = false;
    if (s.sd.is_open()) s.sd.release();  // cancels pending waits; does not close
  }

  void cancel_waits(Sock& s) {
    if (!s.reading && !s.writing) return;
    boost::system::error_code ec;
    s.sd.cancel(ec);
    ++s.gen;
    s.reading = s.writing = false;
  }

  void arm(const std::shared_ptr<Sock>& s) {
    if (s->closed || s->failed) return;
    if ((s->want & CURL_POLL_IN) && !s->reading) {
      s->reading = true;
      s->sd.async_wait(asio::posix::stream_descriptor::wait_read,
                       [this, alive = std::weak_ptr<char>(life), s,
                        gen = s->gen](const boost::system::error_code& ec) {
                         if (alive.expired() || s->closed || gen != s->gen) return;
                         s->reading = false;
                         on_ready(s, CURL_CSELECT_IN, ec);
                       });
    }
    if ((s->want & CURL_POLL_OUT) && !s->writing) {
      s->writing = true;
      s->sd.async_wait(asio::posix::stream_descriptor::wait_write,
                       [this, alive = std::weak_ptr<char>(life), s,
                        gen = s->gen](const boost::system::error_code& ec) {
                         if (alive.expired() || s->closed || gen != s->gen) return;
                         s->writing = false;
                         on_ready(s, CURL_CSELECT_OUT, ec);
                       });
    }
  }

  void on_ready(const std::shared_ptr<Sock>& s, int flag, const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      s->failed = true;
      flag = CURL_CSELECT_ERR;
    }
    int running = 0;
    curl_multi_socket_action(multi, s->fd, flag, &running);
    process_completions();
    arm(s);  // whatever curl still wants from this descriptor
    pump();
  }

  void on_timeout() {
    int running = 0;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    process_completions();
    pump();
  }

  // Curl changed its interest in a descriptor.
  void on_socket(curl_socket_t fd, int what) {
    auto it = socks.find(fd);
    if (what == CURL_POLL_REMOVE) {
      if (it == socks.end()) return;
      Sock& s = *it->second;
      s.want = 0;
      cancel_waits(s);
      if (!s.owned) {  // curl closes descriptors it made itself; let go of it now
        detach(s);
        socks.erase(it);
      }
      return;
    }
    std::shared_ptr<Sock> s;
    if (it == socks.end()) {
      // A descriptor curl created without the open callback (e.g. a resolver's wakeup pair).
      s = std::make_shared<Sock>(io, fd, false);
      socks.emplace(fd, s);
    } else {
      s = it->second;
    }
    s->want = what;
    if ((s->reading && !(what & CURL_POLL_IN)) || (s->writing && !(what & CURL_POLL_OUT)))
      cancel_waits(*s);
    arm(s);
  }

  void on_timer(long timeout_ms) {
    if (timeout_ms < 0) {
      boost::system::error_code ec;
      timer.cancel(ec);
      return;
    }
    timer.expires_after(std::chrono::milliseconds(timeout_ms));
    timer.async_wait(
        [this, alive = std::weak_ptr<char>(life)](const boost::system::error_code& ec) {
          if (alive.expired() || ec == asio::error::operation_aborted) return;
          on_timeout();
        });
  }

  // A socket we created: track it, replacing any stale entry for a reused fd number.
  void adopt(curl_socket_t fd) {
    if (auto it = socks.find(fd); it != socks.end()) {
      detach(*it->second);
      socks.erase(it);
    }
    auto s = std::make_shared<Sock>(io, fd, true);
    socks.emplace(fd, std::move(s));
  }

  void forget(curl_socket_t fd) {
    if (auto it = socks.find(fd); it != socks.end()) {
      detach(*it->second);
      socks.erase(it);
    }
  }

  // ---- curl callbacks: no exceptions may leave them, no curl_multi_* calls inside ----

  static int socket_cb(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    try {
      static_cast<Impl*>(userp)->on_socket(fd, what);
    } catch (...) {
      // The transfer's own timeout still ends it.
    }
    return 0;
  }

  static int timer_cb(CURLM*, long timeout_ms, void* userp) {
    try {
      static_cast<Impl*>(userp)->on_timer(timeout_ms);
    } catch (...) {
      return -1;
    }
    return 0;
  }

  static curl_socket_t open_cb(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
    auto* hop = static_cast<Hop*>(clientp);
    try {
      if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
      const sockaddr* sa = &address->addr;
      hop->last_endpoint = sockaddr_endpoint(sa);
      const auto& filter = hop->impl->opts.address_filter;
      if (filter && !filter(sa)) {
        if (hop->refused_ip.empty()) hop->refused_ip = sockaddr_ip(sa);
        return CURL_SOCKET_BAD;
      }
      curl_socket_t fd =
          ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
      if (fd == CURL_SOCKET_BAD) return CURL_SOCKET_BAD;
      try {
        hop->impl->adopt(fd);
      } catch (...) {
        ::close(fd);
        throw;
      }
      ++hop->sockets_opened;
      return fd;
    } catch (const std::exception& e) {
      hop->internal_error = std::string("internal error opening a connection: ") + e.what();
    } catch (...) {
      hop->internal_error = "internal error opening a connection";
    }
    return CURL_SOCKET_BAD;
  }

  static int close_cb(void* clientp, curl_socket_t fd) {
    try {
      static_cast<Impl*>(clientp)->forget(fd);
    } catch (...) {
    }
    return ::close(fd);
  }

  static std::size_t header_cb(char* data, std::size_t size, std::size_t n, void* userp) {
    auto* hop = static_cast<Hop*>(userp);
    const std::size_t len = size * n;
    try {
      std::string_view line(data, len);
      // As libcurl tells a status line: "HTTP/" in any case.
      bool status_line = line.size() >= 5 && util::iequals(line.substr(0, 5), "HTTP/");
      if (status_line && (hop->head_done || hop->ex.response_head.empty())) {
        hop->ex.response_head.clear();  // a new response (after 1xx): start over
        hop->head_done = false;
      } else if (hop->head_done) {
        return len;  // trailers are not part of the head
      }
      hop->ex.response_head.append(line);
      if (line == "\r\n" || line == "\n") {
        hop->head_done = true;
        // A length the head gives two ways fails the hop now, not after waiting for a body
        // that one of them says is longer than it is.
        if (auto head = warc::parse_http_head(hop->ex.response_head))
          if (std::string conflict = conflicting_lengths(*head); !conflict.empty()) {
            hop->internal_error = std::move(conflict);
            return 0;
          }
      }
      return len;
    } catch (...) {
      hop->internal_error = "out of memory storing the response head";
      return 0;
    }
  }

  // Sizes the body buffer once from Content-Length (bounded by the cap) instead of growing it.
  static void reserve_body(Hop& hop, std::uint64_t cap) {
    curl_off_t length = -1;
    if (curl_easy_getinfo(hop.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
        length > 0)
      hop.ex.response_body.reserve(static_cast<std::size_t>(
          std::min<std::uint64_t>({static_cast<std::uint64_t>(length), cap, 64ull << 20})));
  }

  // Whether the response's Content-Length says its body is longer than `cap`.
  static bool announced_beyond(Hop& hop, std::uint64_t cap) {
    curl_off_t length = -1;
    return curl_easy_getinfo(hop.easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
           length > 0 && static_cast<std::uint64_t>(length) > cap;
  }

  static std::size_t write_cb(char* data, std::size_t size, std::size_t n, void* userp) {
    auto* hop = static_cast<Hop*>(userp);
    const std::size_t len = size * n;
    try {
      std::string& body = hop->ex.response_body;
      const std::uint64_t cap = hop->job->request.max_body_bytes ? hop->job->request.max_body_bytes
                                                                 : hop->impl->opts.max_body_bytes;
      if (body.empty()) reserve_body(*hop, cap);
      if (body.size() + len > cap) {
        body.append(data, static_cast<std::size_t>(cap - body.size()));
        hop->ex.truncated = true;
        return 0;  // stops the transfer (CURLE_WRITE_ERROR), kept as a success
      }
      body.append(data, len);
      // The limit reached with more announced: cut here, not waiting for a byte that would be
      // thrown away (a server stalling or closing after exactly the limit would fail the fetch).
      if (body.size() == cap && announced_beyond(*hop, cap)) {
        hop->ex.truncated = true;
        return 0;
      }
      return len;
    } catch (...) {
      hop->internal_error = "out of memory storing the response body";
      return 0;
    }
  }

  static int debug_cb(CURL*, curl_infotype type, char* data, std::size_t size, void* userp) {
    auto* hop = static_cast<Hop*>(userp);
    try {
      if (type == CURLINFO_HEADER_OUT && hop->request_sent) {
        // Curl sends the request again on a fresh connection when a reused one turned out to be
        // dead: keep only the attempt that got the response.
        hop->ex.request.clear();
        hop->ex.response_head.clear();
        hop->ex.response_body.clear();
        hop->ex.truncated = false;
        hop->head_done = false;
        hop->request_sent = false;
      }
      if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT) {
        hop->ex.request.append(data, size);
        std::string_view req(hop->ex.request);
        if (type == CURLINFO_DATA_OUT ||
            req.substr(req.size() >= 4 ? req.size() - 4 : 0) == "\r\n\r\n")
          hop->request_sent = true;
      }
    } catch (...) {
      hop->internal_error = "out of memory storing the request";
    }
    return 0;
  }

  asio::io_context& io;
  FetchOptions opts;
  std::string user_agent;
  CURLM* multi = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* resolve = nullptr;
  asio::steady_timer timer;
  std::unordered_map<curl_socket_t, std::shared_ptr<Sock>> socks;
  std::deque<std::unique_ptr<Job>> queue;
  std::unordered_map<Job*, std::unique_ptr<Job>> active;
  bool pump_posted = false;
  // Handlers still queued in the io_context check this before touching the Impl.
  std::shared_ptr<char> life = std::make_shared<char>();
};

Fetcher::Fetcher(boost::asio::io_context& io, FetchOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}

Fetcher::~Fetcher() = default;

void Fetcher::fetch(std::string url, std::function<void(FetchResult)> done) {
  impl_->enqueue(std::move(url), {}, std::move(done));
}

void Fetcher::fetch(std::string url, RequestOptions request,
                    std::function<void(FetchResult)> done) {
  impl_->enqueue(std::move(url), std::move(request), std::move(done));
}

std::size_t Fetcher::in_flight() const {
  return impl_->active.size();
}

std::size_t Fetcher::queued() const {
  return impl_->queue.size();
}

}  // namespace vellum::fetch
