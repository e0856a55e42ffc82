#include "daemon/Notifier.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace vellum::daemon {

namespace {

using boost::system::error_code;
using Clock = std::chrono::steady_clock;

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1'000u;
}

bool notify_socket_set() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket != nullptr && *socket != '\0';
}

void notify(const std::string& message) {
  if (!notify_socket_set()) return;
  // unset_environment = 0: the daemon notifies many times over its life.
  int rc = ::sd_notify(0, message.c_str());
  if (rc < 0)
    spdlog::warn("systemd notification '{}' failed: {}", message.substr(0, message.find('\n')),
                 std::strerror(-rc));
}

}  // namespace

// The ping timer. Its handler holds it weakly, so stop_watchdog() (which drops the only strong
// reference) ends the chain even when a tick is already queued.
struct Notifier::Watchdog : std::enable_shared_from_this<Notifier::Watchdog> {
  Watchdog(boost::asio::io_context& io, std::chrono::microseconds interval)
      : timer(io),
        interval(interval),
        half(std::chrono::duration_cast<Clock::duration>(interval / 2)),
        next(Clock::now() + half) {}

  void arm() {
    timer.expires_at(next);
    timer.async_wait([weak = weak_from_this()](const error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      notify("WATCHDOG=1");
      self->next += self->half;
      if (self->next <= Clock::now()) self->next = Clock::now() + self->half;  // loop was late
      self->arm();
    });
  }

  boost::asio::steady_timer timer;
  std::chrono::microseconds interval;
  Clock::duration half;
  Clock::time_point next;
};

Notifier::Notifier(boost::asio::io_context& io) : io_(io) {}

Notifier::~Notifier() {
  stop_watchdog();
}

bool Notifier::under_systemd() const {
  return notify_socket_set();
}

void Notifier::send(const std::string& message) const {
  notify(message);
}

void Notifier::ready(const std::string& status) {
  std::string message = "READY=1";
  if (!status.empty()) message += "\nSTATUS=" + one_line(status);
  send(message);
}

void Notifier::reloading() {
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
}

void Notifier::stopping() {
  send("STOPPING=1");
}

void Notifier::status(const std::string& text) {
  send("STATUS=" + one_line(text));
}

void Notifier::extend_start(const std::string& status, std::chrono::microseconds by) {
  send("EXTEND_TIMEOUT_USEC=" + std::to_string(by.count()) + "\nSTATUS=" + one_line(status));
}

void Notifier::start_watchdog() {
  if (watchdog_ || !under_systemd()) return;
  std::uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) is this process.
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  watchdog_ = std::make_shared<Watchdog>(io_, std::chrono::microseconds(usec));
  spdlog::debug("systemd watchdog: pinging every {} ms", usec / 2000);
  watchdog_->arm();
}

void Notifier::stop_watchdog() {
  if (!watchdog_) return;
  watchdog_->timer.cancel();
  watchdog_.reset();
}

std::chrono::microseconds Notifier::watchdog_interval() const {
  return watchdog_ ? watchdog_->interval : std::chrono::microseconds{0};
}

}  // namespace vellum::daemon
