// Where the installed site plugins are, found from the running program's own location.
#pragma once

#include <filesystem>

namespace vellum::plugins {

// <prefix>/lib/vellum/plugins for a program installed as <prefix>/bin/<name> or
// <prefix>/libexec/vellum/<name>, so that an installation under any prefix, or unpacked into
// another root, finds its own plugins. For a program anywhere else (a build tree): the plugin
// directory of the prefix the tree was configured with.
std::filesystem::path installed_plugin_dir();

}  // namespace vellum::plugins
