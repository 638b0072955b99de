// Deleting runs: one run at once for DELETE /observability/runs/{run_id},
// and retention's small steps through the runs nobody wrote to for longer
// than the configured age. Both run on the writer's connection (an
// event_writer job, between write groups) in their own IMMEDIATE
// transaction, and first record the largest offset given out
// (offset_high_water), so a deleted newest event's offset is never given
// out again. They delete rows only; the content files that no row refers to
// any more are the caller's to remove afterwards
// (artifact_store::remove_unreferenced), once the deletion has committed.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace obs::persistence {

struct deletion_counts {
    std::int64_t runs = 0;       // runs rows deleted
    std::int64_t events = 0;     // events deleted
    std::int64_t artifacts = 0;  // artifacts rows deleted
    std::vector<std::string> released_content;  // sha256 of the deleted artifact rows
};

// Deletes run `run_id`, all its events and artifact rows in one
// transaction; nullopt (and nothing changed) when there is no such run.
// Throws sqlite_error (the transaction is rolled back).
std::optional<deletion_counts> delete_run(sqlite3* db, const std::string& run_id);

// Up to `limit` runs whose last event was received before `cutoff_ms`, the
// least recently written first. A read: run it on a reader connection, so
// the scan of `runs` never holds up the writer.
std::vector<std::string> find_expired_runs(sqlite3* db, std::int64_t cutoff_ms, std::size_t limit);

// One retention step on run `run_id`: in one transaction, deletes at most
// `max_events` of its events, oldest first, and once none is left its
// artifact rows and its runs row. Does nothing when the run is gone or is
// no longer expired (it received an event since it was found: what was
// already deleted stays deleted, the rest stays). `more` is true when the
// run still has events to delete. Throws sqlite_error.
struct retention_step_result {
    deletion_counts deleted;
    bool more = false;
};
retention_step_result delete_expired_run_step(sqlite3* db, const std::string& run_id, std::int64_t cutoff_ms,
                                              std::size_t max_events);

// Gives up to `max_pages` free pages back to the file system when the
// database uses auto_vacuum=INCREMENTAL (new databases do) and more pages
// are free than a reserve: 5% of the file, at least 16 MiB. The reserve is
// left for new rows to reuse, which costs nothing, where moving pages to
// shrink the file writes them all to the WAL again. Returns the pages
// freed (0 otherwise). Its own short transaction.
std::int64_t release_free_pages(sqlite3* db, std::int64_t max_pages);

}  // namespace obs::persistence
