#include "warc/WarcReader.h"

#include "util/Digest.h"
#include "util/FileType.h"
#include "util/Text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
// For ZSTD_d_forceIgnoreChecksum alone (salvaging a damaged record), a parameter set through the
// stable ZSTD_DCtx_setParameter.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <system_error>
#include <vector>

namespace vellum::warc {

namespace {

using util::quote;

constexpr std::size_t kReadSize = 1 << 20;        // file bytes read at a time
constexpr std::size_t kFirstRead = 64 << 10;      // ... except the first time
constexpr std::size_t kChunk = 256 << 10;         // decoded bytes produced at a time
constexpr std::size_t kBlockStep = 4 << 20;       // block bytes decoded at a time
constexpr std::size_t kMaxHeader = 4 << 20;       // longest record header accepted
constexpr std::size_t kMaxDictionary = 64 << 20;  // largest dictionary accepted
constexpr std::uint64_t kNoOffset = std::numeric_limits<std::uint64_t>::max();

std::uint32_t le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return std::uint32_t{u[0]} | std::uint32_t{u[1]} << 8 | std::uint32_t{u[2]} << 16 |
         std::uint32_t{u[3]} << 24;
}

bool is_skippable(std::uint32_t magic) {
  return (magic & 0xFFFFFFF0u) == 0x184D2A50u;
}

std::string hex_bytes(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string zstd_problem(std::size_t rc) {
  switch (ZSTD_getErrorCode(rc)) {
    case ZSTD_error_checksum_wrong:
      return "found data that does not match its checksum (zstd frame checksum mismatch), "
             "expected an intact zstd frame";
    case ZSTD_error_dictionary_wrong:
      return "found a zstd frame compressed with another dictionary, expected one compressed "
             "with the file's dictionary";
    default:
      return std::string("found corrupt zstd data (") + ZSTD_getErrorName(rc) +
             "), expected a valid zstd frame";
  }
  return {};
}

// Buffered reading of a byte range of a file with pread.
class RawInput {
 public:
  RawInput(int fd, std::uint64_t start, std::uint64_t limit, std::string name = {})
      : fd_(fd), limit_(limit), buf_off_(start), name_(std::move(name)) {}

  std::uint64_t pos() const { return buf_off_ + begin_; }
  std::uint64_t limit() const { return limit_; }
  std::size_t avail() const { return end_ - begin_; }
  const char* data() const { return buf_.data() + begin_; }
  void consume(std::size_t n) { begin_ += n; }

  void seek(std::uint64_t offset, std::uint64_t limit) {
    // Within what is buffered (resynchronising tries one unit start after another, often a few
    // bytes apart): read on from the buffer rather than reading the file there again.
    if (offset >= buf_off_ && offset <= buf_off_ + end_ && buf_off_ + end_ <= limit) {
      begin_ = static_cast<std::size_t>(offset - buf_off_);
      limit_ = limit;
      return;
    }
    buf_off_ = offset;
    begin_ = end_ = 0;
    limit_ = limit;
  }

  // Reads more bytes after the available ones; false when the range has none left.
  bool fill() {
    std::uint64_t next = buf_off_ + end_;
    if (next >= limit_) return false;
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, avail());
      buf_off_ += begin_;
      end_ -= begin_;
      begin_ = 0;
    }
    // The first read is small: opening a file to read one record needs only its first bytes.
    if (end_ == buf_.size())
      buf_.resize(buf_.empty() ? kFirstRead : std::max(buf_.size() * 2, kReadSize));
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buf_.size() - end_, limit_ - next));
    std::size_t got = read_at(buf_.data() + end_, want, next);
    if (got == 0) {
      limit_ = next;  // the file is shorter than it was
      return false;
    }
    end_ += got;
    return true;
  }

  bool ensure(std::size_t n) {
    while (avail() < n)
      if (!fill()) return false;
    return true;
  }

  // Skips n bytes; false when the range ends first.
  bool skip(std::uint64_t n) {
    if (n <= avail()) {
      begin_ += static_cast<std::size_t>(n);
      return true;
    }
    std::uint64_t target = buf_off_ + end_ + (n - avail());
    buf_off_ = std::min(target, limit_);
    begin_ = end_ = 0;
    return target <= limit_;
  }

  // Copies up to n bytes into dst, reading past the buffer when it is empty.
  std::size_t read(char* dst, std::size_t n) {
    if (avail() == 0 && n >= kReadSize) {
      std::uint64_t at = pos();
      if (at >= limit_) return 0;
      std::size_t got =
          read_at(dst, static_cast<std::size_t>(std::min<std::uint64_t>(n, limit_ - at)), at);
      if (got == 0) limit_ = at;
      // The buffer holds nothing now: [buf_off_, buf_off_ + end_) is always what it holds.
      buf_off_ = at + got;
      begin_ = end_ = 0;
      return got;
    }
    if (avail() == 0 && !fill()) return 0;
    std::size_t k = std::min(n, avail());
    std::memcpy(dst, data(), k);
    begin_ += k;
    return k;
  }

 private:
  std::size_t read_at(char* dst, std::size_t n, std::uint64_t offset) {
    for (;;) {
      ssize_t got = ::pread(fd_, dst, n, static_cast<off_t>(offset));
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno != EINTR)
        throw std::system_error(errno, std::generic_category(),
                                "cannot read " + name_ + " at offset " + std::to_string(offset));
    }
  }

  int fd_;
  std::uint64_t limit_;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;
  std::uint64_t buf_off_;  // file offset of buf_[0]
  std::string name_;       // the file's, for errors
};

