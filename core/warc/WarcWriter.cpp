#include "warc/WarcWriter.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <system_error>

namespace vellum::warc {

namespace {

// Compression contexts kept per thread: encoding allocates nothing after the first record.
struct ZstdCompressor {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~ZstdCompressor() { ZSTD_freeCCtx(cctx); }
};

struct GzipCompressor {
  z_stream zs{};
  int level = -1;
  ~GzipCompressor() {
    if (level >= 0) deflateEnd(&zs);
  }
  void prepare(int wanted) {
    if (level == wanted) {
      deflateReset(&zs);
      return;
    }
    if (level >= 0) deflateEnd(&zs);
    level = -1;
    zs = z_stream{};
    if (deflateInit2(&zs, wanted, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      throw std::runtime_error("gzip: deflateInit2 failed");
    level = wanted;
  }
};

void zstd_check(std::size_t rc, const char* what) {
  if (ZSTD_isError(rc))
    throw std::runtime_error(std::string("zstd: ") + what + ": " + ZSTD_getErrorName(rc));
}

// Per-thread scratch space, reused from record to record so that encoding neither zero-fills
// nor page-faults fresh memory each time.
struct Scratch {
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
  char* get(std::size_t n) {
    if (n > size) {
      data.reset(new char[n]);
      size = n;
    }
    return data.get();
  }
  // Buffers larger than most pages are not kept after a large record: an idle daemon would
  // otherwise hold the largest record it ever wrote, per thread.
  void trim() {
    if (size > (256u << 10)) {
      data.reset();
      size = 0;
    }
  }
};

// One zstd frame with content size and checksum.
std::string zstd_frame(std::string_view data, int level, const ZSTD_CDict* cdict) {
  thread_local ZstdCompressor z;
  thread_local Scratch out;
  if (!z.cctx) throw std::runtime_error("zstd: cannot allocate a compression context");
  ZSTD_CCtx* cctx = z.cctx;
  zstd_check(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters), "reset");
  zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level), "level");
  zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1), "content size flag");
  zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1), "checksum flag");
  zstd_check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 1), "dictionary id flag");
  if (cdict) zstd_check(ZSTD_CCtx_refCDict(cctx, cdict), "dictionary");
  zstd_check(ZSTD_CCtx_setPledgedSrcSize(cctx, data.size()), "pledged size");
  std::size_t bound = ZSTD_compressBound(data.size());
  char* buf = out.get(bound);
  std::size_t n = ZSTD_compress2(cctx, buf, bound, data.data(), data.size());
  zstd_check(n, "compress");
  std::string result(buf, n);
  out.trim();
  // Drop the dictionary reference so the thread does not keep it alive in its context.
  if (cdict) ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  return result;
}

// The pieces of a record laid end to end in per-thread scratch space.
std::string_view join(std::span<const std::string_view> parts) {
  thread_local Scratch joined;
  std::size_t total = 0;
  for (auto p : parts) total += p.size();
  joined.trim();
  char* at = joined.get(total);
  for (auto p : parts) {
    if (!p.empty()) std::memcpy(at, p.data(), p.size());
    at += p.size();
  }
  return {joined.data.get(), total};
}

std::string gzip_member(std::string_view data, int level) {
  thread_local GzipCompressor g;
  g.prepare(level);
  z_stream& zs = g.zs;
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
  std::size_t produced = 0;
  const auto* in = reinterpret_cast<const Bytef*>(data.data());
  std::size_t left = data.size();
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (produced == out.size()) out.resize(out.size() * 2);
    constexpr std::size_t kMax = std::numeric_limits<uInt>::max();
    uInt in_now = static_cast<uInt>(std::min(left, kMax));
    zs.next_in = const_cast<Bytef*>(in);
    zs.avail_in = in_now;
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(std::min(out.size() - produced, kMax));
    uInt out_before = zs.avail_out;
    rc = deflate(&zs, left == in_now ? Z_FINISH : Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      throw std::runtime_error("gzip: deflate failed");
    std::size_t used = in_now - zs.avail_in;
    in += used;
    left -= used;
    produced += out_before - zs.avail_out;
  }
  out.resize(produced);
  return out;
}

std::system_error sys_error(int err, const std::string& what, const std::filesystem::path& p) {
  return std::system_error(err, std::generic_category(), what + " " + p.string());
}

void fsync_directory(const std::filesystem::path& file) {
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw sys_error(errno, "open directory", dir);
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    throw sys_error(err, "fsync directory", dir);
  }
  ::close(fd);
}

}  // namespace

