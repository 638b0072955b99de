// The writer's thread and queue (see event_writer.hpp): a bounded queue of
// requests counted in events, and the writer thread that takes everything
// queued and hands it to group_commit as one transaction.
//
// WAL checkpoints are the writer's too, run between groups and never inside
// a COMMIT: SQLite's automatic checkpoint is off because it runs inside
// COMMIT and stalls it for milliseconds. Measured here (2 cores, a virtual
// disk whose fsync costs 20+ ms), a checkpointer on a thread of its own kept
// slowing the writer's WAL appends while it synced, yet under a steady load
// never let the WAL restart (new frames keep arriving while it copies), so
// the WAL grew to its bound and a blocking RESTART cost 70+ ms at p99. Run by
// the writer, a PASSIVE checkpoint copies every frame (no other writer), the
// next transaction starts the WAL from its beginning, and the pause (one WAL
// and one database fsync) comes once per checkpoint_after_pages frames; the
// WAL's part of it is kept short by wal_syncer.
//
// A WAL that grew large (a backup's snapshot holds it for seconds while
// ingestion goes on) is shrunk in steps: SQLite truncates it to
// journal_size_limit inside the first COMMIT after a restart, and dropping
// 600 MiB at once was measured here as a 426 ms ftruncate (the kernel frees
// every cached page of it), stalling every request waiting on that commit.
// So after each checkpoint the limit is set a step below the file's size,
// never below wal_size_limit_bytes, and each restart trims one step.
#include "persistence/event_writer.hpp"

#include "persistence/group_commit.hpp"
#include "persistence/wal_syncer.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <sched.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace obs::persistence {

namespace {

// Makes the writer thread `tid` (0: the calling thread) SCHED_BATCH, or
// SCHED_OTHER when `batch` is false (see event_writer::set_prompt_wakeups).
// As a batch thread, the kernel does not let its wakeups preempt the
// running thread. When the io thread and
// the writer share a core (the benchmark pins the server to one; any busy
// machine may), each submit woke the writer, which preempted the io thread
// to commit a group of one request; as a batch thread it runs when the io
// thread blocks or its slice ends, so groups grow and context switches drop.
// Measured on one core: single-event POSTs from 16-18k to 25-32k requests/s
// (with completion_inbox), batches of 100 about 10% more events/s. On a
// machine with a core to spare it changes nothing. Failing is harmless.
void set_writer_policy(pid_t tid, bool batch) {
    sched_param param{};
    if (sched_setscheduler(tid, batch ? SCHED_BATCH : SCHED_OTHER, &param) != 0) {
        std::fprintf(stderr, "event_writer: could not make the writer thread %s (errno %d)\n",
                     batch ? "SCHED_BATCH" : "SCHED_OTHER", errno);
    }
}

void report_callback_failure(const char* which, const char* what) {
    std::fprintf(stderr, "event_writer: a %s threw: %s\n", which, what);
}

}  // namespace

struct event_writer::impl {
    explicit impl(writer_options o)
        : options(std::move(o)), db(open_database(options.db_path, false, options.sync)) {
        // Checkpoints are ours (see the file comment); the size limit lets
        // a WAL that grew under a burst shrink back when it restarts.
        apply_writer_pragmas(db.get(), options.wal_size_limit_bytes);
        committer = std::make_unique<group_commit>(db.get());
        last_offset.store(committer->last_offset());
        // After wal_autocheckpoint, which would replace it.
        sqlite3_wal_hook(db.get(), &impl::on_wal_commit, this);
    }

    static int on_wal_commit(void* self, sqlite3*, const char*, int pages) {
        static_cast<impl*>(self)->wal_grew(pages);
        return SQLITE_OK;
    }

    // On the writer thread, after each COMMIT, with the WAL's frame count.
    void wal_grew(std::int64_t pages) {
        // A count below the last one means the WAL restarted from frame 1.
        frames_appended += pages >= wal_pages ? pages - wal_pages : pages;
        wal_pages = pages;
        if (syncer && frames_appended - synced_at >= options.sync_wal_after_pages) {
            synced_at = frames_appended;
            syncer->request();
        }
    }

    void start_threads() {
        // FULL syncs the WAL in every COMMIT already.
        if (options.sync == durability::normal && options.sync_wal_after_pages > 0) {
            syncer = std::make_unique<wal_syncer>(wal_path);
        }
        writer_thread = std::thread([this] { run_writer(); });
        started = true;
    }