// zstd decompression contexts kept per thread for the next reader: creating one costs more than
// reading a small record, and reading one record at a time (export, restore) creates a reader
// per record. At most two are kept; each holds at most one window (a few MiB).
class DctxPool {
 public:
  ~DctxPool() {
    for (ZSTD_DCtx* d : free_) ZSTD_freeDCtx(d);
  }
  ZSTD_DCtx* take() {
    if (free_.empty()) {
      ZSTD_DCtx* d = ZSTD_createDCtx();
      if (!d) throw std::bad_alloc();
      return d;
    }
    ZSTD_DCtx* d = free_.back();
    free_.pop_back();
    return d;
  }
  // Forgets the frame under way and the dictionary, as a new context would.
  void give(ZSTD_DCtx* d) {
    if (!d) return;
    if (free_.size() >= 2 || ZSTD_isError(ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters)))
      ZSTD_freeDCtx(d);
    else
      free_.push_back(d);
  }

 private:
  std::vector<ZSTD_DCtx*> free_;
};

thread_local DctxPool t_dctx_pool;

// Decodes the units a file is made of (zstd frames, gzip members, or for plain files the rest
// of the file) one after another.
class UnitDecoder {
 public:
  UnitDecoder(Compression c, RawInput& in, const std::string& name)
      : comp_(c), in_(in), name_(name) {
    if (c == Compression::zstd) {
      dctx_ = t_dctx_pool.take();
    } else if (c == Compression::gzip) {
      if (inflateInit2(&zs_, 15 + 16) != Z_OK) throw std::bad_alloc();
      zs_ready_ = true;
    }
  }
  ~UnitDecoder() {
    t_dctx_pool.give(dctx_);
    if (zs_ready_) inflateEnd(&zs_);
  }
  UnitDecoder(const UnitDecoder&) = delete;
  UnitDecoder& operator=(const UnitDecoder&) = delete;

  void set_dictionary(const ZstdDictionary* dict) {
    dict_ = dict;
    if (dctx_ && dict) ZSTD_DCtx_refDDict(dctx_, static_cast<const ZSTD_DDict*>(dict->ddict()));
  }
  bool in_unit() const { return in_unit_; }
  std::uint64_t unit_start() const { return unit_start_; }
  void abandon_unit() { in_unit_ = false; }

  // Salvaging: checksums are not checked (the data they cover is kept, damaged or not).
  bool salvage = false;
  // Errors name this offset: the start of the record being read.
  std::uint64_t error_offset = 0;
  // What the readable range is called in errors.
  std::string range_name = "the file";

  [[noreturn]] void fail(const std::string& message) const {
    throw WarcFormatError(name_, error_offset, message);
  }

  // Starts the next unit at the current position, skipping skippable frames. Returns false at
  // the end of the range. When `fresh`, the unit starts a record: errors name its offset.
  bool start_unit(bool fresh) {
    for (;;) {
      if (!in_.ensure(1)) return false;
      const std::uint64_t at = in_.pos();
      if (fresh) error_offset = at;
      if (comp_ == Compression::none) {
        begin(at);
        return true;
      }
      if (comp_ == Compression::gzip) {
        if (!in_.ensure(2) || static_cast<unsigned char>(in_.data()[0]) != 0x1f ||
            static_cast<unsigned char>(in_.data()[1]) != 0x8b)
          fail("found bytes " +
               hex_bytes(std::string_view(in_.data(), std::min<std::size_t>(in_.avail(), 4))) +
               ", expected a gzip member (1f 8b)");
        inflateReset(&zs_);
        begin(at);
        return true;
      }
      if (!in_.ensure(4))
        fail("found the end of " + range_name + " after " + std::to_string(in_.avail()) +
             " bytes, expected a zstd frame (28 b5 2f fd)");
      std::uint32_t magic = le32(in_.data());
      if (magic == kZstdFrameMagic) {
        check_dictionary_id();
        ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
        if (salvage)
          ZSTD_DCtx_setParameter(dctx_, ZSTD_d_forceIgnoreChecksum, ZSTD_d_ignoreChecksum);
        begin(at);
        return true;
      }
      if (is_skippable(magic)) {
        bool whole = in_.ensure(8);
        if (whole) {
          std::uint32_t size = le32(in_.data() + 4);
          in_.consume(8);
          whole = in_.skip(size);
        }
        if (!whole)
          fail("found the end of " + range_name +
               " inside a skippable frame, expected the whole frame");
        continue;
      }
      fail("found bytes " + hex_bytes(std::string_view(in_.data(), 4)) +
           ", expected a zstd frame (28 b5 2f fd)");
    }
  }

