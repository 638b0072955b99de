// The server's shared state and its bridges to the other threads. Lives on
// the io thread: every member function is called there, and completions
// from the writer and reader threads are posted back to it.
#pragma once

#include "persistence/event_writer.hpp"
#include "persistence/read_pool.hpp"
#include "server/auth.hpp"
#include "server/completion_inbox.hpp"
#include "server/config.hpp"
#include "server/http_answer.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>

namespace obs::server {

class stream_hub;
class artifact_service;
}  // namespace obs::server
namespace obs::backup {
class backup_runner;
}  // namespace obs::backup
namespace obs::server {

// Plain counters for /metrics; touched on the io thread only.
struct server_counters {
    std::uint64_t requests = 0;
    std::uint64_t responses_2xx = 0;
    std::uint64_t responses_4xx = 0;
    std::uint64_t responses_5xx = 0;
    std::uint64_t events_accepted = 0;
    std::uint64_t events_duplicate = 0;
    std::uint64_t rejected_overloaded = 0;
    std::uint64_t open_connections = 0;
};

class app {
public:
    // REQUIRES: `writer` not started yet: the app sets its listeners, which
    // bring each write group's committed events (to `hub`) and answers back
    // to the io thread through one inbox, flushed once per group.
    app(boost::asio::io_context& io, config cfg, persistence::event_writer& writer, persistence::read_pool& readers,
        stream_hub& hub, int schema_version);

    const config& cfg() const { return cfg_; }
    const authorizer& auth() const { return auth_; }
    persistence::event_writer& writer() { return writer_; }
    stream_hub& hub() { return hub_; }
    persistence::read_pool& readers() { return readers_; }
    boost::asio::io_context& io() { return io_; }
    server_counters& counters() { return counters_; }
    // Where writer-thread completions wait for the io thread; flushed at
    // the end of each write group. Discard it once the io thread stopped.
    completion_inbox& inbox() { return *inbox_; }
    int schema_version() const { return schema_version_; }
    // The artifact store and its worker (set by main before serving).
    artifact_service* artifacts = nullptr;
    // The backup runner (libcurl multi on this io_context, a worker thread).
    backup::backup_runner* backups = nullptr;

    // Queues `batch` for the writer and waits for its commit. nullopt when
    // the queue is full (answer 503 overloaded: nothing was stored).
    boost::asio::awaitable<std::optional<persistence::write_outcome>> submit(
        std::vector<domain::event> batch, persistence::in_transaction_hook hook = {});

    // Runs `f(sqlite3*)` on a reader thread and resumes here with its
    // result; rethrows what `f` threw. Throws api_failure(overloaded) when
    // the reader queue is full. `f` is moved to the reader thread.
    // REQUIRES: `f` is a named object, not a temporary in the co_await
    // expression: GCC 12 relocates such temporaries bitwise across the
    // suspension, which corrupts captured std::strings (their small-string
    // buffers); the same holds for every coroutine in this project.
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&, sqlite3*>> read(F&& f);

private:
    boost::asio::io_context& io_;
    config cfg_;
    authorizer auth_;
    persistence::event_writer& writer_;
    persistence::read_pool& readers_;
    stream_hub& hub_;
    int schema_version_;
    server_counters counters_;
    std::shared_ptr<completion_inbox> inbox_;
};

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&, sqlite3*>> app::read(F&& f) {
    using value_t = std::invoke_result_t<F&, sqlite3*>;
    // The reader fills `state`; the completion carries no value, so nothing
    // but a shared pointer crosses the threads.
    struct read_state {
        std::optional<value_t> value;
        std::exception_ptr error;
    };
    auto state = std::make_shared<read_state>();
    // Named, not written inside the co_await (GCC 12: see above).
    auto initiation = [this, state, &f](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto ex = io_.get_executor();
        bool accepted = readers_.post([shared, ex, state, job = std::decay_t<F>(std::forward<F>(f))](sqlite3* db) mutable {
            try {
                state->value.emplace(job(db));
            } catch (...) {
                state->error = std::current_exception();
            }
            boost::asio::post(ex, [shared]() mutable { (*shared)(true); });
        });
        if (!accepted) boost::asio::post(ex, [shared]() mutable { (*shared)(false); });
    };
    const bool queued = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(bool)>(
        std::move(initiation), boost::asio::use_awaitable);
    if (!queued) {
        ++counters_.rejected_overloaded;
        api_error e = make_error(error_code::overloaded, "the reader queue is full; retry shortly");
        e.retry_after_seconds = 1;
        throw api_failure(std::move(e));
    }
    if (state->error) std::rethrow_exception(state->error);
    co_return std::move(*state->value);
}

}  // namespace obs::server
