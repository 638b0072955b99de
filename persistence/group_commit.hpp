// The transaction of one write group, apart from the threads and the queue
// that feed it (event_writer). Given the requests taken from the queue, it
// runs one BEGIN IMMEDIATE ... COMMIT on the writer connection: the events of
// consecutive requests in multi-row INSERTs when all are new, otherwise
// request by request, one event at a time, in the request's own SAVEPOINT
// when it may need undoing (so a conflict or a failing hook rolls back that
// request alone); gap-free offsets, per-run seq, dedupe by id, and the
// `runs` rows aggregated per group and written once each. Internal to
// persistence/.
//
// Thread-safety: none; used only by the writer thread (or its owner before
// the thread starts and after it is joined).
#pragma once

#include "domain/event.hpp"
#include "persistence/event_writer.hpp"
#include "persistence/sqlite_handle.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace obs::persistence {

// One queued try_submit call; `outcome` is filled by group_commit::run.
struct write_request {
    std::vector<domain::event> batch;
    write_callback done;
    in_transaction_hook hook;
    write_outcome outcome;
};

// What a group's transaction did.
struct group_result {
    bool committed = false;                     // false: rolled back, every request failed
    std::string failure_reason;                 // with !committed: for health_reason()
    std::vector<domain::stored_event> stored;  // new events in offset order (when collected)
};

class group_commit {
public:
    // Prepares every statement on `db` (the writer connection, which must
    // outlive this object) and reads the last offset. Throws sqlite_error.
    explicit group_commit(sqlite3* db);

    // Runs `group` in one transaction and fills each request's outcome. With
    // `collect`, result.stored holds the group's new events (moved out of the
    // requests' batches). Never throws for SQLite failures: they roll the
    // whole group back, fail every request and are reported in the result.
    group_result run(std::vector<write_request>& group, bool collect);

    // The offset of the last committed event.
    std::int64_t last_offset() const { return committed_offset_; }

private:
    // The `runs` row of one run as this group sees it.
    struct run_state {
        std::optional<std::string> name;
        std::optional<std::string> agent;
        std::optional<std::string> parent_run_id;
        std::string status = "running";
        std::string tags = "[]";
        std::string metadata = "{}";
        std::int64_t started_ms = 0;
        std::optional<std::int64_t> ended_ms;
        std::int64_t last_event_ms = 0;
        std::int64_t last_seq = 0;  // 0: the run has no event yet
        std::int64_t step_count = 0;
        std::int64_t error_count = 0;
        std::int64_t input_tokens = 0;
        std::int64_t output_tokens = 0;
        double cost_usd = 0;
        std::int64_t last_received_ms = 0;  // server time of the newest event (retention's clock)
        bool dirty = false;          // changed by this group: written before COMMIT
        bool in_table = false;       // the row exists in `runs` (it was loaded)
        bool identity_dirty = false; // a column other than the counters changed: the
                                     // whole row (and its indexes) is rewritten
        std::uint64_t saved_by = 0;  // the request whose undo log holds a copy
    };
    using run_map = std::unordered_map<std::string, run_state>;

    // `stored` is null when nobody listens: the events are not kept.
    void run_transaction_(std::vector<write_request>& group, std::vector<domain::stored_event>* stored);
    void run_request_(write_request& req, std::vector<domain::stored_event>* stored);
    // Runs the request's hook in its savepoint (opened when `savepoint`).
    // False when the hook threw: the request is then undone and failed.
    // Throws sqlite_error when the hook ended the transaction.
    bool run_hook_(write_request& req, bool savepoint, std::int64_t offset_mark,
                   std::vector<domain::stored_event>* stored, std::size_t stored_mark);
    // Undoes the current request; `savepoint` says whether it opened one.
    void roll_back_request_(bool savepoint, std::int64_t offset_mark, std::vector<domain::stored_event>* stored,
                            std::size_t stored_mark);
    // The in-memory half of an undo: run states, the next offset, the
    // collected events.
    void restore_request_memory_(std::int64_t offset_mark, std::vector<domain::stored_event>* stored,
                                 std::size_t stored_mark);
    // Stores every event of `requests` (none with a hook) as new with
    // multi-row INSERTs and commits each with its acks. False when an id
    // was taken: then nothing of them is left, in the database or in memory,
    // and the caller stores them one by one.
    bool insert_all_at_once_(std::span<write_request> requests, std::vector<domain::stored_event>* stored);
    // Binds one event row's 10 parameters from index `first` on.
    static void bind_event_(sqlite3_stmt* s, int first, const domain::event& ev, std::int64_t offset,
                            std::int64_t seq);
    bool insert_event_(const domain::event& ev, std::int64_t offset, std::int64_t seq);
    // insert_event_, except that a server-made id found taken is replaced by
    // a fresh one (throws when none is free): false only for a client's id.
    bool insert_naming_afresh_(domain::event& ev, std::int64_t offset, std::int64_t seq);
    // The stored numbers of the event under the (taken) id of `ev`, marked
    // duplicate, when it has the same body (domain/same_body.hpp); nullopt
    // when it has another (a conflict).
    std::optional<event_ack> find_duplicate_(const domain::event& ev);
    run_state& touch_run_(const std::string& run_id);
    run_state load_run_(const std::string& run_id);
    static void apply_event_(run_state& run, const domain::event& ev, std::int64_t seq);
    void write_runs_();
    void write_run_counters_(const std::string& id, const run_state& run);
    static void bind_counters_(sqlite3_stmt* s, int first, const run_state& run);
    void reload_offset_();
    void step_done_(sqlite3_stmt* stmt, const char* what);

    sqlite3* db_;  // the writer connection (not owned)
    stmt_ptr begin_, commit_, rollback_;
    stmt_ptr savepoint_, release_, rollback_to_;
    stmt_ptr insert_event_stmt_;           // one row; does nothing on a taken id
    std::vector<stmt_ptr> insert_rows_;    // [k]: 2^k rows; skips a row whose id is taken
    stmt_ptr delete_from_offset_;          // undoes a failed insert_all_at_once_
    stmt_ptr find_event_, select_run_, upsert_run_, update_run_counters_, max_offset_;

    std::int64_t next_offset_ = 1;       // the offset the next inserted event gets
    std::int64_t committed_offset_ = 0;  // the last offset known committed
    bool offsets_stale_ = false;         // a failed group: re-read max(offset) first

    run_map runs_;                                       // runs touched by this group
    run_map::value_type* last_run_ = nullptr;            // the last touched entry (batches stick to a run)
    std::uint64_t request_serial_ = 0;                   // numbers requests for saved_by
    // The rows insert_all_at_once_ binds, in offset order (kept for its capacity).
    struct pending_row {
        const domain::event* ev;
        std::int64_t offset;
        std::int64_t seq;
    };
    std::vector<pending_row> rows_;
    std::vector<std::pair<std::string, std::optional<run_state>>> undo_;  // the request's prior run states
};

}  // namespace obs::persistence
