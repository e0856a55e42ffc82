#include "plugins/WorkerPool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <thread>

#include "config/Units.h"
#include "plugins/UrlClaim.h"
#include "plugins/WorkerProtocol.h"

extern char** environ;

namespace vellum::plugins {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A worker process and the parent's end of its socket. Destroying it kills and reaps the
// process if that has not been done.
struct WorkerPool::Worker {
  pid_t pid = -1;
  int fd = -1;

  ~Worker() {
    close_socket();
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      wait_exit();
    }
  }
  void close_socket() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  // Reaps the process; returns its wait status.
  int wait_exit() {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
    return status;
  }
  // The process is going (its socket closed): give it a moment to finish dying on its own, so
  // that its own signal or exit status is what gets reported, then make sure.
  int reap() {
    close_socket();
    int status = 0;
    for (int i = 0; i < 2000; ++i) {
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        pid = -1;
        return status;
      }
      if (r < 0 && errno != EINTR) {
        pid = -1;
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::kill(pid, SIGKILL);
    return wait_exit();
  }
  void kill_now() {
    close_socket();
    ::kill(pid, SIGKILL);
    wait_exit();
  }
};

struct WorkerPool::Reply {
  json header;
};

struct WorkerPool::Ready {
  json plugins;
  std::vector<std::string> refused;
};

namespace {

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* desc = sigdescr_np(sig);
  std::string s = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
  if (desc) s += std::string(": ") + desc;
  return s;
}

// How a worker ended, from its wait status: "crashed on this page (SIGSEGV: Segmentation
// fault)".
std::string ending(int status) {
  if (WIFSIGNALED(status)) return "crashed on this page (" + signal_text(WTERMSIG(status)) + ")";
  if (WIFEXITED(status))
    return "ended its worker process on this page (exit status " +
           std::to_string(WEXITSTATUS(status)) + ")";
  return "ended its worker process on this page";
}

std::string who(const PluginInfo& p) {
  return "plugin '" + p.name + "' (" + p.file.string() + ")";
}

// Runs `start` on one thread that lasts as long as the process. A worker asks for SIGKILL when
// its parent dies (PR_SET_PDEATHSIG), and Linux takes "parent" to be the thread that started
// it: workers started from a storing thread would die with that thread.
pid_t on_lasting_thread(std::function<pid_t()> start) {
  // Never destroyed: the thread may still wait on it while the process exits.
  struct Lasting {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::packaged_task<pid_t()>> queue;
  };
  static Lasting* lasting = [] {
    auto* l = new Lasting;
    std::thread([l] {
      for (;;) {
        std::unique_lock lk(l->mu);
        l->cv.wait(lk, [l] { return !l->queue.empty(); });
        auto task = std::move(l->queue.front());
        l->queue.pop_front();
        lk.unlock();
        task();
      }
    }).detach();
    return l;
  }();
  std::packaged_task<pid_t()> task(std::move(start));
  auto result = task.get_future();
  {
    std::lock_guard lk(lasting->mu);
    lasting->queue.push_back(std::move(task));
  }
  lasting->cv.notify_one();
  return result.get();
}

// A plugin running in a worker: routing here, extraction there.
class IsolatedPlugin final : public LoadedPlugin {
 public:
  IsolatedPlugin(PluginInfo info, std::shared_ptr<WorkerPool> pool)
      : info_(std::move(info)), claim_(info_.hosts, info_.url_patterns), pool_(std::move(pool)) {}

  const PluginInfo& info() const override { return info_; }
  std::optional<Article> extract(const Page& page) override { return pool_->extract(info_, page); }
  std::vector<std::string> find_links(const Page& page) override {
    return pool_->find_links(info_, page);
  }
  int match(const std::string& url) const override { return claim_.score(url); }
  bool isolated() const override { return true; }

 private:
  PluginInfo info_;
  UrlClaim claim_;
  std::shared_ptr<WorkerPool> pool_;
};

}  // namespace

fs::path find_extract_worker() {
  if (const char* env = std::getenv("VELLUM_EXTRACT_WORKER"); env && *env) return env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  fs::path dir = ec ? fs::path(".") : self.parent_path();
  fs::path beside = dir / "vellum-extract-worker";
  fs::path libexec = dir / ".." / "libexec" / "vellum" / "vellum-extract-worker";
  for (const auto& candidate : {beside, libexec})
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  throw PluginError("found no vellum-extract-worker at " + beside.string() + " or " +
                    libexec.string() +
                    ", expected it installed with Vellum; reinstall, or run the plugins in "
                    "this process ([plugins] isolate = false for vellumd, --plugins-in-process "
                    "for vellum)");
}

