// Records, files and helpers shared by the WARC tests.
#pragma once

#include "support/Tools.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "support/TempDir.h"
#include "util/Digest.h"
#include "util/Uuid.h"
#include "warc/WarcReader.h"
#include "warc/WarcRecord.h"
#include "warc/WarcWriter.h"

namespace vellum::warc::testing {

// Deterministic bytes covering every byte value, NUL included.
inline std::string binary_bytes(std::size_t n, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>(i < 256 ? i : rng() % 4 == 0 ? 0 : rng() & 0xff);
  return out;
}

inline WarcRecord make_record(std::string type,
                              std::vector<std::pair<std::string, std::string>> extra,
                              std::string block) {
  WarcRecord r;
  r.set("WARC-Type", std::move(type));
  r.set("WARC-Record-ID", util::new_record_id());
  r.set("WARC-Date", "2026-11-26T02:11:17.123456Z");
  for (auto& [n, v] : extra) r.set(n, std::move(v));
  r.set("WARC-Block-Digest", util::warc_sha1(block));
  r.block = std::move(block);
  return r;
}

inline WarcRecord warcinfo_record(const std::string& filename) {
  return make_record("warcinfo",
                     {{"WARC-Filename", filename}, {"Content-Type", "application/warc-fields"}},
                     "software: Vellum/0.1.0\r\nformat: WARC File Format 1.1\r\n");
}

inline WarcRecord request_record(const std::string& url) {
  std::string host = url.substr(url.find("//") + 2);
  std::string path = host.substr(host.find('/'));
  host = host.substr(0, host.find('/'));
  return make_record(
      "request", {{"WARC-Target-URI", url}, {"Content-Type", "application/http;msgtype=request"}},
      "GET " + path + " HTTP/1.1\r\nHost: " + host +
          "\r\nUser-Agent: Vellum/0.1.0\r\nAccept: */*\r\n\r\n");
}

inline WarcRecord response_record(const std::string& url, const std::string& body,
                                  const std::string& media_type = "application/octet-stream") {
  std::string block = "HTTP/1.1 200 OK\r\nContent-Type: " + media_type +
                      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return make_record("response",
                     {{"WARC-Target-URI", url},
                      {"WARC-IP-Address", "127.0.0.1"},
                      {"Content-Type", "application/http;msgtype=response"},
                      {"WARC-Payload-Digest", util::warc_sha1(body)}},
                     std::move(block));
}

// warcinfo, then request/response pairs; the first response body is binary with NUL bytes.
inline std::vector<WarcRecord> sample_records(int pairs = 3, std::size_t binary_size = 5000) {
  std::vector<WarcRecord> out;
  out.push_back(warcinfo_record("sample.warc"));
  for (int i = 0; i < pairs; ++i) {
    std::string url = "http://example.com/page-" + std::to_string(i);
    out.push_back(request_record(url));
    std::string body = i == 0 ? binary_bytes(binary_size)
                              : "<html><body><p>Page " + std::to_string(i) +
                                    " of the sample archive.</p></body></html>\n";
    out.push_back(response_record(url, body, i == 0 ? "application/octet-stream" : "text/html"));
  }
  return out;
}

// Fields as a reader returns them: as written, plus Content-Length at the end.
inline std::vector<std::pair<std::string, std::string>> fields_as_stored(const WarcRecord& r) {
  auto fields = r.fields;
  if (!r.field("Content-Length"))
    fields.emplace_back("Content-Length", std::to_string(r.block.size()));
  return fields;
}

struct WrittenFile {
  std::filesystem::path path;
  std::string preamble;
  std::vector<RecordLocation> locations;  // where append() put each record
  std::string serialized;                 // all records uncompressed, concatenated
};

// Writes `records` with `options` through RecordEncoder and WarcFile.
inline WrittenFile write_warc(const std::filesystem::path& path, const EncoderOptions& options,
                              const std::vector<WarcRecord>& records) {
  RecordEncoder encoder(options);
  WrittenFile out;
  out.path = path;
  out.preamble = encoder.file_preamble();
  auto file = WarcFile::create(path, out.preamble);
  for (const WarcRecord& r : records) {
    std::string serialized = r.serialize();
    std::string encoded = encoder.encode(serialized);
    std::uint64_t offset = file->append(encoded);
    out.locations.push_back({offset, encoded.size()});
    out.serialized += serialized;
  }
  file->sync();
  return out;
}

// A dictionary trained on synthetic records resembling the archive's.
inline std::string trained_dictionary() {
  std::vector<std::string> samples;
  for (int i = 0; i < 60; ++i) {
    std::string url = "http://example.com/articles/" + std::to_string(i * 7919 % 1000);
    samples.push_back(request_record(url).serialize());
    std::string body = "<!doctype html><html><head><title>Article " + std::to_string(i) +
                       "</title><meta charset=\"utf-8\"></head><body><main><h1>Headline " +
                       std::to_string(i * 31) + "</h1><p>Body text of the article, paragraph " +
                       std::to_string(i) + ".</p></main></body></html>\n";
    samples.push_back(response_record(url, body, "text/html; charset=utf-8").serialize());
  }
  return ZstdDictionary::train(samples, 8 << 10);
}

using test::shell_quote;

// Runs a shell command; returns its exit status and standard output.
inline std::pair<int, std::string> run_command(const std::string& command) {
  return test::shell(command);
}

}  // namespace vellum::warc::testing
