// `vellum verify`: recompute every digest and check that index and WARC files agree.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "archive/ArchiveReader.h"

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

// Every record of every WARC file, and every index row.
VerifyReport verify_archive(ArchiveReader& reader, const VerifyProgress& progress = {});

// One capture: its records' digests, its payload digest, and its index row.
VerifyReport verify_capture(ArchiveReader& reader, const index::CaptureRow& row);

}  // namespace vellum::archive
