// Checks the path a command writes its output to (`-o PATH`) before anything is written.
#pragma once

#include <filesystem>

namespace vellum::util {

enum class OutputKind {
  replace,  // a new name or a regular file: written beside it and renamed over it when complete
  stream,   // an existing character device or pipe (/dev/null, /dev/stdout, a FIFO): written
            // into directly, as a shell redirection would
};

// What writing to `target` means, or a std::runtime_error that says what was found there and
// what was expected: a directory; a path inside `archive_dir` (the archive's files are written
// by Vellum alone, and renaming output over one of them would destroy captures); a block
// device, a socket, or — unless `streams_allowed` — a character device or pipe. The final
// component is not followed when it is a symbolic link to a regular file: the rename replaces
// the link, not what it points to.
OutputKind check_output_path(const std::filesystem::path& target,
                             const std::filesystem::path& archive_dir, bool streams_allowed);

}  // namespace vellum::util
