// The event log's read queries (see queries.hpp): a run's steps by seq, a
// page for the byte-capped routes, the events in an offset range for the
// stream's replay, and the log's totals. Every function runs its statements
// inside one read transaction (unless the caller already holds one); lists
// of run ids and types are bound as one JSON array read with json_each.
#include "persistence/queries.hpp"

#include "persistence/event_row.hpp"
#include "persistence/queries_support.hpp"
#include "persistence/sqlite_handle.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>

namespace obs::persistence {

using namespace queries_support;

namespace {

constexpr const char* sql_run_exists = "SELECT 1 FROM runs WHERE id = ?1";
constexpr const char* sql_steps =
    "SELECT \"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload FROM events "
    "WHERE run_id = ?1 AND seq > ?2 AND (?3 IS NULL OR type IN (SELECT value FROM json_each(?3))) "
    "ORDER BY seq LIMIT ?4";
constexpr const char* sql_events_between =
    "SELECT \"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload FROM events "
    "WHERE \"offset\" > ?1 AND \"offset\" <= ?2 "
    "AND (?3 IS NULL OR run_id IN (SELECT value FROM json_each(?3))) "
    "AND (?4 IS NULL OR type IN (SELECT value FROM json_each(?4))) "
    "ORDER BY \"offset\" LIMIT ?5";
constexpr const char* sql_totals = "SELECT count(*), coalesce(max(\"offset\"), 0) FROM events";

constexpr std::size_t max_steps_page = 1000;

// A JSON array of strings for json_each, or nullopt for "no filter".
template <typename T, typename F>
std::optional<std::string> json_list(const std::vector<T>& items, F name) {
    if (items.empty()) return std::nullopt;
    boost::json::array a;
    for (const T& item : items) a.emplace_back(boost::json::string(name(item)));
    return boost::json::serialize(a);
}

void bind_opt_text(sqlite3_stmt* s, int i, const std::optional<std::string>& v) {
    if (v) {
        bind_text(s, i, *v);
    } else {
        sqlite3_bind_null(s, i);
    }
}

}  // namespace

std::optional<std::string> list_steps(sqlite3* db, const std::string& run_id, const step_filter& filter) {
    read_transaction tx(db);
    {
        stmt_ptr exists = prepare(db, sql_run_exists);
        bind_text(exists.get(), 1, run_id);
        const int rc = sqlite3_step(exists.get());
        check(db, rc, sql_run_exists);
        if (rc != SQLITE_ROW) return std::nullopt;
    }
    const std::size_t limit = std::clamp<std::size_t>(filter.limit, 1, max_steps_page);
    const std::optional<std::string> types = json_list(filter.types, [](domain::event_type t) { return domain::to_string(t); });

    stmt_ptr stmt = prepare(db, sql_steps);
    sqlite3_stmt* s = stmt.get();
    bind_text(s, 1, run_id);
    sqlite3_bind_int64(s, 2, filter.after_seq);
    bind_opt_text(s, 3, types);
    sqlite3_bind_int64(s, 4, static_cast<std::int64_t>(limit + 1));  // one more: is there a next page?

    std::string out = "{\"steps\":[";
    const std::size_t events_start = out.size();
    std::size_t n = 0;
    std::int64_t last_seq = 0;
    bool more = false;
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == limit) {
            more = true;
            break;
        }
        const domain::stored_event ev = stored_event_from(s);
        std::string encoded = domain::encode_stored_event(ev);
        // The byte cap ends the page before an event that would pass it; the
        // next page starts with that event (read again, a small price for
        // an answer whose size never depends on how large the events are).
        if (n > 0 && out.size() - events_start + 1 + encoded.size() > filter.max_bytes) {
            more = true;
            break;
        }
        if (n++ > 0) out += ',';
        out += encoded;
        last_seq = ev.seq;
    }
    if (rc != SQLITE_ROW) check(db, rc, "list steps");
    out += "],\"next_after_seq\":";
    out += more ? std::to_string(last_seq) : std::string{"null"};
    out += '}';
    return out;
}

namespace {

// events_between with a byte cap: stops after the event that brings the
// payloads to `max_bytes`. `full` tells whether it stopped on a bound
// (rows or bytes) rather than at the end of the range.
struct bounded_events {
    std::vector<domain::stored_event> events;
    bool full = false;
};

bounded_events read_events_between(sqlite3* db, std::int64_t after_offset, std::int64_t up_to_offset,
                                   const offset_filter& filter, std::size_t limit, std::size_t max_bytes) {
    bounded_events out;
    if (limit == 0 || up_to_offset <= after_offset) return out;
    const std::optional<std::string> runs = json_list(filter.run_ids, [](const std::string& r) { return r; });
    const std::optional<std::string> types =
        json_list(filter.types, [](domain::event_type t) { return domain::to_string(t); });

    read_transaction tx(db);
    stmt_ptr stmt = prepare(db, sql_events_between);
    sqlite3_stmt* s = stmt.get();
    sqlite3_bind_int64(s, 1, after_offset);
    sqlite3_bind_int64(s, 2, up_to_offset);
    bind_opt_text(s, 3, runs);
    bind_opt_text(s, 4, types);
    sqlite3_bind_int64(s, 5, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    out.events.reserve(std::min<std::size_t>(limit, 1024));
    std::size_t bytes = 0;
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        out.events.push_back(stored_event_from(s));
        bytes += out.events.back().payload_json.size();
        if (out.events.size() == limit || bytes >= max_bytes) {
            out.full = true;
            return out;
        }
    }
    check(db, rc, "events between");
    return out;
}

}  // namespace

std::vector<domain::stored_event> events_between(sqlite3* db, std::int64_t after_offset, std::int64_t up_to_offset,
                                                 const offset_filter& filter, std::size_t limit) {
    return read_events_between(db, after_offset, up_to_offset, filter, limit, unbounded_page_bytes).events;
}

replay_page read_replay_page(sqlite3* db, std::int64_t after_offset, std::int64_t up_to_offset,
                             const offset_filter& filter, std::size_t limit, std::size_t max_scanned,
                             std::size_t max_bytes) {
    replay_page page;
    // Offsets are gap-free, so this window holds at most max_scanned rows.
    const std::int64_t window = static_cast<std::int64_t>(std::min<std::size_t>(std::max<std::size_t>(max_scanned, 1), INT64_MAX / 2));
    const std::int64_t window_end = up_to_offset - after_offset > window ? after_offset + window : up_to_offset;
    bounded_events read = read_events_between(db, after_offset, window_end, filter, limit, max_bytes);
    page.events = std::move(read.events);
    // A full page may stop short of the window: continue after its last event.
    page.scanned_to = read.full ? page.events.back().offset : std::max(after_offset, window_end);
    return page;
}

log_totals read_log_totals(sqlite3* db) {
    read_transaction tx(db);
    stmt_ptr stmt = prepare(db, sql_totals);
    check(db, sqlite3_step(stmt.get()), sql_totals);
    return log_totals{sqlite3_column_int64(stmt.get(), 0), sqlite3_column_int64(stmt.get(), 1)};
}

}  // namespace obs::persistence
