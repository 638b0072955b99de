// What /metrics says about the data kept: events and runs stored, the oldest
// event's receive time and the bytes of artifact content, read in one
// statement on a reader connection (one snapshot).
//
// Cost: counting events walks the smallest index of `events`, about 25-45 ms
// per million rows here (warm cache), so the caller reads these figures at
// most every few seconds and serves the kept copy in between (see the metrics
// route); the other three are index lookups or small.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>

namespace obs::persistence {

struct storage_figures {
    std::int64_t events = 0;                          // rows of `events`
    std::int64_t runs = 0;                            // rows of `runs`
    std::optional<std::int64_t> oldest_received_ms;   // received_ms of the lowest offset; none when empty
    std::int64_t artifact_bytes = 0;                  // each content counted once (as stored on disk)
};

// Reads the figures on `db` (any connection to a migrated database). Throws
// sqlite_error when SQLite fails.
storage_figures read_storage_figures(sqlite3* db);

}  // namespace obs::persistence
