// One write group's transaction (see group_commit.hpp). The per-event work is
// kept to a share of a multi-row INSERT plus in-memory bookkeeping: the
// `runs` rows are read once per group on first touch, updated in memory, and
// upserted once per group just before COMMIT (group_commit_runs.cpp). The
// events of consecutive requests are first stored all at once, and one
// request and then one event at a time only when an id is taken
// (group_commit_inserts.cpp).
//
// A request that must not commit (an id reused with another body, a failing
// hook) is undone with ROLLBACK TO its savepoint, and the in-memory offset
// counter and run states are restored with it so offsets stay gap-free.
#include "persistence/group_commit.hpp"
#include "persistence/group_commit_support.hpp"

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
// The last offset given out: the newest event's, or more when newer events
// were deleted (migrations/0006_retention.sql).
constexpr const char* sql_max_offset =
    "SELECT max(coalesce((SELECT max(\"offset\") FROM events), 0), "
    "coalesce((SELECT last_offset FROM offset_high_water WHERE id = 1), 0))";

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

    if (req.hook && !run_hook_(req, savepoint, offset_mark, stored, stored_mark)) return;

    out.acks.reserve(req.batch.size());
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
        if (auto dup = find_duplicate_(ev)) {
            out.acks.push_back(std::move(*dup));
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

bool group_commit::run_hook_(write_request& req, bool savepoint, std::int64_t offset_mark,
                             std::vector<domain::stored_event>* stored, std::size_t stored_mark) {
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
        req.outcome.result = write_outcome::status::failed;
        req.outcome.message = hook_error.empty() ? "the batch's in-transaction work failed" : hook_error;
        return false;
    }
    if (sqlite3_get_autocommit(db_) != 0) {
        throw sqlite_error(SQLITE_MISUSE, "an in-transaction hook ended the transaction");
    }
    return true;
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
