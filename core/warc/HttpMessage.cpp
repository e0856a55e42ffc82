#include "warc/HttpMessage.h"

#include "util/Digest.h"
#include "util/Text.h"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <limits>
#include <memory>

namespace vellum::warc {

namespace {

constexpr std::size_t kChunk = 64 << 10;

using util::iequals;
using util::to_lower;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_token(std::string_view s) {
  static constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={}";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && kSeparators.find(c) == std::string_view::npos;
  });
}

// "1.1", "1.0", "2", "3": a digit, optionally a dot and a digit.
bool is_http_version(std::string_view v) {
  if (v.size() == 1) return is_digit(v[0]);
  return v.size() == 3 && is_digit(v[0]) && v[1] == '.' && is_digit(v[2]);
}

// Splits `text` at the next line end (LF, optionally preceded by CR). False when there is none.
bool next_line(std::string_view text, std::size_t& pos, std::string_view& line) {
  std::size_t lf = text.find('\n', pos);
  if (lf == std::string_view::npos) return false;
  line = text.substr(pos, lf - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos = lf + 1;
  return true;
}

// Appends `n` decoded bytes to `out` unless that passes `max_output`.
bool append_capped(std::string& out, const char* data, std::size_t n, std::uint64_t max_output,
                   std::string* error) {
  if (n > max_output || out.size() > max_output - n) {
    if (error)
      *error = "decoded content exceeds the limit of " + std::to_string(max_output) + " bytes";
    return false;
  }
  out.append(data, n);
  return true;
}

bool set_error(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

// zlib formats: gzip (several members allowed) or zlib/raw deflate.
// Data that ends early is an error, unless `partial` is given: then what decoded stands and
// *partial is set.
bool ends_early(const std::string& what, bool* partial, std::string* error) {
  if (!partial) return set_error(error, what + " data ends early");
  *partial = true;
  return true;
}

bool inflate_all(std::string_view in, bool gzip, std::uint64_t max_output, std::string& out,
                 std::string* error, bool* partial) {
  const char* name = gzip ? "gzip" : "deflate";
  int window_bits = 15 + 32;  // gzip or zlib header, detected
  if (!gzip) {
    // "deflate" is the zlib format, yet many servers send raw deflate data.
    bool zlib =
        in.size() >= 2 && (static_cast<unsigned char>(in[0]) & 0x0f) == 8 &&
        ((static_cast<unsigned char>(in[0]) << 8) | static_cast<unsigned char>(in[1])) % 31 == 0;
    window_bits = zlib ? 15 : -15;
  }
  z_stream zs{};
  if (inflateInit2(&zs, window_bits) != Z_OK) return set_error(error, "zlib: inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  char buf[kChunk];
  std::size_t pos = 0;
  for (;;) {
    constexpr std::size_t kMax = UINT_MAX;
    const uInt in_now = static_cast<uInt>(std::min(in.size() - pos, kMax));
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    zs.avail_in = in_now;
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    int rc = inflate(&zs, Z_NO_FLUSH);
    pos += in_now - zs.avail_in;
    if (!append_capped(out, buf, sizeof buf - zs.avail_out, max_output, error)) return false;
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow; anything else after the data is ignored.
      if (gzip && in.size() - pos >= 2 && in[pos] == '\x1f' && in[pos + 1] == '\x8b') {
        inflateReset(&zs);
        continue;
      }
      return true;
    }
    if (rc == Z_BUF_ERROR && pos == in.size() && zs.avail_out != 0)
      return ends_early(name, partial, error);
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return set_error(error, std::string(name) + " data is corrupt (" +
                                  (zs.msg ? zs.msg : "inflate failed") + ")");
  }
}

bool brotli_all(std::string_view in, std::uint64_t max_output, std::string& out, std::string* error,
                bool* partial) {
  std::unique_ptr<BrotliDecoderState, void (*)(BrotliDecoderState*)> state(
      BrotliDecoderCreateInstance(nullptr, nullptr, nullptr), BrotliDecoderDestroyInstance);
  if (!state) return set_error(error, "br: cannot create a decoder");
  const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
  std::size_t avail_in = in.size();
  char buf[kChunk];
  for (;;) {
    auto* next_out = reinterpret_cast<std::uint8_t*>(buf);
    std::size_t avail_out = sizeof buf;
    BrotliDecoderResult rc = BrotliDecoderDecompressStream(state.get(), &avail_in, &next_in,
                                                           &avail_out, &next_out, nullptr);
    if (!append_capped(out, buf, sizeof buf - avail_out, max_output, error)) return false;
    switch (rc) {
      case BROTLI_DECODER_RESULT_SUCCESS:
        return true;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        break;
      case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        // The input is all there is; what it decoded to may not all have fit in the buffer.
        if (avail_out == 0 || BrotliDecoderHasMoreOutput(state.get())) break;
        return ends_early("br", partial, error);
      case BROTLI_DECODER_RESULT_ERROR:
        return set_error(
            error, std::string("br data is corrupt (") +
                       BrotliDecoderErrorString(BrotliDecoderGetErrorCode(state.get())) + ")");
    }
  }
}

bool zstd_all(std::string_view in, std::uint64_t max_output, std::string& out, std::string* error,
              bool* partial) {
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!dctx) return set_error(error, "zstd: cannot create a decoder");
  // HTTP's zstd coding limits the window to 8 MiB (RFC 9659); so does the decoder's memory.
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, 23);
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  char buf[kChunk];
  std::size_t rc = 0;
  while (ib.pos < ib.size || rc != 0) {
    ZSTD_outBuffer ob{buf, sizeof buf, 0};
    std::size_t before = ib.pos;
    rc = ZSTD_decompressStream(dctx.get(), &ob, &ib);
    if (ZSTD_isError(rc))
      return set_error(error, std::string("zstd data is corrupt (") + ZSTD_getErrorName(rc) + ")");
    if (!append_capped(out, buf, ob.pos, max_output, error)) return false;
    if (rc != 0 && ib.pos == before && ob.pos < ob.size) return ends_early("zstd", partial, error);
  }
  return true;
}

}  // namespace

