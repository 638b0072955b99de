// What group_commit.cpp, group_commit_inserts.cpp and group_commit_runs.cpp
// share: the statements of the `events` rows and of the `runs` view, and two
// small helpers of every statement the writer runs. Internal to persistence/.
#pragma once

#include "domain/event.hpp"
#include "persistence/sqlite_handle.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::persistence::group_commit_support {

inline constexpr const char* sql_delete_from_offset = "DELETE FROM events WHERE \"offset\" >= ?1";
// The columns event_row.hpp reads.
inline constexpr const char* sql_find_event =
    "SELECT \"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload FROM events WHERE id = ?1";

// The one-row INSERT of the event-by-event path: a taken id makes it do
// nothing (and only a taken id: any other constraint still fails it).
std::string insert_event_sql();

// The prepared multi-row INSERTs on `db`: [k] stores 2^k rows. Throws
// sqlite_error.
std::vector<stmt_ptr> prepare_multi_row_inserts(sqlite3* db);

// An event as stored, its strings moved out of `ev`.
domain::stored_event to_stored(domain::event&& ev, std::int64_t offset, std::int64_t seq);

inline constexpr const char* sql_select_run =
    "SELECT name, agent, status, parent_run_id, tags, metadata, started_ms, ended_ms, last_event_ms, last_seq, "
    "step_count, error_count, input_tokens, output_tokens, cost_usd, last_received_ms FROM runs WHERE id = ?1";
inline constexpr const char* sql_upsert_run =
    "INSERT INTO runs(id, name, agent, status, parent_run_id, tags, metadata, started_ms, ended_ms, "
    "last_event_ms, last_seq, step_count, error_count, input_tokens, output_tokens, cost_usd, last_received_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
    "ON CONFLICT(id) DO UPDATE SET name = excluded.name, agent = excluded.agent, status = excluded.status, "
    "parent_run_id = excluded.parent_run_id, tags = excluded.tags, metadata = excluded.metadata, "
    "started_ms = excluded.started_ms, ended_ms = excluded.ended_ms, last_event_ms = excluded.last_event_ms, "
    "last_seq = excluded.last_seq, step_count = excluded.step_count, error_count = excluded.error_count, "
    "input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, cost_usd = excluded.cost_usd, "
    "last_received_ms = excluded.last_received_ms";
// Most groups only move a run's counters. Leaving the indexed columns
// (started_ms, agent, status) out of the SET list keeps SQLite from
// rewriting three index entries per run and commit, which was a third of
// the WAL pages written per group.
inline constexpr const char* sql_update_run_counters =
    "UPDATE runs SET last_event_ms = ?2, last_seq = ?3, step_count = ?4, error_count = ?5, input_tokens = ?6, "
    "output_tokens = ?7, cost_usd = ?8, last_received_ms = ?9 WHERE id = ?1";

// Resets a statement however the scope is left, so no statement keeps a
// half-run state into the next use (or into ROLLBACK).
struct reset_on_exit {
    sqlite3_stmt* stmt;
    ~reset_on_exit() { sqlite3_reset(stmt); }
};

// Binds without copying: every bound buffer outlives the step and the reset.
inline void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
inline void bind_text(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
    if (v) {
        bind_text(s, i, std::string_view{*v});
    } else {
        sqlite3_bind_null(s, i);
    }
}

}  // namespace obs::persistence::group_commit_support
