// The `backups` table (migrations/0002_backups.sql, 0005_backup_rotation.sql):
// the row each backup attempt writes when it starts and completes when it
// ends, the mark rotation leaves when it deletes a tarball, and the history
// GET /observability/backups lists. Each function runs synchronously on the
// connection its caller owns: callers run it off the io thread.
#pragma once

#include <boost/json/object.hpp>
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::backup {

// One row of `backups`.
struct backup_row {
    std::int64_t id = 0;
    std::int64_t started_ms = 0;
    std::optional<std::int64_t> finished_ms;
    std::string status;  // running|succeeded|failed
    std::optional<std::string> location;
    std::optional<std::int64_t> bytes;
    std::optional<std::string> sha256;
    std::optional<std::int64_t> db_bytes;
    std::optional<std::int64_t> events;
    std::optional<std::int64_t> last_offset;
    std::optional<std::string> error;
    std::string started_by = "manual";     // manual|scheduled
    std::optional<std::int64_t> deleted_ms; // rotation deleted the tarball then
};

// Inserts a `running` row started at `started_ms` by `started_by` (manual or
// scheduled); returns its id. Throws persistence::sqlite_error.
std::int64_t insert_backup_started(sqlite3* db, std::int64_t started_ms, std::string_view started_by = "manual");

// Completes row `row.id` with every field of `row`. Throws persistence::sqlite_error.
void update_backup_finished(sqlite3* db, const backup_row& row);

// Marks every `running` row failed ("interrupted: the server stopped before
// it ended"), finished at `now_ms`: for startup, when no backup can be
// running yet. Returns how many rows changed. Throws persistence::sqlite_error.
int mark_interrupted_backups(sqlite3* db, std::int64_t now_ms);

// The newest `limit` rows (1..1000), newest first. Throws persistence::sqlite_error.
std::vector<backup_row> list_backups(sqlite3* db, std::size_t limit);

// The succeeded rows whose tarball rotation has not deleted and whose
// location starts with `location_prefix` ("s3://bucket/prefix" or
// "<data-dir>/backups/"), newest first. Throws persistence::sqlite_error.
std::vector<backup_row> list_kept_backups(sqlite3* db, std::string_view location_prefix);

// Notes that rotation deleted row `id`'s tarball at `deleted_ms`; only a
// succeeded row not yet marked changes. Returns whether it did. Throws
// persistence::sqlite_error.
bool mark_backup_deleted(sqlite3* db, std::int64_t id, std::int64_t deleted_ms);

// The row as JSON: {"id", "status", "started_by", "started_at",
// "finished_at", "duration_ms", "location", "bytes", "sha256", "db_bytes",
// "events", "last_offset", "error", "deleted_at"}, times RFC 3339, absent
// values null.
boost::json::object to_json(const backup_row& row);

}  // namespace obs::backup
