// The live stream's fan-out (ARCHITECTURE.md, "Stream path"). The writer's
// committed batches reach the hub on the io thread, in offset order; the hub
// encodes each event's SSE frame once and appends the shared frame to the
// bounded queue of every subscriber whose filter matches, waking it. A
// subscriber whose queue is full is marked overflowed and its queue dropped:
// nothing here ever waits for a client.
//
// Executor: the hub and its subscribers live on the io thread (the one
// io_context); no member may be called from another thread, hence no mutex.
#pragma once

#include "domain/event.hpp"
#include "persistence/event_writer.hpp"
#include "server/api_error.hpp"
#include "server/stream/sse_frame.hpp"
#include "server/stream/stream_query.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace obs::server {

// A subscriber's queue bound: whichever is reached first. A frame always fits
// an empty queue, so one oversized frame cannot wedge a subscriber.
struct queue_limits {
    std::size_t max_frames = 4096;
    std::size_t max_bytes = 16 * 1024 * 1024;
};

struct hub_options {
    std::size_t max_subscribers = 10000;  // subscribe() fails beyond it
};

class stream_hub;

// One stream's place in the hub: its filter, its bounded queue of shared
// frames and its state. Owned by the stream's session through a shared_ptr;
// closing it (or destroying it) unregisters it from the hub and frees its
// queue at once. Lives on the io thread, like the hub.
class stream_subscriber {
    struct key {};  // only the hub creates subscribers

public:
    using clock = std::chrono::steady_clock;

    stream_subscriber(key, stream_hub& hub, stream_filter filter, queue_limits limits, std::int64_t start_offset);
    ~stream_subscriber();  // close()
    stream_subscriber(const stream_subscriber&) = delete;
    stream_subscriber& operator=(const stream_subscriber&) = delete;

    const stream_filter& filter() const { return filter_; }
    // H: the hub's last published offset when this subscriber was made. Every
    // matching event after H reaches its queue; replay covers those up to H.
    std::int64_t start_offset() const { return start_offset_; }
    // The stream is complete through this offset: every matching event at or
    // before it has been taken for writing. Starts at start_offset().
    std::int64_t position() const { return position_; }
    bool overflowed() const { return overflowed_; }
    // True once closed by close(), by the hub's shutdown or by the hub's end.
    bool closed() const { return closed_; }
    std::size_t queued_frames() const { return queue_.size(); }
    std::size_t queued_bytes() const { return queued_bytes_; }

    // Sets position() (the resume point before a replay). Frames queued at
    // or below it are dropped when taken, so nothing is sent twice.
    void set_position(std::int64_t offset) { position_ = offset; }
    // Raises position() to `offset` (replay progress); never lowers it.
    void advance_to(std::int64_t offset);
    // Appends every queued frame past position() to `out`, in offset order,
    // empties the queue and raises position() to the last one taken.
    // Returns how many were appended.
    std::size_t take_all(std::vector<shared_frame>& out);
    // Counts one write of `frames` event frames to the client (hub counters).
    void note_sent(std::size_t frames);

    // Suspends until frames are queued, overflow, close or `deadline`;
    // returns at once if one of those holds already. Callers re-check state.
    boost::asio::awaitable<void> wait(clock::time_point deadline);
    // Suspends until overflow, close or `deadline`, letting frames gather
    // (a busy stream's flushes are spaced so each write carries many frames).
    boost::asio::awaitable<void> hold(clock::time_point deadline);
    // Ends a pending wait() (not a hold()); harmless when none.
    void wake();

    // Unregisters from the hub, drops the queue, wakes the waiter and runs
    // the close hook once. Idempotent.
    void close();
    // `hook` runs (once) when the subscriber is closed: the session uses it
    // to cancel its socket I/O at shutdown or when the client is gone.
    void set_close_hook(std::function<void()> hook) { close_hook_ = std::move(hook); }

private:
    friend class stream_hub;
    struct queued_frame {
        shared_frame frame;
        std::int64_t offset = 0;
    };
    enum class pause { none, wait, hold };  // what is pending on wake_timer_

