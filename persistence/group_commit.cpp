// One write group's transaction (see group_commit.hpp). The per-event work is
// kept to a share of a multi-row INSERT plus in-memory bookkeeping: the
// `runs` rows are read once per group on first touch, updated in memory, and
// upserted once per group just before COMMIT.
//
// The events of consecutive requests (or of a request of several events) are
// first stored with INSERTs of up to 64 rows each (every power of two up to
// 64 is prepared): one statement per chunk
// opens its cursors once and appends row after row, where one statement per
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
//
// A request that must not commit (an id reused with another body, a failing
// hook) is undone with ROLLBACK TO its savepoint, and the in-memory offset
// counter and run states are restored with it so offsets stay gap-free.
#include "persistence/group_commit.hpp"
#include "persistence/group_commit_support.hpp"

#include "domain/uuid.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <span>
#include <string_view>

namespace obs::persistence {

using namespace group_commit_support;

namespace {

constexpr const char* sql_begin = "BEGIN IMMEDIATE";
constexpr const char* sql_commit = "COMMIT";
constexpr const char* sql_rollback = "ROLLBACK";
constexpr const char* sql_savepoint = "SAVEPOINT request";
constexpr const char* sql_release = "RELEASE request";
constexpr const char* sql_rollback_to = "ROLLBACK TO request";
constexpr std::string_view sql_into_events =
    "INTO events(\"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload, "
    "fingerprint) VALUES ";
constexpr int event_columns = 11;  // the parameters of one row, in the order above
constexpr std::string_view sql_event_row = "(?,?,?,?,?,?,?,?,?,?,?)";
constexpr std::string_view sql_on_taken_id = " ON CONFLICT(id) DO NOTHING";
constexpr const char* sql_delete_from_offset = "DELETE FROM events WHERE \"offset\" >= ?1";
constexpr const char* sql_find_event = "SELECT \"offset\", seq, fingerprint FROM events WHERE id = ?1";
// The last offset given out: the newest event's, or more when newer events
// were deleted (migrations/0006_retention.sql).
constexpr const char* sql_max_offset =
    "SELECT max(coalesce((SELECT max(\"offset\") FROM events), 0), "
    "coalesce((SELECT last_offset FROM offset_high_water WHERE id = 1), 0))";
constexpr int max_id_redraws = 3;  // fresh ids tried when a server-made one is taken
// The largest multi-row INSERT (rows); statements of every power of two up
// to it are prepared. 16 rows already get most of the gain.
constexpr std::size_t max_rows_per_insert = 64;

// The one-row INSERT of the event-by-event path: a taken id makes it do
// nothing (and only a taken id: any other constraint still fails it).
std::string insert_event_sql() {
    return std::string("INSERT ").append(sql_into_events).append(sql_event_row).append(sql_on_taken_id);
}

// INSERT OR IGNORE INTO events(...) VALUES (row),(row),... with `rows` rows.
std::string insert_rows_sql(std::size_t rows) {
    std::string sql = std::string("INSERT OR IGNORE ").append(sql_into_events);
    for (std::size_t i = 0; i < rows; ++i) {
        if (i > 0) sql += ',';
        sql += sql_event_row;
    }
    return sql;
}

// The prepared multi-row INSERTs: [k] stores 2^k rows.
std::vector<stmt_ptr> prepare_multi_row_inserts(sqlite3* db) {
    std::vector<stmt_ptr> out;
    for (std::size_t rows = 1; rows <= max_rows_per_insert; rows *= 2)
        out.push_back(prepare(db, insert_rows_sql(rows)));
    return out;
}

// The size of the next chunk of `remaining` rows: the largest prepared one
// that fits, as its index into the prepared statements.
std::size_t chunk_index(std::size_t remaining) {
    std::size_t index = 0;
    while ((std::size_t{2} << index) <= std::min(remaining, max_rows_per_insert)) ++index;
    return index;
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

// Whether an event after the first carries a client's id: only such an id
// can conflict once earlier events of the batch are written.
bool later_event_has_client_id(const std::vector<domain::event>& batch) {
    return batch.size() > 1 &&
           std::any_of(batch.begin() + 1, batch.end(), [](const domain::event& ev) { return ev.id_given; });
}

}  // namespace

group_commit::group_commit(sqlite3* db)
    : db_(db),
      begin_(prepare(db, sql_begin)),
      commit_(prepare(db, sql_commit)),
      rollback_(prepare(db, sql_rollback)),
      savepoint_(prepare(db, sql_savepoint)),
      release_(prepare(db, sql_release)),
      rollback_to_(prepare(db, sql_rollback_to)),
      insert_event_stmt_(prepare(db, insert_event_sql())),
      insert_rows_(prepare_multi_row_inserts(db)),
      delete_from_offset_(prepare(db, sql_delete_from_offset)),
      find_event_(prepare(db, sql_find_event)),
      select_run_(prepare(db, sql_select_run)),
      upsert_run_(prepare(db, sql_upsert_run)),
      update_run_counters_(prepare(db, sql_update_run_counters)),
      max_offset_(prepare(db, sql_max_offset)) {
    reload_offset_();
}

group_result group_commit::run(std::vector<write_request>& group, bool collect) {
    group_result result;
    std::string client_reason;  // SQLite's generic text for the code: no paths, no SQL
    try {
        run_transaction_(group, collect ? &result.stored : nullptr);
        committed_offset_ = next_offset_ - 1;
        result.committed = true;
        return result;
    } catch (const sqlite_error& e) {
        client_reason = std::string{" ("} + sqlite3_errstr(e.code()) + ")";
        result.failure_reason = e.what();
    } catch (const std::exception& e) {  // bad_alloc and the like: same remedy
        result.failure_reason = e.what();
    }
    // The whole group is lost: undo what SQLite may still hold, and forget
    // every in-memory number, which the next group re-reads under its lock.
    if (sqlite3_get_autocommit(db_) == 0) {
        reset_on_exit guard{rollback_.get()};
        sqlite3_step(rollback_.get());
    }
    runs_.clear();
    last_run_ = nullptr;
    undo_.clear();
    offsets_stale_ = true;
    next_offset_ = committed_offset_ + 1;
    result.stored.clear();
    std::fprintf(stderr, "event_writer: a write group of %zu requests failed: %s\n", group.size(),
                 result.failure_reason.c_str());
    const std::string message = "the database could not store the batch" + client_reason;
    for (write_request& req : group) {
        req.outcome = write_outcome{};
        req.outcome.result = write_outcome::status::failed;
        req.outcome.message = message;
    }
    return result;
}

void group_commit::run_transaction_(std::vector<write_request>& group, std::vector<domain::stored_event>* stored) {
    // A previous failure whose ROLLBACK failed too must not leak into this group.
    if (sqlite3_get_autocommit(db_) == 0) step_done_(rollback_.get(), sql_rollback);
    step_done_(begin_.get(), sql_begin);
    // Exact only while holding the write lock, hence here and not earlier.
    if (offsets_stale_) reload_offset_();
    runs_.clear();
    last_run_ = nullptr;
    // Consecutive requests without a hook go in together; when one of their
    // ids is taken they go again one request at a time.
    for (std::size_t first = 0; first < group.size();) {
        std::size_t end = first;
        while (end < group.size() && !group[end].hook) ++end;
        const std::span<write_request> plain(group.data() + first, end - first);
        if (plain.size() > 1 && insert_all_at_once_(plain, stored)) {
            first = end;
            continue;
        }
        const std::size_t stop = std::max(end, first + 1);  // a request with a hook goes alone
        for (; first < stop; ++first) run_request_(group[first], stored);
    }
    write_runs_();
    step_done_(commit_.get(), sql_commit);
    runs_.clear();
    last_run_ = nullptr;
}

void group_commit::run_request_(write_request& req, std::vector<domain::stored_event>* stored) {
    ++request_serial_;
    undo_.clear();
    const std::int64_t offset_mark = next_offset_;
    const std::size_t stored_mark = stored != nullptr ? stored->size() : 0;
    write_outcome& out = req.outcome;
    out = write_outcome{};
    // The common request (every id new) is stored at once and needs no
    // savepoint: insert_all_at_once_ undoes its own rows when an id is taken.
    if (!req.hook && req.batch.size() > 1 && insert_all_at_once_({&req, 1}, stored)) return;
    // One event at a time from here. A savepoint is only needed when
    // something this request already wrote may have to be undone: by the
    // hook's failure, or by a conflict of a later event. Only a client's id
    // can conflict (a server-made one that is taken is replaced below), so a
    // batch whose events after the first carry no client id (the common
    // agent that lets the server name its events) commits whole without one:
    // its sub-journal copies of every page it touched were about a tenth of
    // the writer's time in obs_insert_ceiling's writer mode.
    const bool savepoint = req.hook || later_event_has_client_id(req.batch);
    if (savepoint) step_done_(savepoint_.get(), sql_savepoint);

    if (req.hook) {
        bool hook_failed = false;
        std::string hook_error;
        try {
            req.hook(db_);
        } catch (const std::exception& e) {
            hook_failed = true;
            hook_error = e.what();
        } catch (...) {
            hook_failed = true;
        }
        if (hook_failed) {
            // Fails with SQLite's own error (escalating to the group) when
            // the hook's failure already ended the transaction.
            roll_back_request_(savepoint, offset_mark, stored, stored_mark);
            out.result = write_outcome::status::failed;
            out.message = hook_error.empty() ? "the batch's in-transaction work failed" : hook_error;
            return;
        }
        if (sqlite3_get_autocommit(db_) != 0) {
            throw sqlite_error(SQLITE_MISUSE, "an in-transaction hook ended the transaction");
        }
    }

    out.acks.reserve(req.batch.size());
    std::string stored_fingerprint;
    for (std::size_t i = 0; i < req.batch.size(); ++i) {
        domain::event& ev = req.batch[i];
        run_state& run = touch_run_(ev.run_id);
        const std::int64_t seq = run.last_seq + 1;
        const std::int64_t offset = next_offset_;
        if (insert_naming_afresh_(ev, offset, seq)) {
            ++next_offset_;
            apply_event_(run, ev, seq);
            out.acks.push_back(event_ack{ev.id, offset, seq, false});
            if (stored != nullptr) stored->push_back(to_stored(std::move(ev), offset, seq));
            continue;
        }
        // The id is taken (earlier, or by this very group): the same body is
        // a duplicate answered with the stored numbers, another is a conflict.
        event_ack dup = find_stored_(ev, stored_fingerprint);
        if (stored_fingerprint == ev.fingerprint) {
            out.acks.push_back(std::move(dup));
            continue;
        }
        roll_back_request_(savepoint, offset_mark, stored, stored_mark);
        out = write_outcome{};
        out.result = write_outcome::status::conflict;
        out.conflict_index = i;
        out.message = "event id \"" + ev.id + "\" was already used with a different body";
        return;
    }
    if (savepoint) step_done_(release_.get(), sql_release);
    out.result = write_outcome::status::committed;
}

void group_commit::roll_back_request_(bool savepoint, std::int64_t offset_mark,
                                      std::vector<domain::stored_event>* stored, std::size_t stored_mark) {
    // ROLLBACK TO keeps the savepoint open; RELEASE then ends it. Without a
    // savepoint the request wrote nothing, and only memory is restored.
    if (savepoint) {
        step_done_(rollback_to_.get(), sql_rollback_to);
        step_done_(release_.get(), sql_release);
    }
    restore_request_memory_(offset_mark, stored, stored_mark);
}

void group_commit::restore_request_memory_(std::int64_t offset_mark, std::vector<domain::stored_event>* stored,
                                           std::size_t stored_mark) {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
        if (it->second) {
            runs_[it->first] = std::move(*it->second);
        } else {
            runs_.erase(it->first);  // first touched by this request: re-read if needed
        }
    }
    undo_.clear();
    last_run_ = nullptr;
    next_offset_ = offset_mark;
    if (stored != nullptr) stored->erase(stored->begin() + static_cast<std::ptrdiff_t>(stored_mark), stored->end());
}

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
    bind_text(s, first + 10, std::string_view{ev.fingerprint});
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

event_ack group_commit::find_stored_(const domain::event& ev, std::string& fingerprint) {
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
    fingerprint.assign(reinterpret_cast<const char*>(sqlite3_column_text(s, 2)),
                       static_cast<std::size_t>(sqlite3_column_bytes(s, 2)));
    return event_ack{ev.id, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), true};
}

group_commit::run_state& group_commit::touch_run_(const std::string& run_id) {
    if (last_run_ == nullptr || last_run_->first != run_id) {
        auto it = runs_.find(run_id);
        if (it == runs_.end()) {
            it = runs_.emplace(run_id, load_run_(run_id)).first;
            // Not in the group before this request: undone by forgetting it.
            it->second.saved_by = request_serial_;
            undo_.emplace_back(run_id, std::nullopt);
        }
        last_run_ = &*it;
    }
    run_state& run = last_run_->second;
    if (run.saved_by != request_serial_) {
        run.saved_by = request_serial_;
        undo_.emplace_back(run_id, run);
    }
    return run;
}

void group_commit::reload_offset_() {
    sqlite3_stmt* s = max_offset_.get();
    reset_on_exit guard{s};
    check(db_, sqlite3_step(s), sql_max_offset);
    committed_offset_ = sqlite3_column_int64(s, 0);
    next_offset_ = committed_offset_ + 1;
    offsets_stale_ = false;
}

void group_commit::step_done_(sqlite3_stmt* stmt, const char* what) {
    reset_on_exit guard{stmt};
    check(db_, sqlite3_step(stmt), what);
}

}  // namespace obs::persistence
