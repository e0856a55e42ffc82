#include "plugins/PluginHost.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/library_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <regex>
#include <string_view>

#include "plugins/UrlClaim.h"
#include "plugins/WorkerPool.h"
#include "util/FileType.h"
#include "util/Text.h"
#include "util/Url.h"

namespace vellum::plugins {

namespace fs = std::filesystem;

namespace {

constexpr const char* kEntry = "vellum_plugin_v1";

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::vector<std::string> string_list(const char* const* items) {
  std::vector<std::string> out;
  for (; items && *items; ++items) out.emplace_back(*items);
  return out;
}

// What an ELF header says a file is built for: its class (32 or 64 bits), byte order and machine.
struct ElfTarget {
  unsigned char elf_class = 0, data = 0;
  unsigned machine = 0;
  bool operator==(const ElfTarget&) const = default;
  std::string describe() const {
    static const std::map<unsigned, const char*> kNames = {{3, "x86"},      {40, "ARM"},
                                                           {62, "x86-64"},  {183, "AArch64"},
                                                           {243, "RISC-V"}, {21, "PowerPC64"}};
    const auto name = kNames.find(machine);
    return std::string(elf_class == 2   ? "64-bit"
                       : elf_class == 1 ? "32-bit"
                                        : "unknown class") +
           (data == 2 ? " big-endian " : " ") +
           (name != kNames.end() ? name->second : "machine " + std::to_string(machine));
  }
};

std::optional<ElfTarget> elf_target(const fs::path& file) {
  unsigned char h[20] = {};
  std::ifstream in(file, std::ios::binary);
  in.read(reinterpret_cast<char*>(h), sizeof h);
  if (in.gcount() != sizeof h || std::memcmp(h,
                                             "\x7f"
                                             "ELF",
                                             4) != 0)
    return std::nullopt;
  ElfTarget t;
  t.elf_class = h[4];
  t.data = h[5];
  t.machine = t.data == 2 ? (h[18] << 8 | h[19]) : (h[19] << 8 | h[18]);
  return t;
}

// Refuses anything that is not an ELF shared object for this machine exporting the entry point,
// without running any of its code.
void check_file(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw PluginError(file.string() + ": found " +
                      (fs::exists(file, ec) ? "no regular file" : "nothing") +
                      ", expected a plugin library (.so)");
  char magic[4] = {};
  std::ifstream in(file, std::ios::binary);
  in.read(magic, 4);
  if (in.gcount() != 4 || std::memcmp(magic,
                                      "\x7f"
                                      "ELF",
                                      4) != 0)
    throw PluginError(file.string() + ": found " +
                      util::quote(std::string_view(magic, in.gcount())) +
                      " at the start, expected an ELF shared library");
  // Built for another machine: said as such (reading its symbol table as this machine's would
  // misread it, and the loader's own refusal names no machine).
  static const std::optional<ElfTarget> self = elf_target("/proc/self/exe");
  if (const auto target = elf_target(file); self && target && !(*target == *self))
    throw PluginError(file.string() + ": found an ELF file for " + target->describe() +
                      ", expected an ELF shared library built for this machine (" +
                      self->describe() + ")");
  std::vector<std::string> symbols;
  try {
    boost::dll::library_info info(file, /*throw_if_not_native=*/true);
    symbols = info.symbols();
  } catch (const std::exception& e) {
    throw PluginError(file.string() + ": cannot read its symbol table (" + e.what() +
                      "), expected an ELF shared library built for this machine");
  }
  bool found = false;
  for (const auto& s : symbols) found = found || s == kEntry;
  if (!found)
    throw PluginError(file.string() + ": found no exported symbol '" + kEntry +
                      "', expected a plugin built with VELLUM_PLUGIN() from <vellum/plugin.h>");
}

// A plugin runs inside the daemon with its rights, so only its owner may be able to change what
// gets loaded: the file and its directory must belong to root or to the user this process runs
// as, and neither may be writable by everyone.
void check_ownership(const fs::path& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw PluginError(path.string() + ": cannot check the " + what + ": " + std::strerror(errno));
  uid_t self = ::geteuid();
  if (st.st_uid != 0 && st.st_uid != self)
    throw PluginError(path.string() + ": found a " + what + " owned by uid " +
                      std::to_string(st.st_uid) + ", expected one owned by root or uid " +
                      std::to_string(self) + " (the user Vellum runs as); refused");
  if (st.st_mode & S_IWOTH)
    throw PluginError(path.string() + ": found a " + what + " that every user can write to (mode " +
                      mode_text(st.st_mode) +
                      "), expected one only its owner can change; refused (chmod o-w)");
}

class Plugin final : public LoadedPlugin {
 public:
  Plugin(std::shared_ptr<boost::dll::shared_library> lib, PluginInfo info,
         std::shared_ptr<Extractor> extractor)
      : lib_(std::move(lib)),
        info_(std::move(info)),
        extractor_(std::move(extractor)),
        claim_(info_.hosts, info_.url_patterns) {}

  const PluginInfo& info() const override { return info_; }

