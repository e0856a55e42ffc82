// The systemd notify protocol against a datagram socket standing in for systemd.
#include "daemon/Notifier.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "support/TempDir.h"

namespace vellum::daemon {
namespace {

using namespace std::chrono_literals;

// Sets environment variables for one test and puts the old values back afterwards.
class EnvGuard {
 public:
  EnvGuard() {
    for (const char* name : kNames) {
      const char* v = std::getenv(name);
      saved_.push_back(v ? std::optional<std::string>(v) : std::nullopt);
    }
  }
  ~EnvGuard() {
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
      if (saved_[i])
        ::setenv(kNames[i], saved_[i]->c_str(), 1);
      else
        ::unsetenv(kNames[i]);
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  static constexpr const char* kNames[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"};
  std::vector<std::optional<std::string>> saved_;
};

// Plays systemd's side: a bound datagram socket collecting notifications.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~FakeSystemd() { ::close(fd_); }
  FakeSystemd(const FakeSystemd&) = delete;
  FakeSystemd& operator=(const FakeSystemd&) = delete;

  bool bound() const { return bound_; }
  const std::filesystem::path& path() const { return path_; }

  // Every datagram received so far.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd_, buffer, sizeof buffer, 0)) >= 0)
      out.emplace_back(buffer, static_cast<std::size_t>(n));
    return out;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  bool bound_ = false;
};

std::uint64_t now_monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
}

TEST(Notifier, ReadyThenWatchdogPingsFromTheLoopThenStopping) {
  EnvGuard env;
  test::TempDir dir("notify");
  FakeSystemd systemd(dir / "notify.sock");
  ASSERT_TRUE(systemd.bound());
  ::setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "200000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);

  boost::asio::io_context io;
  Notifier notifier(io);
  EXPECT_TRUE(notifier.under_systemd());
  notifier.ready("serving 3 sources");
  notifier.start_watchdog();
  EXPECT_EQ(notifier.watchdog_interval(), 200ms);
  EXPECT_EQ(systemd.drain(), std::vector<std::string>{"READY=1\nSTATUS=serving 3 sources"})
      << "pings only come from the running loop";

  // Until three pings have come (a loaded machine may delay a tick), at most 5 s.
  std::vector<std::string> got;
  const auto start = std::chrono::steady_clock::now();
  while (std::count(got.begin(), got.end(), "WATCHDOG=1") < 3 &&
         std::chrono::steady_clock::now() - start < 5s) {
    io.run_for(100ms);
    for (auto& m : systemd.drain()) got.push_back(std::move(m));
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  notifier.stopping();
  for (auto& m : systemd.drain()) got.push_back(std::move(m));
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back(), "STOPPING=1");
  got.pop_back();
  auto pings = std::count(got.begin(), got.end(), "WATCHDOG=1");
  EXPECT_EQ(static_cast<std::size_t>(pings), got.size()) << "nothing but pings in between";
  EXPECT_GE(pings, 3) << "one about every 100 ms";
  // Not more often than every 100 ms (one tick's slack).
  EXPECT_LE(pings, elapsed / 100ms + 1);
  EXPECT_NE(std::getenv("NOTIFY_SOCKET"), nullptr) << "the environment is left in place";
}

TEST(Notifier, StopWatchdogEndsThePings) {
  EnvGuard env;
  test::TempDir dir("notify");
  FakeSystemd systemd(dir / "notify.sock");
  ASSERT_TRUE(systemd.bound());
  ::setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "100000", 1);
  ::unsetenv("WATCHDOG_PID");

  boost::asio::io_context io;
  Notifier notifier(io);
  notifier.start_watchdog();
  io.run_for(200ms);
  EXPECT_FALSE(systemd.drain().empty());
  notifier.stop_watchdog();
  EXPECT_EQ(notifier.watchdog_interval(), 0us);
  io.restart();
  io.run_for(200ms);  // returns at once: no timer is left
  EXPECT_TRUE(systemd.drain().empty());
}

TEST(Notifier, ReloadingCarriesTheMonotonicClockAndStatusIsOneLine) {
  EnvGuard env;
  test::TempDir dir("notify");
  FakeSystemd systemd(dir / "notify.sock");
  ASSERT_TRUE(systemd.bound());
  ::setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);

  boost::asio::io_context io;
  Notifier notifier(io);
  const auto before = now_monotonic_usec();
  notifier.reloading();
  const auto after = now_monotonic_usec();
  notifier.status("line one\nline two");
  notifier.ready();
  auto got = systemd.drain();
  ASSERT_EQ(got.size(), 3u);
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_EQ(got[0].rfind(prefix, 0), 0u) << got[0];
  const auto usec = std::stoull(got[0].substr(prefix.size()));
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
  EXPECT_EQ(got[1], "STATUS=line one line two");
  EXPECT_EQ(got[2], "READY=1");
}

TEST(Notifier, NoWatchdogWhenItIsMeantForAnotherProcess) {
  EnvGuard env;
  test::TempDir dir("notify");
  FakeSystemd systemd(dir / "notify.sock");
  ASSERT_TRUE(systemd.bound());
  ::setenv("NOTIFY_SOCKET", systemd.path().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "100000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);

  boost::asio::io_context io;
  Notifier notifier(io);
  notifier.start_watchdog();
  EXPECT_EQ(notifier.watchdog_interval(), 0us);
  io.run_for(300ms);
  EXPECT_TRUE(systemd.drain().empty());
}

TEST(Notifier, DoesNothingOutsideSystemd) {
  EnvGuard env;
  test::TempDir dir("notify");
  FakeSystemd systemd(dir / "notify.sock");  // exists, but nobody is told about it
  ASSERT_TRUE(systemd.bound());
  ::unsetenv("NOTIFY_SOCKET");
  ::setenv("WATCHDOG_USEC", "100000", 1);
  ::unsetenv("WATCHDOG_PID");

  boost::asio::io_context io;
  Notifier notifier(io);
  EXPECT_FALSE(notifier.under_systemd());
  notifier.ready("serving");
  notifier.reloading();
  notifier.status("x");
  notifier.start_watchdog();
  EXPECT_EQ(notifier.watchdog_interval(), 0us);
  const auto t0 = std::chrono::steady_clock::now();
  io.run_for(300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms) << "no timer was armed";
  notifier.stopping();
  EXPECT_TRUE(systemd.drain().empty());
}

}  // namespace
}  // namespace vellum::daemon
