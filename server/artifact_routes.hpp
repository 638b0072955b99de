// The artifact routes of design/API.md. PUT and GET
// /observability/runs/{run_id}/artifacts/{name} take the connection over
// from the session (special_routes.hpp) to stream bodies between the socket
// and content-addressed files, chunk by chunk, never a whole file in memory;
// GET /observability/runs/{run_id}/artifacts is an ordinary buffered route.
// An upload is answered 201 only after its file is renamed into place and
// its `artifacts` row and `artifact` event are committed in one transaction.
//
// Executors: the routes run on the io thread; every file read, write and
// fsync runs on artifact_service's worker threads, the SQL on the writer or
// a reader thread.
#pragma once

#include "domain/event.hpp"
#include "persistence/artifact_store.hpp"
#include "server/app.hpp"
#include "server/http_answer.hpp"
#include "server/router.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

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
    auto result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(outcome)>(
        [this, &f](auto handler) {
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
        },
        boost::asio::use_awaitable);
    if (result.index() == 1) std::rethrow_exception(std::get<1>(result));
    co_return std::move(std::get<0>(result));
}

// PUT: validates the run id, the name (400) and X-Step-Id, refuses a body
// over the limit with 413 (at once when Content-Length says so, else as soon
// as it is crossed; nothing is kept), answers `Expect: 100-continue`,
// streams the body to a temporary file in chunks, then renames it into
// place and commits the row and the event; answers `201 {artifact}`. Writes
// its own answer and log line; returns whether the connection may be reused.
boost::asio::awaitable<bool> serve_artifact_put(app& a, route_match route, boost::beast::tcp_stream& stream,
                                                boost::beast::flat_buffer& buffer,
                                                boost::beast::http::request_parser<boost::beast::http::empty_body>& head,
                                                std::chrono::steady_clock::time_point started);

// GET: 404 for an unknown run or name; the stored bytes with their
// Content-Type, Content-Length and `ETag: "<sha256>"`; If-None-Match → 304;
// one Range → 206 (unsatisfiable → 416; several ranges → the whole file).
boost::asio::awaitable<bool> serve_artifact_get(app& a, route_match route, boost::beast::tcp_stream& stream,
                                                boost::beast::flat_buffer& buffer,
                                                boost::beast::http::request_parser<boost::beast::http::empty_body>& head,
                                                std::chrono::steady_clock::time_point started);

// GET /observability/runs/{run_id}/artifacts: {"artifacts": [artifact...]}
// ordered by name; throws api_failure(not_found) for an unknown run.
boost::asio::awaitable<http_answer> list_artifacts(app& a, std::string run_id, http_request_view req);

// The `artifact` event that records `row` in its run's log: id row.id,
// parent_id the step, payload {"name","sha256","size","content_type"
// [,"step_id"]}, fingerprint the payload's sha256.
domain::event make_artifact_event(const persistence::artifact_row& row);

// What a GET with a Range header serves.
struct range_decision {
    enum class kind { whole, partial, unsatisfiable } what = kind::whole;
    std::uint64_t first = 0;  // with partial: the first byte served
    std::uint64_t last = 0;   // with partial: the last byte served (inclusive)
};
// Decides a `Range` header value for content of `size` bytes (RFC 9110
// 14.2): one `bytes=a-b`, `a-` or `-n` range is partial or unsatisfiable;
// anything else (several ranges, another unit, bad syntax) is whole.
range_decision decide_range(std::string_view range, std::uint64_t size);

// True when an If-None-Match value matches the ETag of `sha256` (`*`, or a
// listed tag equal to "<sha256>", weak or not).
bool if_none_match_hits(std::string_view if_none_match, std::string_view sha256);

// See persistence::artifact_files_for_backup: (path inside the tarball,
// absolute path) of every content file the snapshot refers to.
using persistence::artifact_files_for_backup;

}  // namespace obs::server
