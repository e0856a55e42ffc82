#include "util/FileType.h"

namespace vellum::util {

const char* file_type_name(std::filesystem::file_type type) {
  using std::filesystem::file_type;
  switch (type) {
    case file_type::not_found:
      return "nothing";
    case file_type::regular:
      return "a regular file";
    case file_type::directory:
      return "a directory";
    case file_type::symlink:
      return "a symbolic link";
    case file_type::block:
      return "a block device";
    case file_type::character:
      return "a character device";
    case file_type::fifo:
      return "a named pipe";
    case file_type::socket:
      return "a socket";
    default:
      return "a special file";
  }
}

}  // namespace vellum::util
