// RAII ownership of SQLite C handles and the few helpers every SQL caller
// needs. Errors from SQLite are thrown as sqlite_error (an infrastructure
// failure); expected outcomes are return values.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace obs::persistence {

struct db_closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct stmt_finalizer {
    void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;      // owns a connection
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;  // owns a statement

// A failed SQLite call: the message holds sqlite3_errmsg and the result code.
class sqlite_error : public std::runtime_error {
public:
    sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;  // the SQLite (extended) result code
};

// Throws sqlite_error naming `context` when `rc` is not SQLITE_OK/ROW/DONE.
void check(sqlite3* db, int rc, std::string_view context);

// Runs one or more statements without results (sqlite3_exec); throws on error.
void exec(sqlite3* db, std::string_view sql);

// Prepares one statement (SQLITE_PREPARE_PERSISTENT); throws on error.
stmt_ptr prepare(sqlite3* db, std::string_view sql);

// The text of column `col` of `stmt`'s current row, all of its bytes (not
// only up to a NUL); empty for NULL. Valid until the next step, reset or
// finalize of `stmt`. Inline: the read routes call it for every column.
inline std::string_view column_text_view(sqlite3_stmt* stmt, int col) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
    if (text == nullptr) return {};
    return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, col))};
}

// The text of column `col` as column_text_view reads it, or nullopt for NULL
// (an optional field of the API's objects).
inline std::optional<std::string> column_optional_text(sqlite3_stmt* stmt, int col) {
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL) return std::nullopt;
    return std::string{column_text_view(stmt, col)};
}

enum class durability { normal, full };  // PRAGMA synchronous=NORMAL or FULL

// Opens `path` as the writer or a reader: WAL, busy_timeout, foreign keys,
// synchronous per `d`; readers open SQLITE_OPEN_READONLY. Throws on error.
db_ptr open_database(const std::string& path, bool read_only, durability d = durability::normal);

// The settings of the one writer connection, on top of open_database's:
// no automatic checkpoint (the writer schedules its own, off the commit
// path), journal_size_limit, a page cache sized for the indexes' working set
// and in-memory savepoint journals. Throws sqlite_error.
void apply_writer_pragmas(sqlite3* db, std::int64_t wal_size_limit_bytes);

// journal_size_limit: SQLite truncates a WAL file larger than this on the
// first commit after the WAL restarts (-1: never).
void set_wal_size_limit(sqlite3* db, std::int64_t bytes);

}  // namespace obs::persistence
