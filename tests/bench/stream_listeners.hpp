// The stream benchmark's listeners: N raw TCP connections to
// GET /observability/stream, all on one io_context run by one thread (epoll
// scales to 10,000 sockets; one thread keeps the client's cost measurable).
// Each listener records the offset and arrival time of every event frame.
#pragma once

#include "tests/bench/sse_scanner.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace obs::bench {

// Nanoseconds of CLOCK_MONOTONIC (std::chrono::steady_clock): the one clock
// both the poster and the listeners stamp with (they share the process).
std::int64_t now_ns();

struct delivery {
    std::int64_t offset = 0;       // the frame's `id:`
    std::int64_t received_ns = 0;  // now_ns() right after the read that completed the frame's `event:` line
};

// The server's receive time of one event (its `received_at`), as the first
// listener read it from the frame.
struct server_receipt {
    std::int64_t offset = 0;
    std::int64_t received_unix_ms = 0;  // RFC 3339 ms, truncated: up to 1 ms early
};

// What one listener saw, for the report.
struct listener_record {
    std::vector<delivery> deliveries;  // in arrival order
    bool overflowed = false;           // the server sent `event: overflow`
    bool closed_early = false;         // the connection ended before close_all()
    std::uint64_t bad_ids = 0;         // unparsable `id:` lines
};

class stream_listeners {
public:
    struct options {
        boost::asio::ip::tcp::endpoint server;
        std::size_t count = 100;             // listeners to open
        std::size_t connect_parallel = 256;  // connects in flight at once (stay under the listen backlog)
        std::string target = "/observability/stream";
    };

    // Lives on `io`; every member function REQUIRES: on the thread running it.
    stream_listeners(boost::asio::io_context& io, options opts);
    ~stream_listeners();
    stream_listeners(const stream_listeners&) = delete;
    stream_listeners& operator=(const stream_listeners&) = delete;

    // Opens every listener. `on_all_streaming` runs once all of them received
    // their 200 head; `on_failure(why)` runs instead (once) when a connect
    // fails, a status is not 200, or a listener closes before that.
    void start(std::function<void()> on_all_streaming, std::function<void(const std::string&)> on_failure);

    // Runs `on_done` once every listener has received an event at or past
    // `offset` or has closed (at once if that already holds).
    void await_offset(std::int64_t offset, std::function<void()> on_done);

    // Closes every socket; records stay readable.
    void close_all();

    std::size_t streaming() const { return streaming_; }
    // How many listeners reached the awaited offset (or closed) so far.
    std::size_t caught_up() const { return caught_up_; }
    const std::vector<listener_record>& records() const { return records_; }
    // Reads that returned data, all listeners, so far: about the number of
    // socket writes the server made to them (each flush is one write).
    std::uint64_t reads() const { return reads_; }
    // `received_at` of every event the first listener received.
    const std::vector<server_receipt>& receipts() const { return receipts_; }

private:
    struct connection;

    void connect_next();
    void on_connected(std::size_t index);
    void read_next(std::size_t index);
    void on_read(std::size_t index, std::size_t n);
    void on_closed(std::size_t index, const std::string& why);
    void note_caught_up(std::size_t index);
    void fail(const std::string& why);

    boost::asio::io_context& io_;
    options opts_;
    std::string request_;                                  // the same GET for every listener
    std::vector<std::unique_ptr<connection>> connections_;
    std::vector<listener_record> records_;                 // index-aligned with connections_
    std::vector<server_receipt> receipts_;
    std::size_t next_to_connect_ = 0;
    std::size_t connecting_ = 0;                           // connects (and heads) in flight
    std::size_t streaming_ = 0;
    bool failed_ = false;
    bool stopping_ = false;
    std::function<void()> on_all_streaming_;
    std::function<void(const std::string&)> on_failure_;
    std::int64_t awaited_offset_ = -1;                     // < 0: nothing awaited
    std::size_t caught_up_ = 0;
    std::uint64_t reads_ = 0;
    std::function<void()> on_caught_up_;
};

}  // namespace obs::bench
