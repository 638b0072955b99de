// The stream benchmark's poster: POSTs `thought` events to
// /observability/events on a fixed schedule (not as fast as possible) over a
// few keep-alive connections, and records for every stored event its offset,
// when its request was sent and when the 201 came back. The server answers
// after the batch committed, so the answer's arrival bounds the commit time
// from above: the report measures commit-to-delivery from it.
//
// Executor: lives on its own io_context, run by one thread (not the
// listeners' thread), so a busy listener thread cannot delay the schedule
// more than the shared core does.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace obs::bench {

// One stored event, as the poster saw it.
struct posted_event {
    std::int64_t offset = 0;    // from the 201 answer
    std::int64_t sent_ns = 0;   // now_ns() when its request was handed to the socket
    std::int64_t acked_ns = 0;  // now_ns() when the complete 201 answer was read
};

class event_poster {
public:
    struct options {
        boost::asio::ip::tcp::endpoint server;
        double events_per_second = 500;            // the steady rate (> 0)
        std::size_t batch = 1;                     // events per request (1-1000)
        std::chrono::milliseconds duration{10000}; // how long the schedule runs
        std::size_t connections = 16;              // keep-alive connections (>= 1)
        std::size_t text_bytes = 64;               // length of each thought's text
        std::string run_id = "bench-stream";
    };

    // REQUIRES (every member function): on the thread running `io`.
    event_poster(boost::asio::io_context& io, options opts);
    ~event_poster();
    event_poster(const event_poster&) = delete;
    event_poster& operator=(const event_poster&) = delete;

    // Connects, then sends one request per tick (tick k at start + k * batch /
    // rate). A tick finding every connection busy is sent as soon as one is
    // free (counted as late). `on_done` runs once the last tick's request
    // was answered, or when every connection failed.
    void start(std::function<void()> on_done);

    const std::vector<posted_event>& events() const { return events_; }  // in answer order
    std::uint64_t requests_sent() const { return requests_sent_; }
    std::uint64_t errors() const { return errors_; }            // non-201 answers and broken connections
    const std::string& first_error() const { return first_error_; }
    std::uint64_t late_requests() const { return late_; }       // sent after their tick
    std::int64_t max_lateness_ns() const { return max_lateness_ns_; }
    std::int64_t started_ns() const { return started_ns_; }      // the schedule's tick 0
    std::int64_t finished_ns() const { return finished_ns_; }    // the last answer

private:
    struct connection;

    void on_tick();
    void send(std::size_t index, std::int64_t tick_ns);
    void read_head(std::size_t index);
    void read_body(std::size_t index, std::size_t body_bytes);
    void on_answer(std::size_t index, int status, const std::string& body);
    void on_broken(std::size_t index, const std::string& why);
    void note_error(const std::string& why);
    void maybe_finish();

    boost::asio::io_context& io_;
    options opts_;
    std::string request_;  // the same request each time: events without `id` are new events
    std::vector<std::unique_ptr<connection>> connections_;
    boost::asio::steady_timer tick_timer_;
    std::int64_t interval_ns_ = 0;
    std::uint64_t ticks_total_ = 0;
    std::uint64_t ticks_done_ = 0;
    std::vector<std::int64_t> backlog_;  // due times of ticks waiting for a free connection
    std::size_t connected_ = 0;
    std::vector<posted_event> events_;
    std::uint64_t requests_sent_ = 0;
    std::uint64_t errors_ = 0;
    std::string first_error_;
    std::uint64_t late_ = 0;
    std::int64_t max_lateness_ns_ = 0;
    std::int64_t started_ns_ = 0;
    std::int64_t finished_ns_ = 0;
    bool finished_ = false;
    std::function<void()> on_done_;
};

}  // namespace obs::bench
