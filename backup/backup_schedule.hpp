// Scheduled backups (--backup-interval): a coroutine on the io thread that
// starts a backup through the backup_runner at every tick of a fixed grid
// (start + k·interval), exactly as POST /observability/backup does.
//
// - A tick that comes while a backup runs (a manual one, or a scheduled one
//   that takes longer than the interval) is skipped and counted in
//   stats().scheduled_skipped; so is every tick that passes while a
//   scheduled run() is in progress.
// - A failed scheduled backup is retried after retry_delay(n): base·2^n,
//   capped (the cap is at most the interval), until one succeeds; the
//   regular ticks resume after that. Ticks that pass during a retry wait are
//   taken by the retry, not counted as skipped. Every attempt has its row in
//   the history (the runner writes it) and counts in scheduled_started.
// - stop() ends the loop at its next wait (at once when it is waiting); a
//   backup in progress is not interrupted by it (the runner's destructor
//   stops that at shutdown).
//
// Executor: lives on the io thread, the runner's; start() and stop() are
// called there.
#pragma once

#include "backup/backup_job.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace obs::backup {

struct schedule_options {
    std::chrono::milliseconds interval{0};    // > 0
    std::chrono::milliseconds retry_base{0};  // first wait after a failed scheduled backup
    std::chrono::milliseconds retry_cap{0};   // the longest wait; <= interval
};

// The options for `interval`: retry_base = interval / 8, at least 1 ms and
// at most 30 s (a daily backup retries after 30 s, a 1 s one after 125 ms);
// retry_cap = interval. REQUIRES: interval > 0.
schedule_options schedule_options_for(std::chrono::milliseconds interval);

// The wait before retry number `n` (0 for the first): min(base·2^n, cap).
std::chrono::milliseconds retry_delay(const schedule_options& o, unsigned n);

// How many ticks of the grid start + k·interval (k >= 1) fall in (from, to].
std::uint64_t ticks_between(std::chrono::steady_clock::time_point start, std::chrono::milliseconds interval,
                            std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to);

struct schedule_state;  // the loop's (backup_schedule.cpp)

class backup_schedule {
public:
    // What each tick runs: a fresh request (started_by "scheduled").
    using request_factory = std::function<backup_request()>;
    using log_function = std::function<void(const std::string&)>;

    // REQUIRES: `runner` outlives the loop's last step (main owns both);
    // `io` is the runner's executor.
    backup_schedule(boost::asio::any_io_executor io, backup_runner& runner, schedule_options options,
                    request_factory make_request, log_function log = {});
    ~backup_schedule();  // stop()
    backup_schedule(const backup_schedule&) = delete;
    backup_schedule& operator=(const backup_schedule&) = delete;

    // Starts the loop; the first tick is one interval from now. Once.
    void start();
    // Ends the loop (see above). Idempotent.
    void stop();

private:
    std::shared_ptr<schedule_state> state_;  // shared with the loop: either may end first
};

}  // namespace obs::backup