  std::optional<Article> extract(const Page& page) override {
    std::lock_guard lk(mu_);
    try {
      return extractor_->extract(page);
    } catch (const std::bad_alloc& e) {
      throw PluginMemoryError(failure("extract", e.what()));
    } catch (const std::exception& e) {
      throw PluginError(failure("extract", e.what()));
    } catch (...) {
      throw PluginError(failure("extract", "an exception that is not a std::exception"));
    }
  }

  std::vector<std::string> find_links(const Page& page) override {
    std::lock_guard lk(mu_);
    try {
      return extractor_->find_links(page);
    } catch (const std::exception& e) {
      throw PluginError(failure("find_links", e.what()));
    } catch (...) {
      throw PluginError(failure("find_links", "an exception that is not a std::exception"));
    }
  }

  int match(const std::string& url) const override { return claim_.score(url); }

 private:
  std::string failure(const char* call, const std::string& what) const {
    return "plugin '" + info_.name + "' (" + info_.file.string() + ") threw from " + call + ": " +
           what;
  }

  std::shared_ptr<boost::dll::shared_library> lib_;  // declared first: destroyed last
  PluginInfo info_;
  std::shared_ptr<Extractor> extractor_;
  UrlClaim claim_;
  std::mutex mu_;  // a plugin's extractor is not required to be thread-safe
};

}  // namespace

struct PluginHost::Impl {
  HostOptions options;
  mutable std::mutex mu;
  std::vector<std::shared_ptr<LoadedPlugin>> plugins;
  std::shared_ptr<WorkerPool> workers;  // isolation on: where the plugins run
};

PluginHost::PluginHost(HostOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

PluginHost::~PluginHost() = default;

std::shared_ptr<LoadedPlugin> PluginHost::load_file(const fs::path& given, bool from_anywhere) {
  fs::path file = fs::absolute(given);
  if (!from_anywhere) {
    bool inside = false;
    for (const auto& d : impl_->options.dirs) {
      std::error_code ec;
      fs::path dir = fs::weakly_canonical(d, ec);
      fs::path f = fs::weakly_canonical(file, ec);
      inside = inside || (!ec && f.parent_path() == dir);
    }
    if (!inside)
      throw PluginError(file.string() + ": found a file outside the plugin directories, expected " +
                        "one in a configured plugin directory");
    check_file(file);
    check_ownership(file, "plugin file");
    check_ownership(file.parent_path(), "plugin directory");
  } else {
    check_file(file);
  }

  auto lib = std::make_shared<boost::dll::shared_library>();
  try {
    lib->load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw PluginError(file.string() + ": cannot be loaded: " + e.what() +
                      " (use ldd(1) to check its dependencies)");
  }
  using EntryFn = const PluginDescriptor*();
  const PluginDescriptor* d = nullptr;
  try {
    d = lib->get<EntryFn>(kEntry)();
  } catch (const std::exception& e) {
    throw PluginError(file.string() + ": " + kEntry + " failed: " + e.what());
  } catch (...) {
    throw PluginError(file.string() + ": " + kEntry + " threw");
  }
  if (!d) throw PluginError(file.string() + ": found a null descriptor, expected one");
  if (d->abi_version != kPluginAbiVersion)
    throw PluginError(file.string() + ": found plugin ABI version " +
                      std::to_string(d->abi_version) + ", expected " +
                      std::to_string(kPluginAbiVersion) +
                      "; rebuild the plugin against this Vellum's SDK");
  if (d->struct_size != sizeof(PluginDescriptor))
    throw PluginError(file.string() + ": found a descriptor of " + std::to_string(d->struct_size) +
                      " bytes, expected " + std::to_string(sizeof(PluginDescriptor)) +
                      "; rebuild the plugin against this Vellum's SDK");
  std::string tag = d->build_tag ? d->build_tag : "";
  if (tag != VELLUM_BUILD_TAG)
    throw PluginError(file.string() + ": found build tag '" + tag + "', expected '" +
                      VELLUM_BUILD_TAG + "'; rebuild the plugin with the same compiler and SDK");
  if (!d->name || !*d->name || !d->version || !d->create || !d->destroy)
    throw PluginError(file.string() + ": found an incomplete descriptor (name, version, create " +
                      "and destroy are required)");

  PluginInfo info{d->name, d->version, file, string_list(d->hosts), string_list(d->url_patterns)};
  for (const auto& p : info.url_patterns) {
    try {
      std::regex check(p, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw PluginError(file.string() + ": URL pattern " + util::quote(p, 200) +
                        " is not a valid regular expression: " + e.what());
    }
  }

  // A host claim is compared with the host of each URL: one that is no host name (a wildcard,
  // a port, a URL) would never match, and the plugin would silently never run.
  for (const auto& h : info.hosts) {
    const bool usable = !h.empty() && h.front() != '.' && h.back() != '.' &&
                        std::none_of(h.begin(), h.end(), [](char c) {
                          return static_cast<unsigned char>(c) <= 0x20 ||
                                 static_cast<unsigned char>(c) == 0x7F ||
                                 std::string_view("*:/@?#[]\\%").find(c) != std::string_view::npos;
                        });
    if (!usable)
      throw PluginError(file.string() + ": found the host " + util::quote(h, 200) +
                        ", expected a host name such as example.com (which claims example.com, "
                        "www.example.com and every subdomain; no scheme, port, path or wildcard)");
  }

  auto services = std::make_shared<HostServices>();
  std::string logger = "plugin." + info.name;
  if (impl_->options.log) {
    auto log = impl_->options.log;
    // A plugin's message may quote a page: its control characters are written as %XX.
    services->log = [log, logger](LogLevel l, const std::string& m) {
      log(l, logger, util::terminal_safe(m));
    };
  } else {
    services->log = [](LogLevel, const std::string&) {};
  }
  if (impl_->options.config) services->config = impl_->options.config(info.name);

  Extractor* raw = nullptr;
  try {
    raw = d->create(services.get());
  } catch (const std::exception& e) {
    throw PluginError("plugin '" + info.name + "' (" + file.string() +
                      ") threw from create: " + e.what());
  } catch (...) {
    throw PluginError("plugin '" + info.name + "' (" + file.string() +
                      ") threw from create something that is not a std::exception");
  }
  if (!raw)
    throw PluginError("plugin '" + info.name + "' (" + file.string() +
                      "): create returned no extractor");
  // The deleter holds the library and the services: the extractor's code and everything it
  // was lent stay alive as long as the extractor does.
  auto destroy = d->destroy;
  std::shared_ptr<Extractor> extractor(raw, [lib, services, destroy](Extractor* e) { destroy(e); });
  return std::make_shared<Plugin>(lib, std::move(info), std::move(extractor));
}

std::size_t PluginHost::stop_idle_workers() {
  std::shared_ptr<WorkerPool> pool;
  {
    std::lock_guard lk(impl_->mu);
    pool = impl_->workers;
  }
  return pool ? pool->stop_idle() : 0;
}

std::vector<std::string> PluginHost::load_all() {
  std::vector<std::string> missing;
  if (impl_->options.dirs_named) {
    for (const auto& dir : impl_->options.dirs) {
      std::error_code ec;
      auto type = fs::status(dir, ec).type();
      if (type != fs::file_type::directory)
        missing.push_back(dir.string() + ": found " + util::file_type_name(type) +
                          ", expected a plugin directory");
    }
  }
  auto problems = load_found();
  problems.insert(problems.begin(), missing.begin(), missing.end());
  return problems;
}

std::vector<std::string> PluginHost::load_found() {
  if (impl_->options.isolation.enabled) {
    // The plugins are loaded (with every check below) by a worker process; this process only
    // gets their descriptions and never maps their code.
    auto pool = std::make_shared<WorkerPool>(impl_->options);
    auto started = pool->start();
    std::lock_guard lk(impl_->mu);
    impl_->plugins = std::move(started.plugins);
    impl_->workers = std::move(pool);
    return started.problems;
  }
  std::vector<std::string> problems;
  std::vector<std::shared_ptr<LoadedPlugin>> loaded;
  for (const auto& dir : impl_->options.dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& de : fs::directory_iterator(dir, ec))
      if (de.path().extension() == ".so") files.push_back(de.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        auto p = load_file(f);
        bool duplicate = false;
        for (const auto& q : loaded) {
          if (q->info().name == p->info().name) {
            problems.push_back(f.string() + ": found plugin name '" + p->info().name +
                               "' already loaded from " + q->info().file.string() +
                               ", expected each name once; this file is skipped");
            duplicate = true;
          }
        }
        if (!duplicate) loaded.push_back(std::move(p));
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
    }
  }
  std::lock_guard lk(impl_->mu);
  impl_->plugins = std::move(loaded);
  return problems;
}

std::vector<std::shared_ptr<LoadedPlugin>> PluginHost::plugins() const {
  std::lock_guard lk(impl_->mu);
  return impl_->plugins;
}

std::shared_ptr<LoadedPlugin> PluginHost::by_name(const std::string& name) const {
  std::lock_guard lk(impl_->mu);
  for (const auto& p : impl_->plugins)
    if (p->info().name == name) return p;
  return nullptr;
}

std::shared_ptr<LoadedPlugin> PluginHost::route(const std::string& url) const {
  std::lock_guard lk(impl_->mu);
  std::shared_ptr<LoadedPlugin> best;
  int best_score = 0;
  for (const auto& p : impl_->plugins) {
    int s = p->match(url);
    if (s > best_score) {
      best = p;
      best_score = s;
    }
  }
  return best;
}

void log_to_spdlog(LogLevel level, const std::string& logger, const std::string& message) {
  auto l = level == LogLevel::error  ? spdlog::level::err
           : level == LogLevel::warn ? spdlog::level::warn
           : level == LogLevel::info ? spdlog::level::info
                                     : spdlog::level::debug;
  spdlog::log(l, "{}: {}", logger, message);
}

}  // namespace vellum::plugins
