// The retention sweep; see retention_sweep.hpp.
#include "server/routes/retention_sweep.hpp"

#include "domain/time.hpp"
#include "persistence/run_deletion.hpp"
#include "server/app.hpp"
#include "server/artifacts/artifact_service.hpp"
#include "server/log.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace obs::server {
namespace {

// Events deleted per transaction, and free pages given back when a run is
// done (4 KiB each, above the reserve release_free_pages keeps). Small on
// purpose: a commit that arrives during a step waits for it, so the step's
// time adds to ingestion's tail latency; 100 events took 0.5 ms on average
// (1.1 ms at most) on a 553 MiB database on this project's bench machine.
constexpr std::size_t events_per_step = 100;
constexpr std::int64_t pages_per_run = 32;
// After each step the sweep rests this many times as long as the step took
// while agents are writing (see delete_expired_run).
constexpr int rest_factor = 20;
// Runs looked up per query; a full batch means look again at once.
constexpr std::size_t runs_per_query = 100;

struct step_outcome {
    persistence::retention_step_result step;
    std::chrono::steady_clock::duration took{};
    std::size_t files_removed = 0;
    std::int64_t pages_released = 0;
};

// Deletes one run step by step; false when the writer's queue refused a step.
boost::asio::awaitable<bool> delete_expired_run(app& a, std::string run_id, std::int64_t cutoff_ms) {
    auto& store = a.artifacts().store();
    boost::asio::steady_timer pause(a.io());
    bool writer_was_busy = true;
    for (;;) {
        auto job = [&store, run_id, cutoff_ms](sqlite3* db) {
            const auto began = std::chrono::steady_clock::now();
            step_outcome out;
            out.step = persistence::delete_expired_run_step(db, run_id, cutoff_ms, events_per_step);
            out.files_removed = store.remove_unreferenced(db, out.step.deleted.released_content);
            // Once per run, not per step: moving pages to shrink the file
            // writes them to the WAL again, and per step it cost ingestion
            // 0.2-0.3 more of its p99 ratio in scripts/bench-retention.
            if (!out.step.more) out.pages_released = persistence::release_free_pages(db, pages_per_run);
            out.took = std::chrono::steady_clock::now() - began;
            return out;
        };
        auto done = co_await a.write_job(std::move(job));
        if (!done) co_return false;
        auto& counted = a.counters().retention_deleted;
        counted.runs += static_cast<std::uint64_t>(done->step.deleted.runs);
        counted.events += static_cast<std::uint64_t>(done->step.deleted.events);
        counted.artifact_files += done->files_removed;
        a.counters().retention_pages_released += static_cast<std::uint64_t>(done->pages_released);
        if (!done->step.more) co_return true;
        // Rest after each step, in proportion to the step's time. Deleting
        // pages all over the old part of the file makes the WAL checkpoints
        // that follow slower, so the rest is what keeps ingestion's p99 (on
        // 2M old events at 2,000 requests/s, scripts/bench-retention):
        // resting as long as the step gave 2.3x the p99 without deletion,
        // ten times 1.9-2.3x, twenty times with pages given back once per
        // run 1.38-1.53x, at about 8,500 deleted events a second. When no
        // write group ran during the last rest nobody waits on the writer,
        // and the next rest is short.
        pause.expires_after((writer_was_busy ? rest_factor : 1) * done->took);
        const auto groups_before = a.writer().groups_committed();
        co_await pause.async_wait(boost::asio::use_awaitable);
        writer_was_busy = a.writer().groups_committed() != groups_before;
    }
}

// One sweep: every run expired at its start. Returns the runs deleted.
boost::asio::awaitable<std::size_t> sweep_once(app& a, const bool& stopping) {
    const std::int64_t cutoff = domain::now_unix_ms() - static_cast<std::int64_t>(a.cfg().retention_ms);
    std::size_t deleted = 0;
    for (;;) {
        auto query = [cutoff](sqlite3* db) { return persistence::find_expired_runs(db, cutoff, runs_per_query); };
        auto ids = co_await a.read(std::move(query));
        if (!ids) co_return deleted;  // readers busy: the next sweep
        for (auto& id : *ids) {
            if (stopping) co_return deleted;
            if (!co_await delete_expired_run(a, std::move(id), cutoff)) co_return deleted;
            ++deleted;
        }
        if (ids->size() < runs_per_query) co_return deleted;
    }
}

// `self` keeps the sweeper (its timer) alive as long as the loop runs.
boost::asio::awaitable<void> sweep_loop([[maybe_unused]] std::shared_ptr<retention_sweeper> self, app& a, boost::asio::steady_timer& timer,
                                        const bool& stopping) {
    while (!stopping) {
        timer.expires_after(std::chrono::milliseconds(a.cfg().retention_sweep_ms));
        boost::system::error_code ec;
        co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (stopping) break;
        try {
            const std::size_t runs = co_await sweep_once(a, stopping);
            ++a.counters().retention_sweeps;
            if (runs > 0) log_line("info", "retention deleted runs", {{"runs", runs}});
        } catch (const std::exception& e) {
            log_line("error", "retention sweep failed", {{"reason", e.what()}});
        }
    }
}

}  // namespace

retention_sweeper::retention_sweeper(app& a) : app_(a), timer_(a.io()) {}

std::shared_ptr<retention_sweeper> retention_sweeper::start(app& a) {
    if (a.cfg().retention_ms == 0) return nullptr;
    auto self = std::make_shared<retention_sweeper>(a);
    boost::asio::co_spawn(a.io(), sweep_loop(self, a, self->timer_, self->stopping_), boost::asio::detached);
    return self;
}

void retention_sweeper::stop() {
    stopping_ = true;
    timer_.cancel();
}

}  // namespace obs::server