const std::string* HttpHead::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return &v;
  return nullptr;
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view item = trim(value.substr(pos, comma - pos));
    if (!item.empty()) out.push_back(to_lower(item));
    pos = comma + 1;
  }
  return out;
}

std::string combined_field(const std::vector<std::pair<std::string, std::string>>& headers,
                           std::string_view name) {
  std::string out;
  for (const auto& [n, v] : headers) {
    if (!iequals(n, name) || v.empty()) continue;
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

std::string HttpHead::combined(std::string_view name) const {
  return combined_field(headers, name);
}

std::string HttpHead::media_type() const {
  const std::string* ct = header("Content-Type");
  if (!ct) return {};
  std::string_view v = *ct;
  return to_lower(trim(v.substr(0, v.find(';'))));
}

std::string HttpHead::charset() const {
  const std::string* ct = header("Content-Type");
  if (!ct) return {};
  std::string_view v = *ct;
  std::size_t pos = v.find(';');
  while (pos != std::string_view::npos) {
    std::size_t next = v.find(';', pos + 1);
    std::string_view param = trim(v.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1));
    std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && iequals(trim(param.substr(0, eq)), "charset")) {
      std::string_view value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return to_lower(trim(value));
    }
    pos = next;
  }
  return {};
}

namespace {

std::optional<HttpHead> parse_one_head(std::string_view block) {
  HttpHead head;
  std::size_t pos = 0;
  std::string_view line;
  if (!next_line(block, pos, line)) return std::nullopt;
  head.start_line = std::string(line);
  if (line.size() >= 5 && util::iequals(line.substr(0, 5), "HTTP/")) {
    // "HTTP/1.1 200 OK", "HTTP/2 200", "HTTP/1.1 404". Read as leniently as HTTP clients do
    // (libcurl stored these, so they must restore): any case of "HTTP", several spaces or a
    // tab around the code, no space before the reason ("200OK").
    std::size_t sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos) return std::nullopt;
    std::string_view version = line.substr(5, sp - 5);
    std::string_view rest = line.substr(sp);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (!is_http_version(version) || rest.size() < 3 || !is_digit(rest[0]) || !is_digit(rest[1]) ||
        !is_digit(rest[2]) || (rest.size() > 3 && is_digit(rest[3])))
      return std::nullopt;
    head.http_version = std::string(version);
    head.status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    if (head.status < 100) return std::nullopt;
    head.reason = std::string(trim(rest.substr(3)));
  } else {
    // "GET /path HTTP/1.1"
    std::size_t sp1 = line.find(' ');
    std::size_t sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) return std::nullopt;
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method) || target.empty() || !version.starts_with("HTTP/") ||
        !is_http_version(version.substr(5)))
      return std::nullopt;
    head.http_version = std::string(version.substr(5));
  }
  for (;;) {
    if (!next_line(block, pos, line)) return std::nullopt;  // no blank line: not a whole head
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      // obs-fold: continues the previous header's value.
      if (!head.headers.empty()) {
        std::string_view more = trim(line);
        std::string& value = head.headers.back().second;
        if (!more.empty()) {
          if (!value.empty()) value += ' ';
          value += more;
        }
      }
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // not a header line; ignored as browsers do
    std::string_view name = trim(line.substr(0, colon));
    if (!is_token(name)) continue;
    head.headers.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
  }
  head.head_length = pos;
  return head;
}

