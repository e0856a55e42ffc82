#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "daemon/RetryPolicy.h"

using namespace vellum::daemon;
using namespace std::chrono_literals;
using std::chrono::milliseconds;
using SysTime = std::chrono::system_clock::time_point;

namespace {

SysTime at(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

// "Wed, 08 Apr 2026 16:09:31 GMT"
const SysTime kNow = at(2026, 4, 8, 16, 9, 31);

}  // namespace

TEST(RetryPolicy, DecisionTable) {
  struct Case {
    int status;
    std::string retry_after;
    int attempt;
    bool retry;
    milliseconds delay;
    bool defer_host;
    std::string reason;
  };
  const RetryLimits limits;  // 5 retries, 30 s doubling, 6 h ceiling
  const std::vector<Case> cases = {
      // Successes and redirects are final and say nothing.
      {200, "", 0, false, 0ms, false, ""},
      {304, "", 0, false, 0ms, false, ""},
      {301, "120", 0, false, 0ms, false, ""},
      // Client errors other than 429 will not change by asking again.
      {404, "", 0, false, 0ms, false, "HTTP 404 is not retried"},
      {403, "", 0, false, 0ms, false, "HTTP 403 is not retried"},
      {410, "60", 2, false, 0ms, false, "HTTP 410 is not retried"},
      {501, "", 0, false, 0ms, false, "HTTP 501 is not retried"},
      // Retryable failures back off exponentially from the initial delay.
      {0, "", 0, true, 30s, false, "no response"},
      {500, "", 1, true, 60s, false, "HTTP 500"},
      {502, "", 2, true, 120s, false, "HTTP 502"},
      {504, "", 3, true, 240s, false, "HTTP 504"},
      // 429 and 503 hold back the whole host.
      {429, "", 0, true, 30s, true, "HTTP 429"},
      {503, "", 4, true, 480s, true, "HTTP 503"},
      // Retry-After in seconds lengthens the wait; a shorter one does not cut the backoff.
      {429, "120", 0, true, 120s, true, "HTTP 429"},
      {503, " 600 ", 1, true, 600s, true, "HTTP 503"},
      {503, "10", 2, true, 120s, true, "HTTP 503"},
      // Retry-After as an HTTP date: the time left until then.
      {503, "Wed, 08 Apr 2026 16:19:31 GMT", 0, true, 600s, true, "HTTP 503"},
      {429, "Wednesday, 08-Apr-26 17:09:31 GMT", 0, true, 1h, true, "HTTP 429"},
      {429, "Wed Apr  8 16:14:31 2026", 0, true, 300s, true, "HTTP 429"},
      // Beyond the ceiling: the ceiling.
      {503, "86400", 0, true, 6h, true, "HTTP 503"},
      {503, "99999999999999999999999", 0, true, 6h, true, "HTTP 503"},
      {429, "Fri, 01 Jan 2027 00:00:00 GMT", 0, true, 6h, true, "HTTP 429"},
      // Negative, malformed or past values are ignored.
      {503, "-30", 0, true, 30s, true, "HTTP 503"},
      {503, "soon", 1, true, 60s, true, "HTTP 503"},
      {503, "1.5", 0, true, 30s, true, "HTTP 503"},
      {503, "Mon, 01 Jan 2024 00:00:00 GMT", 0, true, 30s, true, "HTTP 503"},
      // The last retry allowed, then giving up (the delay still says how long the host asked
      // to be left alone).
      {503, "", 4, true, 480s, true, "HTTP 503"},
      {503, "", 5, false, 960s, true, "gave up after 5 retries: HTTP 503"},
      {0, "", 7, false, 3840s, false, "gave up after 5 retries: no response"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("status " + std::to_string(c.status) + " Retry-After '" + c.retry_after +
                 "' attempt " + std::to_string(c.attempt));
    RetryDecision d = decide(c.status, c.retry_after, c.attempt, limits, kNow);
    EXPECT_EQ(d.retry, c.retry);
    EXPECT_EQ(d.delay.count(), c.delay.count());
    EXPECT_EQ(d.defer_host, c.defer_host);
    EXPECT_EQ(d.reason, c.reason);
  }
}

TEST(RetryPolicy, BackoffStopsAtTheCeiling) {
  RetryLimits limits;
  limits.retries = 100;
  EXPECT_EQ(decide(500, "", 10, limits, kNow).delay, 6h);  // 30 s * 1024 > 6 h
  EXPECT_EQ(decide(500, "", 90, limits, kNow).delay, 6h);  // no overflow on the way
  limits.max = 100s;
  EXPECT_EQ(decide(500, "", 1, limits, kNow).delay, 60s);
  EXPECT_EQ(decide(500, "", 2, limits, kNow).delay, 100s);
}

TEST(RetryPolicy, RetriesCountFromTheConfiguredLimit) {
  RetryLimits limits;
  limits.retries = 1;
  EXPECT_TRUE(decide(502, "", 0, limits, kNow).retry);
  EXPECT_EQ(decide(502, "", 1, limits, kNow).reason, "gave up after 1 retry: HTTP 502");
  limits.retries = 0;
  RetryDecision d = decide(502, "", 0, limits, kNow);
  EXPECT_FALSE(d.retry);
  EXPECT_EQ(d.reason, "gave up without retrying: HTTP 502");
}

TEST(HttpDate, ParsesTheThreeForms) {
  const SysTime expected = at(1994, 11, 6, 8, 49, 37);
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), expected);
  EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), expected);
  EXPECT_EQ(parse_http_date("Thu, 31 Dec 2026 23:59:59 GMT"), at(2026, 12, 31, 23, 59, 59));
  EXPECT_EQ(parse_http_date("Thu Dec 31 23:59:59 2026"), at(2026, 12, 31, 23, 59, 59));
  // Two-digit years: this century unless that is more than 50 years ahead.
  EXPECT_EQ(parse_http_date("Wednesday, 08-Apr-26 16:09:31 GMT"), kNow);
}

TEST(HttpDate, RejectsWhatIsNotAnHttpDate) {
  for (const char* text : {
           "", "tomorrow", "2026-04-08T16:09:31Z",
           "Sun, 06 Nov 1994 08:49:37",        // no zone
           "Sun, 06 Nov 1994 08:49:37 CET",    // not GMT
           "Sun, 06 Foo 1994 08:49:37 GMT",    // no such month
           "Sun, 31 Feb 2026 08:49:37 GMT",    // no such day
           "Sun, 06 Nov 1994 25:49:37 GMT",    // no such hour
           "Sun, 6 Nov 1994 08:49:37 GMT",     // day not two digits
           "Sun, 06 Nov 1994 08:49:37 GMT x",  // trailing text
           "Xyz, 06 Nov 1994 08:49:37 GMT",    // no such weekday
           "Sun, 06-Nov-94 08:49:37 GMT",      // RFC 850 needs the full weekday name
           "Sun Nov 6 08:49:37 1994",          // asctime pads the day to two places
       }) {
    EXPECT_FALSE(parse_http_date(text)) << text;
  }
}
