// What the parent and a plugin worker process (vellum-extract-worker) say to each other over
// their socket: frames of a JSON header and a raw body, and the SDK types as JSON.
//
// A frame is a 4-byte header length, the header (a JSON object whose "type" names the
// message), an 8-byte body length and the body (a page's decoded HTML; empty for most
// messages). Lengths are in this machine's byte order: both ends are the same build.
//
//   parent -> worker  {"type":"start", "dirs":[...], "memory_limit":N}
//   worker -> parent  {"type":"config", "name":P}            parent answers {"type":"config",
//                                                             "config":{...}} (plugin P's table)
//   worker -> parent  {"type":"log", "level":L, "logger":G, "message":M}   (at any time)
//   worker -> parent  {"type":"ready", "plugins":[info...], "refused":[line...]}
//   parent -> worker  {"type":"call", "call":"extract"|"find_links", "plugin":P, "page":{...}}
//                     with the page's decoded HTML as body
//   worker -> parent  {"type":"article", "article":{...}} | {"type":"declined"} |
//                     {"type":"links", "links":[...]} |
//                     {"type":"error", "message":M, "out_of_memory":bool}
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "plugins/PluginHost.h"
#include "vellum/article.h"
#include "vellum/page.h"

namespace vellum::plugins::wire {

inline constexpr std::uint32_t kMaxHeaderBytes = 64u << 20;
inline constexpr std::uint64_t kMaxBodyBytes = 1ull << 30;

struct Frame {
  nlohmann::json header;
  std::string body;
};

enum class IoStatus { ok, eof, timeout, error };

struct IoResult {
  IoStatus status = IoStatus::ok;
  std::string error;  // IoStatus::error: what went wrong
};

using Deadline = std::optional<std::chrono::steady_clock::time_point>;  // nullopt: none

// Writes one frame; never raises SIGPIPE (a peer gone is IoStatus::eof).
IoResult write_frame(int fd, const Frame& frame, Deadline deadline = std::nullopt);
// Reads one frame; eof when the peer closed the socket before a frame began or within it.
IoResult read_frame(int fd, Frame& frame, Deadline deadline = std::nullopt);

// The SDK's Article and back, every field kept.
nlohmann::json article_to_json(const Article& article);
Article article_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception

nlohmann::json info_to_json(const PluginInfo& info);
PluginInfo info_from_json(const nlohmann::json& j);

// A plugin's log message: the worker's {"type":"log", ...} header, and the parent passing one on
// to `log` (an unknown level is taken as debug).
nlohmann::json log_to_json(LogLevel level, const std::string& logger, const std::string& message);
void forward_log(const nlohmann::json& header, const HostOptions& options);

// A page's capture fields (not its HTML, which travels as the body, nor what is parsed from
// it, which the worker rebuilds with the same PageBuilder).
nlohmann::json page_fields_to_json(const Page& page);
// The page from those fields and its decoded HTML, parsed again (extract::build_page_from_decoded).
Page page_from_wire(const nlohmann::json& fields, std::string html);

}  // namespace vellum::plugins::wire
