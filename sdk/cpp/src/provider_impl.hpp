// The provider's shared state: the queue that log() fills and the background
// thread drains, the spool, and the counters. One mutex guards the queue, the
// spool and the sequence numbers; log() holds it for a push (and, with a
// spool, a copy into the mapped segment), and wakes the thread only when a
// batch is full and the thread waits for one (or the queue used its last
// spare block, or the spool wants its upkeep), so the common log() makes no
// system call at all.
//
// Every accepted event gets the next `seq`. The background thread takes
// events off the queue in seq order and routes each to one of
// `options::connections` lanes by its run id; a lane is a sending thread with
// its own kept-alive connection that finishes a batch (stored or rejected)
// before it sends the next. So a run's events travel in one lane, in order,
// while different runs are in flight at once (the server's group commit
// merges concurrent requests; one request at a time left its writer idle).
// "Every event up to done_seq is acknowledged" is still one number, the
// lowest seq not yet acknowledged in any lane (or being routed) minus one,
// which is what flush() waits for and what an artifact waits for.
#pragma once

#include "event_queue.hpp"
#include "http_client.hpp"
#include "observability/provider.hpp"
#include "spool.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <vector>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace observability {

namespace detail {

struct artifact_job {
    std::uint64_t after_seq = 0;  // sent once every event up to this one is done
    std::string run_id;
    std::string name;
    std::string bytes;            // or, when path is set, read at send time
    std::filesystem::path path;
    std::string content_type;
    std::string step_id;
};

// A batch holds at most this many events (the server's limit) and bytes.
inline constexpr std::size_t max_batch_events = 1000;
inline constexpr std::size_t max_batch_bytes = 4u << 20;

// Events routed to lanes and not yet acknowledged, per lane, at most: the
// queue's bound (max_queue) holds for the queue, and this small amount more
// is in the lanes' hands (one batch in flight, one waiting).
inline constexpr std::size_t max_lane_events = 2 * max_batch_events;

// One event of an outgoing batch: where its line is in the body.
struct outgoing_event {
    std::uint64_t seq = 0;
    std::uint64_t segment = 0;  // its spool segment; 0 when not spooled
    std::size_t offset = 0;
    std::size_t size = 0;
};

// A batch on its way to the server: the body of POST /observability/events
// in the JSON batch form ({"events":[line,line,...]}), built as events are
// added, and where each event's line is in it (for a 422 split). The JSON
// batch form rather than NDJSON because the server decodes it on its
// streaming fast path (domain/plain_batch.hpp), no DOM per event: about
// twice the events per server CPU-second (scripts/bench-sdk).
struct outgoing_batch {
    std::string body = "{\"events\":[";  // each line followed by ',' until finish()
    std::vector<outgoing_event> events;

    // `line` without its '\n'. REQUIRES: not finished.
    void add(std::uint64_t seq, std::uint64_t segment, std::string_view line);
    // Appends `other`'s events after this batch's. REQUIRES: neither finished.
    void append(const outgoing_batch& other);
    // Closes the body: the last ',' becomes ']}'. REQUIRES: events not empty.
    void finish();
    std::string_view line(const outgoing_event& e) const { return std::string_view(body).substr(e.offset, e.size); }
    std::size_t line_bytes() const { return body.size(); }
};

// A lane: the batches routed to it and not yet taken (in seq order), and the
// first seq of the batch its thread is sending (0: none). Under the mutex.
struct lane {
    std::deque<outgoing_batch> pending;
    std::uint64_t in_flight_first = 0;
};

}  // namespace detail

struct provider::impl {
    explicit impl(options o);

    // The background thread (delivery.cpp): routes events to the lanes,
    // starts and ends their threads, sends artifacts.
    void run();

    // REQUIRES: mu held. Sets done_seq from the lanes and routed_seq.
    void update_done_seq();
    // REQUIRES: `lock` holds mu. Does what would otherwise cost log() a page
    // fault or a file: gives the queue a spare block, its pages touched here,
    // and runs the spool's upkeep (both without the lock).
    void prepare_ahead(std::unique_lock<std::mutex>& lock);
    // REQUIRES: mu held. prepare_ahead has work.
    bool wants_preparation() const;

    // --- configuration (constant after construction)
    options opts;
    std::string url;

    // --- under mu
    mutable std::mutex mu;
    std::condition_variable wake;         // the thread: a full batch, flush, close, a lane's progress
    std::condition_variable lanes_wake;   // the lanes' threads: a batch routed, stop, abort
    std::condition_variable progress;     // flush() and close(): done_seq moved, thread ended
    detail::event_queue queue;
    std::deque<detail::artifact_job> artifacts;
    std::optional<detail::spool> spool;
    std::uint64_t last_seq = 0;           // of the latest accepted event
    std::uint64_t done_seq = 0;           // every event up to it is acknowledged
    std::uint64_t acked = 0;              // events acknowledged (stored, duplicate or rejected)
    std::uint64_t routed_seq = 0;         // the latest seq taken off the queue
    std::uint64_t routing_first = 0;      // first seq of events taken but not yet in a lane (0: none)
    std::size_t in_lanes = 0;             // events routed to lanes, not yet acknowledged
    std::vector<detail::lane> lanes;      // options::connections of them
    bool lanes_stop = false;              // the lanes' threads end once their batches are done
    bool wants_events = false;            // the thread sleeps until flush_at events are queued
    bool wants_lanes = false;             // the thread sleeps until a lane finishes a batch
    std::uint64_t artifacts_added = 0;
    std::uint64_t artifacts_done = 0;
    bool flush_wanted = false;
    bool closed = false;                  // log() drops from now on
    bool closing = false;                 // the thread drains, then ends
    bool thread_ended = false;
    // Overflow into the spool: while set, log() writes to the spool only and
    // the thread reads the events back from here; its seq is disk_seq.
    bool disk_mode = false;
    detail::spool_position disk_cursor;
    std::uint64_t disk_seq = 0;

    // --- counters (stats)
    std::atomic<std::uint64_t> sent{0}, duplicates{0}, dropped{0}, retries{0}, spooled{0}, rejected{0},
        artifacts_sent{0};
    std::atomic<bool> gzip{true};
    std::atomic<bool> failing{false};     // a request failed and it was reported
    std::atomic<bool> abort{false};       // close's deadline passed: stop now

    std::thread worker;
};

}  // namespace observability