// How many interim responses a block may hold before its final one.
constexpr int kMaxInterim = 16;

bool is_interim(const HttpHead& head) {
  return head.status >= 100 && head.status < 200 && head.status != 101;
}

}  // namespace

std::optional<HttpHead> parse_http_head(std::string_view block) {
  std::optional<HttpHead> head = parse_one_head(block);
  if (!head || !is_interim(*head)) return head;
  // Interim responses (1xx but 101 Switching Protocols; RFC 9110, 15.2) before the final one, as
  // some crawlers record them: the head is the final response's, and spans them. A 1xx response
  // with no response after it is the response.
  const std::size_t first = head->head_length;
  std::size_t at = first;
  for (int n = 0; n < kMaxInterim; ++n) {
    std::optional<HttpHead> next = parse_one_head(block.substr(at));
    if (!next || next->status == 0) break;
    at += next->head_length;
    const bool again = is_interim(*next);
    head = std::move(next);
    if (!again) break;
  }
  if (at == first) return head;
  head->interim_length = at - head->head_length;
  head->after_first_interim = std::string(block.substr(first, at - first));
  head->head_length = at;
  return head;
}

namespace {

// Walks chunked framing (see chunked_length), handing each chunk's data to `data`; a chunk cut
// short is handed over as far as it goes. Returns the message's length, or nullopt.
template <typename Sink>
std::optional<std::size_t> walk_chunks(std::string_view body, Sink&& data) {
  constexpr std::size_t kMaxDigits = 16;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t lf = body.find('\n', pos);
    if (lf == std::string_view::npos) return std::nullopt;
    std::size_t at = pos;
    while (at < lf && (body[at] == ' ' || body[at] == '\t')) ++at;  // lenient with other tools
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (; at < lf && util::hex_value(body[at]) >= 0; ++at, ++digits) {
      if (digits == kMaxDigits) return std::nullopt;
      size = size * 16 + static_cast<std::uint64_t>(util::hex_value(body[at]));
    }
    if (digits == 0 || size > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    pos = lf + 1;
    if (size == 0) break;
    if (size > body.size() - pos) {
      data(body.substr(pos));  // cut inside a chunk
      return std::nullopt;
    }
    data(body.substr(pos, size));
    pos += size;
    while (pos < body.size() && body[pos] == '\r') ++pos;
    if (pos == body.size() || body[pos] != '\n') return std::nullopt;
    ++pos;
  }
  // Trailer fields, then the empty line that ends the message.
  for (;;) {
    const std::size_t lf = body.find('\n', pos);
    if (lf == std::string_view::npos) return std::nullopt;
    const std::string_view line = body.substr(pos, lf - pos);
    pos = lf + 1;
    if (line.empty() || line == "\r") return pos;
  }
}

}  // namespace

