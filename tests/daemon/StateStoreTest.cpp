// StateStore: what a URL's failed tries count towards, on a real SQLite file.
#include <gtest/gtest.h>

#include "daemon/StateStore.h"
#include "support/TempDir.h"

namespace vellum::daemon {
namespace {

TEST(StateStore, AVisitThatFailedForGoodLeavesTheNextOneAllItsTries) {
  test::TempDir dir("state");
  StateStore st(dir / "state.sqlite3");
  ASSERT_TRUE(st.add_url("https://a.example/x", "f", 1000, 1000, ""));
  st.mark_failed("https://a.example/x", "HTTP 503", 2000);
  st.mark_failed("https://a.example/x", "HTTP 503", 3000);
  EXPECT_EQ(st.url("https://a.example/x")->attempts, 2);

  st.mark_given_up("https://a.example/x", "HTTP 503; gave up", 90'000);
  auto u = st.url("https://a.example/x");
  EXPECT_EQ(u->attempts, 0) << "the next visit would give up at its first failure";
  EXPECT_EQ(u->next_visit, 90'000);
  EXPECT_EQ(u->last_error, "HTTP 503; gave up");

  // A visit asked for by hand (vellum enqueue) starts with all its tries too.
  st.mark_failed("https://a.example/x", "HTTP 503", 95'000);
  st.set_next_visit("https://a.example/x", 96'000);
  EXPECT_EQ(st.url("https://a.example/x")->attempts, 0);
  EXPECT_EQ(st.url("https://a.example/x")->next_visit, 96'000);
}

}  // namespace
}  // namespace vellum::daemon
