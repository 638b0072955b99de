// The provider's shared state: the queue that log() fills and the background
// thread drains, the spool, and the counters. One mutex guards the queue, the
// spool and the sequence numbers; log() holds it for a push (and, with a
// spool, one write(2)), and wakes the thread only when a batch is full (or
// the queue used its last spare block), so the common log() makes no system
// call at all.
//
// Every accepted event gets the next `seq`. The thread handles events in seq
// order (a batch is done, stored or rejected, before the next is sent), so
// "everything up to done_seq is acknowledged" is one number, which is what
// flush() waits for and what keeps the order of each run.
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

}  // namespace detail

struct provider::impl {
    explicit impl(options o);

    // The background thread (delivery.cpp).
    void run();

    // --- configuration (constant after construction)
    options opts;
    std::string url;

    // --- under mu
    mutable std::mutex mu;
    std::condition_variable wake;         // the thread: a full batch, flush, close
    std::condition_variable progress;     // flush() and close(): done_seq moved, thread ended
    detail::event_queue queue;
    std::deque<detail::artifact_job> artifacts;
    std::optional<detail::spool> spool;
    std::uint64_t last_seq = 0;           // of the latest accepted event
    std::uint64_t done_seq = 0;           // every event up to it is acknowledged
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
    std::atomic<bool> abort{false};       // close's deadline passed: stop now

    std::thread worker;
};

}  // namespace observability
