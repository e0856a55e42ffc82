// The configuration loader on arbitrary TOML: every error must be a ConfigError with a
// position, never a crash or another exception.
#include <cstdint>
#include <string>

#include "config/ConfigLoader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view toml(reinterpret_cast<const char*>(data), size);
  try {
    auto cfg = vellum::config::load_config_string(toml, "fuzz.toml");
    (void)vellum::config::describe(cfg);
  } catch (const vellum::config::ConfigError&) {
  }
  return 0;
}
