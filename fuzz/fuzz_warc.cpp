// The WARC reader on arbitrary bytes: plain, gzip and zstd files (with or without a dictionary
// frame), record by record, then each record's HTTP head, payload and content decoding, and
// the scan that recovery uses. Anything but a clean WarcFormatError is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>

#include "warc/HttpMessage.h"
#include "warc/WarcReader.h"

namespace {

std::string scratch_file() {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/vellum-fuzz-warc-" + std::to_string(::getpid());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = scratch_file();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    vellum::warc::WarcReader reader(path);
    int records = 0;
    while (auto rec = reader.next()) {
      if (++records > 64) break;
      auto loc = reader.last_location();
      auto again = vellum::warc::read_record_at(path, loc);
      if (again.record_id() != rec->record_id()) __builtin_trap();
      if (auto head = vellum::warc::parse_http_head(rec->block)) {
        // The head lies within the block; interim responses, when any, before the final head.
        if (head->head_length > rec->block.size() ||
            (head->interim_length > 0 && head->interim_length >= head->head_length))
          __builtin_trap();
        (void)vellum::warc::payload_digest_matches(
            std::string_view(rec->block).substr(head->head_length), *head,
            "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        auto payload = vellum::warc::http_payload(rec->block, *head);
        if (const std::string* ce = head->header("Content-Encoding")) {
          std::string error;
          (void)vellum::warc::decode_content(payload.bytes, *ce, 1 << 20, &error);
        }
      }
    }
  } catch (const vellum::warc::WarcFormatError&) {
  }
  (void)vellum::warc::scan_valid_prefix(path);
  return 0;
}