  // Decodes up to `cap` (> 0) bytes of the current unit into dst. Returns how many; 0 only when
  // the unit has ended.
  std::size_t decode(char* dst, std::size_t cap) {
    switch (comp_) {
      case Compression::none: {
        std::size_t n = in_.read(dst, cap);
        if (n == 0) in_unit_ = false;
        return n;
      }
      case Compression::zstd:
        return decode_zstd(dst, cap);
      case Compression::gzip:
        return decode_gzip(dst, cap);
    }
    return 0;
  }

 private:
  void begin(std::uint64_t at) {
    in_unit_ = true;
    unit_start_ = at;
  }

  void check_dictionary_id() {
    in_.ensure(18);  // the longest frame header
    const unsigned id = ZSTD_getDictID_fromFrame(in_.data(), in_.avail());
    if (id == 0) return;
    if (!dict_)
      fail("found a zstd frame that needs dictionary " + std::to_string(id) +
           ", expected the file to start with a dictionary frame (5d 2a 4d 18)");
    if (dict_->id() != 0 && dict_->id() != id)
      fail("found a zstd frame that needs dictionary " + std::to_string(id) +
           ", expected the file's dictionary " + std::to_string(dict_->id()));
  }

  [[noreturn]] void fail_truncated(const char* what) const {
    fail("found the end of " + range_name + " " + std::to_string(in_.pos() - unit_start_) +
         " bytes into a " + what + ", expected the rest of it");
  }

  std::size_t decode_zstd(char* dst, std::size_t cap) {
    bool need_input = in_.avail() == 0;
    for (;;) {
      if (need_input && !in_.fill()) fail_truncated("zstd frame");
      ZSTD_inBuffer ib{in_.data(), in_.avail(), 0};
      ZSTD_outBuffer ob{dst, cap, 0};
      std::size_t rc = ZSTD_decompressStream(dctx_, &ob, &ib);
      in_.consume(ib.pos);
      if (ZSTD_isError(rc)) fail(zstd_problem(rc));
      if (rc == 0) {
        in_unit_ = false;
        return ob.pos;
      }
      if (ob.pos > 0) return ob.pos;
      need_input = true;
    }
  }

  std::size_t decode_gzip(char* dst, std::size_t cap) {
    constexpr std::size_t kMax = UINT_MAX;
    bool need_input = in_.avail() == 0;
    for (;;) {
      if (need_input && !in_.fill()) fail_truncated("gzip member");
      const uInt in_now = static_cast<uInt>(std::min(in_.avail(), kMax));
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data()));
      zs_.avail_in = in_now;
      zs_.next_out = reinterpret_cast<Bytef*>(dst);
      zs_.avail_out = static_cast<uInt>(std::min(cap, kMax));
      const uInt out_before = zs_.avail_out;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      in_.consume(in_now - zs_.avail_in);
      std::size_t produced = out_before - zs_.avail_out;
      // The trailer's CRC-32 or length not matching comes after all the member's data.
      const auto failed_check = [&](const char* which) {
        return rc == Z_DATA_ERROR && zs_.msg && std::strcmp(zs_.msg, which) == 0;
      };
      const bool crc_failed = failed_check("incorrect data check");
      if (rc == Z_STREAM_END ||
          (salvage && (crc_failed || failed_check("incorrect length check")))) {
        // A failed CRC-32 leaves the length after it unread: the next member starts past it.
        if (crc_failed) {
          in_.ensure(4);
          in_.consume(std::min<std::size_t>(4, in_.avail()));
        }
        in_unit_ = false;
        return produced;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR)
        fail(std::string("found corrupt gzip data (") + (zs_.msg ? zs_.msg : "inflate failed") +
             "), expected a valid gzip member");
      if (produced > 0) return produced;
      need_input = true;
    }
  }

  Compression comp_;
  RawInput& in_;
  const std::string& name_;
  const ZstdDictionary* dict_ = nullptr;
  ZSTD_DCtx* dctx_ = nullptr;
  z_stream zs_{};
  bool zs_ready_ = false;
  bool in_unit_ = false;
  std::uint64_t unit_start_ = 0;
};