    void run_writer() {
        writer_tid.store(::gettid());
        set_writer_policy(0, !prompt_wakeups.load());
        std::vector<write_request> group;
        for (;;) {
            std::size_t events = 0;
            event_writer::job next_job;
            {
                std::unique_lock lk(mu);
                work_cv.wait(lk, [this] { return !queue.empty() || !jobs.empty() || stopping; });
                if (queue.empty() && jobs.empty()) return;  // stopping, and everything is done
                // Always at least one request: a batch is never split.
                while (!queue.empty() &&
                       (group.empty() || events + queue.front().batch.size() <= options.max_group_events)) {
                    events += queue.front().batch.size();
                    group.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
                // One job per turn: a burst of jobs waits behind each group.
                if (!jobs.empty()) {
                    next_job = std::move(jobs.front());
                    jobs.pop_front();
                }
            }
            if (!group.empty()) run_group(group, events);
            group.clear();
            if (next_job) run_job(next_job);
            if (frames_appended - checkpointed_at >= options.checkpoint_after_pages) checkpoint();
        }
    }

    void run_job(event_writer::job& j) {
        try {
            j(db.get());
        } catch (const std::exception& e) {
            report_callback_failure("writer job", e.what());
        }
        // A job that threw must not leave a transaction open for the next group.
        if (sqlite3_get_autocommit(db.get()) == 0) sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }

    // Between groups, on the writer thread. BUSY (a backup's snapshot or
    // another connection checkpointing) leaves the WAL to the next try.
    void checkpoint() {
        const int rc = sqlite3_wal_checkpoint_v2(db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        if (rc == SQLITE_OK) {
            checkpoints_run.fetch_add(1);
        } else if (rc != SQLITE_BUSY) {
            std::fprintf(stderr, "event_writer: WAL checkpoint failed: %s\n", sqlite3_errmsg(db.get()));
        }
        // Not again before another threshold of frames: a reader holding an
        // old snapshot (a backup's) can keep the WAL from restarting.
        checkpointed_at = frames_appended;
        pace_wal_shrink();
    }

    // After a checkpoint, before the restart it allows (see the file comment).
    void pace_wal_shrink() {
        struct stat wal {};
        if (::stat(wal_path.c_str(), &wal) != 0) return;
        const std::int64_t limit =
            std::max(options.wal_size_limit_bytes, static_cast<std::int64_t>(wal.st_size) - options.wal_shrink_step_bytes);
        if (limit == wal_size_limit_now) return;
        try {
            set_wal_size_limit(db.get(), limit);
            wal_size_limit_now = limit;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "event_writer: %s\n", e.what());
        }
    }

    void run_group(std::vector<write_request>& group, std::size_t events) {
        const auto began = std::chrono::steady_clock::now();
        group_result result = committer->run(group, static_cast<bool>(listener));
        commit_durations.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
        group_sizes.observe(static_cast<double>(events));
        {
            // Counted until committed (or failed), so the queue's bound also
            // bounds the events held by the running group; released before
            // any callback, so a completed request is never still counted.
            std::lock_guard lk(mu);
            queued_events -= events;
        }
        if (result.committed) {
            last_offset.store(committer->last_offset());
            groups_committed.fetch_add(1);
            set_health(true, {});
        } else {
            set_health(false, result.failure_reason);
        }
        // The listener first: an event is published to the stream before any
        // client is told it is stored.
        if (result.committed && listener && !result.stored.empty()) {
            try {
                listener(std::make_shared<const std::vector<domain::stored_event>>(std::move(result.stored)));
            } catch (const std::exception& e) {
                report_callback_failure("commit listener", e.what());
            }
        }
        for (write_request& req : group) {
            try {
                if (req.done) req.done(std::move(req.outcome));
            } catch (const std::exception& e) {
                report_callback_failure("write callback", e.what());
            }
        }
        if (group_end_listener) {
            try {
                group_end_listener();
            } catch (const std::exception& e) {
                report_callback_failure("group end listener", e.what());
            }
        }
    }

    void set_health(bool ok, std::string reason) {
        std::lock_guard lk(health_mu);
        healthy.store(ok);
        health_reason = std::move(reason);
    }

    void stop() {
        std::lock_guard life(lifecycle_mu);
        if (stopped) return;
        stopped = true;
        // Requests queued before start() are still owed their commit.
        if (!started) start_threads();
        {
            std::lock_guard lk(mu);
            stopping = true;
        }
        work_cv.notify_all();
        writer_thread.join();
        syncer.reset();
        // Leave the database in one file for backups and the next start.
        const int rc = sqlite3_wal_checkpoint_v2(db.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
        if (rc != SQLITE_OK) {
            std::fprintf(stderr, "event_writer: final WAL checkpoint failed: %s\n", sqlite3_errmsg(db.get()));
        }
    }

    writer_options options;
    std::string wal_path = options.db_path + "-wal";
    db_ptr db;                               // the writer connection: writer thread only
    std::unique_ptr<group_commit> committer;  // statements and state on `db`
    commit_listener listener;                // given to start(), then read-only
    std::function<void()> group_end_listener;  // likewise

    std::mutex mu;                      // guards queue, queued_events, stopping
    std::condition_variable work_cv;    // queue not empty, or stopping
    std::deque<write_request> queue;    // requests waiting for the writer
    std::deque<event_writer::job> jobs; // work between groups (deletions)
    std::size_t queued_events = 0;      // events queued or in the running group
    bool stopping = false;              // no new requests

    // Writer thread only: WAL frames now, frames appended since the start
    // (across restarts), and that count at the last checkpoint and sync.
    std::int64_t wal_pages = 0;
    std::int64_t frames_appended = 0;
    std::int64_t checkpointed_at = 0;
    std::int64_t synced_at = 0;
    std::int64_t wal_size_limit_now = options.wal_size_limit_bytes;  // journal_size_limit as last set
    std::unique_ptr<wal_syncer> syncer;  // with durability::normal; set before the writer starts

    std::mutex lifecycle_mu;  // serializes start/stop
    bool started = false;
    bool stopped = false;
    std::thread writer_thread;
    std::atomic<pid_t> writer_tid{0};        // 0 until the thread runs
    std::atomic<bool> prompt_wakeups{false};  // see set_prompt_wakeups

    std::atomic<std::int64_t> last_offset{0};
    std::atomic<std::uint64_t> groups_committed{0};
    std::atomic<std::uint64_t> checkpoints_run{0};
    histogram commit_durations{commit_buckets_seconds()};
    histogram group_sizes{group_size_buckets()};
    std::atomic<bool> healthy{true};
    std::mutex health_mu;  // guards health_reason
    std::string health_reason;
};

event_writer::event_writer(writer_options options) : impl_(std::make_unique<impl>(std::move(options))) {}

event_writer::~event_writer() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "event_writer: stop failed: %s\n", e.what());
    }
}

