// The plugin SDK entry point. A plugin is a shared library built against these headers that
// exports one symbol, `vellum_plugin_v1`, returning a PluginDescriptor:
//
//   #include <vellum/plugin.h>
//   class HelloExtractor : public vellum::Extractor { ... };
//   VELLUM_PLUGIN("hello", "1.0.0", VELLUM_HOSTS("hello.example"), VELLUM_PATTERNS(),
//                 HelloExtractor)
//
// The host reads the descriptor before calling anything else and refuses a library whose
// ABI version, descriptor size or build tag differ from its own.
#pragma once

#include <boost/config.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "vellum/article.h"
#include "vellum/page.h"

#define VELLUM_SDK_VERSION "1.0.0"

// Compiler, standard library and SDK version: C++ objects cross the plugin boundary, so a
// plugin must be built with what the host was built with.
#define VELLUM_STRINGIFY2(x) #x
#define VELLUM_STRINGIFY(x) VELLUM_STRINGIFY2(x)
#if defined(__clang__)
#define VELLUM_COMPILER "clang-" VELLUM_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define VELLUM_COMPILER "gcc-" VELLUM_STRINGIFY(__GNUC__)
#else
#define VELLUM_COMPILER "unknown"
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI
#define VELLUM_STDLIB "libstdc++-cxx11"
#elif defined(_LIBCPP_VERSION)
#define VELLUM_STDLIB "libc++"
#else
#define VELLUM_STDLIB "libstdc++-old"
#endif
#define VELLUM_BUILD_TAG VELLUM_COMPILER "/" VELLUM_STDLIB "/sdk-" VELLUM_SDK_VERSION

namespace vellum {

inline constexpr std::uint32_t kPluginAbiVersion = 1;

enum class LogLevel { debug, info, warn, error };

// What the host lends a plugin. Never taken from globals: with hidden visibility every plugin
// has its own copies of library singletons.
struct HostServices {
  // Logs under "plugin.<name>".
  std::function<void(LogLevel, const std::string&)> log;
  // The plugin's own configuration table ([plugins.config.<name>] in the configuration), as JSON.
  nlohmann::json config = nlohmann::json::object();
};

class Extractor {
 public:
  virtual ~Extractor() = default;
  // The article on `page`, or nullopt when the page is not an article this plugin knows (the
  // host then uses the generic extractor). May throw: the host catches everything.
  virtual std::optional<Article> extract(const Page& page) = 0;
  // Article links on a listing page (section fronts, tag pages); absolute URLs.
  virtual std::vector<std::string> find_links(const Page&) { return {}; }
};

extern "C" {
struct PluginDescriptor {
  std::uint32_t abi_version;        // kPluginAbiVersion
  std::uint32_t struct_size;        // sizeof(PluginDescriptor)
  const char* build_tag;            // VELLUM_BUILD_TAG
  const char* name;                 // short, unique: "hello"
  const char* version;              // the plugin's own version
  const char* const* hosts;         // null-terminated: "example.com" also matches www.example.com
  const char* const* url_patterns;  // null-terminated ECMAScript regexes over the whole URL
  // Creates an extractor; the host deletes it with destroy().
  Extractor* (*create)(const HostServices* services);
  void (*destroy)(Extractor* extractor);
};
}

}  // namespace vellum

#define VELLUM_HOSTS(...) \
  { __VA_ARGS__ __VA_OPT__(, ) nullptr }
#define VELLUM_PATTERNS(...) \
  { __VA_ARGS__ __VA_OPT__(, ) nullptr }

// Defines the plugin's one exported entry point.
#define VELLUM_PLUGIN(NAME, VERSION, HOSTS, PATTERNS, EXTRACTOR_CLASS)                  \
  namespace {                                                                           \
  const char* const vellum_plugin_hosts_[] = HOSTS;                                     \
  const char* const vellum_plugin_patterns_[] = PATTERNS;                               \
  ::vellum::Extractor* vellum_plugin_create_(const ::vellum::HostServices* services) {  \
    return new EXTRACTOR_CLASS(*services);                                              \
  }                                                                                     \
  void vellum_plugin_destroy_(::vellum::Extractor* e) {                                 \
    delete e;                                                                           \
  }                                                                                     \
  const ::vellum::PluginDescriptor vellum_plugin_descriptor_ = {                        \
      ::vellum::kPluginAbiVersion,                                                      \
      sizeof(::vellum::PluginDescriptor),                                               \
      VELLUM_BUILD_TAG,                                                                 \
      NAME,                                                                             \
      VERSION,                                                                          \
      vellum_plugin_hosts_,                                                             \
      vellum_plugin_patterns_,                                                          \
      vellum_plugin_create_,                                                            \
      vellum_plugin_destroy_};                                                          \
  }                                                                                     \
  extern "C" BOOST_SYMBOL_EXPORT const ::vellum::PluginDescriptor* vellum_plugin_v1() { \
    return &vellum_plugin_descriptor_;                                                  \
  }
