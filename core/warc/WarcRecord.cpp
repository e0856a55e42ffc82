#include "warc/WarcRecord.h"

#include "util/Digest.h"
#include "util/Text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace vellum::warc {

namespace {

using util::iequals;
using util::quote;

// RFC 2616 token characters, which WARC field names are made of.
bool is_token_char(unsigned char c) {
  if (c <= 0x20 || c >= 0x7f) return false;
  static constexpr std::string_view kSeparators = "()<>@,;:\\\"/[]?={}";
  return kSeparators.find(static_cast<char>(c)) == std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void check_field(std::string_view name, std::string_view value) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return is_token_char(static_cast<unsigned char>(c));
      }))
    throw std::invalid_argument("WARC field name " + quote(name) + " is not a token");
  if (value.find_first_of("\r\n") != std::string_view::npos)
    throw std::invalid_argument("WARC field " + std::string(name) +
                                " has a line break in its value");
}

}  // namespace

WarcFormatError::WarcFormatError(std::string file, std::uint64_t offset, const std::string& message)
    : std::runtime_error(file + ": offset " + std::to_string(offset) + ": " + message),
      file_(std::move(file)),
      offset_(offset),
      detail_(message) {}

const std::string* WarcRecord::field(std::string_view name) const {
  for (const auto& [n, v] : fields)
    if (iequals(n, name)) return &v;
  return nullptr;
}

std::string WarcRecord::field_or(std::string_view name, std::string fallback) const {
  const std::string* v = field(name);
  return v ? *v : std::move(fallback);
}

void WarcRecord::set(std::string_view name, std::string value) {
  for (auto& [n, v] : fields) {
    if (iequals(n, name)) {
      v = std::move(value);
      return;
    }
  }
  fields.emplace_back(std::string(name), std::move(value));
}

std::string WarcRecord::serialize_header() const {
  return serialize_header(block.size());
}

std::string WarcRecord::serialize_header(std::uint64_t content_length) const {
  std::string out;
  std::size_t size = version.size() + 40;
  for (const auto& [n, v] : fields) size += n.size() + v.size() + 4;
  out.reserve(size);
  out += version;
  out += "\r\n";
  const std::string length = std::to_string(content_length);
  bool wrote_length = false;
  for (const auto& [n, v] : fields) {
    if (iequals(n, "Content-Length")) {
      if (wrote_length) continue;  // one Content-Length only
      out += n;
      out += ": ";
      out += length;
      out += "\r\n";
      wrote_length = true;
      continue;
    }
    check_field(n, v);
    out += n;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (!wrote_length) {
    out += "Content-Length: ";
    out += length;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

std::string WarcRecord::serialize() const {
  std::string out = serialize_header();
  out.reserve(out.size() + block.size() + 4);
  out += block;
  out += "\r\n\r\n";
  return out;
}

std::string WarcRecord::as_read() const {
  if (header_as_read.empty()) return serialize();
  std::string out;
  out.reserve(header_as_read.size() + block.size() + 4);
  out += header_as_read;
  out += block;
  out += "\r\n\r\n";
  return out;
}

std::size_t header_length(std::string_view data) {
  std::size_t pos = data.find("\r\n\r\n");
  return pos == std::string_view::npos ? 0 : pos + 4;
}

std::uint64_t parse_header(std::string_view header, WarcRecord& out, const std::string& file,
                           std::uint64_t offset) {
  auto fail = [&](const std::string& message) -> void {
    throw WarcFormatError(file, offset, message);
  };
  std::size_t eol = header.find("\r\n");
  std::string_view version = header.substr(0, eol);
  if (eol == std::string_view::npos || (version != "WARC/1.1" && version != "WARC/1.0"))
    fail("found " + quote(version) + ", expected a version line 'WARC/1.1' or 'WARC/1.0'");
  out.version = std::string(version);
  out.fields.clear();
  out.block.clear();
  out.header_as_read.assign(header);

  std::size_t pos = eol + 2;
  std::optional<std::uint64_t> length;
  for (;;) {
    std::size_t end = header.find("\r\n", pos);
    if (end == std::string_view::npos)
      fail("found a header without a blank line after " + std::to_string(header.size()) +
           " bytes, expected the header to end with CRLF CRLF");
    std::string_view line = header.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      // Continuation of the previous field's value (linear white space folding).
      if (out.fields.empty())
        fail("found a continuation line " + quote(line) + ", expected a field");
      std::string_view more = trim(line);
      std::string& value = out.fields.back().second;
      if (!more.empty()) {
        if (!value.empty()) value += ' ';
        value += more;
      }
      continue;
    }
    std::size_t colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? line : line.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() ||
        !std::all_of(name.begin(), name.end(),
                     [](char c) { return is_token_char(static_cast<unsigned char>(c)); }))
      fail("found " + quote(line) + ", expected a field 'Name: value'");
    out.fields.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
  }
  if (pos != header.size())
    fail("found " + std::to_string(header.size() - pos) +
         " bytes after the blank line of the header, expected the header to end there");

  for (const auto& [n, v] : out.fields) {
    if (!iequals(n, "Content-Length")) continue;
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size())
      fail("found Content-Length " + quote(v) + ", expected a decimal number");
    if (length && *length != value) fail("found two different Content-Length fields, expected one");
    length = value;
  }
  if (!length) fail("found no Content-Length field, expected one");
  return *length;
}

