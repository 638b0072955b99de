// The writer's threads and queue (see event_writer.hpp): a bounded queue of
// requests counted in events, the writer thread that takes everything queued
// and hands it to group_commit as one transaction, and the checkpointer
// thread that keeps the WAL short outside the commit path. The writer
// connection's WAL hook tells the checkpointer when the WAL has grown past
// checkpoint_after_pages; SQLite's automatic checkpoint is off because it
// runs inside COMMIT and stalls it for milliseconds.
#include "persistence/event_writer.hpp"

#include "persistence/group_commit.hpp"

#include <atomic>
#include <cassert>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

namespace obs::persistence {

namespace {

// Past this many times checkpoint_after_pages, PASSIVE checkpoints are not
// keeping up (the writer never pauses long enough for the WAL to restart), so
// the checkpointer waits for the writer (RESTART) to bound the WAL's size.
constexpr std::int64_t wal_restart_factor = 8;

void report_callback_failure(const char* which, const char* what) {
    std::fprintf(stderr, "event_writer: a %s threw: %s\n", which, what);
}

}  // namespace

struct event_writer::impl {
    explicit impl(writer_options o)
        : options(std::move(o)),
          db(open_database(options.db_path, false, options.sync)),
          checkpoint_db(open_database(options.db_path, false, options.sync)) {
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

    // On the writer thread, after each COMMIT. Asks for a checkpoint each
    // time the WAL has grown by another checkpoint_after_pages frames: every
    // commit past the threshold would mean a checkpoint (and its fsyncs) per
    // group while a busy writer keeps the WAL from restarting.
    void wal_grew(std::int64_t pages) {
        if (pages < options.checkpoint_after_pages) {
            checkpoint_requested_at = 0;  // the WAL restarted (or never grew)
            return;
        }
        const bool restarted = pages < checkpoint_requested_at;
        if (checkpoint_requested_at != 0 && !restarted && pages - checkpoint_requested_at < options.checkpoint_after_pages) {
            return;
        }
        checkpoint_requested_at = pages;
        {
            std::lock_guard lk(checkpoint_mu);
            checkpoint_wanted = true;
            checkpoint_restart = checkpoint_restart || pages >= wal_restart_factor * options.checkpoint_after_pages;
        }
        checkpoint_cv.notify_one();
    }

    void start_threads() {
        writer_thread = std::thread([this] { run_writer(); });
        checkpoint_thread = std::thread([this] { run_checkpointer(); });
        started = true;
    }

    void run_writer() {
        std::vector<write_request> group;
        for (;;) {
            std::size_t events = 0;
            {
                std::unique_lock lk(mu);
                work_cv.wait(lk, [this] { return !queue.empty() || stopping; });
                if (queue.empty()) return;  // stopping, and everything is committed
                // Always at least one request: a batch is never split.
                while (!queue.empty() &&
                       (group.empty() || events + queue.front().batch.size() <= options.max_group_events)) {
                    events += queue.front().batch.size();
                    group.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
            }
            run_group(group, events);
            group.clear();
        }
    }

    void run_group(std::vector<write_request>& group, std::size_t events) {
        group_result result = committer->run(group, static_cast<bool>(listener));
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
    }

    void run_checkpointer() {
        for (;;) {
            bool restart = false;
            {
                std::unique_lock lk(checkpoint_mu);
                checkpoint_cv.wait(lk, [this] { return checkpoint_wanted || checkpoint_stop; });
                if (!checkpoint_wanted) return;  // a pending request runs even when stopping
                checkpoint_wanted = false;
                restart = checkpoint_restart;
                checkpoint_restart = false;
            }
            const int mode = restart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
            int wal_frames = 0;
            int copied_frames = 0;
            const int rc = sqlite3_wal_checkpoint_v2(checkpoint_db.get(), nullptr, mode, &wal_frames, &copied_frames);
            if (rc == SQLITE_OK) {
                checkpoints_run.fetch_add(1);
            } else if (rc != SQLITE_BUSY) {
                std::fprintf(stderr, "event_writer: WAL checkpoint failed: %s\n", sqlite3_errmsg(checkpoint_db.get()));
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
        {
            std::lock_guard lk(checkpoint_mu);
            checkpoint_stop = true;
        }
        checkpoint_cv.notify_all();
        checkpoint_thread.join();
        // Leave the database in one file for backups and the next start.
        const int rc = sqlite3_wal_checkpoint_v2(db.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
        if (rc != SQLITE_OK) {
            std::fprintf(stderr, "event_writer: final WAL checkpoint failed: %s\n", sqlite3_errmsg(db.get()));
        }
    }

    writer_options options;
    db_ptr db;                               // the writer connection: writer thread only
    db_ptr checkpoint_db;                    // the checkpointer thread's connection
    std::unique_ptr<group_commit> committer;  // statements and state on `db`
    commit_listener listener;                // set before start(), then read-only

    std::mutex mu;                      // guards queue, queued_events, stopping
    std::condition_variable work_cv;    // queue not empty, or stopping
    std::deque<write_request> queue;    // requests waiting for the writer
    std::size_t queued_events = 0;      // events queued or in the running group
    bool stopping = false;              // no new requests

    std::int64_t checkpoint_requested_at = 0;  // WAL frames at the last request (writer thread only)
    std::mutex checkpoint_mu;             // guards the three flags below
    std::condition_variable checkpoint_cv;
    bool checkpoint_wanted = false;       // the WAL passed the threshold
    bool checkpoint_restart = false;      // ... by far: wait for the writer
    bool checkpoint_stop = false;

    std::mutex lifecycle_mu;  // serializes start/stop
    bool started = false;
    bool stopped = false;
    std::thread writer_thread;
    std::thread checkpoint_thread;

    std::atomic<std::int64_t> last_offset{0};
    std::atomic<std::uint64_t> groups_committed{0};
    std::atomic<std::uint64_t> checkpoints_run{0};
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

void event_writer::set_commit_listener(commit_listener listener) {
    std::lock_guard life(impl_->lifecycle_mu);
    assert(!impl_->started);
    impl_->listener = std::move(listener);
}

void event_writer::start() {
    std::lock_guard life(impl_->lifecycle_mu);
    assert(!impl_->started && !impl_->stopped);
    if (impl_->started || impl_->stopped) return;
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

void event_writer::stop() { impl_->stop(); }

std::int64_t event_writer::last_offset() const { return impl_->last_offset.load(); }

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

}  // namespace obs::persistence
