// The artifact store as the server holds it: the content-addressed files
// (persistence::artifact_store) with the worker threads that do their
// blocking file I/O, so the io thread never waits on a disk; and the
// `artifact` event that records a stored file in its run's log. Used by the
// artifact routes (artifact_routes.hpp, which includes this header) and
// created by main.
#pragma once

#include "backup/hand_off.hpp"
#include "domain/event.hpp"
#include "persistence/artifact_store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace obs::server {

// The artifact store and the worker threads that do its file I/O. Created
// by main before the app (which is given it) and destroyed before the
// io_context: the destructor joins the workers.
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
    // (non-void) result; rethrows what `f` threw (async::run_on).
    // REQUIRES: on the io thread.
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F&>> on_worker(F f) {
        return async::run_on(workers_.get_executor(), io_.get_executor(), std::move(f));
    }

    // Runs the queued jobs and joins the workers. Idempotent.
    void stop();

private:
    boost::asio::io_context& io_;
    persistence::artifact_store store_;
    std::uint64_t max_bytes_;
    boost::asio::thread_pool workers_;
};

// The `artifact` event that records `row` in its run's log: id row.id,
// parent_id the step, payload {"name","sha256","size","content_type"
// [,"step_id"]}.
domain::event make_artifact_event(const persistence::artifact_row& row);

}  // namespace obs::server
