// GET /observability/stream once the request is accepted (API.md, "The
// stream"; ARCHITECTURE.md, "Stream path"): the response head, the `retry:`
// frame, the replay from SQLite after Last-Event-ID, then the live frames of
// the hub, pings while idle, overflow and close. The stream route
// (stream_route.hpp) checks the query and subscribes first, so every refusal
// (400, 503) is an ordinary error answer; then the session hands the socket
// over here.
//
// Executor: everything runs on the io thread; SQLite pages are read on the
// read_pool and resumed on the io thread.
#pragma once

#include "domain/event.hpp"
#include "persistence/queries.hpp"
#include "persistence/read_pool.hpp"
#include "server/api_error.hpp"
#include "server/stream/sse_frame.hpp"
#include "server/stream/stream_hub.hpp"
#include "server/stream/stream_query.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace obs::server {

struct stream_settings {
    std::chrono::milliseconds ping_interval{15000};  // `: ping` after this long without a write; <= 0: never
    std::chrono::milliseconds retry{3000};           // the `retry:` sent first
    std::chrono::milliseconds write_timeout{30000};  // a write stuck longer ends the stream
    std::chrono::milliseconds flush_interval{20};    // least time between two writes of live frames:
                                                     // a busy stream writes many frames at once
    std::size_t replay_page_size = 500;              // events per replay page (>= 1)
    std::size_t replay_page_bytes = 1024 * 1024;     // payload bytes per replay page (plus one event):
                                                     // a listener holds one page at a time
    std::size_t replay_scan_rows = 20000;            // rows one page may look at (sparse filters)
    queue_limits queue;                              // each subscriber's bound
};

// One page of the replay: the stored events with after < offset <= up_to
// matching the stream's filter, in offset order, at most `limit`, and how far
// it looked (scanned_to: every offset up to it was considered; the next page
// starts there). As persistence::read_replay_page. Throws to end the stream
// (the client resumes later).
using replay_page_source = std::function<boost::asio::awaitable<persistence::replay_page>(
    std::int64_t after_offset, std::int64_t up_to_offset, std::size_t limit)>;

// Writes `frames` to the client in one gathered write; false when the client
// is gone or the write failed. `frames` stays alive until it returns.
using frame_sink = std::function<boost::asio::awaitable<bool>(const std::vector<shared_frame>& frames)>;

struct stream_context {
    persistence::read_pool* readers = nullptr;  // replay pages; not owned, outlives the stream
    stream_settings settings;
    replay_page_source replay;  // when set, used instead of `readers` (tests)
    std::function<void(const std::string&)> log_error;  // why a stream ended abnormally; may be empty
    std::string head;  // the response head to send first; empty: stream_response_head()
};

// Subscribes a stream for `query` (step 1, before anything is written). On
// error (503 overloaded at the cap, 503 unavailable after shutdown) answer it
// as usual. REQUIRES: on the io thread.
boost::system::result<subscription, api_error> open_event_stream(stream_hub& hub, const stream_query& query,
                                                                 const stream_settings& settings);

// Step 2: serves the stream on `socket` (the connection, taken over from the
// HTTP session with nothing buffered left to answer) until the client leaves,
// the subscriber overflows, the hub shuts down or a write times out; then
// closes the socket and frees the subscription. `sub` comes from
// open_event_stream for the same `query`. Never throws.
boost::asio::awaitable<void> run_event_stream(boost::asio::ip::tcp::socket socket, stream_query query,
                                              subscription sub, stream_context ctx);

enum class replay_end {
    caught_up,    // every event up to sub->start_offset() was written: go live
    overflowed,   // the live queue overflowed meanwhile: send overflow and close
    closed,       // the subscriber was closed (client gone, shutdown)
    sink_failed,  // a write failed
};

// The replay hand-over: writes every event after `after_offset` up to
// sub->start_offset() (H) from `source`, one page per sink call, while the
// hub queues the live events after H; position() follows what was written.
// The next page is read only once the previous one is written and freed, so
// a listener holds one page (as events, then as frames) at a time.
// With after_offset >= H nothing is read and the live frames at or below
// after_offset are skipped. Rethrows what `source` throws; throws
// std::logic_error when a page makes no progress (a broken source).
// REQUIRES: on the io thread; page_size >= 1.
boost::asio::awaitable<replay_end> replay_until_live(subscription sub, std::int64_t after_offset,
                                                     replay_page_source source, frame_sink sink,
                                                     std::size_t page_size);

// A page source reading persistence::read_replay_page on `readers` with
// `filter`, looking at most `scan_rows` rows a page, so one job never holds a
// reader long, and reading at most `page_bytes` of payloads (plus one event)
// a page. Throws std::runtime_error when the reader queue is full.
replay_page_source read_pool_page_source(persistence::read_pool& readers, persistence::offset_filter filter,
                                         std::size_t scan_rows,
                                         std::size_t page_bytes = persistence::unbounded_page_bytes);

// The response head: 200, text/event-stream, no-store, X-Accel-Buffering: no,
// Connection: close (the body ends when the connection does).
const std::string& stream_response_head();

}  // namespace obs::server