WarcRecord parse_record(std::string_view data, const std::string& file, std::uint64_t offset) {
  std::size_t head = header_length(data);
  if (head == 0) {
    // Report a bad version line before a missing blank line: it says more.
    std::string_view first = data.substr(0, data.find("\r\n"));
    if (first != "WARC/1.1" && first != "WARC/1.0")
      throw WarcFormatError(
          file, offset,
          "found " + quote(first) + ", expected a version line 'WARC/1.1' or 'WARC/1.0'");
    throw WarcFormatError(file, offset,
                          "found the end of the data " + std::to_string(data.size()) +
                              " bytes into the record header, expected a header ending with "
                              "CRLF CRLF");
  }
  WarcRecord record;
  std::uint64_t length = parse_header(data.substr(0, head), record, file, offset);
  std::uint64_t available = data.size() - head;
  if (length > available || available - length < 4) {
    if (length > available)
      throw WarcFormatError(file, offset,
                            "found the end of the data after " + std::to_string(available) +
                                " bytes of the block, expected " + std::to_string(length) +
                                " bytes (record declares Content-Length " + std::to_string(length) +
                                ")");
    throw WarcFormatError(file, offset,
                          "found " + quote(data.substr(head + length)) +
                              " after the block, expected CRLF CRLF (record not followed by "
                              "CRLF CRLF)");
  }
  std::string_view trailer = data.substr(head + length, 4);
  if (trailer != "\r\n\r\n")
    throw WarcFormatError(file, offset,
                          "found " + quote(trailer) +
                              " after the block, expected CRLF CRLF (record not followed by "
                              "CRLF CRLF)");
  if (data.size() > head + length + 4)
    throw WarcFormatError(file, offset,
                          "found " + std::to_string(data.size() - head - length - 4) +
                              " more bytes after the record, expected exactly one record");
  record.block.assign(data.substr(head, length));
  return record;
}

std::optional<bool> block_digest_matches(const WarcRecord& record) {
  const std::string* declared = record.field("WARC-Block-Digest");
  if (!declared) return std::nullopt;
  static constexpr std::string_view kSha1OfNothing = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ";
  if (!record.block.empty() && record.type() == "revisit" &&
      util::same_warc_sha1(*declared, kSha1OfNothing))
    return std::nullopt;
  return util::warc_digest_matches(*declared, record.block);
}

}  // namespace vellum::warc
