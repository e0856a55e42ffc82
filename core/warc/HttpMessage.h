// HTTP messages as stored in WARC request/response blocks: parsing the head, removing chunked
// transfer coding, payload digests, and decoding Content-Encoding when the content is read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vellum::warc {

struct HttpHead {
  std::string start_line;    // "HTTP/1.1 200 OK" or "GET /x HTTP/1.1"
  std::string http_version;  // "1.1", "2"
  int status = 0;            // responses only
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, names as written
  std::size_t head_length = 0;  // bytes up to and including the blank line
  // Interim responses (1xx) recorded before the final one: their bytes, counted in head_length
  // (the fields above are the final response's), and the bytes from the end of the first of
  // them to the body, for a payload digest computed past the first head only.
  std::size_t interim_length = 0;
  std::string after_first_interim;

  const std::string* header(std::string_view name) const;  // case-insensitive, first match
  // Every field line of that name joined by ", ", as one list (RFC 9110, 5.3): "gzip, br" for
  // two Content-Encoding lines. Empty when there is none.
  std::string combined(std::string_view name) const;
  // Content-Type's media type, lower case, without parameters ("text/html").
  std::string media_type() const;
  // Content-Type's charset parameter, lower case; empty when absent.
  std::string charset() const;
};

// Every field line named `name` (case-insensitive) joined by ", ", as one list (RFC 9110, 5.3);
// empty when there is none. HttpHead::combined, for any list of fields (a page's headers).
std::string combined_field(const std::vector<std::pair<std::string, std::string>>& headers,
                           std::string_view name);

// The codings on a response body once chunked framing is removed, in the order they were
// applied, as decode_content takes them: Content-Encoding's, then Transfer-Encoding's other than
// chunked (a server may send "Transfer-Encoding: gzip, chunked" to a client that asked for it).
// `headers` are the response's header fields.
std::string body_codings(const std::vector<std::pair<std::string, std::string>>& headers);

// Splits a comma-separated field value into trimmed, lower-case, non-empty items.
std::vector<std::string> split_list(std::string_view value);

// Parses the head of an HTTP message block (status or request line and header lines, ending at
// CRLF CRLF or LF LF). nullopt when `block` does not start with a well-formed head. A response
// block that starts with interim responses (1xx other than 101) gives the final response's head,
// spanning them.
std::optional<HttpHead> parse_http_head(std::string_view block);

struct Payload {
  std::string bytes;     // entity body with chunked transfer coding removed
  bool complete = true;  // false when the chunked framing ended early (truncated capture)
};

// The length of the chunked message at the start of `body`, through the blank line after its
// trailer fields; nullopt when it ends early or breaks the framing. Chunked framing is read as
// libcurl reads it: a chunk size of up to 16 hexadecimal digits (leading zeros included),
// anything after them on the line ignored (chunk extensions), the chunk's data followed by a
// line feed after any carriage returns, and trailer lines up to an empty one.
std::optional<std::size_t> chunked_length(std::string_view body);

// The entity body of a response block: everything after the head, with chunked transfer coding
// removed when Transfer-Encoding says chunked. Malformed chunking keeps what decoded cleanly
// and sets complete = false. body_payload does the same for the body alone (the bytes after
// the head).
Payload body_payload(std::string_view body, const HttpHead& head);
Payload http_payload(std::string_view block, const HttpHead& head);

// True when the last transfer coding is chunked.
bool is_chunked(const HttpHead& head);

// Statuses a browser follows a Location of (Fetch, "redirect status"): not 300 or 304.
inline bool is_redirect_status(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// WARC-Payload-Digest ("sha1:...") of a response body (the bytes after the head), without
// copying it. `complete`, when given, is set to false when chunked framing ends early (the
// digest is then of the part that decoded).
std::string payload_digest(std::string_view body, const HttpHead& head, bool* complete = nullptr);

// Whether a declared WARC-Payload-Digest (see util::warc_digest_matches) is that of a response
// body (the bytes after the head): of the entity with chunked transfer coding removed, as Vellum
// and the WARC 1.1 text have it, or, for a chunked body, of the bytes as transferred, as several
// other tools compute it; after interim responses (1xx), also of everything after the first
// head, as a tool that took that head for the response computes it. nullopt when the
// declaration cannot be checked (another algorithm).
std::optional<bool> payload_digest_matches(std::string_view body, const HttpHead& head,
                                           std::string_view declared);

// Removes chunked transfer coding from `body`.
Payload dechunk(std::string_view body);

// Decodes Content-Encoding (gzip, x-gzip, deflate, br, zstd, identity, in the order the header
// lists them). Output is capped at `max_output` bytes; returns nullopt with `error` set when an
// encoding is unknown, the data is corrupt, or the cap is reached. Data that ends early (a body
// cut at the size cap) is an error too, unless `partial` is given: then what decoded is
// returned and *partial is set to true.
std::optional<std::string> decode_content(std::string_view payload,
                                          std::string_view content_encoding,
                                          std::uint64_t max_output, std::string* error,
                                          bool* partial = nullptr);

}  // namespace vellum::warc