std::optional<std::size_t> chunked_length(std::string_view body) {
  return walk_chunks(body, [](std::string_view) {});
}

Payload dechunk(std::string_view body) {
  Payload out;
  out.complete = walk_chunks(body, [&](std::string_view d) { out.bytes.append(d); }).has_value();
  return out;
}

std::string body_codings(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  auto add = [&out](const std::string& coding) {
    if (coding == "chunked" || coding == "identity") return;
    if (!out.empty()) out += ", ";
    out += coding;
  };
  for (const std::string& c : split_list(combined_field(headers, "Content-Encoding"))) add(c);
  for (const std::string& c : split_list(combined_field(headers, "Transfer-Encoding"))) add(c);
  return out;
}

bool is_chunked(const HttpHead& head) {
  std::vector<std::string> list = split_list(head.combined("Transfer-Encoding"));
  return !list.empty() && list.back() == "chunked";
}

Payload body_payload(std::string_view body, const HttpHead& head) {
  if (is_chunked(head)) return dechunk(body);
  return Payload{std::string(body), true};
}

Payload http_payload(std::string_view block, const HttpHead& head) {
  return body_payload(block.substr(std::min(head.head_length, block.size())), head);
}

std::string payload_digest(std::string_view body, const HttpHead& head, bool* complete) {
  if (complete) *complete = true;
  if (!is_chunked(head)) return util::warc_sha1(body);
  util::Sha1 sha;
  const bool whole = walk_chunks(body, [&](std::string_view d) { sha.update(d); }).has_value();
  if (complete) *complete = whole;
  return util::warc_sha1(sha.finish());
}

std::optional<bool> payload_digest_matches(std::string_view body, const HttpHead& head,
                                           std::string_view declared) {
  std::optional<bool> matches;
  if (!is_chunked(head)) {
    matches = util::warc_digest_matches(declared, body);
  } else {
    matches = util::warc_digest_matches(declared, dechunk(body).bytes);
    if (matches == false) matches = util::warc_digest_matches(declared, body);
  }
  if (matches != false || head.interim_length == 0) return matches;
  // A tool that took the first (interim) head for the response digested everything after it.
  util::Sha1 past_first;
  past_first.update(head.after_first_interim);
  past_first.update(body);
  return util::warc_digest_matches(declared, past_first.finish());
}

std::optional<std::string> decode_content(std::string_view payload,
                                          std::string_view content_encoding,
                                          std::uint64_t max_output, std::string* error,
                                          bool* partial) {
  if (partial) *partial = false;
  std::vector<std::string> codings = split_list(content_encoding);
  for (const std::string& c : codings) {
    if (c != "gzip" && c != "x-gzip" && c != "deflate" && c != "br" && c != "zstd" &&
        c != "identity") {
      set_error(error, "unknown content coding '" + c + "'");
      return std::nullopt;
    }
  }
  std::string current(payload);
  if (current.empty()) return current;  // nothing to decode (HEAD, 204, 304)
  if (current.size() > max_output) {
    set_error(error, "content exceeds the limit of " + std::to_string(max_output) + " bytes");
    return std::nullopt;
  }
  // Codings are listed in the order they were applied: undo the last one first.
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    const std::string& c = *it;
    if (c == "identity") continue;
    std::string next;
    bool ok;
    if (c == "gzip" || c == "x-gzip")
      ok = inflate_all(current, true, max_output, next, error, partial);
    else if (c == "deflate")
      ok = inflate_all(current, false, max_output, next, error, partial);
    else if (c == "br")
      ok = brotli_all(current, max_output, next, error, partial);
    else
      ok = zstd_all(current, max_output, next, error, partial);
    if (!ok) return std::nullopt;
    current = std::move(next);
  }
  return current;
}

}  // namespace vellum::warc