std::string decompress_dictionary(std::string_view frame, const std::string& name) {
  auto fail = [&](const std::string& m) { throw WarcFormatError(name, 0, m); };
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  if (!dctx) throw std::bad_alloc();
  std::string out;
  ZSTD_inBuffer ib{frame.data(), frame.size(), 0};
  std::size_t rc = 1;
  while (rc != 0) {
    if (out.size() >= kMaxDictionary) break;
    std::size_t old = out.size();
    out.resize(std::min(old + kChunk, kMaxDictionary));
    ZSTD_outBuffer ob{out.data() + old, out.size() - old, 0};
    rc = ZSTD_decompressStream(dctx, &ob, &ib);
    out.resize(old + ob.pos);
    if (ZSTD_isError(rc)) {
      ZSTD_freeDCtx(dctx);
      fail("found a compressed dictionary that does not decompress: " + zstd_problem(rc));
    }
    if (rc != 0 && ib.pos == ib.size && ob.pos < ob.size) break;  // input ended early
  }
  ZSTD_freeDCtx(dctx);
  if (rc != 0)
    fail("found a dictionary frame whose zstd frame is truncated or larger than " +
         std::to_string(kMaxDictionary) + " bytes, expected one complete dictionary");
  if (ib.pos != ib.size)
    fail("found " + std::to_string(ib.size - ib.pos) +
         " bytes after the compressed dictionary, expected one zstd frame alone");
  return out;
}

// Prepared dictionaries of the files read lately: preparing one costs far more than reading it,
// and read_record_at reads the file's dictionary on every call.
std::shared_ptr<const ZstdDictionary> shared_dictionary(std::string raw) {
  static std::mutex mutex;
  static std::vector<std::shared_ptr<const ZstdDictionary>> recent;  // most recent first
  constexpr std::size_t kKeep = 8;
  std::lock_guard lock(mutex);
  for (std::size_t i = 0; i < recent.size(); ++i) {
    if (recent[i]->bytes() != raw) continue;
    auto found = recent[i];
    recent.erase(recent.begin() + static_cast<std::ptrdiff_t>(i));
    recent.insert(recent.begin(), found);
    return found;
  }
  auto made = std::make_shared<const ZstdDictionary>(std::move(raw));
  recent.insert(recent.begin(), made);
  if (recent.size() > kKeep) recent.pop_back();
  return made;
}

// The reading machinery shared by WarcReader and read_record_at.
struct ReaderCore {
  std::string name;
  int fd = -1;
  std::uint64_t file_size = 0;
  RawInput in;
  Compression comp = Compression::none;
  std::shared_ptr<const ZstdDictionary> dict;
  std::uint64_t data_start = 0;
  std::unique_ptr<UnitDecoder> dec;

  std::vector<char> pending;  // decoded bytes; [pending_pos, pending_end) not yet parsed
  std::size_t pending_pos = 0, pending_end = 0;
  std::uint64_t plain_next = 0;  // plain files: offset of the next record
  RecordLocation last;
  std::optional<WarcFormatError> failure;
  std::optional<WarcRecord> resumed;  // read by resynchronise(), returned by the next next()
  bool gave_up = false;               // resynchronise() found nothing more to read
  std::uint64_t measured_start = kNoOffset, measured_end = 0;
  // unit_end found the unit starting at measured_start cut short or damaged past its records.
  bool measured_damaged = false;
  bool last_in_damaged_unit = false;  // the record `last` is in such a unit

