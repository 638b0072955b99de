// An `events` row read back as a domain::stored_event: the column list and
// its reader, shared by the read queries (queries_events.cpp) and the
// writer's duplicate check (group_commit_inserts.cpp). Internal to
// persistence/.
#pragma once

#include "domain/event.hpp"

#include <sqlite3.h>

namespace obs::persistence {

// The current row of `s`, a SELECT of the columns
// "offset", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload
// in this order.
domain::stored_event stored_event_from(sqlite3_stmt* s);

}  // namespace obs::persistence