void rename_no_replace(const std::filesystem::path& from, const std::filesystem::path& to) {
  int rc = ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
    // A file system without RENAME_NOREPLACE: a hard link fails the same way when `to` exists.
    rc = ::link(from.c_str(), to.c_str());
    if (rc == 0 && ::unlink(from.c_str()) != 0) {
      const int err = errno;
      ::unlink(to.c_str());  // one name, as before
      errno = err;
      rc = -1;
    } else if (rc != 0 && errno != EEXIST) {
      // Nor hard links (some FUSE file systems): look, then rename. The archive's lock keeps
      // other writers away meanwhile.
      struct stat st {};
      if (::lstat(to.c_str(), &st) == 0) {
        errno = EEXIST;
      } else {
        rc = ::rename(from.c_str(), to.c_str());
      }
    }
  }
  if (rc == 0) return;
  const int err = errno;
  throw std::system_error(err, std::generic_category(),
                          err == EEXIST ? "cannot rename " + from.string() + " to " + to.string() +
                                              ": that file exists and is not replaced"
                                        : "rename " + from.string() + " to " + to.string());
}

RecordEncoder::RecordEncoder(EncoderOptions options) : options_(std::move(options)) {}

std::string RecordEncoder::encode(std::string_view serialized_record) const {
  switch (options_.compression) {
    case Compression::none:
      return std::string(serialized_record);
    case Compression::gzip:
      // The level is used as it is when it lies in 1..9, else clamped to that range.
      return gzip_member(serialized_record, std::clamp(options_.level, 1, 9));
    case Compression::zstd: {
      const auto* cdict = options_.dictionary
                              ? static_cast<const ZSTD_CDict*>(options_.dictionary->cdict())
                              : nullptr;
      return zstd_frame(serialized_record, options_.level, cdict);
    }
  }
  throw std::logic_error("unknown compression");
}

std::string RecordEncoder::encode_parts(std::span<const std::string_view> parts) const {
  return encode(join(parts));
}

std::string RecordEncoder::file_preamble() const {
  if (options_.compression != Compression::zstd || !options_.dictionary) return {};
  const std::string& raw = options_.dictionary->bytes();
  // The dictionary itself is compressed without a dictionary, with content size and checksum.
  std::string payload = options_.compress_dictionary ? zstd_frame(raw, 19, nullptr) : raw;
  if (payload.size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("zstd dictionary too large for its skippable frame");
  std::string out;
  out.reserve(8 + payload.size());
  auto put_le32 = [&out](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  put_le32(kZstdDictionaryFrameMagic);
  put_le32(static_cast<std::uint32_t>(payload.size()));
  out += payload;
  return out;
}

WarcFile::WarcFile(std::filesystem::path path, int fd, std::uint64_t size)
    : path_(std::move(path)), fd_(fd), size_(size) {}

WarcFile::~WarcFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<WarcFile> WarcFile::create(const std::filesystem::path& path,
                                           std::string_view preamble) {
  int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) throw sys_error(errno, "create", path);
  std::unique_ptr<WarcFile> file(new WarcFile(path, fd, 0));
  // Nobody else can hold a lock on a file this call just created; a file system without
  // flock (EOPNOTSUPP, ENOLCK) leaves it unlocked, which only the lock file guards then.
  (void)::flock(fd, LOCK_EX | LOCK_NB);
  if (!preamble.empty()) {
    try {
      file->append(preamble);
    } catch (...) {
      file.reset();
      std::error_code ec;
      std::filesystem::remove(path, ec);
      throw;
    }
  }
  return file;
}

bool is_being_written(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

std::unique_ptr<WarcFile> WarcFile::open_append(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw sys_error(errno, "open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw sys_error(err, "stat", path);
  }
  return std::unique_ptr<WarcFile>(new WarcFile(path, fd, static_cast<std::uint64_t>(st.st_size)));
}

std::uint64_t WarcFile::append(std::string_view bytes) {
  const std::uint64_t start = size_;
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n =
        ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(start + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      // Cut the partial record off again; the file keeps only whole records.
      if (::ftruncate(fd_, static_cast<off_t>(start)) != 0 && done > 0) {
        int cut_err = errno;
        throw std::system_error(
            cut_err, std::generic_category(),
            "write " + path_.string() + " failed (" + std::generic_category().message(err) +
                ") and cutting it back to " + std::to_string(start) + " bytes failed too");
      }
      throw sys_error(err, "write", path_);
    }
    done += static_cast<std::size_t>(n);
  }
  size_ = start + bytes.size();
  return start;
}

void WarcFile::sync() {
  if (::fdatasync(fd_) != 0) throw sys_error(errno, "fdatasync", path_);
}

void WarcFile::cut_back(std::uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) throw sys_error(errno, "truncate", path_);
  size_ = size;
  if (::fsync(fd_) != 0) throw sys_error(errno, "fsync", path_);
}

void WarcFile::close_and_rename(const std::filesystem::path& final_path) {
  if (fd_ < 0) throw sys_error(EBADF, "close", path_);
  if (::fsync(fd_) != 0) throw sys_error(errno, "fsync", path_);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw sys_error(errno, "close", path_);
  rename_no_replace(path_, final_path);
  path_ = final_path;
  fsync_directory(path_);
}

}  // namespace vellum::warc
