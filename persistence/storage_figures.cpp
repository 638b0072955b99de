// The storage figures of /metrics; see storage_figures.hpp.
#include "persistence/storage_figures.hpp"

#include "persistence/sqlite_handle.hpp"

namespace obs::persistence {

namespace {

// Offsets grow with receipt, so the lowest offset is the oldest event: a
// primary-key lookup. Artifact contents are stored once per sha256 however
// many rows name them.
constexpr const char* sql_figures =
    "SELECT (SELECT count(*) FROM events),"
    " (SELECT count(*) FROM runs),"
    " (SELECT received_ms FROM events ORDER BY \"offset\" LIMIT 1),"
    " (SELECT coalesce(sum(size), 0) FROM (SELECT DISTINCT sha256, size FROM artifacts))";

}  // namespace

storage_figures read_storage_figures(sqlite3* db) {
    stmt_ptr stmt = prepare(db, sql_figures);
    check(db, sqlite3_step(stmt.get()), sql_figures);
    storage_figures f;
    f.events = sqlite3_column_int64(stmt.get(), 0);
    f.runs = sqlite3_column_int64(stmt.get(), 1);
    if (sqlite3_column_type(stmt.get(), 2) != SQLITE_NULL) f.oldest_received_ms = sqlite3_column_int64(stmt.get(), 2);
    f.artifact_bytes = sqlite3_column_int64(stmt.get(), 3);
    return f;
}

}  // namespace obs::persistence
