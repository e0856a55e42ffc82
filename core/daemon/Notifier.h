// The systemd notify protocol (Type=notify-reload or Type=notify, WatchdogSec=): readiness,
// reload and stop announcements, a status line, and watchdog pings. Everything is a no-op when
// the daemon was not started by systemd (NOTIFY_SOCKET unset).
//
// Watchdog pings are sent by a timer on the daemon's own event loop, so a loop that hangs stops
// pinging and systemd restarts the daemon.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

namespace vellum::daemon {

class Notifier {
 public:
  explicit Notifier(boost::asio::io_context& io);
  ~Notifier();  // stops the watchdog timer
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // "READY=1" (and "STATUS=..." when `status` is not empty): the daemon is serving. Also ends
  // a reload begun with reloading().
  void ready(const std::string& status = {});
  // "RELOADING=1" with MONOTONIC_USEC (required by Type=notify-reload); call ready() when done.
  void reloading();
  // "STOPPING=1": the daemon is draining. Watchdog pings go on until stop_watchdog().
  void stopping();
  // "STATUS=...", shown by `systemctl status`. Newlines become spaces.
  void status(const std::string& text);
  // "EXTEND_TIMEOUT_USEC=..." with "STATUS=...": start-up is making progress on a long step
  // (upgrading the index, indexing WARC files), so systemd waits `by` longer from now instead
  // of killing it at TimeoutStartSec. Sent again before `by` passes for as long as it lasts.
  void extend_start(const std::string& status, std::chrono::microseconds by);

  // When systemd asked for watchdog pings (WATCHDOG_USEC, for this process), sends "WATCHDOG=1"
  // every half interval from the io_context's thread. Does nothing otherwise.
  void start_watchdog();
  void stop_watchdog();
  // The interval systemd asked for; zero when the watchdog is off or not started.
  std::chrono::microseconds watchdog_interval() const;

  bool under_systemd() const;  // NOTIFY_SOCKET is set

 private:
  struct Watchdog;
  void send(const std::string& message) const;

  boost::asio::io_context& io_;
  std::shared_ptr<Watchdog> watchdog_;  // the timer's handler holds it weakly
};

}  // namespace vellum::daemon
