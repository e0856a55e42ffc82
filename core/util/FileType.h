// Names of the kinds of file a path can be, for messages that say what was found.
#pragma once

#include <filesystem>

namespace vellum::util {

// "a regular file", "a directory", "a character device", …, "nothing" (not found).
const char* file_type_name(std::filesystem::file_type type);

}  // namespace vellum::util