  explicit ReaderCore(const std::filesystem::path& file) : name(file.string()), in(-1, 0, 0) {
    // Not blocking: a named pipe put where a WARC file should be would wait for a writer forever.
    fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + name);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      throw std::system_error(err, std::generic_category(), "stat " + name);
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      std::error_code ec;
      throw std::runtime_error("cannot read " + name + ": found " +
                               util::file_type_name(std::filesystem::status(file, ec).type()) +
                               ", expected a WARC file");
    }
    file_size = static_cast<std::uint64_t>(st.st_size);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    in = RawInput(fd, 0, file_size, name);
    try {
      detect(file);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  ~ReaderCore() {
    dec.reset();
    if (fd >= 0) ::close(fd);
  }

  [[noreturn]] void fail_at(std::uint64_t offset, const std::string& message) const {
    throw WarcFormatError(name, offset, message);
  }

  void detect(const std::filesystem::path& file) {
    in.ensure(5);
    std::string_view head(in.data(), in.avail());
    if (head.size() >= 4 && le32(head.data()) == kZstdDictionaryFrameMagic) {
      comp = Compression::zstd;
      read_dictionary();
    } else if (head.size() >= 4 &&
               (le32(head.data()) == kZstdFrameMagic || is_skippable(le32(head.data())))) {
      comp = Compression::zstd;  // (the format wants no extension frame first; tolerated)
    } else if (head.size() >= 2 && head[0] == '\x1f' && head[1] == '\x8b') {
      comp = Compression::gzip;
    } else if (!head.starts_with("WARC/") &&
               (head.empty() || !util::printable_ascii(head.substr(0, 4)))) {
      // Neither starts the file (it is empty, or its first bytes are damaged): the name says
      // the compression, so that the records after a damaged first one still read. (Text is
      // read as text, so that what it is shows in the error.)
      std::string n = file.filename().string();
      if (n.ends_with(".open")) n.resize(n.size() - 5);
      if (n.ends_with(".gz"))
        comp = Compression::gzip;
      else if (n.ends_with(".zst"))
        comp = Compression::zstd;
    }
    data_start = in.pos();
    plain_next = data_start;
    dec = std::make_unique<UnitDecoder>(comp, in, name);
    dec->set_dictionary(dict.get());
  }

  void read_dictionary() {
    if (!in.ensure(8))
      fail_at(0, "found the end of the file inside the dictionary frame header, expected 8 bytes");
    std::uint32_t size = le32(in.data() + 4);
    if (size > kMaxDictionary)
      fail_at(0, "found a dictionary frame of " + std::to_string(size) +
                     " bytes, expected at most " + std::to_string(kMaxDictionary));
    if (!in.ensure(8 + std::size_t{size}))
      fail_at(0, "found the end of the file after " + std::to_string(in.avail()) +
                     " bytes of the dictionary frame, expected " + std::to_string(8 + size));
    std::string_view payload(in.data() + 8, size);
    std::string raw;
    if (payload.size() >= 4 && le32(payload.data()) == kZstdFrameMagic)
      raw = decompress_dictionary(payload, name);
    else
      raw.assign(payload);
    try {
      dict = shared_dictionary(std::move(raw));
    } catch (const std::invalid_argument& e) {
      fail_at(0, std::string("found a dictionary zstd cannot load (") + e.what() +
                     "), expected a zstd dictionary");
    }
    in.consume(8 + std::size_t{size});
  }

  std::size_t pending_left() const { return pending_end - pending_pos; }
  std::string_view pending_view() const {
    return std::string_view(pending.data() + pending_pos, pending_left());
  }
  void compact() {
    if (pending_pos == 0) return;
    std::memmove(pending.data(), pending.data() + pending_pos, pending_left());
    pending_end -= pending_pos;
    pending_pos = 0;
  }

  // Appends decoded bytes to `pending`, starting a new unit when the current one has ended.
  // `fresh`: no byte of the record has been seen yet. False when the data has ended.
  bool pull(bool fresh) {
    if (!dec->in_unit() && !dec->start_unit(fresh)) return false;
    compact();
    if (pending.size() - pending_end < kChunk) pending.resize(pending_end + kChunk);
    pending_end += dec->decode(pending.data() + pending_end, kChunk);
    return true;
  }

  // Ends of the unit starting at `start`, found by decoding it again (a unit holding several
  // records: other tools write whole files as one gzip member). A unit cut short or damaged
  // further on is taken to run to the end of the range, and `measured_damaged` is set: the
  // records before the damage still read whole, and reading on reaches the damage and throws.
  std::uint64_t unit_end(std::uint64_t start, std::uint64_t error_offset) {
    if (start == measured_start) return measured_end;
    RawInput again(fd, start, in.limit(), name);
    UnitDecoder d(comp, again, name);
    d.set_dictionary(dict.get());
    d.range_name = dec->range_name;
    d.error_offset = error_offset;
    d.start_unit(false);
    std::vector<char> scratch(kChunk);
    measured_damaged = false;
    try {
      while (d.in_unit()) d.decode(scratch.data(), scratch.size());
      measured_end = again.pos();
    } catch (const WarcFormatError&) {
      measured_damaged = true;
      measured_end = in.limit();
    }
    measured_start = start;
    return measured_end;
  }

  // Reads one record. `single`: the range must hold exactly this record.
  std::optional<WarcRecord> read_next(bool single) {
    compact();
    std::uint64_t& rec_start = dec->error_offset;
    bool fresh = pending_left() == 0 && !(comp != Compression::none && dec->in_unit());
    if (comp == Compression::none)
      rec_start = plain_next;
    else if (!fresh)
      rec_start = dec->unit_start();

    // Header.
    std::size_t head = 0;
    while ((head = header_length(pending_view())) == 0) {
      check_version_line(pending_view());
      if (pending_left() > kMaxHeader)
        dec->fail("found no blank line in the first " + std::to_string(kMaxHeader) +
                  " bytes of the record, expected a header ending with CRLF CRLF");
      if (!pull(fresh && pending_left() == 0)) {
        if (pending_left() == 0) return std::nullopt;
        dec->fail("found the end of " + dec->range_name + " after " +
                  std::to_string(pending_left()) +
                  " bytes of the record header, expected a header ending with CRLF CRLF");
      }
    }
    WarcRecord record;
    const std::uint64_t length =
        parse_header(pending_view().substr(0, head), record, name, rec_start);
    pending_pos += head;
    if (comp == Compression::none) {
      std::uint64_t room = in.limit() - rec_start - head;
      if (length > room || room - length < 4)
        dec->fail("found the end of " + dec->range_name + " after " +
                  std::to_string(std::min(room, length)) + " bytes of the block, expected " +
                  std::to_string(length) + " bytes and CRLF CRLF (record declares Content-Length " +
                  std::to_string(length) + ")");
    }

    // Block.
    std::string& block = record.block;
    block.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(length, 64 << 20)));
    std::size_t from_pending =
        static_cast<std::size_t>(std::min<std::uint64_t>(length, pending_left()));
    block.assign(pending_view().substr(0, from_pending));
    pending_pos += from_pending;
    // `filled` bytes of `block` are decoded; the string is only ever grown, so that a block
    // that arrives a few bytes per unit (many tiny frames or members) is not zero-filled anew
    // for each of them.
    std::size_t filled = block.size();
    while (filled < length) {
      if (!dec->in_unit() && !dec->start_unit(false))
        dec->fail("found the end of " + dec->range_name + " after " + std::to_string(filled) +
                  " bytes of the block, expected " + std::to_string(length) +
                  " bytes (record declares Content-Length " + std::to_string(length) + ")");
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(length - filled, kBlockStep));
      if (block.size() < filled + want) block.resize(filled + want);
      filled += dec->decode(block.data() + filled, want);
    }
    block.resize(filled);

    // CRLF CRLF.
    while (pending_left() < 4) {
      if (!pull(false))
        dec->fail("found the end of " + dec->range_name + " after the block and " +
                  quote(pending_view()) +
                  ", expected CRLF CRLF (record not followed by CRLF CRLF)");
    }
    if (pending_view().substr(0, 4) != "\r\n\r\n")
      dec->fail("found " + quote(pending_view().substr(0, 4)) +
                " after the block, expected CRLF CRLF (record not followed by CRLF CRLF)");
    pending_pos += 4;

    // Location.
    if (comp == Compression::none) {
      last = {rec_start, head + length + 4};
      plain_next = rec_start + last.length;
      if (single && pending_left() + (in.limit() - in.pos()) > 0) dec->fail(extra_bytes_message());
      return record;
    }
    // Decode on to the end of the unit (verifying its checksum) unless it holds more data.
    while (pending_left() == 0 && dec->in_unit()) pull(false);
    std::uint64_t end;
    last_in_damaged_unit = false;
    if (pending_left() == 0) {
      end = in.pos();
    } else {
      if (single) dec->fail(extra_bytes_message());
      end = unit_end(dec->unit_start(), rec_start);
      last_in_damaged_unit = measured_damaged;
    }
    last = {rec_start, end - rec_start};
    if (single && end != in.limit()) dec->fail(extra_bytes_message());
    return record;
  }

  std::string extra_bytes_message() const {
    return "found more data after the record in " + dec->range_name +
           ", expected exactly one record";
  }

  void check_version_line(std::string_view data) const {
    static constexpr std::string_view kV11 = "WARC/1.1\r\n", kV10 = "WARC/1.0\r\n";
    std::size_t n = std::min(data.size(), kV11.size());
    if (data.substr(0, n) == kV11.substr(0, n) || data.substr(0, n) == kV10.substr(0, n)) return;
    std::string_view line = data.substr(0, data.find_first_of("\r\n"));
    dec->fail("found " + quote(line) + ", expected a version line 'WARC/1.1' or 'WARC/1.0'");
  }

  std::optional<WarcRecord> next() {
    if (resumed) {
      std::optional<WarcRecord> r = std::move(resumed);
      resumed.reset();
      return r;
    }
    if (gave_up) return std::nullopt;
    if (failure) throw *failure;
    try {
      return read_next(false);
    } catch (const WarcFormatError& e) {
      failure = e;
      throw;
    }
  }

  // Offset of the next gzip member or zstd frame magic at or after `from`; in a plain file, of
  // the next version line right after a CRLF CRLF (where the record before it ended).
  // The bytes read there are kept: the next search, from just past the unit start found, reads
  // the file only past them.
  std::optional<std::uint64_t> find_unit_start(std::uint64_t from) {
    static constexpr std::string_view kPlainStart = "\r\n\r\nWARC/1.";
    const std::string_view magic = comp == Compression::gzip ? std::string_view("\x1f\x8b\x08", 3)
                                   : comp == Compression::zstd
                                       ? std::string_view("\x28\xb5\x2f\xfd", 4)
                                       : kPlainStart;
    const std::uint64_t skip = comp == Compression::none ? 4 : 0;  // the CRLF CRLF
    if (from >= skip) from -= skip;
    if (search_buf.size() < kReadSize) search_buf.resize(kReadSize);
    while (from < file_size && file_size - from >= magic.size()) {
      if (from < search_from || from + magic.size() > search_from + search_len) {
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(search_buf.size(), file_size - from));
        ssize_t got = ::pread(fd, search_buf.data(), want, static_cast<off_t>(from));
        if (got < 0 && errno == EINTR) continue;
        if (got < static_cast<ssize_t>(magic.size())) return std::nullopt;
        search_from = from;
        search_len = static_cast<std::size_t>(got);
      }
      const std::string_view view(search_buf.data() + (from - search_from),
                                  search_len - static_cast<std::size_t>(from - search_from));
      if (std::size_t at = view.find(magic); at != std::string_view::npos) return from + at + skip;
      from += view.size() - (magic.size() - 1);
    }
    return std::nullopt;
  }
  std::vector<char> search_buf;  // find_unit_start's window of the file
  std::uint64_t search_from = 0;
  std::size_t search_len = 0;

  // Before the first next(): reading starts at `from` (a record's start) and the file is taken
  // to end at `until`.
  void restrict_range(std::uint64_t from, std::uint64_t until) {
    file_size = std::min(file_size, until);
    std::uint64_t start = std::min(std::max(from, data_start), file_size);
    in.seek(start, file_size);
    pending_pos = pending_end = 0;
    dec->abandon_unit();
    plain_next = start;
    measured_start = kNoOffset;
  }

  // Where the plain record at `offset` says it ends (its header read again: Content-Length),
  // when its header reads.
  std::optional<std::uint64_t> declared_plain_end(std::uint64_t offset) {
    std::string head(
        static_cast<std::size_t>(std::min<std::uint64_t>(64 << 10, file_size - offset)), '\0');
    const ssize_t got = ::pread(fd, head.data(), head.size(), static_cast<off_t>(offset));
    if (got <= 0) return std::nullopt;
    head.resize(static_cast<std::size_t>(got));
    const std::size_t n = header_length(head);
    if (n == 0) return std::nullopt;
    try {
      WarcRecord scratch;
      const std::uint64_t length =
          parse_header(std::string_view(head).substr(0, n), scratch, name, offset);
      // Past the end of the file, however large (no sum that wraps around).
      if (length > file_size - offset - n || file_size - offset - n - length < 4) return UINT64_MAX;
      return offset + n + length + 4;
    } catch (const WarcFormatError&) {
      return std::nullopt;
    }
  }

  // Whether a whole, well-formed record starts at `at` (in a plain file, one whose block digest
  // holds: text in a block that merely looks like a record is not one); it is then `resumed`.
  bool intact_record_at(std::uint64_t at) {
    in.seek(at, file_size);
    pending_pos = pending_end = 0;
    dec->abandon_unit();
    dec->range_name = "the file";
    measured_start = kNoOffset;
    plain_next = at;
    try {
      resumed = read_next(false);
      if (resumed && comp == Compression::none && block_digest_matches(*resumed) != true)
        resumed.reset();
      // A unit of several records that does not end well is not whole: the search goes on.
      if (resumed && last_in_damaged_unit) resumed.reset();
    } catch (const WarcFormatError&) {
      resumed.reset();
    }
    return resumed.has_value();
  }

  // Whether the plain file from `at` on is whole records to its end. The records a chain that
  // breaks passes through are remembered: each would break the same way, so a torn block full
  // of records (a WARC file captured as a page) is read once, not once for each of them.
  bool whole_to_the_end(std::uint64_t at) {
    if (broken_chain.count(at)) return false;
    std::vector<std::uint64_t> starts{at};
    try {
      WarcReader rest(name, at, file_size);
      while (rest.next()) starts.push_back(rest.last_location().offset);
      return true;
    } catch (const std::exception&) {
      broken_chain.insert(starts.begin(), starts.end());
      return false;
    }
  }
  std::set<std::uint64_t> broken_chain;

  std::optional<std::uint64_t> resynchronise() {
    if (!failure || gave_up) return std::nullopt;
    std::uint64_t from = failure->offset() + 1;
    // A plain record whose header still reads is looked for first where it says it ends. One
    // that says it runs past the end of the file (a torn last record, or a Content-Length
    // damaged larger) may hold records of its own in its block (a WARC file captured as a
    // page): a record found inside it counts only when whole records follow it to the end.
    bool whole_tail_needed = false;
    if (comp == Compression::none) {
      if (auto end = declared_plain_end(failure->offset())) {
        if (*end > failure->offset() && *end < file_size && intact_record_at(*end)) {
          failure.reset();
          return *end;
        }
        whole_tail_needed = *end > file_size;
      }
    }
    while (auto at = find_unit_start(from)) {
      from = *at + 1;  // unless this is the start of an intact record
      if (!intact_record_at(*at)) continue;
      if (whole_tail_needed && !whole_to_the_end(*at)) {
        resumed.reset();
        continue;
      }
      failure.reset();
      return *at;
    }
    gave_up = true;
    return std::nullopt;
  }
};

}  // namespace

