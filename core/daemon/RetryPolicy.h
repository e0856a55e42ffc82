// What to do after a fetch: retry later or give up, how long to wait, and whether the whole
// host should wait too. Exponential backoff, with the server's Retry-After honoured.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vellum::daemon {

struct RetryLimits {
  int retries = 5;  // retries after the first try before giving up (config fetch.retries)
  std::chrono::milliseconds initial{30'000};             // first retry delay; doubles each time
  std::chrono::milliseconds max{std::chrono::hours{6}};  // ceiling, Retry-After included
};

struct RetryDecision {
  bool retry = false;
  // How long to wait before the retry and, with defer_host, before anything else goes to the
  // host. Set whenever the outcome was a retryable failure, even once retries are used up.
  std::chrono::milliseconds delay{0};
  bool defer_host = false;  // 429 and 503: the server asked the whole host to slow down
  // One line for the log: "HTTP 503", "no response",
  // "gave up after 5 retries: HTTP 503", "HTTP 404 is not retried"; empty on success.
  std::string reason;
};

// Decides after a fetch. `http_status` 0 means no response (timeout, reset, DNS failure...);
// `retry_after` is the Retry-After header value or empty; `attempt` is 0 for the first try.
// Retries 429, 500, 502, 503, 504 and no response; nothing else. The delay is
// initial * 2^attempt, lengthened (never shortened) to what Retry-After asks, capped at max.
// A Retry-After that is negative, malformed or already past is ignored.
RetryDecision decide(int http_status, const std::string& retry_after, int attempt,
                     const RetryLimits& limits, std::chrono::system_clock::time_point now);

// Parses an HTTP date in any of the three forms HTTP allows: IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
// ("Sun Nov  6 08:49:37 1994"). Surrounding spaces are allowed, anything else extra is not.
// A two-digit RFC 850 year more than 50 years ahead of the current year is read as the past one.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

}  // namespace vellum::daemon
