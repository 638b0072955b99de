// What the route handlers share: the configuration, the keys, the writer,
// the readers, the stream hub, the artifact service, the backup runner and
// the counters of /metrics, all given at construction. Lives on the io
// thread: every member function is called there. Its two hops to other
// threads, submit() to the writer and read() to a reader, are
// async::await_hand_off (backup/hand_off.hpp), the project's one hand-off.
#pragma once

#include "backup/hand_off.hpp"
#include "persistence/artifact_store.hpp"
#include "persistence/event_writer.hpp"
#include "persistence/histogram.hpp"
#include "persistence/read_pool.hpp"
#include "persistence/storage_figures.hpp"
#include "server/api_error.hpp"
#include "server/auth.hpp"
#include "server/completion_inbox.hpp"
#include "server/config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace obs::backup {
class backup_runner;
}  // namespace obs::backup

namespace obs::server {

class stream_hub;
class artifact_service;

// Counts a connection as open (server_counters::open_connections) for as
// long as the guard lives: an HTTP connection, then a stream it handed over.
class open_connection_mark {
public:
    explicit open_connection_mark(std::uint64_t& open) : open_(open) { ++open_; }
    ~open_connection_mark() { --open_; }
    open_connection_mark(const open_connection_mark&) = delete;
    open_connection_mark& operator=(const open_connection_mark&) = delete;

private:
    std::uint64_t& open_;
};

// Answers counted by status class: [0] 1xx-3xx, [1] 4xx, [2] 5xx.
struct status_counts {
    std::array<std::uint64_t, 3> by_class{};
    static std::size_t class_of(unsigned status) { return status < 400 ? 0 : status < 500 ? 1 : 2; }
    void count(unsigned status) { ++by_class[class_of(status)]; }
};

// Request durations of one route, by status class (status_counts' order),
// from the end of the request's head to the answer written (a stream: to
// its head handed over).
struct route_durations {
    std::array<persistence::histogram, 3> by_class{persistence::histogram(persistence::latency_buckets_seconds()),
                                                   persistence::histogram(persistence::latency_buckets_seconds()),
                                                   persistence::histogram(persistence::latency_buckets_seconds())};
};

// Plain counters for /metrics; touched on the io thread only.
struct server_counters {
    std::uint64_t requests = 0;
    std::uint64_t events_accepted = 0;
    std::uint64_t events_duplicate = 0;
    std::uint64_t rejected_overloaded = 0;
    std::uint64_t open_connections = 0;
    status_counts responses;                  // every answer
    std::vector<status_counts> per_route;     // by route table row (route_names' order)
    std::vector<route_durations> durations;   // likewise
    std::array<std::uint64_t, 2> auth_failures{};  // answers 401 [0] and 403 [1] (only auth gives them)
    std::uint64_t stream_replays = 0;         // streams opened with a resume point (Last-Event-ID or ?last_event_id)
    // The storage figures as last read, and when: /metrics reads them again
    // only when they are older than a few seconds (see the metrics route).
    std::optional<persistence::storage_figures> storage;
    std::chrono::steady_clock::time_point storage_read_at{};
    // Deletions: by retention (--retention) and by DELETE of a run.
    struct deletions {
        std::uint64_t runs = 0;
        std::uint64_t events = 0;
        std::uint64_t artifact_files = 0;  // content files no row referred to any more
    };
    deletions retention_deleted;
    deletions request_deleted;
    std::uint64_t retention_sweeps = 0;
    std::uint64_t retention_pages_released = 0;  // freelist pages given back to the file system
};

// The services beside the app, owned by main; each outlives the app.
struct app_parts {
    persistence::event_writer& writer;
    persistence::read_pool& readers;
    stream_hub& hub;
    artifact_service& artifacts;
    backup::backup_runner& backups;
    std::shared_ptr<completion_inbox> inbox;  // the writer's way back to the io thread
};

class app {
public:
    // `route_names`: "METHOD /pattern" of each route table row, for /metrics.
    app(boost::asio::io_context& io, config cfg, app_parts parts, int schema_version,
        std::vector<std::string> route_names);

