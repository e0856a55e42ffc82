#include "util/OutputPath.h"

#include "util/FileType.h"

#include <stdexcept>
#include <string>

namespace vellum::util {

namespace fs = std::filesystem;

namespace {

// `p` with its directory resolved (symbolic links, "..") and its last component as given.
fs::path placed(const fs::path& p) {
  fs::path abs = fs::absolute(p);
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(abs.parent_path(), ec);
  if (ec) dir = abs.parent_path().lexically_normal();
  return dir / abs.filename();
}

bool inside(const fs::path& p, const fs::path& dir) {
  auto d = dir.begin(), x = p.begin();
  for (; d != dir.end(); ++d, ++x) {
    if (d->empty()) continue;  // a trailing separator
    if (x == p.end() || *x != *d) return false;
  }
  return true;
}

}  // namespace

OutputKind check_output_path(const fs::path& target, const fs::path& archive_dir,
                             bool streams_allowed) {
  std::error_code ec;
  fs::path archive = fs::weakly_canonical(fs::absolute(archive_dir), ec);
  if (ec) archive = fs::absolute(archive_dir).lexically_normal();
  fs::path where = placed(target);
  if (inside(where, archive))
    throw std::runtime_error("-o " + target.string() + ": the path is inside the archive " +
                             archive.string() +
                             ", expected one outside it (the archive's files are Vellum's alone)");
  fs::file_status st = fs::status(target, ec);  // follows a symbolic link
  switch (st.type()) {
    case fs::file_type::not_found:
    case fs::file_type::regular:
      return OutputKind::replace;
    case fs::file_type::character:
    case fs::file_type::fifo:
      if (streams_allowed) return OutputKind::stream;
      break;
    default:
      break;
  }
  if (ec && st.type() == fs::file_type::none)
    throw std::runtime_error("-o " + target.string() +
                             ": cannot look at the path: " + ec.message());
  throw std::runtime_error("-o " + target.string() + ": found " + file_type_name(st.type()) +
                           ", expected " +
                           (streams_allowed ? "a file name, a regular file, a character device "
                                              "or a pipe"
                                            : "a file name or a regular file"));
}

}  // namespace vellum::util