    // Called by the hub: queues `frame` or, when the bound is hit, overflows.
    void enqueue(const shared_frame& frame, std::int64_t offset);
    void drop_queue();
    boost::asio::awaitable<void> pause_until(clock::time_point deadline, pause kind);
    void alert();  // ends a pending wait() or hold()

    stream_hub* hub_;       // null once unregistered or the hub is gone
    std::size_t slot_ = 0;  // index in the hub's subscriber list
    stream_filter filter_;
    queue_limits limits_;
    std::int64_t start_offset_;
    std::int64_t position_;
    std::deque<queued_frame> queue_;  // offsets increasing
    std::size_t queued_bytes_ = 0;
    bool overflowed_ = false;
    bool closed_ = false;
    bool wake_pending_ = false;  // set by publish: woken once per batch
    pause paused_ = pause::none;
    boost::asio::steady_timer wake_timer_;  // wait()/hold(); cancelled to wake
    std::function<void()> close_hook_;
};

using subscription = std::shared_ptr<stream_subscriber>;

class stream_hub {
public:
    using executor_type = boost::asio::io_context::executor_type;

    // `last_offset` is the writer's last committed offset when the hub starts
    // (event_writer::last_offset(), read before the writer starts): the first
    // subscribers replay up to it. Subscribers' timers run on `io`.
    stream_hub(executor_type io, std::int64_t last_offset, hub_options options = {});
    ~stream_hub();  // detaches (marks closed) every subscriber still alive
    stream_hub(const stream_hub&) = delete;
    stream_hub& operator=(const stream_hub&) = delete;

    // REQUIRES: on the io thread. Fans out `batch` (events in offset order).
    // Events at or below last_published_offset() are ignored, so a batch
    // already covered by the start offset is never sent twice. Each event's
    // frame is encoded once, only when some subscriber matches, and shared.
    void publish(const persistence::committed_events& batch);
    void publish(const std::vector<domain::stored_event>& events);

    // REQUIRES: on the io thread. A new subscriber whose start_offset() is
    // last_published_offset(); or 503: `overloaded` (Retry-After 5) at the
    // subscriber cap, `unavailable` after shutdown(). Call it before writing
    // anything, so the error can be the route's normal error answer.
    boost::system::result<subscription, api_error> subscribe(stream_filter filter, queue_limits limits = {});

    std::int64_t last_published_offset() const { return last_published_; }
    // REQUIRES: on the io thread. Closes every subscriber (their sessions
    // end cleanly, in-flight writes cancelled) and refuses new ones.
    void shutdown();
    bool stopped() const { return stopped_; }
    executor_type get_executor() const { return io_; }

    // Counters for /metrics.
    std::size_t subscribers() const { return subscribers_.size(); }  // now
    std::uint64_t frames_sent() const { return frames_sent_; }        // event frames written, total
    std::uint64_t flushes() const { return flushes_; }                // writes carrying them, total
    std::uint64_t overflows() const { return overflows_; }            // subscribers overflowed, total
    std::size_t frames_queued() const { return frames_queued_; }      // frames in all queues now
    std::uint64_t frames_encoded() const { return frames_encoded_; }  // live frames encoded, total

private:
    friend class stream_subscriber;
    void remove(stream_subscriber& sub);

    executor_type io_;
    std::int64_t last_published_;
    hub_options options_;
    std::vector<stream_subscriber*> subscribers_;  // registered, not owned
    bool stopped_ = false;
    std::uint64_t frames_sent_ = 0;
    std::uint64_t flushes_ = 0;
    std::uint64_t overflows_ = 0;
    std::size_t frames_queued_ = 0;
    std::uint64_t frames_encoded_ = 0;
};

}  // namespace obs::server
