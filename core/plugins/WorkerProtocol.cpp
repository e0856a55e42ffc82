#include "plugins/WorkerProtocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "extract/PageBuilder.h"
#include "util/Json.h"

namespace vellum::plugins::wire {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Waits until `fd` is ready for `events`; timeout when the deadline passes first.
IoResult wait_ready(int fd, short events, const Deadline& deadline) {
  for (;;) {
    int ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return {IoStatus::timeout, {}};
      ms = static_cast<int>(std::min<long long>(left, 60'000));
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {IoStatus::error, std::string("poll: ") + std::strerror(errno)};
    }
    if (n > 0) return {};
  }
}

IoResult write_all(int fd, const char* data, std::size_t size, const Deadline& deadline) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      auto r = wait_ready(fd, POLLOUT, deadline);
      if (r.status != IoStatus::ok) return r;
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) return {IoStatus::eof, {}};
    return {IoStatus::error, std::string("send: ") + std::strerror(errno)};
  }
  return {};
}

// `started`: whether part of the frame was read already (then eof is a truncated frame, still
// reported as eof: the peer went away).
IoResult read_all(int fd, char* data, std::size_t size, const Deadline& deadline) {
  while (size > 0) {
    ssize_t n = ::recv(fd, data, size, MSG_DONTWAIT);
    if (n > 0) {
      data += n;
      size -= static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) return {IoStatus::eof, {}};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      auto r = wait_ready(fd, POLLIN, deadline);
      if (r.status != IoStatus::ok) return r;
      continue;
    }
    if (errno == ECONNRESET) return {IoStatus::eof, {}};
    return {IoStatus::error, std::string("recv: ") + std::strerror(errno)};
  }
  return {};
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_array())
    for (const auto& v : *it) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace

IoResult write_frame(int fd, const Frame& frame, Deadline deadline) {
  std::string header = frame.header.dump(-1, ' ', false, json::error_handler_t::replace);
  if (header.size() > kMaxHeaderBytes || frame.body.size() > kMaxBodyBytes)
    return {IoStatus::error, "found a frame of " + std::to_string(header.size()) + " + " +
                                 std::to_string(frame.body.size()) + " bytes, expected at most " +
                                 std::to_string(kMaxHeaderBytes) + " + " +
                                 std::to_string(kMaxBodyBytes)};
  std::uint32_t hlen = static_cast<std::uint32_t>(header.size());
  std::uint64_t blen = frame.body.size();
  std::string out;
  out.reserve(sizeof hlen + header.size() + sizeof blen);
  out.append(reinterpret_cast<const char*>(&hlen), sizeof hlen);
  out += header;
  out.append(reinterpret_cast<const char*>(&blen), sizeof blen);
  if (auto r = write_all(fd, out.data(), out.size(), deadline); r.status != IoStatus::ok) return r;
  return write_all(fd, frame.body.data(), frame.body.size(), deadline);
}

IoResult read_frame(int fd, Frame& frame, Deadline deadline) {
  std::uint32_t hlen = 0;
  if (auto r = read_all(fd, reinterpret_cast<char*>(&hlen), sizeof hlen, deadline);
      r.status != IoStatus::ok)
    return r;
  if (hlen > kMaxHeaderBytes)
    return {IoStatus::error, "found a frame header of " + std::to_string(hlen) +
                                 " bytes, expected at most " + std::to_string(kMaxHeaderBytes)};
  std::string header(hlen, '\0');
  if (auto r = read_all(fd, header.data(), hlen, deadline); r.status != IoStatus::ok) return r;
  std::uint64_t blen = 0;
  if (auto r = read_all(fd, reinterpret_cast<char*>(&blen), sizeof blen, deadline);
      r.status != IoStatus::ok)
    return r;
  if (blen > kMaxBodyBytes)
    return {IoStatus::error, "found a frame body of " + std::to_string(blen) +
                                 " bytes, expected at most " + std::to_string(kMaxBodyBytes)};
  frame.body.assign(blen, '\0');
  if (auto r = read_all(fd, frame.body.data(), blen, deadline); r.status != IoStatus::ok) return r;
  frame.header = util::parse_json(header);
  if (!frame.header.is_object())
    return {IoStatus::error, "found a frame header that is not a JSON object, expected one"};
  return {};
}

