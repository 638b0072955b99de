// The artifact store as the server holds it: the content-addressed files
// (persistence::artifact_store) with the worker threads that do their
// blocking file I/O, so the io thread never waits on a disk; and the
// `artifact` event that records a stored file in its run's log. Used by the
// artifact routes (artifact_routes.hpp, which includes this header) and
// created by startup.
#pragma once

#include "domain/event.hpp"
#include "persistence/artifact_store.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace obs::server {

// The artifact store and the worker threads that do its file I/O. Created
// by main before serving (which sets app::artifacts to it) and destroyed
// before the io_context: the destructor joins the workers.
class artifact_service {
public:
    // Opens the store under `data_dir` (creating its folders) and removes
    // temporary files left by a crash. Throws std::system_error.
    artifact_service(boost::asio::io_context& io, std::string data_dir, std::uint64_t max_bytes,
                     std::size_t worker_threads = 2);
    ~artifact_service();
    artifact_service(const artifact_service&) = delete;
    artifact_service& operator=(const artifact_service&) = delete;

    persistence::artifact_store& store() { return store_; }
    // The largest artifact accepted, in bytes.
    std::uint64_t max_bytes() const { return max_bytes_; }

    // Runs `f()` on a worker thread and resumes on the io thread with its
    // (non-void) result; rethrows what `f` threw. REQUIRES: on the io thread.
    // `f` is moved to the worker. Callers name the closure before the
    // co_await: GCC 12 destroys a capturing closure written inside a co_await
    // expression twice (a double free once a capture owns memory).
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<std::decay_t<F>&>> on_worker(F&& f);

    // Runs the queued jobs and joins the workers. Idempotent.
    void stop();

private:
    boost::asio::io_context& io_;
    persistence::artifact_store store_;
    std::uint64_t max_bytes_;
    boost::asio::thread_pool workers_;
};

template <class F>
boost::asio::awaitable<std::invoke_result_t<std::decay_t<F>&>> artifact_service::on_worker(F&& f) {
    using value_t = std::invoke_result_t<std::decay_t<F>&>;
    using outcome = std::variant<value_t, std::exception_ptr>;
    // Named, not written inside the co_await (see above).
    auto initiation = [this, &f](auto handler) {
        boost::asio::post(workers_, [handler = std::move(handler), job = std::decay_t<F>(std::forward<F>(f)),
                                     ex = io_.get_executor()]() mutable {
            std::optional<outcome> o;
            try {
                o.emplace(std::in_place_index<0>, job());
            } catch (...) {
                o.emplace(std::in_place_index<1>, std::current_exception());
            }
            boost::asio::post(ex, [handler = std::move(handler), o = std::move(*o)]() mutable {
                std::move(handler)(std::move(o));
            });
        });
    };
    auto result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(outcome)>(
        std::move(initiation), boost::asio::use_awaitable);
    if (result.index() == 1) std::rethrow_exception(std::get<1>(result));
    co_return std::move(std::get<0>(result));
}

// The `artifact` event that records `row` in its run's log: id row.id,
// parent_id the step, payload {"name","sha256","size","content_type"
// [,"step_id"]}, fingerprint the payload's sha256.
domain::event make_artifact_event(const persistence::artifact_row& row);

}  // namespace obs::server
