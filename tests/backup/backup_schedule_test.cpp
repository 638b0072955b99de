// Tests of backup/backup_schedule.cpp and backup/backup_stats.cpp: the
// backoff and the tick grid (table-driven), then the schedule driving a real
// backup_runner on a real database with local tarballs: ticks skipped while
// its own backup or a manual one runs, retries with growing waits, rotation,
// stop(), and every backup_stats field moving as it should.
#include "backup/backup_schedule.hpp"

#include "backup/backup_record.hpp"
#include "backup/backup_rotation.hpp"
#include "backup_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>

using namespace obs::backup;
using namespace obs::backup::test;
namespace asio = boost::asio;
namespace persistence = obs::persistence;
using std::chrono::milliseconds;

namespace {

std::vector<backup_row> rows_of(const std::string& db) {
    persistence::db_ptr conn = persistence::open_database(db, true);
    return list_backups(conn.get(), 1000);
}

std::size_t count_rows(const std::vector<backup_row>& rows, const std::string& status, const std::string& by) {
    return static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [&](const backup_row& r) {
        return (status.empty() || r.status == status) && r.started_by == by;
    }));
}

bool logged(const std::vector<std::string>& log, const std::string& text) {
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

// A local backup of `db` under `data_dir`, started by the schedule.
backup_schedule::request_factory local_backups(const std::string& db, const std::string& data_dir, unsigned keep,
                                               std::vector<std::string>* log) {
    return [=] {
        backup_request r = request_for(db, data_dir, std::nullopt, log);
        r.started_by = "scheduled";
        r.keep = keep;
        return r;
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backup_schedule_suite)

BOOST_AUTO_TEST_CASE(backoff_doubles_from_an_eighth_of_the_interval_up_to_it) {
    struct case_t {
        long interval_ms;
        std::vector<long> waits_ms;  // retry_delay(0), (1), ...
    };
    const case_t cases[] = {
        {1000, {125, 250, 500, 1000, 1000, 1000}},
        {200, {25, 50, 100, 200, 200}},
        {5, {1, 2, 4, 5, 5}},                                 // at least 1 ms
        {86400000, {30000, 60000, 120000, 240000}},           // a daily backup retries after 30 s
        {3600000, {30000, 60000, 120000, 240000, 480000, 960000, 1920000, 3600000, 3600000}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("interval " << c.interval_ms << " ms") {
            const schedule_options o = schedule_options_for(milliseconds(c.interval_ms));
            BOOST_TEST(o.interval.count() == c.interval_ms);
            BOOST_TEST(o.retry_cap.count() == c.interval_ms);
            for (unsigned n = 0; n < c.waits_ms.size(); ++n) BOOST_TEST(retry_delay(o, n).count() == c.waits_ms[n]);
            BOOST_TEST(retry_delay(o, 4000).count() == c.interval_ms);  // no overflow after many failures
        }
    }
}

BOOST_AUTO_TEST_CASE(ticks_between_counts_the_grid_in_a_half_open_range) {
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    auto at = [&](long ms) { return t0 + milliseconds(ms); };
    struct case_t {
        long from, to;
        std::uint64_t ticks;
    };
    const case_t cases[] = {
        {0, 999, 0}, {0, 1000, 1}, {1000, 1999, 0}, {1000, 2000, 1}, {1000, 4500, 3},
        {999, 1000, 1}, {1500, 1200, 0}, {-500, 1000, 1}, {0, 0, 0},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("(" << c.from << ", " << c.to << "]") {
            BOOST_TEST(ticks_between(t0, milliseconds(1000), at(c.from), at(c.to)) == c.ticks);
        }
    }
}

BOOST_AUTO_TEST_CASE(failure_reasons_and_what_each_outcome_counts) {
    struct case_t {
        backup_status status;
        failure_kind kind;
        std::string reason;
    };
    const case_t cases[] = {
        {backup_status::ok, failure_kind::none, ""},
        {backup_status::busy, failure_kind::none, ""},
        {backup_status::not_configured, failure_kind::none, "not_configured"},
        {backup_status::s3_error, failure_kind::none, "s3"},
        {backup_status::io_error, failure_kind::none, "io"},
        {backup_status::io_error, failure_kind::disk_full, "disk_full"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.reason) {
            backup_outcome o;
            o.status = c.status;
            o.failure = c.kind;
            o.duration_ms = 42;
            o.bytes = 1000;
            BOOST_TEST(failure_reason(o) == c.reason);
            backup_stats s;
            count_backup(s, o, 1234);
            const bool ran = c.status != backup_status::busy;
            BOOST_TEST(s.last_duration_ms == (ran ? 42 : 0));
            BOOST_TEST(s.succeeded == (c.status == backup_status::ok ? 1u : 0u));
            BOOST_TEST(s.last_success_unix_ms == (c.status == backup_status::ok ? 1234 : 0));
            BOOST_TEST(s.last_success_bytes == (c.status == backup_status::ok ? 1000u : 0u));
            BOOST_TEST(s.failures_by_reason.size() == (c.reason.empty() ? 0u : 1u));
            if (!c.reason.empty()) BOOST_TEST(s.failures_by_reason.at(c.reason) == 1u);
        }
    }
}

// Backups of a few MB take longer than a 30 ms interval: the ticks that
// pass while one runs are skipped and counted; keep 2 rotates the rest.
BOOST_AUTO_TEST_CASE(scheduled_backups_skip_ticks_while_running_rotate_and_stop) {
    temp_dir dir;
    const std::string db = dir / "live.db";
    make_event_db(db, 20000, 200);
    std::vector<std::string> log;
    asio::io_context io;
    backup_runner runner(io.get_executor());
    {
        backup_schedule schedule(io.get_executor(), runner, schedule_options_for(milliseconds(30)),
                                 local_backups(db, dir / "data", 2, &log),
                                 [&log](const std::string& line) { log.push_back(line); });
        schedule.start();
        // Until three have started (about 1.5 s alone; the suite's other
        // tests running beside it on two cores once took 1.1 s per backup),
        // at most 20 s.
        for (int i = 0; i < 200 && runner.stats().scheduled_started < 3; ++i) io.run_for(milliseconds(100));
        schedule.stop();
        for (int i = 0; i < 400 && runner.running(); ++i) io.run_for(milliseconds(50));  // the last one ends
    }
    BOOST_TEST_REQUIRE(!runner.running());
    const auto rows = rows_of(db);
    const backup_stats& s = runner.stats();
    BOOST_TEST_MESSAGE("scheduled " << s.scheduled_started << ", skipped " << s.scheduled_skipped << ", last took "
                                    << s.last_duration_ms << " ms");
    BOOST_TEST_REQUIRE(s.scheduled_started >= 3u);
    BOOST_TEST(count_rows(rows, "", "scheduled") == s.scheduled_started);
    BOOST_TEST(count_rows(rows, "succeeded", "scheduled") == s.succeeded);
    BOOST_TEST(s.succeeded == s.scheduled_started);
    BOOST_TEST(s.failures_by_reason.empty());
    BOOST_TEST(s.scheduled_skipped >= 1u);  // each backup took longer than 30 ms
    BOOST_TEST(s.last_duration_ms > 30);
    BOOST_TEST(logged(log, "tick(s) skipped while it ran"));
    BOOST_TEST(s.rotated_deleted == s.succeeded - 2);
    BOOST_TEST(s.rotation_failed == 0u);
    BOOST_TEST(list_dir(dir / "data/backups").size() == 2u);
    // The last success's figures are the newest row's.
    BOOST_TEST(s.last_success_bytes == static_cast<std::uint64_t>(rows[0].bytes.value_or(0)));
    BOOST_TEST(s.last_success_unix_ms >= rows[0].finished_ms.value_or(0));
    BOOST_TEST(s.last_success_unix_ms - rows[0].finished_ms.value_or(0) < 1000);

    // Stopped: no tick starts another backup.
    io.run_for(milliseconds(200));
    BOOST_TEST(rows_of(db).size() == rows.size());
}

BOOST_AUTO_TEST_CASE(a_tick_during_a_manual_backup_is_skipped) {
    temp_dir dir;
    const std::string db = dir / "live.db";
    make_event_db(db, 20000, 200);
    std::vector<std::string> log;
    asio::io_context io;
    backup_runner runner(io.get_executor());
    backup_request manual = request_for(db, dir / "data", std::nullopt, &log);
    std::optional<backup_outcome> manual_out;
    asio::co_spawn(io, runner.run(manual), [&](std::exception_ptr, backup_outcome o) { manual_out = std::move(o); });
    // 10 ms: the first tick comes while the manual backup of a few MB runs.
    backup_schedule schedule(io.get_executor(), runner, schedule_options_for(milliseconds(10)),
                             local_backups(db, dir / "data", 0, &log),
                             [&log](const std::string& line) { log.push_back(line); });
    schedule.start();
    for (int i = 0; i < 2000 && !manual_out; ++i) io.run_for(milliseconds(10));  // at most 20 s
    schedule.stop();
    for (int i = 0; i < 400 && runner.running(); ++i) io.run_for(milliseconds(50));
    BOOST_TEST_REQUIRE(manual_out.has_value());
    BOOST_TEST_REQUIRE(manual_out->ok(), manual_out->message);
    BOOST_TEST_REQUIRE(manual_out->duration_ms > 10);  // longer than the interval, as this test needs
    BOOST_TEST(runner.stats().scheduled_skipped >= 1u);
    BOOST_TEST(logged(log, "Scheduled backup skipped: a backup is already running"));
    const auto rows = rows_of(db);
    BOOST_TEST(count_rows(rows, "succeeded", "manual") == 1u);
    BOOST_TEST(count_rows(rows, "", "scheduled") == runner.stats().scheduled_started);
    BOOST_TEST(runner.stats().succeeded == rows.size());  // manual and scheduled alike
}

// S3 not configured: every attempt fails at once, with its row, and the
// waits between attempts grow to the interval and stay there.
BOOST_AUTO_TEST_CASE(a_failing_scheduled_backup_is_retried_with_backoff) {
    temp_dir dir;
    const std::string db = dir / "live.db";
    make_event_db(db, 10, 50);
    std::vector<std::string> log;
    asio::io_context io;
    backup_runner runner(io.get_executor());
    auto failing = [&] {
        backup_request r = request_for(db, dir / "data", std::nullopt, &log);
        r.upload = true;  // without S3 settings: not_configured
        r.started_by = "scheduled";
        r.keep = 1;
        return r;
    };
    backup_schedule schedule(io.get_executor(), runner, schedule_options_for(milliseconds(200)), failing,
                             [&log](const std::string& line) { log.push_back(line); });
    schedule.start();
    // Until five have started (about 0.8 s alone; under ASan beside the
    // suite's other tests and a busy core, 1.3 s once saw only four), at
    // most 20 s.
    for (int i = 0; i < 1000 && runner.stats().scheduled_started < 5; ++i) io.run_for(milliseconds(20));
    schedule.stop();
    for (int i = 0; i < 1000 && runner.running(); ++i) io.run_for(milliseconds(20));

    const auto rows = rows_of(db);
    const backup_stats& s = runner.stats();
    BOOST_TEST_REQUIRE(s.scheduled_started >= 5u);
    BOOST_TEST(count_rows(rows, "failed", "scheduled") == s.scheduled_started);
    BOOST_TEST(s.failures_by_reason.at("not_configured") == s.scheduled_started);
    BOOST_TEST(s.succeeded == 0u);
    BOOST_TEST(s.last_success_unix_ms == 0);
    BOOST_TEST(s.rotated_deleted == 0u);
    for (const char* wait : {"(attempt 1); retrying in 25 ms", "(attempt 2); retrying in 50 ms",
                             "(attempt 3); retrying in 100 ms", "(attempt 4); retrying in 200 ms"})
        BOOST_TEST(logged(log, wait), wait);
    BOOST_TEST(!logged(log, "retrying in 400 ms"));  // capped at the interval
    // The rows' own times show the waits: started(i+1) - finished(i) >= the backoff.
    std::vector<backup_row> oldest_first(rows.rbegin(), rows.rend());
    const long backoff[] = {25, 50, 100, 200};
    for (std::size_t i = 0; i < 4; ++i) {
        const std::int64_t gap = oldest_first[i + 1].started_ms - oldest_first[i].finished_ms.value_or(0);
        BOOST_TEST(gap >= backoff[i], "wait " << i << ": " << gap << " ms");
    }
}

BOOST_AUTO_TEST_SUITE_END()