json log_to_json(LogLevel level, const std::string& logger, const std::string& message) {
  const char* name = level == LogLevel::error  ? "error"
                     : level == LogLevel::warn ? "warn"
                     : level == LogLevel::info ? "info"
                                               : "debug";
  return {{"type", "log"}, {"level", name}, {"logger", logger}, {"message", message}};
}

void forward_log(const json& header, const HostOptions& options) {
  if (!options.log) return;
  const std::string level = header.value("level", "");
  options.log(level == "error"  ? LogLevel::error
              : level == "warn" ? LogLevel::warn
              : level == "info" ? LogLevel::info
                                : LogLevel::debug,
              header.value("logger", ""), header.value("message", ""));
}

json article_to_json(const Article& a) {
  json sections = json::array();
  for (const auto& s : a.sections)
    sections.push_back({{"heading", s.heading}, {"paragraphs", s.paragraphs}});
  json images = json::array();
  for (const auto& i : a.images)
    images.push_back({{"url", i.url}, {"caption", i.caption}, {"credit", i.credit}});
  return {{"title", a.title},
          {"authors", a.authors},
          {"published", a.published},
          {"modified", a.modified},
          {"language", a.language},
          {"canonical_url", a.canonical_url},
          {"lead", a.lead},
          {"key_points", a.key_points},
          {"sections", std::move(sections)},
          {"images", std::move(images)},
          {"tags", a.tags}};
}

Article article_from_json(const json& j) {
  Article a;
  a.title = j.value("title", "");
  a.authors = strings(j, "authors");
  a.published = j.value("published", "");
  a.modified = j.value("modified", "");
  a.language = j.value("language", "");
  a.canonical_url = j.value("canonical_url", "");
  a.lead = j.value("lead", "");
  a.key_points = strings(j, "key_points");
  if (auto it = j.find("sections"); it != j.end() && it->is_array())
    for (const auto& s : *it)
      a.sections.push_back({s.value("heading", ""), strings(s, "paragraphs")});
  if (auto it = j.find("images"); it != j.end() && it->is_array())
    for (const auto& i : *it)
      a.images.push_back({i.value("url", ""), i.value("caption", ""), i.value("credit", "")});
  a.tags = strings(j, "tags");
  return a;
}

json info_to_json(const PluginInfo& i) {
  return {{"name", i.name},
          {"version", i.version},
          {"file", i.file.string()},
          {"hosts", i.hosts},
          {"url_patterns", i.url_patterns}};
}

PluginInfo info_from_json(const json& j) {
  return {j.at("name").get<std::string>(), j.at("version").get<std::string>(),
          j.at("file").get<std::string>(), strings(j, "hosts"), strings(j, "url_patterns")};
}

json page_fields_to_json(const Page& page) {
  json headers = json::array();
  for (const auto& [k, v] : page.headers) headers.push_back(json::array({k, v}));
  return {{"url", page.url},
          {"final_url", page.final_url},
          {"status", page.status},
          {"headers", std::move(headers)}};
}

Page page_from_wire(const json& fields, std::string html) {
  Page page;
  page.url = fields.value("url", "");
  page.final_url = fields.value("final_url", "");
  page.status = fields.value("status", 0);
  if (auto it = fields.find("headers"); it != fields.end() && it->is_array())
    for (const auto& h : *it)
      page.headers.emplace_back(h.at(0).get<std::string>(), h.at(1).get<std::string>());
  page.html = std::move(html);
  return extract::build_page_from_decoded(std::move(page));
}

}  // namespace vellum::plugins::wire
