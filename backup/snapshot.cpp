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

constexpr int snapshot_step_pages = 2560;  // 10 MiB of 4 KiB pages per backup step
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

// The page size of `db`'s main database.
std::uint64_t page_size_of(sqlite3* db) {
    persistence::stmt_ptr pragma = persistence::prepare(db, "PRAGMA page_size");
    persistence::check(db, sqlite3_step(pragma.get()), "PRAGMA page_size");
    return static_cast<std::uint64_t>(sqlite3_column_int64(pragma.get(), 0));
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
        // The copy needs no journal and no syncs of its own: a failed
        // snapshot is deleted, a finished one is synced once below.
        persistence::exec(dest.get(), "PRAGMA synchronous=OFF");
        persistence::exec(dest.get(), "PRAGMA journal_mode=OFF");
        // Steps of 10 MiB, each written behind: a whole database of dirty
        // pages flushed at once kept the disk (and so the writer's own WAL
        // syncs and checkpoints) busy for a quarter second per 200 MiB. The
        // held read transaction keeps every step on the same snapshot.
        unique_fd behind = open_for_reading(out_path);
        const std::uint64_t page_bytes = page_size_of(src.get());
        std::uint64_t previous = 0, written = 0;
        int step = SQLITE_OK;
        while (step == SQLITE_OK) {
            step = sqlite3_backup_step(copy.get(), snapshot_step_pages);
            const std::uint64_t done = page_bytes * static_cast<std::uint64_t>(sqlite3_backup_pagecount(copy.get()) -
                                                                               sqlite3_backup_remaining(copy.get()));
            if (done > written) {
                write_behind(behind.get(), previous, written, done - written);
                previous = written;
                written = done;
            }
        }
        const int finish = sqlite3_backup_finish(copy.release());
        if (step != SQLITE_DONE) persistence::check(dest.get(), step == SQLITE_OK ? SQLITE_ERROR : step, "sqlite3_backup_step");
        persistence::check(dest.get(), finish, "sqlite3_backup_finish");
        // The copy carries the WAL flag of its source; a single-file database
        // is what a tarball should hold.
        persistence::exec(dest.get(), "PRAGMA journal_mode=DELETE");
    }
    persistence::exec(src.get(), "COMMIT");

    sync_file(out_path);
    sync_parent_dir(out_path);
    result.db_bytes = file_size(out_path);
    return result;
}

}  // namespace obs::backup
