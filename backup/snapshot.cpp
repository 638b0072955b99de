// The consistent snapshot (see snapshot.hpp).
#include "backup/snapshot.hpp"

#include "backup/file_io.hpp"
#include "persistence/migrations.hpp"
#include "persistence/sqlite_handle.hpp"

#include <cstdint>
#include <cstdio>
#include <memory>

namespace obs::backup {

namespace {

constexpr const char* totals_sql = R"(SELECT count(*), coalesce(max("offset"), 0) FROM events)";

struct backup_finisher {
    void operator()(sqlite3_backup* b) const noexcept { sqlite3_backup_finish(b); }
};
using backup_ptr = std::unique_ptr<sqlite3_backup, backup_finisher>;  // owns a backup operation

persistence::db_ptr open_destination(const std::string& path) {
    std::remove(path.c_str());
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    persistence::db_ptr db(raw);  // owns it even when the open failed
    if (rc != SQLITE_OK) {
        throw persistence::sqlite_error(rc, "cannot create snapshot " + path + ": " +
                                                (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    return db;
}

}  // namespace

snapshot_result take_snapshot(const std::string& db_path, const std::string& out_path) {
    snapshot_result result;
    persistence::db_ptr src = persistence::open_database(db_path, true);

    // The read transaction starts at the first SELECT and pins one WAL
    // snapshot; the backup below reads through the same connection, so the
    // pages copied are the ones these numbers describe.
    persistence::exec(src.get(), "BEGIN");
    {
        persistence::stmt_ptr totals = persistence::prepare(src.get(), totals_sql);
        persistence::check(src.get(), sqlite3_step(totals.get()), "snapshot totals");
        result.events = sqlite3_column_int64(totals.get(), 0);
        result.last_offset = sqlite3_column_int64(totals.get(), 1);
    }
    result.schema_version = persistence::current_schema_version(src.get());

    {
        persistence::db_ptr dest = open_destination(out_path);
        backup_ptr copy(sqlite3_backup_init(dest.get(), "main", src.get(), "main"));
        if (!copy) persistence::check(dest.get(), sqlite3_errcode(dest.get()), "sqlite3_backup_init");
        // The copy needs no journal and is never synced: it is read back at
        // once (from the page cache, where it still is) and deleted, and a
        // crash leaves it to the startup sweep. Written to the disk, it only
        // competed with ingestion: forcing it out behind the copy (and
        // reading it back from the disk) kept the writer's WAL syncs queued
        // behind 100 MB of snapshot. Ingest p99 during an S3 backup over
        // p99 without one (scripts/bench-backup, 100 MiB, median of 3):
        // 8.06 written behind and synced, 1.07 and 1.46 never synced.
        // Unsynced, its pages are usually gone with the file before the
        // kernel's writeback would take them.
        persistence::exec(dest.get(), "PRAGMA synchronous=OFF");
        persistence::exec(dest.get(), "PRAGMA journal_mode=OFF");
        const int step = sqlite3_backup_step(copy.get(), -1);
        const int finish = sqlite3_backup_finish(copy.release());
        if (step != SQLITE_DONE)  // an unfinished copy (SQLITE_OK) is a failure too
            persistence::check(dest.get(), step == SQLITE_OK ? SQLITE_ERROR : step, "sqlite3_backup_step");
        persistence::check(dest.get(), finish, "sqlite3_backup_finish");
        // The copy carries the WAL flag of its source; a single-file database
        // is what a tarball should hold.
        persistence::exec(dest.get(), "PRAGMA journal_mode=DELETE");
    }
    persistence::exec(src.get(), "COMMIT");

    result.db_bytes = file_size(out_path);
    return result;
}

}  // namespace obs::backup
