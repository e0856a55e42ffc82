// The CLI's side of the control socket (see ControlServer): one request, one response, blocking,
// with a deadline. Every failure becomes a ControlError whose message tells the user what to do.
#pragma once

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace vellum::daemon {

class ControlError : public std::runtime_error {
 public:
  enum class Kind {
    kNoDaemon,          // nothing at the socket path
    kPermissionDenied,  // the socket (or its directory) is not open to this user
    kStale,             // a socket file nobody listens on
    kTimeout,           // no complete response before the deadline
    kMalformedReply,    // the response was not a JSON object on one line
    kFailed,            // any other system error
  };
  ControlError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Connects to `socket`, sends `request` (a JSON object) as one line and returns the response
// object, whether it says "ok": true or false. `timeout` bounds the whole exchange. Throws
// ControlError.
nlohmann::json control_request(const std::filesystem::path& socket, const nlohmann::json& request,
                               std::chrono::milliseconds timeout);

}  // namespace vellum::daemon
