// SQL of the `backups` table (see backup_record.hpp).
#include "backup/backup_record.hpp"

#include "domain/time.hpp"
#include "persistence/sqlite_handle.hpp"

#include <algorithm>

namespace obs::backup {

namespace {

constexpr const char* insert_started_sql =
    "INSERT INTO backups(started_ms, status, started_by) VALUES (?1, 'running', ?2)";
constexpr const char* update_finished_sql =
    "UPDATE backups SET finished_ms = ?2, status = ?3, location = ?4, bytes = ?5, sha256 = ?6, db_bytes = ?7, "
    "events = ?8, last_offset = ?9, error = ?10 WHERE id = ?1";
constexpr const char* mark_interrupted_sql =
    "UPDATE backups SET status = 'failed', finished_ms = ?1, "
    "error = 'interrupted: the server stopped before it ended' WHERE status = 'running'";
// Both SELECTs give the columns read_rows() reads, in its order.
constexpr const char* list_sql =
    "SELECT id, started_ms, finished_ms, status, location, bytes, sha256, db_bytes, events, last_offset, error, "
    "started_by, deleted_ms FROM backups ORDER BY id DESC LIMIT ?1";
// The prefix is compared with substr(), not LIKE: a path may hold '%' or '_'.
constexpr const char* list_kept_sql =
    "SELECT id, started_ms, finished_ms, status, location, bytes, sha256, db_bytes, events, last_offset, error, "
    "started_by, deleted_ms FROM backups WHERE status = 'succeeded' AND deleted_ms IS NULL "
    "AND location IS NOT NULL AND substr(location, 1, length(?1)) = ?1 ORDER BY id DESC";
constexpr const char* mark_deleted_sql =
    "UPDATE backups SET deleted_ms = ?2 WHERE id = ?1 AND status = 'succeeded' AND deleted_ms IS NULL";

void bind_text(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
    if (v) sqlite3_bind_text(s, i, v->data(), static_cast<int>(v->size()), SQLITE_TRANSIENT);
    else sqlite3_bind_null(s, i);
}

void bind_int(sqlite3_stmt* s, int i, const std::optional<std::int64_t>& v) {
    if (v) sqlite3_bind_int64(s, i, *v);
    else sqlite3_bind_null(s, i);
}

std::optional<std::string> column_text(sqlite3_stmt* s, int i) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

std::optional<std::int64_t> column_int(sqlite3_stmt* s, int i) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(s, i);
}

template <class T>
boost::json::value json_or_null(const std::optional<T>& v) {
    if (!v) return nullptr;
    return boost::json::value(*v);
}

// Every row `s` (list_sql or list_kept_sql) gives.
std::vector<backup_row> read_rows(sqlite3* db, sqlite3_stmt* s) {
    std::vector<backup_row> rows;
    for (;;) {
        const int rc = sqlite3_step(s);
        persistence::check(db, rc, "list backups");
        if (rc != SQLITE_ROW) break;
        backup_row r;
        r.id = sqlite3_column_int64(s, 0);
        r.started_ms = sqlite3_column_int64(s, 1);
        r.finished_ms = column_int(s, 2);
        r.status = column_text(s, 3).value_or("");
        r.location = column_text(s, 4);
        r.bytes = column_int(s, 5);
        r.sha256 = column_text(s, 6);
        r.db_bytes = column_int(s, 7);
        r.events = column_int(s, 8);
        r.last_offset = column_int(s, 9);
        r.error = column_text(s, 10);
        r.started_by = column_text(s, 11).value_or("manual");
        r.deleted_ms = column_int(s, 12);
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace

std::int64_t insert_backup_started(sqlite3* db, std::int64_t started_ms, std::string_view started_by) {
    persistence::stmt_ptr s = persistence::prepare(db, insert_started_sql);
    sqlite3_bind_int64(s.get(), 1, started_ms);
    sqlite3_bind_text(s.get(), 2, started_by.data(), static_cast<int>(started_by.size()), SQLITE_TRANSIENT);
    persistence::check(db, sqlite3_step(s.get()), "insert backup row");
    return sqlite3_last_insert_rowid(db);
}

void update_backup_finished(sqlite3* db, const backup_row& row) {
    persistence::stmt_ptr s = persistence::prepare(db, update_finished_sql);
    sqlite3_bind_int64(s.get(), 1, row.id);
    bind_int(s.get(), 2, row.finished_ms);
    sqlite3_bind_text(s.get(), 3, row.status.data(), static_cast<int>(row.status.size()), SQLITE_TRANSIENT);
    bind_text(s.get(), 4, row.location);
    bind_int(s.get(), 5, row.bytes);
    bind_text(s.get(), 6, row.sha256);
    bind_int(s.get(), 7, row.db_bytes);
    bind_int(s.get(), 8, row.events);
    bind_int(s.get(), 9, row.last_offset);
    bind_text(s.get(), 10, row.error);
    persistence::check(db, sqlite3_step(s.get()), "update backup row");
}

int mark_interrupted_backups(sqlite3* db, std::int64_t now_ms) {
    persistence::stmt_ptr s = persistence::prepare(db, mark_interrupted_sql);
    sqlite3_bind_int64(s.get(), 1, now_ms);
    persistence::check(db, sqlite3_step(s.get()), "mark interrupted backups");
    return sqlite3_changes(db);
}

std::vector<backup_row> list_backups(sqlite3* db, std::size_t limit) {
    limit = std::clamp<std::size_t>(limit, 1, 1000);
    persistence::stmt_ptr s = persistence::prepare(db, list_sql);
    sqlite3_bind_int64(s.get(), 1, static_cast<std::int64_t>(limit));
    return read_rows(db, s.get());
}

std::vector<backup_row> list_kept_backups(sqlite3* db, std::string_view location_prefix) {
    persistence::stmt_ptr s = persistence::prepare(db, list_kept_sql);
    sqlite3_bind_text(s.get(), 1, location_prefix.data(), static_cast<int>(location_prefix.size()), SQLITE_TRANSIENT);
    return read_rows(db, s.get());
}

bool mark_backup_deleted(sqlite3* db, std::int64_t id, std::int64_t deleted_ms) {
    persistence::stmt_ptr s = persistence::prepare(db, mark_deleted_sql);
    sqlite3_bind_int64(s.get(), 1, id);
    sqlite3_bind_int64(s.get(), 2, deleted_ms);
    persistence::check(db, sqlite3_step(s.get()), "mark backup deleted");
    return sqlite3_changes(db) == 1;
}

boost::json::object to_json(const backup_row& row) {
    std::optional<std::string> finished_at;
    std::optional<std::int64_t> duration_ms;
    if (row.finished_ms) {
        finished_at = domain::format_rfc3339_ms(*row.finished_ms);
        duration_ms = *row.finished_ms - row.started_ms;
    }
    std::optional<std::string> deleted_at;
    if (row.deleted_ms) deleted_at = domain::format_rfc3339_ms(*row.deleted_ms);
    return boost::json::object{
        {"id", row.id},
        {"status", row.status},
        {"started_by", row.started_by},
        {"started_at", domain::format_rfc3339_ms(row.started_ms)},
        {"finished_at", json_or_null(finished_at)},
        {"duration_ms", json_or_null(duration_ms)},
        {"location", json_or_null(row.location)},
        {"bytes", json_or_null(row.bytes)},
        {"sha256", json_or_null(row.sha256)},
        {"db_bytes", json_or_null(row.db_bytes)},
        {"events", json_or_null(row.events)},
        {"last_offset", json_or_null(row.last_offset)},
        {"error", json_or_null(row.error)},
        {"deleted_at", json_or_null(deleted_at)},
    };
}

}  // namespace obs::backup
