// `vellum verify`: recompute every digest and check that index and WARC files agree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "archive/ArchiveReader.h"
#include "archive/RecordBuilder.h"
#include "warc/WarcRecord.h"

namespace vellum::archive {

struct VerifyReport {
  unsigned files = 0;
  std::uint64_t records = 0;
  std::uint64_t captures = 0;
  std::vector<std::string> problems;  // one line each: where, what was found, what was expected
  bool ok() const { return problems.empty(); }
};

// Called with bytes checked so far and the total.
using VerifyProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

// What is wrong with the digests `rec` declares (its block; a response's payload, and that an
// HTTP response has its head), one line each; empty when nothing is. Digests in a form Vellum
// cannot compute are left unchecked. Import refuses what verify would report.
std::vector<std::string> digest_problems(const warc::WarcRecord& rec);

// The same, appended to `problems`, each line naming `where`.
void check_record(const warc::WarcRecord& rec, const std::string& where,
                  std::vector<std::string>& problems);

// Whether an article (metadata) record's WARC-Refers-To and WARC-Date, as read, are its
// capture's response and the date the index holds; one line per difference.
void compare_article(const std::string& refers_to, const std::string& date,
                     const index::ArticleRow& article, const index::CaptureRow& capture,
                     std::vector<std::string>& problems);

// Checks that a request record belongs to its response as the index pairs them (pairing_of:
// linked by WARC-Concurrent-To, and of the same WARC-Target-URI).
void check_request_of(const RecordLink& request, const RecordLink& response,
                      const std::string& where, std::vector<std::string>& problems);
void check_request_of(const warc::WarcRecord& request, const warc::WarcRecord& response,
                      const std::string& where, std::vector<std::string>& problems);

// Compares what a response or revisit record says (`stored`, read from the record by
// row_from_record) with the index's row for it: type, HTTP status, URL, date, payload digest
// and the record a revisit refers to. One line per difference.
void compare_with_index(const index::CaptureRow& stored, const index::CaptureRow& indexed,
                        std::vector<std::string>& problems);

// Every record of every WARC file, and every index row.
VerifyReport verify_archive(ArchiveReader& reader, const VerifyProgress& progress = {});

// One capture: its records' digests, its payload digest, and its index row.
VerifyReport verify_capture(ArchiveReader& reader, const index::CaptureRow& row);

}  // namespace vellum::archive
