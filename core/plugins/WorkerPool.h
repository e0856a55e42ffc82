// The parent's side of plugin isolation: a pool of vellum-extract-worker processes, each
// serving one page at a time, and the proxies PluginHost hands out in their place. A call runs
// in an idle worker (one is started when none is idle and fewer than max_workers exist) under
// the page budget; a worker that crashes is reaped, one that overruns is killed, and either
// way the call throws PluginError saying so. The next call gets a fresh worker.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "plugins/PluginHost.h"

namespace vellum::plugins {

// $VELLUM_EXTRACT_WORKER when set; else vellum-extract-worker next to the running program or
// in ../libexec/vellum from it. Throws PluginError naming the places looked in.
std::filesystem::path find_extract_worker();

class WorkerPool : public std::enable_shared_from_this<WorkerPool> {
 public:
  explicit WorkerPool(HostOptions options);
  ~WorkerPool();  // kills and reaps the idle workers (a busy one belongs to its call)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  struct Started {
    std::vector<std::shared_ptr<LoadedPlugin>> plugins;  // proxies running in this pool
    std::vector<std::string> problems;                   // files the worker refused
  };
  // Starts the first worker and returns what it loaded. A worker that cannot be started is one
  // problem line and no plugins.
  Started start();

  std::optional<Article> extract(const PluginInfo& plugin, const Page& page);
  std::vector<std::string> find_links(const PluginInfo& plugin, const Page& page);

  // Worker processes alive now (idle and busy).
  std::size_t size() const;
  // Kills and reaps the idle workers; returns how many.
  std::size_t stop_idle();

 private:
  struct Worker;
  struct Reply;
  struct Ready;
  std::unique_ptr<Worker> spawn(Ready* ready);
  std::unique_ptr<Worker> checkout();
  void checkin(std::unique_ptr<Worker> w);
  void forget(std::unique_ptr<Worker> w);
  Reply call(const PluginInfo& plugin, const std::string& what, const Page& page);

  HostOptions options_;
  std::filesystem::path program_;
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::vector<std::unique_ptr<Worker>> idle_;
  std::size_t live_ = 0;  // idle + busy + being started
};

}  // namespace vellum::plugins