struct WarcReader::Impl : ReaderCore {
  using ReaderCore::ReaderCore;
};

WarcReader::WarcReader(const std::filesystem::path& file) : impl_(std::make_unique<Impl>(file)) {}
WarcReader::WarcReader(const std::filesystem::path& file, std::uint64_t from, std::uint64_t until)
    : impl_(std::make_unique<Impl>(file)) {
  impl_->restrict_range(from, until);
}
WarcReader::~WarcReader() = default;

std::optional<WarcRecord> WarcReader::next() {
  return impl_->next();
}
RecordLocation WarcReader::last_location() const {
  return impl_->last;
}
bool WarcReader::last_in_damaged_unit() const {
  return impl_->last_in_damaged_unit;
}
Compression WarcReader::compression() const {
  return impl_->comp;
}
std::uint64_t WarcReader::data_start() const {
  return impl_->data_start;
}
std::shared_ptr<const ZstdDictionary> WarcReader::dictionary() const {
  return impl_->dict;
}
std::optional<std::uint64_t> WarcReader::resynchronise() {
  return impl_->resynchronise();
}

namespace {

// Limits reading to the stored bytes of one record.
void seek_record(ReaderCore& impl, RecordLocation loc) {
  if (loc.length == 0 || loc.offset < impl.data_start || loc.offset > impl.file_size ||
      loc.length > impl.file_size - loc.offset)
    throw WarcFormatError(impl.name, loc.offset,
                          "found a file of " + std::to_string(impl.file_size) +
                              " bytes (data from " + std::to_string(impl.data_start) +
                              "), expected it to hold the " + std::to_string(loc.length) +
                              " bytes of the record's location");
  impl.in.seek(loc.offset, loc.offset + loc.length);
  impl.plain_next = loc.offset;
  impl.dec->error_offset = loc.offset;
  impl.dec->range_name = "the record's " + std::to_string(loc.length) + " stored bytes";
}

}  // namespace

