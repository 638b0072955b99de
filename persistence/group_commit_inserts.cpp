// The `events` rows of a write group (see group_commit.hpp). The events of
// consecutive requests (or of a request of several events) are first stored
// with INSERTs of up to 64 rows each (every power of two up to 64 is
// prepared): one statement per chunk opens its cursors once and appends row after row, where one statement per
// row descends each of the three B-trees from its root every time. Measured
// on this machine with the server's rows, 100-row statements insert about
// 1.6 times as many rows per second as one-row statements. They are INSERT
// OR IGNORE: a statement of many rows that may fail half-way makes SQLite
// copy every page it touches into a statement journal first, which cost
// about a fifth of the insert rate; ignoring instead, a taken id shows as a
// row missing from sqlite3_changes. The requests' rows are then deleted by
// offset, their numbers forgotten, and they are stored again one request
// and then one event at a time, which tells a duplicate, a conflict and a
// taken server-made id apart.
#include "persistence/group_commit.hpp"
#include "persistence/event_row.hpp"
#include "persistence/group_commit_support.hpp"

#include "domain/same_body.hpp"
#include "domain/uuid.hpp"

#include <algorithm>
#include <span>
#include <string_view>

namespace obs::persistence {

using namespace group_commit_support;

namespace {

// `fingerprint` (a hash of the client's body, migrations/0001) is no longer
// kept: a repeated id is compared with the stored row itself
// (domain/same_body.hpp). The column stays, as dropping it would rewrite
// the whole table of a long-lived database; an empty text costs its row
// one byte.
constexpr std::string_view sql_into_events =
    "INTO events(\"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload, "
    "fingerprint) VALUES ";
constexpr int event_columns = 10;  // the parameters of one row, in the order above
constexpr std::string_view sql_event_row = "(?,?,?,?,?,?,?,?,?,?,'')";
constexpr std::string_view sql_on_taken_id = " ON CONFLICT(id) DO NOTHING";
constexpr int max_id_redraws = 3;  // fresh ids tried when a server-made one is taken
// The largest multi-row INSERT (rows); statements of every power of two up
// to it are prepared. 16 rows already get most of the gain.
constexpr std::size_t max_rows_per_insert = 64;

// INSERT OR IGNORE INTO events(...) VALUES (row),(row),... with `rows` rows.
std::string insert_rows_sql(std::size_t rows) {
    std::string sql = std::string("INSERT OR IGNORE ").append(sql_into_events);
    for (std::size_t i = 0; i < rows; ++i) {
        if (i > 0) sql += ',';
        sql += sql_event_row;
    }
    return sql;
}

// The size of the next chunk of `remaining` rows: the largest prepared one
// that fits, as its index into the prepared statements.
std::size_t chunk_index(std::size_t remaining) {
    std::size_t index = 0;
    while ((std::size_t{2} << index) <= std::min(remaining, max_rows_per_insert)) ++index;
    return index;
}

}  // namespace

namespace group_commit_support {

std::string insert_event_sql() {
    return std::string("INSERT ").append(sql_into_events).append(sql_event_row).append(sql_on_taken_id);
}

std::vector<stmt_ptr> prepare_multi_row_inserts(sqlite3* db) {
    std::vector<stmt_ptr> out;
    for (std::size_t rows = 1; rows <= max_rows_per_insert; rows *= 2)
        out.push_back(prepare(db, insert_rows_sql(rows)));
    return out;
}

domain::stored_event to_stored(domain::event&& ev, std::int64_t offset, std::int64_t seq) {
    domain::stored_event out;
    out.offset = offset;
    out.id = std::move(ev.id);
    out.run_id = std::move(ev.run_id);
    out.seq = seq;
    out.type = ev.type;
    out.ts_ms = ev.ts_ms;
    out.received_ms = ev.received_ms;
    out.node = std::move(ev.node);
    out.parent_id = std::move(ev.parent_id);
    out.payload_json = std::move(ev.payload_json);
    return out;
}

}  // namespace group_commit_support

bool group_commit::insert_all_at_once_(std::span<write_request> requests,
                                       std::vector<domain::stored_event>* stored) {
    // One undo log for them all, as for one request.
    ++request_serial_;
    undo_.clear();
    const std::int64_t offset_mark = next_offset_;
    const std::size_t stored_mark = stored != nullptr ? stored->size() : 0;
    // The numbers first, as if every event were new; the rows in order.
    rows_.clear();
    for (write_request& req : requests) {
        req.outcome = write_outcome{};
        req.outcome.acks.reserve(req.batch.size());
        for (const domain::event& ev : req.batch) {
            run_state& run = touch_run_(ev.run_id);
            const std::int64_t seq = run.last_seq + 1;
            apply_event_(run, ev, seq);
            req.outcome.acks.push_back(event_ack{ev.id, next_offset_, seq, false});
            rows_.push_back(pending_row{&ev, next_offset_++, seq});
        }
    }
    for (std::size_t done = 0; done < rows_.size();) {
        const std::size_t index = chunk_index(rows_.size() - done);
        const std::size_t count = std::size_t{1} << index;
        sqlite3_stmt* s = insert_rows_[index].get();
        reset_on_exit guard{s};
        for (std::size_t i = 0; i < count; ++i) {
            const pending_row& row = rows_[done + i];
            bind_event_(s, static_cast<int>(i) * event_columns + 1, *row.ev, row.offset, row.seq);
        }
        check(db_, sqlite3_step(s), "insert events");
        if (sqlite3_changes(db_) != static_cast<int>(count)) {
            // A row was ignored. These requests' rows are the only ones at
            // or past their first offset.
            reset_on_exit delete_guard{delete_from_offset_.get()};
            sqlite3_bind_int64(delete_from_offset_.get(), 1, offset_mark);
            check(db_, sqlite3_step(delete_from_offset_.get()), sql_delete_from_offset);
            restore_request_memory_(offset_mark, stored, stored_mark);
            for (write_request& req : requests) req.outcome = write_outcome{};
            // The restored runs still carry this serial: a new one makes the
            // retry save them again before changing them.
            ++request_serial_;
            return false;
        }
        done += count;
    }
    for (write_request& req : requests) {
        req.outcome.result = write_outcome::status::committed;
        if (stored == nullptr) continue;
        for (std::size_t i = 0; i < req.batch.size(); ++i) {
            const event_ack& ack = req.outcome.acks[i];
            stored->push_back(to_stored(std::move(req.batch[i]), ack.offset, ack.seq));
        }
    }
    return true;
}

void group_commit::bind_event_(sqlite3_stmt* s, int first, const domain::event& ev, std::int64_t offset,
                               std::int64_t seq) {
    sqlite3_bind_int64(s, first, offset);
    bind_text(s, first + 1, std::string_view{ev.id});
    bind_text(s, first + 2, std::string_view{ev.run_id});
    sqlite3_bind_int64(s, first + 3, seq);
    bind_text(s, first + 4, domain::to_string(ev.type));
    sqlite3_bind_int64(s, first + 5, ev.ts_ms);
    sqlite3_bind_int64(s, first + 6, ev.received_ms);
    bind_text(s, first + 7, ev.node);
    bind_text(s, first + 8, ev.parent_id);
    bind_text(s, first + 9, std::string_view{ev.payload_json});
}

bool group_commit::insert_event_(const domain::event& ev, std::int64_t offset, std::int64_t seq) {
    sqlite3_stmt* s = insert_event_stmt_.get();
    reset_on_exit guard{s};
    bind_event_(s, 1, ev, offset, seq);
    check(db_, sqlite3_step(s), "insert event");
    // DO NOTHING on a taken id completes with no change.
    return sqlite3_changes(db_) == 1;
}

bool group_commit::insert_naming_afresh_(domain::event& ev, std::int64_t offset, std::int64_t seq) {
    if (insert_event_(ev, offset, seq)) return true;
    if (ev.id_given) return false;  // a client's id: a duplicate or a conflict, for the caller
    // A server-made id already taken means two UUIDv7s collided (74 random
    // bits within one millisecond): the id is ours to choose, so another is
    // drawn instead of failing the batch.
    for (int draw = 0; draw < max_id_redraws; ++draw) {
        ev.id = domain::make_uuid_v7(ev.received_ms);
        if (insert_event_(ev, offset, seq)) return true;
    }
    throw sqlite_error(SQLITE_INTERNAL, "no free id found for a server-named event");
}

std::optional<event_ack> group_commit::find_duplicate_(const domain::event& ev) {
    sqlite3_stmt* s = find_event_.get();
    reset_on_exit guard{s};
    bind_text(s, 1, std::string_view{ev.id});
    const int rc = sqlite3_step(s);
    check(db_, rc, sql_find_event);
    if (rc != SQLITE_ROW) {
        // Not inserted yet not there: the INSERT hit some other constraint
        // silently, which the schema does not allow.
        throw sqlite_error(SQLITE_INTERNAL, "event " + ev.id + " was neither inserted nor found");
    }
    const domain::stored_event stored = stored_event_from(s);
    if (!domain::same_body(ev, stored)) return std::nullopt;
    return event_ack{ev.id, stored.offset, stored.seq, true};
}

}  // namespace obs::persistence
