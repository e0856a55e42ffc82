// Stepping an io_context from a test while a client runs on another thread.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <thread>

namespace vellum::test {

// Runs the loop until `f` is ready (a client on another thread finished), failing the test if
// that takes longer than `failsafe`; the client's own timeouts make f.get() return anyway.
template <class T>
T pump(boost::asio::io_context& io, std::future<T>& f,
       std::chrono::milliseconds failsafe = std::chrono::seconds(15)) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + failsafe;
  while (f.wait_for(0ms) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "failsafe: the client did not finish in time";
      break;
    }
    io.run_for(5ms);
    if (io.stopped()) {
      io.restart();
      std::this_thread::sleep_for(1ms);
    }
  }
  return f.get();
}

}  // namespace vellum::test
