// The migrations runner: checks what the database already holds against the
// files this binary carries (a changed file or a newer database stops the
// start-up with a clear message), then applies each pending file in its own
// IMMEDIATE transaction together with its schema_migrations row, so a failing
// file leaves nothing of itself behind.
#include "persistence/migrations.hpp"

#include "domain/sha256.hpp"
#include "domain/time.hpp"
#include "persistence/sqlite_handle.hpp"

#include <map>
#include <string>

namespace obs::persistence {

namespace {

constexpr const char* sql_create_table =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL)";
constexpr const char* sql_table_exists =
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr const char* sql_max_version = "SELECT coalesce(max(version), 0) FROM schema_migrations";
constexpr const char* sql_recorded = "SELECT version, name, sha256 FROM schema_migrations ORDER BY version";
constexpr const char* sql_record =
    "INSERT INTO schema_migrations(version, name, sha256, applied_at) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* sql_begin = "BEGIN IMMEDIATE";
constexpr const char* sql_commit = "COMMIT";
constexpr const char* sql_rollback = "ROLLBACK";

struct recorded_row {
    std::string name;
    std::string sha256;
};

std::string column_text(sqlite3_stmt* stmt, int col) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
    return text != nullptr ? std::string{text} : std::string{};
}

std::map<int, recorded_row> read_recorded(sqlite3* db) {
    std::map<int, recorded_row> rows;
    stmt_ptr stmt = prepare(db, sql_recorded);
    int rc = 0;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        rows[sqlite3_column_int(stmt.get(), 0)] = {column_text(stmt.get(), 1), column_text(stmt.get(), 2)};
    }
    check(db, rc, sql_recorded);
    return rows;
}

// Throws unless every recorded row is a file of `known` with the same text.
void verify_recorded(const std::map<int, recorded_row>& recorded, const std::map<int, const migration*>& by_version,
                     int newest_known) {
    for (const auto& [version, row] : recorded) {
        const auto it = by_version.find(version);
        if (it == by_version.end()) {
            if (version > newest_known) {
                throw migration_error("database has schema version " + std::to_string(version) +
                                      ", newer than this binary knows (" + std::to_string(newest_known) + ")");
            }
            throw migration_error("database has migration " + row.name + " (version " + std::to_string(version) +
                                  ") that this binary does not know");
        }
        const std::string file_sha = domain::sha256_hex(it->second->sql);
        if (file_sha != row.sha256) {
            throw migration_error(it->second->name + " was changed after it was applied (sha256 " + file_sha +
                                  " != " + row.sha256 + ")");
        }
    }
}

bool is_empty_database(sqlite3* db) {
    stmt_ptr any = prepare(db, "SELECT 1 FROM sqlite_master LIMIT 1");
    const int rc = sqlite3_step(any.get());
    check(db, rc, "SELECT 1 FROM sqlite_master");
    return rc != SQLITE_ROW;
}

// Runs one file and records it, all in one transaction; on failure rolls
// back and throws naming the file and SQLite's reason.
void apply_one(sqlite3* db, const migration& m) {
    exec(db, sql_begin);
    try {
        exec(db, m.sql);
        stmt_ptr record = prepare(db, sql_record);
        const std::string sha = domain::sha256_hex(m.sql);
        const std::string applied_at = domain::format_rfc3339_ms(domain::now_unix_ms());
        sqlite3_bind_int(record.get(), 1, m.version);
        sqlite3_bind_text(record.get(), 2, m.name.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(record.get(), 3, sha.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_text(record.get(), 4, applied_at.c_str(), -1, SQLITE_STATIC);
        check(db, sqlite3_step(record.get()), sql_record);
        record.reset();
        exec(db, sql_commit);
    } catch (const sqlite_error&) {
        // SQLite's own words ("near \"FOO\": syntax error"), taken before
        // the rollback replaces them.
        const std::string reason = sqlite3_errmsg(db);
        // The failure may already have ended the transaction (SQLite rolls
        // back by itself on some errors); roll back only what is still open.
        if (sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, sql_rollback, nullptr, nullptr, nullptr);
        throw migration_error(m.name + " failed: " + reason);
    }
}

}  // namespace

migration_report apply_migrations(sqlite3* db, const std::vector<migration>& known) {
    std::map<int, const migration*> by_version;
    int newest_known = 0;
    for (const migration& m : known) {
        if (m.version <= newest_known) {
            throw migration_error(m.name + " is out of order: migrations must be sorted by increasing version");
        }
        newest_known = m.version;
        by_version[m.version] = &m;
    }

    // A new database frees the pages of deleted runs back to the file
    // system a step at a time (retention's release_free_pages): the mode can
    // only be chosen before the first table (and, once the file has its
    // first page, as the WAL switch gives it, takes a VACUUM: instant on an
    // empty file). An older database keeps reusing its free pages for new
    // rows; VACUUM (offline) converts it.
    if (is_empty_database(db)) {
        exec(db, "PRAGMA auto_vacuum = INCREMENTAL");
        exec(db, "VACUUM");
    }
    exec(db, sql_create_table);
    const std::map<int, recorded_row> recorded = read_recorded(db);
    verify_recorded(recorded, by_version, newest_known);
    const int newest_recorded = recorded.empty() ? 0 : recorded.rbegin()->first;

    migration_report report;
    for (const migration& m : known) {
        if (recorded.count(m.version) != 0) continue;
        // Forward only: a file slipped in below the applied schema would run
        // against tables it was never written for.
        if (m.version < newest_recorded) {
            throw migration_error(m.name + " is older than the database's schema version " +
                                  std::to_string(newest_recorded) + " but was never applied");
        }
        apply_one(db, m);
        ++report.applied_now;
    }
    report.schema_version = current_schema_version(db);
    return report;
}

int current_schema_version(sqlite3* db) {
    stmt_ptr exists = prepare(db, sql_table_exists);
    const int rc = sqlite3_step(exists.get());
    check(db, rc, sql_table_exists);
    if (rc != SQLITE_ROW) return 0;
    stmt_ptr max_version = prepare(db, sql_max_version);
    check(db, sqlite3_step(max_version.get()), sql_max_version);
    return sqlite3_column_int(max_version.get(), 0);
}

}  // namespace obs::persistence