WorkerPool::WorkerPool(HostOptions options) : options_(std::move(options)) {
  if (options_.isolation.max_workers == 0) options_.isolation.max_workers = 1;
}

WorkerPool::~WorkerPool() {
  std::lock_guard lk(mu_);
  idle_.clear();  // each Worker kills and reaps its process
}

std::size_t WorkerPool::stop_idle() {
  std::vector<std::unique_ptr<Worker>> idle;
  {
    std::lock_guard lk(mu_);
    idle.swap(idle_);
    live_ -= idle.size();
  }
  idle_cv_.notify_all();
  return idle.size();  // each Worker kills and reaps its process as `idle` goes
}

std::size_t WorkerPool::size() const {
  std::lock_guard lk(mu_);
  return live_;
}

std::unique_ptr<WorkerPool::Worker> WorkerPool::spawn(Ready* ready) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw PluginError(std::string("cannot create a socket for a plugin worker: ") +
                      std::strerror(errno));
  auto w = std::make_unique<Worker>();
  w->fd = sv[0];
  int child = sv[1];
  if (child == 3) {  // dup2(3, 3) would keep close-on-exec set
    child = ::fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    ::close(sv[1]);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string parent = std::to_string(::getpid());
  std::vector<char*> argv = {const_cast<char*>(program_.c_str()), const_cast<char*>("--parent"),
                             parent.data(), nullptr};
  pid_t pid = -1;
  int rc = 0;
  pid = on_lasting_thread([&]() -> pid_t {
    pid_t p = -1;
    rc = ::posix_spawn(&p, program_.c_str(), &actions, &attr, argv.data(), environ);
    return p;
  });
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(child);
  if (rc != 0)
    throw PluginError("cannot start the plugin worker " + program_.string() + ": " +
                      std::strerror(rc));
  w->pid = pid;

  // The handshake: the start message, configuration tables on request, then "ready".
  const auto start_budget = std::max<config::Duration>(
      std::chrono::duration_cast<config::Duration>(options_.isolation.page_timeout),
      std::chrono::seconds(30));
  auto deadline = Clock::now() + start_budget;
  json dirs = json::array();
  for (const auto& d : options_.dirs) dirs.push_back(d.string());
  auto failed = [&](const std::string& why) {
    w->kill_now();
    return PluginError("the plugin worker " + program_.string() + " did not start: " + why);
  };
  auto r = wire::write_frame(
      w->fd,
      {{{"type", "start"}, {"dirs", dirs}, {"memory_limit", options_.isolation.memory_limit}}, {}},
      deadline);
  for (;;) {
    if (r.status == wire::IoStatus::eof) {
      int status = w->reap();
      throw PluginError("the plugin worker " + program_.string() + " " + ending(status) +
                        " while loading the plugins");
    }
    if (r.status == wire::IoStatus::timeout)
      throw failed("it did not load the plugins within " + config::format_duration(start_budget));
    if (r.status != wire::IoStatus::ok) throw failed(r.error);
    wire::Frame f;
    r = wire::read_frame(w->fd, f, deadline);
    if (r.status != wire::IoStatus::ok) continue;
    std::string type = f.header.value("type", "");
    if (type == "log") {
      wire::forward_log(f.header, options_);
    } else if (type == "config") {
      json table = options_.config ? options_.config(f.header.value("name", "")) : json::object();
      r = wire::write_frame(w->fd, {{{"type", "config"}, {"config", table}}, {}}, deadline);
    } else if (type == "ready") {
      if (ready) {
        ready->plugins = f.header.value("plugins", json::array());
        for (const auto& line : f.header.value("refused", json::array()))
          ready->refused.push_back(line.get<std::string>());
      }
      return w;
    } else {
      throw failed("found a message of type '" + type + "', expected 'log', 'config' or 'ready'");
    }
  }
}

WorkerPool::Started WorkerPool::start() {
  Started out;
  Ready ready;
  std::unique_ptr<Worker> w;
  try {
    // Resolved once, before any other thread can call spawn().
    program_ = options_.isolation.worker_program.empty() ? find_extract_worker()
                                                         : options_.isolation.worker_program;
    w = spawn(&ready);
  } catch (const std::exception& e) {
    out.problems.push_back(std::string(e.what()) + "; no plugin is used");
    return out;
  }
  for (const auto& j : ready.plugins) {
    try {
      out.plugins.push_back(
          std::make_shared<IsolatedPlugin>(wire::info_from_json(j), shared_from_this()));
    } catch (const std::exception& e) {
      out.problems.push_back(std::string("the plugin worker described a plugin unreadably: ") +
                             e.what());
    }
  }
  out.problems.insert(out.problems.end(), ready.refused.begin(), ready.refused.end());
  std::lock_guard lk(mu_);
  ++live_;
  idle_.push_back(std::move(w));
  return out;
}

