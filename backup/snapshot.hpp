// A consistent copy of the live database while ingestion goes on (WAL lets
// a reader hold one snapshot while the writer commits): one read
// transaction on a read-only connection reads the event count, the last
// offset and the schema version and copies every page with
// sqlite3_backup_step(-1); the copy is switched out of WAL (a single file)
// and never synced (snapshot.cpp says why). Blocking: the caller runs it
// off the io thread.
#pragma once

#include <cstdint>
#include <string>

namespace obs::backup {

struct snapshot_result {
    std::uint64_t db_bytes = 0;   // size of the copy
    std::int64_t events = 0;      // rows in `events` in the copy
    std::int64_t last_offset = 0; // max("offset") in the copy, 0 when empty
    int schema_version = 0;       // highest applied migration in the copy
};

// Copies `db_path` into `out_path` (replaced when it exists). The numbers
// returned are read in the same read transaction as the pages copied.
// Throws persistence::sqlite_error or std::system_error; on failure
// `out_path` may hold a partial copy: the caller removes it.
snapshot_result take_snapshot(const std::string& db_path, const std::string& out_path);

}  // namespace obs::backup
