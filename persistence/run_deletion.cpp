// Deleting runs; see run_deletion.hpp. Every statement here is prepared
// when used: a DELETE of a run is rare, and a retention step's few
// preparations cost microseconds beside its deletes.
#include "persistence/run_deletion.hpp"

#include "persistence/sqlite_handle.hpp"

#include <algorithm>

namespace obs::persistence {
namespace {

constexpr const char* sql_record_high_water =
    "INSERT INTO offset_high_water(id, last_offset) VALUES (1, (SELECT coalesce(max(\"offset\"), 0) FROM events)) "
    "ON CONFLICT(id) DO UPDATE SET last_offset = max(last_offset, excluded.last_offset)";
constexpr const char* sql_run_received = "SELECT last_received_ms FROM runs WHERE id = ?1";
constexpr const char* sql_artifact_content = "SELECT sha256 FROM artifacts WHERE run_id = ?1";
constexpr const char* sql_delete_artifacts = "DELETE FROM artifacts WHERE run_id = ?1";
constexpr const char* sql_delete_events = "DELETE FROM events WHERE run_id = ?1";
constexpr const char* sql_delete_oldest_events =
    "DELETE FROM events WHERE \"offset\" IN (SELECT \"offset\" FROM events WHERE run_id = ?1 ORDER BY seq LIMIT ?2)";
constexpr const char* sql_delete_run = "DELETE FROM runs WHERE id = ?1";
constexpr const char* sql_expired =
    "SELECT id FROM runs WHERE last_received_ms < ?1 ORDER BY last_received_ms LIMIT ?2";

// One IMMEDIATE transaction that rolls back unless commit() was reached.
class write_transaction {
public:
    explicit write_transaction(sqlite3* db) : db_(db) { exec(db_, "BEGIN IMMEDIATE"); }
    ~write_transaction() {
        if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    write_transaction(const write_transaction&) = delete;
    write_transaction& operator=(const write_transaction&) = delete;
    void commit() {
        exec(db_, "COMMIT");
        open_ = false;
    }

private:
    sqlite3* db_;
    bool open_ = true;
};

// Runs `sql` with ?1 = `run_id` (and ?2 = `limit` when given) to the end;
// returns the rows it changed.
std::int64_t run_for(sqlite3* db, const char* sql, const std::string& run_id, std::int64_t limit = -1) {
    stmt_ptr s = prepare(db, sql);
    sqlite3_bind_text(s.get(), 1, run_id.data(), static_cast<int>(run_id.size()), SQLITE_STATIC);
    if (limit >= 0) sqlite3_bind_int64(s.get(), 2, limit);
    check(db, sqlite3_step(s.get()), sql);
    return sqlite3_changes64(db);
}

// The run's last_received_ms; nullopt when there is no such run.
std::optional<std::int64_t> run_received(sqlite3* db, const std::string& run_id) {
    stmt_ptr s = prepare(db, sql_run_received);
    sqlite3_bind_text(s.get(), 1, run_id.data(), static_cast<int>(run_id.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(s.get());
    check(db, rc, sql_run_received);
    if (rc != SQLITE_ROW) return std::nullopt;
    return sqlite3_column_int64(s.get(), 0);
}

// Deletes the run's artifact rows (noting their content) and its runs row.
void delete_run_rows(sqlite3* db, const std::string& run_id, deletion_counts& out) {
    stmt_ptr s = prepare(db, sql_artifact_content);
    sqlite3_bind_text(s.get(), 1, run_id.data(), static_cast<int>(run_id.size()), SQLITE_STATIC);
    int rc = 0;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
        out.released_content.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
    check(db, rc, sql_artifact_content);
    out.artifacts += run_for(db, sql_delete_artifacts, run_id);
    out.runs += run_for(db, sql_delete_run, run_id);
}

}  // namespace

std::optional<deletion_counts> delete_run(sqlite3* db, const std::string& run_id) {
    write_transaction tx(db);
    if (!run_received(db, run_id)) return std::nullopt;
    exec(db, sql_record_high_water);
    deletion_counts out;
    out.events = run_for(db, sql_delete_events, run_id);
    delete_run_rows(db, run_id, out);
    tx.commit();
    return out;
}

std::vector<std::string> find_expired_runs(sqlite3* db, std::int64_t cutoff_ms, std::size_t limit) {
    stmt_ptr s = prepare(db, sql_expired);
    sqlite3_bind_int64(s.get(), 1, cutoff_ms);
    sqlite3_bind_int64(s.get(), 2, static_cast<std::int64_t>(limit));
    std::vector<std::string> ids;
    int rc = 0;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
        ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
    check(db, rc, sql_expired);
    return ids;
}

retention_step_result delete_expired_run_step(sqlite3* db, const std::string& run_id, std::int64_t cutoff_ms,
                                              std::size_t max_events) {
    write_transaction tx(db);
    retention_step_result out;
    const auto received = run_received(db, run_id);
    if (!received || *received >= cutoff_ms) return out;
    exec(db, sql_record_high_water);
    const auto limit = static_cast<std::int64_t>(max_events);
    out.deleted.events = run_for(db, sql_delete_oldest_events, run_id, limit);
    out.more = out.deleted.events == limit;
    if (!out.more) delete_run_rows(db, run_id, out.deleted);
    tx.commit();
    return out;
}

std::int64_t release_free_pages(sqlite3* db, std::int64_t max_pages) {
    auto pragma = [db](const char* sql) {
        stmt_ptr s = prepare(db, sql);
        check(db, sqlite3_step(s.get()), sql);
        return sqlite3_column_int64(s.get(), 0);
    };
    if (pragma("PRAGMA auto_vacuum") != 2) return 0;  // 2: INCREMENTAL
    const std::int64_t page_bytes = pragma("PRAGMA page_size");
    const std::int64_t reserve = std::max<std::int64_t>(16 * 1024 * 1024 / page_bytes, pragma("PRAGMA page_count") / 20);
    const std::int64_t spare = pragma("PRAGMA freelist_count") - reserve;
    if (spare <= 0 || max_pages <= 0) return 0;
    const std::int64_t pages = std::min(spare, max_pages);
    exec(db, "PRAGMA incremental_vacuum(" + std::to_string(pages) + ")");
    return pages;
}

}  // namespace obs::persistence