WarcRecord read_record_at(const std::filesystem::path& file, RecordLocation loc) {
  ReaderCore impl(file);
  seek_record(impl, loc);
  std::optional<WarcRecord> record = impl.read_next(true);
  if (!record)
    throw WarcFormatError(impl.name, loc.offset, "found no record, expected one at this location");
  return std::move(*record);
}

std::string read_record_bytes_at(const std::filesystem::path& file, RecordLocation loc) {
  ReaderCore impl(file);
  seek_record(impl, loc);
  UnitDecoder& dec = *impl.dec;
  if (!dec.start_unit(true)) dec.fail("found no record, expected one at this location");
  // Grown as the record turns out to need, doubling: a fixed step of kBlockStep zero-filled
  // (and page-faulted) 4 MiB for every record, however small.
  constexpr std::size_t kFirstStep = 16 << 10;
  std::string bytes;
  std::size_t filled = 0;
  while (dec.in_unit()) {
    if (bytes.size() - filled < kFirstStep)
      bytes.resize(std::min(std::max(bytes.size() * 2, filled + kFirstStep), filled + kBlockStep));
    filled += dec.decode(bytes.data() + filled, bytes.size() - filled);
  }
  bytes.resize(filled);
  if (impl.in.ensure(1)) dec.fail(impl.extra_bytes_message());
  // Exactly one whole record: header, the block its Content-Length declares, CRLF CRLF.
  parse_record(bytes, impl.name, loc.offset);
  return bytes;
}

