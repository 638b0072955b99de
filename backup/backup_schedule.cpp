// The backup schedule's loop (see backup_schedule.hpp): a steady_timer
// on the io thread, the grid of ticks, and the retries with backoff.
#include "backup/backup_schedule.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cassert>

namespace obs::backup {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds max_retry_base{30000};

}  // namespace

struct schedule_state {
    asio::steady_timer timer;  // every wait of the loop
    backup_runner& runner;
    schedule_options options;
    backup_schedule::request_factory make_request;
    backup_schedule::log_function log;
    bool started = false;
    bool stopped = false;

    void say(const std::string& line) const {
        if (log) log(line);
    }
};

schedule_options schedule_options_for(std::chrono::milliseconds interval) {
    assert(interval.count() > 0);
    schedule_options o;
    o.interval = interval;
    o.retry_base = std::clamp(interval / 8, std::chrono::milliseconds(1), max_retry_base);
    o.retry_cap = interval;
    return o;
}

std::chrono::milliseconds retry_delay(const schedule_options& o, unsigned n) {
    std::chrono::milliseconds d = o.retry_base;
    for (unsigned i = 0; i < n && d < o.retry_cap; ++i) d *= 2;  // stops doubling at the cap: no overflow
    return std::min(d, o.retry_cap);
}

std::uint64_t ticks_between(clock_type::time_point start, std::chrono::milliseconds interval, clock_type::time_point from,
                            clock_type::time_point to) {
    if (to <= from || interval.count() <= 0) return 0;
    auto ticks_until = [&](clock_type::time_point t) -> std::uint64_t {
        if (t < start) return 0;
        return static_cast<std::uint64_t>((t - start) / interval);
    };
    return ticks_until(to) - ticks_until(from);
}

namespace {

using state_ptr = std::shared_ptr<schedule_state>;

// Waits until `when`; false when the schedule was stopped meanwhile.
asio::awaitable<bool> sleep_until(state_ptr s, clock_type::time_point when) {
    if (s->stopped) co_return false;
    s->timer.expires_at(when);
    auto [ec] = co_await s->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;  // cancelled by stop(): `stopped` says so
    co_return !s->stopped;
}

// One tick's backup and its retries, until one succeeds; false when the
// schedule was stopped meanwhile. `grid_start` is the loop's start.
asio::awaitable<bool> run_until_success(state_ptr s, clock_type::time_point grid_start) {
    backup_stats& stats = s->runner.stats();
    for (unsigned failures = 0;;) {
        if (s->runner.running()) {
            // A manual backup began during the retry wait: try again after it.
            const clock_type::time_point later = clock_type::now() + retry_delay(s->options, failures);
            if (!co_await sleep_until(s, later)) co_return false;
            continue;
        }
        ++stats.scheduled_started;
        const clock_type::time_point began = clock_type::now();
        backup_request req = s->make_request();
        const backup_outcome out = co_await s->runner.run(std::move(req));
        const std::uint64_t missed = ticks_between(grid_start, s->options.interval, began, clock_type::now());
        if (missed > 0) {
            stats.scheduled_skipped += missed;
            s->say("Scheduled backup: " + std::to_string(missed) +
                   " tick(s) skipped while it ran (it took longer than the interval)");
        }
        if (s->stopped) co_return false;
        if (out.ok() || out.status == backup_status::busy) co_return true;
        const std::chrono::milliseconds wait = retry_delay(s->options, failures);
        ++failures;
        s->say("Scheduled backup failed (attempt " + std::to_string(failures) + "); retrying in " +
               std::to_string(wait.count()) + " ms");
        const clock_type::time_point retry_at = clock_type::now() + wait;
        if (!co_await sleep_until(s, retry_at)) co_return false;
    }
}

asio::awaitable<void> run_loop(state_ptr s) {
    const clock_type::time_point start = clock_type::now();
    const std::chrono::milliseconds interval = s->options.interval;
    clock_type::time_point next_tick = start + interval;
    for (;;) {
        if (!co_await sleep_until(s, next_tick)) co_return;
        if (s->runner.running()) {
            ++s->runner.stats().scheduled_skipped;
            s->say("Scheduled backup skipped: a backup is already running");
            next_tick += interval;
            continue;
        }
        if (!co_await run_until_success(s, start)) co_return;
        // The first tick of the grid after now.
        const std::uint64_t passed = ticks_between(start, interval, start, clock_type::now());
        next_tick = start + interval * static_cast<std::int64_t>(passed + 1);
    }
}

}  // namespace

backup_schedule::backup_schedule(asio::any_io_executor io, backup_runner& runner, schedule_options options,
                                 request_factory make_request, log_function log)
    : state_(std::make_shared<schedule_state>(schedule_state{asio::steady_timer(io), runner, options,
                                                             std::move(make_request), std::move(log), false, false})) {
    assert(options.interval.count() > 0);
}

backup_schedule::~backup_schedule() { stop(); }

void backup_schedule::start() {
    if (state_->started) return;
    state_->started = true;
    asio::co_spawn(state_->timer.get_executor(), run_loop(state_), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);  // a bug: let io.run() report it
    });
}

void backup_schedule::stop() {
    state_->stopped = true;
    state_->timer.cancel();
}

}  // namespace obs::backup
