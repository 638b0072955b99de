// The single writer of the event log (ARCHITECTURE.md, "Write path"). It owns
// the one read-write connection on a dedicated thread (the SQLite executor).
// Requests queue validated batches into a bounded queue; the writer takes all
// that is queued, commits it in one transaction (group commit), assigns the
// global `offset` and per-run `seq`, dedupes by event id, keeps the `runs`
// view, and only after COMMIT completes each request and publishes the
// stored events, in offset order, to the commit listener.
//
// Thread-safety: try_submit, last_offset and queue_depth may be called from
// any thread. Callbacks run on the writer thread: they must not block.
#pragma once

#include "domain/event.hpp"
#include "persistence/histogram.hpp"
#include "persistence/sqlite_handle.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace obs::persistence {

struct writer_options {
    std::string db_path;                                  // the database file (migrated already)
    durability sync = durability::normal;                 // synchronous=NORMAL or FULL
    std::size_t max_queued_events = 50000;                // the queue's bound, in events
    std::size_t max_group_events = 20000;                 // most events in one transaction
    std::int64_t checkpoint_after_pages = 2048;           // checkpoint between groups each time the WAL
                                                          // has grown by this many frames: commits wait
                                                          // for it, so it bounds their stalls (4096 gave
                                                          // single-event POSTs a p99 of 8-9 ms, 2048 6-7)
    std::int64_t sync_wal_after_pages = 512;              // with durability::normal, flush the WAL in the
                                                          // background each time this many frames were
                                                          // appended (0: never), so checkpoints stay short
    std::int64_t wal_size_limit_bytes = 64 * 1024 * 1024; // a WAL file larger than this after a checkpoint
                                                          // is truncated back towards it ...
    std::int64_t wal_shrink_step_bytes = 8 * 1024 * 1024; // ... by at most this much per WAL restart
};

// The answer for one event of a committed batch.
struct event_ack {
    std::string id;
    std::int64_t offset = 0;
    std::int64_t seq = 0;
    bool duplicate = false;  // stored earlier with the same body; offset/seq are the stored ones
};

struct write_outcome {
    enum class status {
        committed,  // acks holds one entry per event, in batch order
        conflict,   // an id was reused with another body: nothing of the batch stored
        failed,     // SQLite failed (disk full, I/O): nothing of the batch stored
    };
    status result = status::failed;
    std::vector<event_ack> acks;
    std::size_t conflict_index = 0;  // with conflict: the event's index in the batch
    std::string message;             // with conflict/failed: a reason safe to show clients
};

using write_callback = std::function<void(write_outcome)>;
// Extra work done inside the batch's own savepoint, before its events are
// inserted (e.g. the artifacts row that must commit with its `artifact`
// event). Throwing rolls the batch back and fails it with the message.
using in_transaction_hook = std::function<void(sqlite3* db)>;
using committed_events = std::shared_ptr<const std::vector<domain::stored_event>>;
using commit_listener = std::function<void(committed_events)>;

// What the writer tells its owner, on the writer thread. `on_commit`
// receives every committed group's new (non-duplicate) events in offset
// order, after COMMIT and before any request of the group is completed;
// `on_group_end` is called once per group after the commit listener and
// every `done` callback of the group: the moment to hand what they queued to
// another thread in one go. Either may be empty.
struct writer_listeners {
    commit_listener on_commit;
    std::function<void()> on_group_end;
};

class event_writer {
public:
    // Opens the writer connection and reads the last offset. Does not start
    // the thread. Throws sqlite_error when the database cannot be opened.
    explicit event_writer(writer_options options);
    ~event_writer();  // stop()
    event_writer(const event_writer&) = delete;
    event_writer& operator=(const event_writer&) = delete;

    // Starts the writer thread with its listeners, which cannot change
    // afterwards. Called once.
    void start(writer_listeners listeners = {});

    // Queues `batch` (1..n events, all or nothing). Returns false at once,
    // without calling `done`, when the queue bound would be exceeded or the
    // writer is stopping. Otherwise `done` is called exactly once, on the
    // writer thread, after the batch's transaction committed or failed.
    bool try_submit(std::vector<domain::event> batch, write_callback done, in_transaction_hook hook = {});

    // Queues `job` to run on the writer's connection between two write
    // groups (after the group running now, or at once when idle), at most
    // one job between two groups so ingestion keeps its pace; the job runs
    // its own transactions. False at once when `max_jobs` are queued or the
    // writer is stopping. Jobs queued before stop() still run.
    using job = std::function<void(sqlite3* db)>;
    static constexpr std::size_t max_jobs = 64;
    bool try_submit_job(job j);

    // Stops taking requests, commits everything already queued, runs a
    // TRUNCATE checkpoint and joins the threads. Idempotent. REQUIRES: not
    // called from a callback or the listener (it joins the writer thread).
    void stop();

    // The offset of the last committed event (0 for an empty log).
    std::int64_t last_offset() const;

    // Any thread. While on, the writer thread is SCHED_OTHER, whose wakeups
    // preempt, instead of SCHED_BATCH (see event_writer.cpp). For the length
    // of a backup: its worker compresses at a lower priority on the same
    // cores, and with one core a batch writer woken by an fsync or a submit
    // waited behind it for a scheduler tick (4 ms here) each time; ingestion's
    // p99 during a backup was 32-36 ms, 12-15 ms with the writer preempting
    // (server pinned to one core, 2,000 single-event POSTs/s).
    void set_prompt_wakeups(bool on);
    // Events queued and not yet committed.
    std::size_t queue_depth() const;
    // False once the last transaction failed for an I/O reason (for /readyz).
    bool healthy() const;
    // Human reason for healthy() == false ("" when healthy).
    std::string health_reason() const;
    // Transactions committed so far (each holds one or more requests); for
    // tests and metrics.
    std::uint64_t groups_committed() const;
    // WAL checkpoints run between groups so far (not counting the
    // TRUNCATE of stop()); for tests and metrics.
    std::uint64_t checkpoints_run() const;
    // Seconds each group's transaction took, BEGIN to COMMIT (failed ones
    // too), and events per group; recorded on the writer thread, read from
    // any thread (for /metrics).
    const histogram& commit_durations() const;
    const histogram& group_sizes() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace obs::persistence
