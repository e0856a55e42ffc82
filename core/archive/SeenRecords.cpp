#include "archive/SeenRecords.h"

#include <stdexcept>
#include <string_view>

namespace vellum::archive {

using index::TempDatabase;

namespace {

// Seen records as bytes: each text as its length (4 bytes, little-endian) and its bytes, each
// number as 8 bytes.
class Packer {
 public:
  void text(const std::string& s) {
    number(s.size(), 4);
    out_ += s;
  }
  void number(std::uint64_t v, int bytes = 8) {
    for (int i = 0; i < bytes; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class Unpacker {
 public:
  explicit Unpacker(std::string_view in) : in_(in) {}
  std::string text() {
    const std::size_t n = static_cast<std::size_t>(number(4));
    if (n > in_.size()) throw std::logic_error("verify: a seen record does not unpack");
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  std::uint64_t number(int bytes = 8) {
    if (in_.size() < static_cast<std::size_t>(bytes))
      throw std::logic_error("verify: a seen record does not unpack");
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v |= std::uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    in_.remove_prefix(static_cast<std::size_t>(bytes));
    return v;
  }

 private:
  std::string_view in_;
};

// Every text field of a row, and every number, in the order they are packed.
constexpr std::string index::CaptureRow::*kRowTexts[] = {
    &index::CaptureRow::capture_id,  &index::CaptureRow::record_id,
    &index::CaptureRow::record_type, &index::CaptureRow::url,
    &index::CaptureRow::surt,        &index::CaptureRow::date,
    &index::CaptureRow::mime,        &index::CaptureRow::payload_digest,
    &index::CaptureRow::refers_to,   &index::CaptureRow::original_uri,
    &index::CaptureRow::location,    &index::CaptureRow::ip,
    &index::CaptureRow::file};
constexpr std::uint64_t index::CaptureRow::*kRowNumbers[] = {
    &index::CaptureRow::offset, &index::CaptureRow::length, &index::CaptureRow::request_offset,
    &index::CaptureRow::request_length};

void pack_row(Packer& p, const index::CaptureRow& row) {
  for (auto field : kRowTexts) p.text(row.*field);
  for (auto field : kRowNumbers) p.number(row.*field);
  p.number(static_cast<std::uint32_t>(row.status));
  p.number(row.truncated ? 1 : 0);
}

index::CaptureRow unpack_row(Unpacker& u) {
  index::CaptureRow row;
  for (auto field : kRowTexts) row.*field = u.text();
  for (auto field : kRowNumbers) row.*field = u.number();
  row.status = static_cast<int>(static_cast<std::uint32_t>(u.number()));
  row.truncated = u.number() != 0;
  return row;
}

constexpr std::string index::ArticleRow::*kArticleTexts[] = {
    &index::ArticleRow::capture_id,    &index::ArticleRow::record_id, &index::ArticleRow::file,
    &index::ArticleRow::date,          &index::ArticleRow::title,     &index::ArticleRow::published,
    &index::ArticleRow::source_domain, &index::ArticleRow::extractor};

std::string pack(const Seen& s) {
  Packer p;
  p.text(s.type);
  pack_row(p, s.fields);
  p.text(s.link.record_id);
  p.text(s.link.uri);
  p.number(s.link.concurrent_to.size());
  for (const auto& c : s.link.concurrent_to) p.text(c);
  return std::move(p.bytes());
}

Seen unpack(std::string file, std::uint64_t offset, std::string_view bytes) {
  Seen s;
  s.file = std::move(file);
  s.offset = offset;
  Unpacker u(bytes);
  s.type = u.text();
  s.fields = unpack_row(u);
  s.link.record_id = u.text();
  s.link.uri = u.text();
  for (std::uint64_t n = u.number(); n > 0; --n) s.link.concurrent_to.push_back(u.text());
  return s;
}

// An index row and the article row the index holds for it.
std::string pack(const index::CaptureRow& row, const std::optional<index::ArticleRow>& article) {
  Packer p;
  pack_row(p, row);
  p.number(article ? 1 : 0);
  if (article) {
    for (auto field : kArticleTexts) p.text((*article).*field);
    p.number(article->offset);
    p.number(article->length);
  }
  return std::move(p.bytes());
}

void unpack(std::string_view bytes, index::CaptureRow& row,
            std::optional<index::ArticleRow>& article) {
  Unpacker u(bytes);
  row = unpack_row(u);
  article.reset();
  if (u.number() == 0) return;
  article.emplace();
  for (auto field : kArticleTexts) (*article).*field = u.text();
  article->offset = u.number();
  article->length = u.number();
}

}  // namespace

SeenRecords::SeenRecords() : db_("the records `verify` has seen") {
  db_.exec(
      "CREATE TABLE seen(kind INTEGER, key BLOB, file BLOB, offset INTEGER, data BLOB, "
      "indexed INTEGER DEFAULT 0, PRIMARY KEY(kind, key))");
  db_.exec("CREATE TABLE rows(data BLOB)");
  db_.exec("BEGIN");
  add_row_ = db_.prepare("INSERT INTO rows(data) VALUES(?)");
  rows_ = db_.prepare("SELECT data FROM rows ORDER BY rowid");
  add_ = db_.prepare("INSERT OR IGNORE INTO seen(kind, key, file, offset, data) VALUES(?,?,?,?,?)");
  find_ = db_.prepare("SELECT file, offset, data FROM seen WHERE kind = ? AND key = ?");
  mark_ = db_.prepare("UPDATE seen SET indexed = 1 WHERE kind = ? AND key = ?");
  unindexed_ = db_.prepare(
      "SELECT key, file, offset, data FROM seen WHERE kind = ? AND indexed = 0 ORDER BY rowid");
}

bool SeenRecords::add(Kind kind, const std::string& key, const Seen& s) {
  TempDatabase::bind(add_, 1, std::int64_t{kind});
  TempDatabase::bind(add_, 2, key);
  TempDatabase::bind(add_, 3, s.file);
  TempDatabase::bind(add_, 4, static_cast<std::int64_t>(s.offset));
  TempDatabase::bind(add_, 5, pack(s));
  return db_.run(add_) > 0;
}

std::optional<Seen> SeenRecords::find(Kind kind, const std::string& key) {
  TempDatabase::bind(find_, 1, std::int64_t{kind});
  TempDatabase::bind(find_, 2, key);
  std::optional<Seen> s;
  try {
    if (db_.next(find_))
      s = unpack(std::string(TempDatabase::column(find_, 0)),
                 static_cast<std::uint64_t>(TempDatabase::column_int(find_, 1)),
                 TempDatabase::column(find_, 2));
  } catch (...) {
    TempDatabase::reset(find_);
    throw;
  }
  TempDatabase::reset(find_);
  return s;
}

void SeenRecords::add_row(const index::CaptureRow& row,
                          const std::optional<index::ArticleRow>& article) {
  TempDatabase::bind(add_row_, 1, pack(row, article));
  db_.run(add_row_);
}

void SeenRecords::each_row(
    const std::function<void(const index::CaptureRow&, const std::optional<index::ArticleRow>&)>&
        each) {
  index::CaptureRow row;
  std::optional<index::ArticleRow> article;
  try {
    while (db_.next(rows_)) {
      unpack(TempDatabase::column(rows_, 0), row, article);
      each(row, article);
    }
  } catch (...) {
    TempDatabase::reset(rows_);
    throw;
  }
}

void SeenRecords::mark_indexed(Kind kind, const std::string& key) {
  TempDatabase::bind(mark_, 1, std::int64_t{kind});
  TempDatabase::bind(mark_, 2, key);
  db_.run(mark_);
}

void SeenRecords::each_unindexed(Kind kind,
                                 const std::function<bool(const std::string&, const Seen&)>& each) {
  TempDatabase::bind(unindexed_, 1, std::int64_t{kind});
  try {
    while (db_.next(unindexed_)) {
      const std::string key(TempDatabase::column(unindexed_, 0));
      if (!each(key, unpack(std::string(TempDatabase::column(unindexed_, 1)),
                            static_cast<std::uint64_t>(TempDatabase::column_int(unindexed_, 2)),
                            TempDatabase::column(unindexed_, 3)))) {
        TempDatabase::reset(unindexed_);
        return;
      }
    }
  } catch (...) {
    TempDatabase::reset(unindexed_);
    throw;
  }
}

}  // namespace vellum::archive