    const config& cfg() const { return cfg_; }
    const authorizer& auth() const { return auth_; }
    persistence::event_writer& writer() { return parts_.writer; }
    persistence::read_pool& readers() { return parts_.readers; }
    stream_hub& hub() { return parts_.hub; }
    artifact_service& artifacts() { return parts_.artifacts; }
    backup::backup_runner& backups() { return parts_.backups; }
    boost::asio::io_context& io() { return io_; }
    server_counters& counters() { return counters_; }
    const std::vector<std::string>& route_names() const { return route_names_; }
    int schema_version() const { return schema_version_; }

    // Queues `batch` for the writer and waits for its commit; `artifact`,
    // when set, is stored in the same transaction (persistence writes its
    // row). 503 overloaded when the queue is full (nothing stored), 409 on a
    // conflict, 503 unavailable when the transaction failed.
    boost::asio::awaitable<boost::system::result<persistence::write_outcome, api_error>> submit(
        std::vector<domain::event> batch, std::optional<persistence::artifact_row> artifact = std::nullopt);

    // Runs `f(sqlite3*)` on a reader thread and resumes here with its value;
    // 503 overloaded when the reader queue is full. What `f` throws is
    // rethrown (a bug: the session answers 500).
    template <class F>
    boost::asio::awaitable<boost::system::result<std::invoke_result_t<F&, sqlite3*>, api_error>> read(F f);

    // Runs `f(sqlite3*)` on the writer's connection between two write
    // groups (event_writer::try_submit_job) and resumes here with its value;
    // 503 overloaded when the writer's job queue is full. `f` runs its own
    // transactions. What `f` throws is rethrown.
    template <class F>
    boost::asio::awaitable<boost::system::result<std::invoke_result_t<F&, sqlite3*>, api_error>> write_job(F f);

private:
    api_error overloaded(std::string what);
    // submit()'s answer to the writer's outcome, on the io thread.
    boost::system::result<persistence::write_outcome, api_error> answer_to(persistence::write_outcome outcome);
    // read() and write_job(): `f` through the queue `submit`, 503 `when_full`.
    template <class Submit, class F>
    boost::asio::awaitable<boost::system::result<std::invoke_result_t<F&, sqlite3*>, api_error>> on_queue(
        Submit submit, F f, const char* when_full);

    boost::asio::io_context& io_;
    config cfg_;
    authorizer auth_;
    app_parts parts_;
    int schema_version_;
    std::vector<std::string> route_names_;
    server_counters counters_;
};

template <class F>
boost::asio::awaitable<boost::system::result<std::invoke_result_t<F&, sqlite3*>, api_error>> app::write_job(F f) {
    auto& writer = parts_.writer;
    auto submit = [&writer](persistence::event_writer::job j) { return writer.try_submit_job(std::move(j)); };
    return on_queue(std::move(submit), std::move(f), "the writer's queue of deletions is full; retry shortly");
}

template <class F>
boost::asio::awaitable<boost::system::result<std::invoke_result_t<F&, sqlite3*>, api_error>> app::read(F f) {
    auto& readers = parts_.readers;
    auto submit = [&readers](persistence::read_pool::job j) { return readers.post(std::move(j)); };
    return on_queue(std::move(submit), std::move(f), "the reader queue is full; retry shortly");
}

template <class Submit, class F>
boost::asio::awaitable<boost::system::result<std::invoke_result_t<F&, sqlite3*>, api_error>> app::on_queue(
    Submit submit, F f, const char* when_full) {
    auto value = co_await async::run_queued<Submit, F, sqlite3*>(std::move(submit), io_.get_executor(), std::move(f));
    if (!value) co_return overloaded(when_full);
    co_return std::move(*value);
}

}  // namespace obs::server
