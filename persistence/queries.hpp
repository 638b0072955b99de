// The read side: every query of the read routes and the stream's replay, on a
// read-only connection that the caller owns (never the writer's). Each
// function runs to completion synchronously: callers run it off the io thread.
#pragma once

#include "domain/event.hpp"

#include <boost/json/object.hpp>
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace obs::persistence {

struct run_filter {
    std::optional<std::string> status;  // running|succeeded|failed|cancelled
    std::optional<std::string> agent;
    std::optional<std::string> tag;      // runs whose tags contain it
    std::optional<std::int64_t> since_ms; // started_at >= since
    std::optional<std::int64_t> until_ms; // started_at < until
    std::size_t limit = 50;               // 1..500
    std::optional<std::string> cursor;    // next_cursor of the previous page
};

// Either the JSON body of a read route or a client error (bad cursor).
struct query_result {
    std::optional<boost::json::object> body;
    std::string error;  // set when body is empty: a 400 reason
};

// {"runs": [run...], "next_cursor": string|null}, newest first (started_at
// desc, then id desc). The cursor is opaque to clients.
query_result list_runs(sqlite3* db, const run_filter& filter);

// The run object of API.md plus step_counts (by type), error_count,
// input_tokens, output_tokens, cost_usd, duration_ms (null while running);
// nullopt when no such run.
std::optional<boost::json::object> get_run(sqlite3* db, const std::string& run_id);

// The run detail as JSON text, cost_usd written as the shortest decimal that
// reads back to the same double ("0.00063", "0", "1.5"): Boost.JSON 1.81
// writes every double in exponent form ("6.3E-4", "0E0"), which JSON allows
// but people reading a cost should not have to decode.
std::string encode_run_detail(boost::json::object run);

// The most a steps page holds: a client asking for 1,000 events of several
// megabytes each must not make the server build a gigabyte answer.
inline constexpr std::size_t default_steps_page_bytes = 8 * 1024 * 1024;

struct step_filter {
    std::int64_t after_seq = 0;
    std::vector<domain::event_type> types;  // empty: all
    std::size_t limit = 100;                // 1..1000
    std::size_t max_bytes = default_steps_page_bytes;  // of the encoded events
};

// The JSON text {"steps": [event...], "next_after_seq": int|null} (events as
// encode_stored_event gives them, in seq order); nullopt when no such run.
// A page ends at `limit` events or before the event that would take the
// encoded events past `max_bytes`, whichever comes first, but always holds at
// least one event (a single event larger than the cap is a page of its own);
// next_after_seq is the seq to continue after whenever events remain.
std::optional<std::string> list_steps(sqlite3* db, const std::string& run_id, const step_filter& filter);

struct offset_filter {
    std::vector<std::string> run_ids;        // empty: all runs
    std::vector<domain::event_type> types;   // empty: all types
};

// Stored events with after_offset < offset <= up_to_offset that match
// `filter`, in offset order, at most `limit` of them (the stream's replay,
// read in pages).
std::vector<domain::stored_event> events_between(sqlite3* db, std::int64_t after_offset,
                                                 std::int64_t up_to_offset, const offset_filter& filter,
                                                 std::size_t limit);

// One page of the stream's replay that reads a bounded number of rows and
// bytes even when the filters match few rows or the events are large: it
// looks at most `max_scanned` offsets past `after_offset` (offsets are
// gap-free, so at most that many rows), and stops after the event that
// brings the page's payloads to `max_bytes` (so a page holds at most
// max_bytes plus one event's payload, and at least one event when any
// matches). Each listener holds one page at a time, so this bounds a
// replay's memory per listener.
struct replay_page {
    std::vector<domain::stored_event> events;  // matching events, in offset order, at most `limit`
    std::int64_t scanned_to = 0;  // every offset <= this was looked at: the next page's after_offset
};
inline constexpr std::size_t unbounded_page_bytes = static_cast<std::size_t>(-1);
replay_page read_replay_page(sqlite3* db, std::int64_t after_offset, std::int64_t up_to_offset,
                             const offset_filter& filter, std::size_t limit, std::size_t max_scanned,
                             std::size_t max_bytes = unbounded_page_bytes);

// Counts for /metrics and backups: number of events and the last offset.
struct log_totals {
    std::int64_t events = 0;
    std::int64_t last_offset = 0;
};
log_totals read_log_totals(sqlite3* db);

}  // namespace obs::persistence
