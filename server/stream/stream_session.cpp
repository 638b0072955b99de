// The stream's I/O: see stream_session.hpp. One coroutine per stream writes;
// two callback chains share its connection state: a pending read that
// notices the client leaving (EventSource sends nothing after its request:
// whatever arrives is dropped, and the read's end means the client is gone)
// and a watchdog that cancels a write that made no progress (not one byte
// taken by the socket) for the write timeout: a slow but live reader gets
// whole frames however long a multi-megabyte write takes, and falls behind
// into the overflow frame, while a reader that stopped is let go. Every
// queued frame goes out in one gathered write, and a busy stream's writes
// are spaced by flush_interval, so socket writes (the limit on one core)
// grow with streams, not with events.
#include "server/stream/stream_session.hpp"

#include "backup/hand_off.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstdint>
#include <array>
#include <exception>
#include <memory>
#include <stdexcept>
#include <utility>

#include <linux/sockios.h>
#include <sys/ioctl.h>

namespace obs::server {

namespace asio = boost::asio;

namespace {

using clock = std::chrono::steady_clock;
using event_page = persistence::replay_page;

// Per-frame vectors this long are released after a flush instead of kept,
// so 10,000 idle streams do not each hold the capacity of their busiest one.
constexpr std::size_t kept_capacity = 256;

// The state the stream coroutine shares with its read and watchdog callbacks.
struct connection {
    connection(asio::ip::tcp::socket s, subscription sb, std::chrono::milliseconds timeout)
        : socket(std::move(s)), sub(std::move(sb)), watchdog(socket.get_executor()), write_timeout(timeout) {}

    void cancel_io() {
        boost::system::error_code ignored;
        socket.cancel(ignored);
    }

    // Bytes the client has taken: those the peer acknowledged (written
    // minus what the kernel still holds). The application's own writes are
    // no measure of a reader: with a send buffer of megabytes the kernel
    // wakes a writer only when a large part of it is free, which for a
    // reader at 40 KB/s is tens of seconds between two partial writes.
    // Where the send queue cannot be read, the bytes written stand in.
    std::uint64_t taken() {
        int queued = 0;
        if (::ioctl(socket.native_handle(), SIOCOUTQ, &queued) == 0 &&
            queued >= 0 && static_cast<std::uint64_t>(queued) <= written) {
            return written - static_cast<std::uint64_t>(queued);
        }
        return written;
    }

