// DELETE /observability/runs/{run_id} (scope admin): the run, its events and
// its artifact rows go in one transaction on the writer's connection, between
// two write groups; then the content files no row refers to any more. Other
// events keep their offsets, and stream listeners are not told (the log is
// append-only for them: a deleted event is simply not replayed again).
#include "domain/event.hpp"
#include "persistence/run_deletion.hpp"
#include "persistence/sqlite_handle.hpp"
#include "server/app.hpp"
#include "server/artifacts/artifact_service.hpp"
#include "server/http/query.hpp"
#include "server/log.hpp"
#include "server/routes/routes.hpp"

namespace obs::server {

boost::asio::awaitable<handler_result> delete_run(app& a, request req) {
    const std::string run_id = req.param("run_id");
    if (auto params = parse_query(req.target, {}); !params) co_return params.error();
    if (!domain::is_valid_id(run_id)) co_return failure(error_code::not_found, "no such run");
    struct deleted {
        std::optional<persistence::deletion_counts> counts;
        std::size_t files_removed = 0;
        std::string failure;  // SQLite's reason when the transaction failed (busy, I/O, disk full)
    };
    auto& store = a.artifacts().store();
    auto job = [&store, run_id](sqlite3* db) {
        deleted out;
        try {
            out.counts = persistence::delete_run(db, run_id);
            if (out.counts) out.files_removed = store.remove_unreferenced(db, out.counts->released_content);
        } catch (const persistence::sqlite_error& e) {
            out.failure = e.what();
        }
        return out;
    };
    auto done = co_await a.write_job(std::move(job));
    if (!done) co_return done.error();
    if (!done->failure.empty()) {
        // Like a failed write: nothing was deleted (the transaction rolled back).
        api_error e = make_error(error_code::unavailable, "the database could not delete the run: " + done->failure);
        e.retry_after_seconds = 1;
        co_return e;
    }
    if (!done->counts) co_return failure(error_code::not_found, "no run with id " + run_id);
    auto& counted = a.counters().request_deleted;
    ++counted.runs;
    counted.events += static_cast<std::uint64_t>(done->counts->events);
    counted.artifact_files += done->files_removed;
    log_line("info", "run deleted",
             {{"run_id", run_id}, {"events", done->counts->events}, {"artifacts", done->counts->artifacts}});
    co_return http_answer{204, "", "", {}};
}

}  // namespace obs::server
