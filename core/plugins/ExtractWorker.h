// The plugin worker process's side (vellum-extract-worker): loads the plugins with a
// PluginHost (so every check of an in-process load applies), then runs one call at a time on
// the page it is sent. WorkerProtocol.h describes the messages.
#pragma once

namespace vellum::plugins {

// Serves the parent on socket `fd` until it closes it; returns the process exit status.
int run_extract_worker(int fd);

}  // namespace vellum::plugins