    asio::ip::tcp::socket socket;
    subscription sub;
    asio::steady_timer watchdog;  // armed only while a write is in flight
    std::chrono::milliseconds write_timeout;
    bool writing = false;
    clock::time_point last_progress;  // while writing: when the client last took a byte (or the write began)
    std::uint64_t written = 0;        // bytes the socket accepted, all writes
    std::uint64_t last_taken = 0;     // taken() when last seen by the watchdog
    bool watchdog_armed = false;
    bool done = false;                    // the coroutine finished: callbacks stop
    std::array<char, 256> discard{};      // what the client sends is read and dropped
};

// While a write is in flight the watchdog looks a few times per timeout
// whether the client took bytes; after a whole timeout without, it cancels
// the write (which completes with operation_aborted). So a stopped reader
// is let go within about 1.25 timeouts and a slow one never is.
void arm_watchdog(const std::shared_ptr<connection>& c) {
    const auto poll = std::max<std::chrono::milliseconds>(c->write_timeout / 4, std::chrono::milliseconds(1));
    c->watchdog_armed = true;
    c->watchdog.expires_after(poll);
    c->watchdog.async_wait([c](boost::system::error_code ec) {
        c->watchdog_armed = false;
        if (ec || c->done || !c->writing) {
            return;  // no write in flight: re-armed by the next write
        }
        const auto now = clock::now();
        if (const std::uint64_t taken = c->taken(); taken > c->last_taken) {
            c->last_taken = taken;
            c->last_progress = now;
        }
        if (now - c->last_progress >= c->write_timeout) {
            c->cancel_io();
            return;
        }
        arm_watchdog(c);
    });
}

void watch_client(const std::shared_ptr<connection>& c) {
    c->socket.async_read_some(asio::buffer(c->discard), [c](boost::system::error_code ec, std::size_t) {
        if (c->done) {
            return;
        }
        if (!ec) {
            watch_client(c);
            return;
        }
        // Gone (or our own cancel): free the queue now and wake the writer.
        c->sub->close();
    });
}

// One gathered write of `frames`; it fails when the socket takes no byte of
// it for the write timeout.
asio::awaitable<bool> write_frames(std::shared_ptr<connection> c, const std::vector<shared_frame>& frames,
                                   std::vector<asio::const_buffer>& buffers) {
    buffers.clear();
    for (const auto& f : frames) {
        buffers.emplace_back(f->data(), f->size());
    }
    c->writing = true;
    c->last_progress = clock::now();
    c->last_taken = c->taken();
    if (!c->watchdog_armed) {
        arm_watchdog(c);
    }
    // The completion condition runs after each partial write: it keeps
    // `written` current for taken().
    const std::uint64_t before = c->written;
    auto count = [c, before](const boost::system::error_code& error, std::size_t n) -> std::size_t {
        c->written = before + n;
        return asio::transfer_all()(error, n);
    };
    const auto [ec, n] = co_await asio::async_write(c->socket, buffers, count, asio::as_tuple(asio::use_awaitable));
    c->written = before + n;
    c->writing = false;
    if (buffers.capacity() > kept_capacity) {
        std::vector<asio::const_buffer>().swap(buffers);
    }
    co_return !ec;
}

void release_frames(std::vector<shared_frame>& frames) {
    if (frames.capacity() > kept_capacity) {
        std::vector<shared_frame>().swap(frames);
    } else {
        frames.clear();
    }
}

// The live part: flush the queue, ping while idle, overflow and close.
asio::awaitable<void> live_loop(std::shared_ptr<connection> c, stream_settings settings,
                                std::vector<asio::const_buffer>& buffers) {
    stream_subscriber& sub = *c->sub;
    const bool pings = settings.ping_interval.count() > 0;
    const auto next_ping_after = [&] { return pings ? clock::now() + settings.ping_interval : clock::time_point::max(); };
    auto next_ping = next_ping_after();
    auto next_flush = clock::time_point::min();
    std::vector<shared_frame> frames;
    for (;;) {
        if (sub.closed()) {
            co_return;
        }
        if (sub.overflowed()) {
            frames.clear();
            frames.push_back(overflow_frame(sub.position()));
            co_await write_frames(c, frames, buffers);
            co_return;
        }
        if (sub.queued_frames() > 0 && clock::now() < next_flush) {
            // Written a moment ago: let more frames join the next write. An
            // idle stream's first frame goes out at once.
            co_await sub.hold(next_flush);
            continue;
        }
        if (sub.take_all(frames) > 0) {
            next_flush = clock::now() + settings.flush_interval;
            if (!co_await write_frames(c, frames, buffers)) {
                co_return;
            }
            sub.note_sent(frames.size());
            release_frames(frames);
            next_ping = next_ping_after();
            continue;
        }
        if (clock::now() >= next_ping) {
            frames.push_back(ping_frame());
            if (!co_await write_frames(c, frames, buffers)) {
                co_return;
            }
            frames.clear();
            next_ping = next_ping_after();
            continue;
        }
        co_await sub.wait(next_ping);
    }
}

asio::awaitable<void> serve(std::shared_ptr<connection> c, stream_query query, stream_context ctx) {
    std::vector<asio::const_buffer> buffers;
    watch_client(c);
    std::vector<shared_frame> opening;  // a named vector: GCC 12 mishandles a braced list in co_await
    opening.push_back(std::make_shared<const std::string>(ctx.head.empty() ? stream_response_head() : ctx.head));
    opening.push_back(retry_frame(ctx.settings.retry));
    // A resume point ahead of the log (a restore rewound it): say so, and
    // go on live from the log's end rather than wait for offsets that will
    // come back with other events.
    if (query.last_event_id && *query.last_event_id > c->sub->start_offset()) {
        opening.push_back(rewound_frame(c->sub->start_offset()));
        query.last_event_id = c->sub->start_offset();
    }
    if (!co_await write_frames(c, opening, buffers)) {
        co_return;
    }
    if (query.last_event_id) {
        replay_page_source source = ctx.replay;
        if (!source) {
            if (ctx.readers == nullptr) {
                throw std::logic_error("stream_context has no read_pool for the replay");
            }
            source = read_pool_page_source(*ctx.readers, c->sub->filter().to_offset_filter(),
                                           ctx.settings.replay_scan_rows, ctx.settings.replay_page_bytes);
        }
        frame_sink sink = [c, &buffers](const std::vector<shared_frame>& frames) {
            return write_frames(c, frames, buffers);
        };
        const auto end = co_await replay_until_live(c->sub, *query.last_event_id, std::move(source),
                                                    std::move(sink), ctx.settings.replay_page_size);
        if (end == replay_end::closed || end == replay_end::sink_failed) {
            co_return;
        }
    }
    co_await live_loop(c, ctx.settings, buffers);
}

// Reads one page on a reader thread (the project's one hand-off) and resumes
// on the caller's executor.
asio::awaitable<event_page> read_page(persistence::read_pool* readers, persistence::offset_filter filter,
                                      std::int64_t after, std::int64_t up_to, std::size_t limit,
                                      std::size_t scan_rows, std::size_t page_bytes) {
    const asio::any_io_executor home = co_await asio::this_coro::executor;
    // Keeps run()/run_for() from returning while the page is read.
    const auto work = asio::make_work_guard(home);
    auto submit = [readers](persistence::read_pool::job j) { return readers->post(std::move(j)); };
    auto read = [filter = std::move(filter), after, up_to, limit, scan_rows, page_bytes](sqlite3* db) {
        return persistence::read_replay_page(db, after, up_to, filter, limit, scan_rows, page_bytes);
    };
    auto page = co_await async::run_queued<decltype(submit), decltype(read), sqlite3*>(std::move(submit), home,
                                                                                      std::move(read));
    if (!page) throw std::runtime_error("the reader queue is full");
    co_return std::move(*page);
}

}  // namespace

const std::string& stream_response_head() {
    static const std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\n"
        "X-Accel-Buffering: no\r\n"
        "Connection: close\r\n"
        "\r\n";
    return head;
}

boost::system::result<subscription, api_error> open_event_stream(stream_hub& hub, const stream_query& query,
                                                                 const stream_settings& settings) {
    return hub.subscribe(filter_of(query), settings.queue);
}

replay_page_source read_pool_page_source(persistence::read_pool& readers, persistence::offset_filter filter,
                                         std::size_t scan_rows, std::size_t page_bytes) {
    return [readers = &readers, filter = std::move(filter), scan_rows, page_bytes](
               std::int64_t after, std::int64_t up_to, std::size_t limit) {
        return read_page(readers, filter, after, up_to, limit, scan_rows, page_bytes);
    };
}

asio::awaitable<replay_end> replay_until_live(subscription sub, std::int64_t after_offset,
                                              replay_page_source source, frame_sink sink, std::size_t page_size) {
    sub->set_position(after_offset);
    const std::int64_t up_to = sub->start_offset();
    std::int64_t cursor = after_offset;
    std::vector<shared_frame> frames;
    while (cursor < up_to) {
        if (sub->closed()) {
            co_return replay_end::closed;
        }
        if (sub->overflowed()) {
            co_return replay_end::overflowed;
        }
        std::int64_t last = cursor;
        std::int64_t scanned_to = cursor;
        frames.clear();
        {
            // The page's events are freed once encoded: the write holds
            // only the frames.
            event_page page = co_await source(cursor, up_to, page_size);
            if (sub->closed()) {
                co_return replay_end::closed;  // the client left while the page was read
            }
            for (auto& ev : page.events) {
                if (ev.offset > last && ev.offset <= up_to) {  // a source out of order cannot duplicate
                    frames.push_back(encode_event_frame(ev));
                    last = ev.offset;
                }
                std::string().swap(ev.payload_json);
            }
            scanned_to = page.scanned_to;
        }
        if (!frames.empty()) {
            if (!co_await sink(frames)) {
                co_return replay_end::sink_failed;
            }
            sub->note_sent(frames.size());
            release_frames(frames);
        }
        const std::int64_t next = std::min(std::max(scanned_to, last), up_to);
        if (next <= cursor) {
            throw std::logic_error("the replay's page source made no progress");
        }
        cursor = next;
        sub->advance_to(cursor);  // every matching event up to it is written
    }
    // Every matching event up to H is written; the live queue holds the rest.
    sub->advance_to(up_to);
    if (sub->closed()) {
        co_return replay_end::closed;
    }
    co_return sub->overflowed() ? replay_end::overflowed : replay_end::caught_up;
}

asio::awaitable<void> run_event_stream(asio::ip::tcp::socket socket, stream_query query, subscription sub,
                                       stream_context ctx) {
    auto c = std::make_shared<connection>(std::move(socket), std::move(sub), ctx.settings.write_timeout);
    // Shutdown and a departed client cancel whatever I/O is in flight.
    c->sub->set_close_hook([weak = std::weak_ptr<connection>(c)] {
        if (auto conn = weak.lock()) {
            conn->cancel_io();
        }
    });
    const auto log_error = ctx.log_error;
    std::string failure;
    try {
        co_await serve(c, std::move(query), std::move(ctx));
    } catch (const std::exception& e) {
        failure = e.what();
    }
    c->done = true;
    c->sub->close();
    c->watchdog.cancel();
    boost::system::error_code ignored;
    c->socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    c->socket.close(ignored);
    if (!failure.empty() && log_error) {
        log_error("event stream ended: " + failure);
    }
}

}  // namespace obs::server
