#include "plugins/ExtractWorker.h"

#include <sys/resource.h>

#include <cstdio>
#include <map>
#include <new>

#include "extract/ArticleJson.h"
#include "plugins/PluginHost.h"
#include "plugins/WorkerProtocol.h"

namespace vellum::plugins {

namespace {

using nlohmann::json;

bool send(int fd, json header, std::string body = {}) {
  return wire::write_frame(fd, {std::move(header), std::move(body)}).status == wire::IoStatus::ok;
}

void fail(const std::string& what) {
  std::fprintf(stderr, "vellum-extract-worker: %s\n", what.c_str());
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer reserves terabytes of address space for its shadow memory and maps more as it
// goes: an address-space limit would kill the worker at its next allocation. Sanitizer builds
// run without the limit; the normal build enforces and tests it.
constexpr bool kCanLimitAddressSpace = false;
#else
constexpr bool kCanLimitAddressSpace = true;
#endif

int run_extract_worker(int fd) {
  wire::Frame start;
  if (auto r = wire::read_frame(fd, start); r.status != wire::IoStatus::ok) {
    if (r.status != wire::IoStatus::eof) fail("cannot read the start message: " + r.error);
    return 1;
  }
  if (start.header.value("type", "") != "start") {
    fail("found a first message of type '" + start.header.value("type", "") +
         "', expected 'start'");
    return 1;
  }
  if (auto limit = start.header.value("memory_limit", std::uint64_t{0});
      limit > 0 && kCanLimitAddressSpace) {
    rlimit rl{limit, limit};
    if (::setrlimit(RLIMIT_AS, &rl) != 0) {
      fail("cannot limit the address space to " + std::to_string(limit) + " bytes");
      return 1;
    }
  }

  HostOptions options;
  for (const auto& d : start.header.value("dirs", json::array()))
    options.dirs.emplace_back(d.get<std::string>());
  options.log = [fd](LogLevel level, const std::string& logger, const std::string& message) {
    send(fd, wire::log_to_json(level, logger, message));
  };
  // A plugin's configuration table comes from the parent, which holds the configuration.
  options.config = [fd](const std::string& name) -> json {
    if (!send(fd, {{"type", "config"}, {"name", name}})) return json::object();
    wire::Frame reply;
    if (wire::read_frame(fd, reply).status != wire::IoStatus::ok) return json::object();
    return reply.header.value("config", json::object());
  };
  PluginHost host(options);
  auto refused = host.load_all();
  json infos = json::array();
  for (const auto& p : host.plugins()) infos.push_back(wire::info_to_json(p->info()));
  if (!send(fd, {{"type", "ready"}, {"plugins", std::move(infos)}, {"refused", refused}})) return 1;

  for (;;) {
    wire::Frame call;
    auto r = wire::read_frame(fd, call);
    if (r.status == wire::IoStatus::eof) return 0;  // the parent is done with this worker
    if (r.status != wire::IoStatus::ok) {
      fail("cannot read a call: " + r.error);
      return 1;
    }
    std::string name = call.header.value("plugin", "");
    std::string what = call.header.value("call", "");
    auto plugin = host.by_name(name);
    json reply;
    bool retire = false;
    if (!plugin) {
      reply = {{"type", "error"},
               {"message", "plugin '" + name + "' is no longer in the plugin directories"}};
    } else {
      try {
        Page page =
            wire::page_from_wire(call.header.value("page", json::object()), std::move(call.body));
        if (what == "find_links") {
          reply = {{"type", "links"}, {"links", plugin->find_links(page)}};
        } else if (auto article = plugin->extract(page)) {
          // Tidied as the host tidies an article made in its own process (bytes that are not
          // UTF-8 replaced the same way), so that isolation does not change what is stored.
          extract::tidy_plugin_article(*article);
          reply = {{"type", "article"}, {"article", wire::article_to_json(*article)}};
        } else {
          reply = {{"type", "declined"}};
        }
      } catch (const PluginMemoryError& e) {
        // The heap may be left in any state: answer, then leave for a fresh worker.
        reply = {{"type", "error"}, {"message", e.what()}, {"out_of_memory", true}};
        retire = true;
      } catch (const std::bad_alloc&) {
        reply = {{"type", "error"},
                 {"message", "plugin '" + name + "' (" + plugin->info().file.string() +
                                 ") ran out of memory on this page"},
                 {"out_of_memory", true}};
        retire = true;
      } catch (const std::exception& e) {
        reply = {{"type", "error"}, {"message", e.what()}};
      }
    }
    if (!send(fd, std::move(reply))) return 1;
    if (retire) return 0;
  }
}

}  // namespace vellum::plugins