void event_writer::start(writer_listeners listeners) {
    std::lock_guard life(impl_->lifecycle_mu);
    assert(!impl_->started && !impl_->stopped);
    if (impl_->started || impl_->stopped) return;
    // Set once, before the thread that reads them without a lock exists.
    impl_->listener = std::move(listeners.on_commit);
    impl_->group_end_listener = std::move(listeners.on_group_end);
    impl_->start_threads();
}

bool event_writer::try_submit(std::vector<domain::event> batch, write_callback done, in_transaction_hook hook) {
    const std::size_t n = batch.size();
    {
        std::lock_guard lk(impl_->mu);
        if (impl_->stopping || impl_->queued_events + n > impl_->options.max_queued_events) return false;
        impl_->queue.push_back(write_request{std::move(batch), std::move(done), std::move(hook), write_outcome{}});
        impl_->queued_events += n;
    }
    impl_->work_cv.notify_one();
    return true;
}

bool event_writer::try_submit_job(job j) {
    {
        std::lock_guard lk(impl_->mu);
        if (impl_->stopping || impl_->jobs.size() >= max_jobs) return false;
        impl_->jobs.push_back(std::move(j));
    }
    impl_->work_cv.notify_one();
    return true;
}

void event_writer::stop() { impl_->stop(); }

std::int64_t event_writer::last_offset() const { return impl_->last_offset.load(); }

void event_writer::set_prompt_wakeups(bool on) {
    impl_->prompt_wakeups.store(on);
    // Before the thread runs, it reads the flag itself when it starts.
    if (const pid_t tid = impl_->writer_tid.load(); tid != 0) set_writer_policy(tid, !on);
}

std::size_t event_writer::queue_depth() const {
    std::lock_guard lk(impl_->mu);
    return impl_->queued_events;
}

bool event_writer::healthy() const { return impl_->healthy.load(); }

std::string event_writer::health_reason() const {
    std::lock_guard lk(impl_->health_mu);
    return impl_->health_reason;
}

std::uint64_t event_writer::groups_committed() const { return impl_->groups_committed.load(); }

std::uint64_t event_writer::checkpoints_run() const { return impl_->checkpoints_run.load(); }

const histogram& event_writer::commit_durations() const { return impl_->commit_durations; }

const histogram& event_writer::group_sizes() const { return impl_->group_sizes; }

}  // namespace obs::persistence
