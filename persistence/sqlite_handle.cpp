// Opening connections with the PRAGMAs every connection of the product needs,
// and the small error-checking helpers (check, exec, prepare) that turn SQLite
// result codes into sqlite_error. Writer-only settings (checkpoint policy,
// journal size) belong to event_writer, which owns the write path.
#include "persistence/sqlite_handle.hpp"

#include <cassert>
#include <mutex>
#include <string>

namespace obs::persistence {

namespace {

// Long enough to ride out a TRUNCATE checkpoint or a backup step holding a
// lock, short enough that a stuck database is reported instead of hanging.
constexpr int busy_timeout_ms = 5000;

constexpr const char* sql_journal_wal = "PRAGMA journal_mode=WAL";
constexpr const char* sql_sync_normal = "PRAGMA synchronous=NORMAL";
constexpr const char* sql_sync_full = "PRAGMA synchronous=FULL";
constexpr const char* sql_foreign_keys = "PRAGMA foreign_keys=ON";
constexpr const char* sql_journal_size_limit = "PRAGMA journal_size_limit=";
// 32 MiB: the id index takes inserts all over when clients make their own ids,
// and a miss costs a pread; the default 2 MiB misses often past a few GiB.
constexpr const char* sql_writer_cache = "PRAGMA cache_size=-32768";
// Each request of a group runs in a savepoint; its sub-journal stays in
// memory instead of spilling to a temporary file.
constexpr const char* sql_temp_in_memory = "PRAGMA temp_store=MEMORY";

// Process-wide settings, made once before the first connection (SQLite
// refuses sqlite3_config after it is initialised). Memory statistics are off:
// nothing reads them, and keeping them takes a global mutex on every SQLite
// allocation, a few per inserted row on the writer's hot path.
void configure_sqlite_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        // SQLITE_MISUSE means something initialised SQLite first: the
        // statistics then stay on, which costs speed, never correctness.
        (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    });
}

std::string describe(sqlite3* db, int rc, std::string_view context) {
    std::string msg{context};
    msg += ": ";
    // errmsg describes the last failure on `db`; without a handle only the
    // generic text for the code is known.
    msg += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    msg += " (code ";
    msg += std::to_string(rc);
    msg += ')';
    return msg;
}

}  // namespace

void check(sqlite3* db, int rc, std::string_view context) {
    if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
    // Prefer the extended code (SQLITE_IOERR_FSYNC, ...) when it belongs to rc.
    int code = rc;
    if (db != nullptr && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff)) code = sqlite3_extended_errcode(db);
    throw sqlite_error(code, describe(db, rc, context));
}

void exec(sqlite3* db, std::string_view sql) {
    assert(db != nullptr);
    const std::string text{sql};  // sqlite3_exec wants a terminated string
    char* err = nullptr;
    const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return;
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    const std::string head = text.size() > 60 ? text.substr(0, 60) + "..." : text;
    throw sqlite_error(sqlite3_extended_errcode(db), head + ": " + msg + " (code " + std::to_string(rc) + ")");
}

stmt_ptr prepare(sqlite3* db, std::string_view sql) {
    assert(db != nullptr);
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &raw, &tail);
    stmt_ptr stmt{raw};
    check(db, rc, sql);
    if (!stmt) throw sqlite_error(SQLITE_MISUSE, std::string{sql} + ": no statement in the text");
    return stmt;
}

db_ptr open_database(const std::string& path, bool read_only, durability d) {
    configure_sqlite_once();
    // Each connection is used by one thread at a time (the writer's, a
    // reader's, the backup worker's), so SQLite's per-connection mutex is waste.
    int flags = SQLITE_OPEN_NOMUTEX;
    flags |= read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db_ptr db{raw};  // sqlite3_open_v2 may hand back a handle even on failure
    if (rc != SQLITE_OK) {
        throw sqlite_error(rc, describe(db.get(), rc, "open " + path));
    }
    sqlite3_extended_result_codes(db.get(), 1);
    check(db.get(), sqlite3_busy_timeout(db.get(), busy_timeout_ms), "busy_timeout");

    if (!read_only) {
        // journal_mode is persistent in the file; a read-only connection can
        // neither set it nor needs to. The answer says which mode holds.
        stmt_ptr wal = prepare(db.get(), sql_journal_wal);
        const int step = sqlite3_step(wal.get());
        check(db.get(), step, sql_journal_wal);
        const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(wal.get(), 0));
        if (step != SQLITE_ROW || mode == nullptr || std::string_view{mode} != "wal") {
            throw sqlite_error(SQLITE_ERROR, "open " + path + ": the database refused WAL mode");
        }
    }
    exec(db.get(), d == durability::full ? sql_sync_full : sql_sync_normal);
    exec(db.get(), sql_foreign_keys);
    return db;
}

void apply_writer_pragmas(sqlite3* db, std::int64_t wal_size_limit_bytes) {
    check(db, sqlite3_wal_autocheckpoint(db, 0), "wal_autocheckpoint");
    set_wal_size_limit(db, wal_size_limit_bytes);
    exec(db, sql_writer_cache);
    exec(db, sql_temp_in_memory);
}

void set_wal_size_limit(sqlite3* db, std::int64_t bytes) {
    // A PRAGMA takes no bound parameter; the value is an integer of ours.
    exec(db, sql_journal_size_limit + std::to_string(bytes));
}

}  // namespace obs::persistence