std::unique_ptr<WorkerPool::Worker> WorkerPool::checkout() {
  std::unique_lock lk(mu_);
  for (;;) {
    while (!idle_.empty()) {
      auto w = std::move(idle_.back());
      idle_.pop_back();
      // An idle worker says nothing: readable or hung up means it is gone (killed with the
      // thread that started it, or by someone else). Replace it without blaming a page.
      pollfd p{w->fd, POLLIN, 0};
      if (::poll(&p, 1, 0) == 0) return w;
      --live_;
      lk.unlock();
      w.reset();
      lk.lock();
    }
    if (live_ < options_.isolation.max_workers) break;
    idle_cv_.wait(lk);
  }
  ++live_;
  lk.unlock();
  try {
    return spawn(nullptr);
  } catch (...) {
    forget(nullptr);
    throw;
  }
}

void WorkerPool::checkin(std::unique_ptr<Worker> w) {
  {
    std::lock_guard lk(mu_);
    idle_.push_back(std::move(w));
  }
  idle_cv_.notify_one();
}

void WorkerPool::forget(std::unique_ptr<Worker> w) {
  w.reset();
  {
    std::lock_guard lk(mu_);
    --live_;
  }
  idle_cv_.notify_one();
}

WorkerPool::Reply WorkerPool::call(const PluginInfo& plugin, const std::string& what,
                                   const Page& page) {
  std::unique_ptr<Worker> w;
  try {
    w = checkout();
  } catch (const std::exception& e) {
    throw PluginError(who(plugin) + " was not run: " + e.what());
  }
  const auto budget = options_.isolation.page_timeout;
  auto deadline = Clock::now() + budget;
  auto r = wire::write_frame(w->fd,
                             {{{"type", "call"},
                               {"call", what},
                               {"plugin", plugin.name},
                               {"page", wire::page_fields_to_json(page)}},
                              page.html},
                             deadline);
  wire::Frame f;
  while (r.status == wire::IoStatus::ok) {
    r = wire::read_frame(w->fd, f, deadline);
    if (r.status != wire::IoStatus::ok || f.header.value("type", "") != "log") break;
    wire::forward_log(f.header, options_);
  }
  switch (r.status) {
    case wire::IoStatus::ok:
      break;
    case wire::IoStatus::timeout:
      w->kill_now();
      forget(std::move(w));
      throw PluginError(
          who(plugin) + " did not finish this page within " +
          config::format_duration(std::chrono::duration_cast<config::Duration>(budget)) +
          " (plugins.page_timeout); its worker process was killed and will be "
          "replaced");
    case wire::IoStatus::eof: {
      int status = w->reap();
      forget(std::move(w));
      throw PluginError(who(plugin) + " " + ending(status) +
                        "; its worker process will be replaced");
    }
    case wire::IoStatus::error: {
      w->kill_now();
      forget(std::move(w));
      throw PluginError(who(plugin) + ": the exchange with its worker process failed (" + r.error +
                        "); the worker was killed and will be replaced");
    }
  }
  if (f.header.value("out_of_memory", false)) {
    w->reap();  // it leaves by itself after a bad_alloc
    forget(std::move(w));
    std::string limit = options_.isolation.memory_limit
                            ? config::format_size(options_.isolation.memory_limit)
                            : std::string("no limit");
    throw PluginMemoryError(who(plugin) + " ran out of memory on this page (worker limit " + limit +
                            ", plugins.worker_memory); its worker process will be replaced");
  }
  checkin(std::move(w));
  if (f.header.value("type", "") == "error") throw PluginError(f.header.value("message", ""));
  return {std::move(f.header)};
}

std::optional<Article> WorkerPool::extract(const PluginInfo& plugin, const Page& page) {
  Reply reply = call(plugin, "extract", page);
  std::string type = reply.header.value("type", "");
  if (type == "declined") return std::nullopt;
  if (type != "article")
    throw PluginError(who(plugin) + ": its worker answered '" + type +
                      "' to extract, expected 'article' or 'declined'");
  try {
    return wire::article_from_json(reply.header.at("article"));
  } catch (const std::exception& e) {
    throw PluginError(who(plugin) +
                      ": its worker sent an article that does not read back: " + e.what());
  }
}

std::vector<std::string> WorkerPool::find_links(const PluginInfo& plugin, const Page& page) {
  Reply reply = call(plugin, "find_links", page);
  std::vector<std::string> out;
  try {
    for (const auto& l : reply.header.at("links")) out.push_back(l.get<std::string>());
  } catch (const std::exception& e) {
    throw PluginError(who(plugin) + ": its worker sent links that do not read back: " + e.what());
  }
  return out;
}

}  // namespace vellum::plugins