std::string salvage_record_bytes_at(const std::filesystem::path& file, RecordLocation loc,
                                    std::string& damage) {
  damage.clear();
  try {
    return read_record_bytes_at(file, loc);
  } catch (const WarcFormatError& e) {
    damage = e.what();
  }
  ReaderCore impl(file);
  seek_record(impl, loc);
  UnitDecoder& dec = *impl.dec;
  dec.salvage = true;
  std::string bytes;
  std::size_t filled = 0;
  // Decoded a little at a time: a call that meets damage throws away what it decoded, so each
  // call decodes at most this much (zstd hands out the blocks decoded before a corrupt one).
  constexpr std::size_t kSalvageStep = 512;
  try {
    while (dec.in_unit() || dec.start_unit(false)) {
      if (bytes.size() - filled < kSalvageStep) bytes.resize(filled + kChunk);
      filled += dec.decode(bytes.data() + filled, kSalvageStep);
    }
  } catch (const WarcFormatError&) {
    // Damage past the checksums: what decoded before it is what there is.
  }
  bytes.resize(filled);
  return bytes;
}

ScanResult scan_valid_prefix(const std::filesystem::path& file) {
  ScanResult result;
  result.file_size = std::filesystem::file_size(file);
  std::unique_ptr<WarcReader> reader;
  try {
    reader = std::make_unique<WarcReader>(file);
  } catch (const WarcFormatError& e) {
    result.error = e.what();
    return result;
  }
  result.valid_end = reader->data_start();
  bool damaged_unit = false;  // the records since valid_end are in a unit that does not end well
  for (;;) {
    try {
      if (!reader->next()) break;
    } catch (const WarcFormatError& e) {
      result.error = e.what();
      result.resumes_at = reader->resynchronise();
      break;
    }
    // Reading goes on to the damage, which throws: the unit ends no record.
    if (damaged_unit || reader->last_in_damaged_unit()) {
      damaged_unit = true;
      continue;
    }
    RecordLocation loc = reader->last_location();
    result.valid_end = loc.offset + loc.length;
    ++result.records;
  }
  if (damaged_unit && !result.error)
    result.error = file.string() + ": offset " + std::to_string(result.valid_end) +
                   ": found a damaged unit holding several records, expected it to end whole";
  return result;
}

}  // namespace vellum::warc
