// End-to-end: scheduled backups (--backup-interval) and their rotation
// (--backup-keep) against the real binary: to s3rver (started by
// scripts/s3-test-server) checked with the aws CLI, to local tarballs under
// the data directory checked on disk, and through an S3 outage (s3rver
// killed, then started again on the same port and data) where the failed
// attempts come back with growing gaps and the good backup is never deleted.
// Each suite takes about 5 to 12 s: a 1 s interval and bounded waits.
#include "domain/time.hpp"
#include "tests/backup/support.hpp"
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

using namespace obs::e2e;
namespace bt = obs::backup::test;
namespace fs = std::filesystem;

namespace {

using rows_t = std::vector<boost::json::object>;

std::map<std::string, std::string> s3_env(const bt::s3rver_process& s3, const std::string& prefix) {
    return {{"AWS_ACCESS_KEY_ID", "S3RVER"}, {"AWS_SECRET_ACCESS_KEY", "S3RVER"}, {"AWS_REGION", "us-east-1"},
            {"AWS_ENDPOINT_URL_S3", s3.endpoint()}, {"OBS_S3_BUCKET", s3.bucket()}, {"OBS_S3_PREFIX", prefix}};
}

// GET /observability/backups, newest first.
rows_t history(unsigned short port) {
    auto res = http_request(port, "GET", "/observability/backups?limit=500");
    BOOST_TEST_REQUIRE(res.status == 200, res.body);
    const boost::json::value body = res.json();
    rows_t rows;
    for (const auto& v : body.at("backups").as_array()) rows.push_back(v.as_object());
    return rows;
}

std::string text(const boost::json::object& row, const char* field) {
    const auto& v = row.at(field);
    return v.is_null() ? std::string() : std::string(v.as_string());
}

bool is_kept(const boost::json::object& row) { return text(row, "status") == "succeeded" && row.at("deleted_at").is_null(); }

std::size_t count_if(const rows_t& rows, const std::function<bool(const boost::json::object&)>& pred) {
    return static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), pred));
}

// Polls the history every 100 ms until `done(rows)` or `limit`; the last rows.
rows_t wait_for_history(unsigned short port, const std::function<bool(const rows_t&)>& done,
                        std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    rows_t rows = history(port);
    while (!done(rows) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        rows = history(port);
    }
    return rows;
}

// Right after a backup and its rotation: the newest row succeeded less than
// 500 ms ago and exactly `keep` succeeded rows are not deleted, so the next
// tick of a 1 s schedule is about half a second away and a SIGTERM sent now
// interrupts no backup (an interrupted one could leave an object or a
// tarball that the next success, not this test, would rotate).
bool just_rotated(const rows_t& rows, std::size_t keep) {
    if (rows.empty() || text(rows[0], "status") != "succeeded") return false;
    const auto finished = obs::domain::parse_rfc3339(text(rows[0], "finished_at"));
    if (!finished || obs::domain::now_unix_ms() - *finished > 500) return false;
    return count_if(rows, is_kept) == keep;
}

// The object names under s3://bucket/prefix, from `aws s3 ls`.
std::set<std::string> s3_names(const bt::s3rver_process& s3, const std::string& prefix) {
    auto ls = s3.aws("s3 ls s3://" + s3.bucket() + "/" + prefix);
    std::set<std::string> names;
    if (ls.status != 0) return names;  // an empty prefix lists nothing and exits 1
    std::istringstream lines(ls.output);
    std::string date, time, size, name;
    while (lines >> date >> time >> size >> name) names.insert(name);
    return names;
}

// A time field of a row in Unix ms.
std::int64_t ms_of(const boost::json::object& row, const char* field) {
    auto ms = obs::domain::parse_rfc3339(text(row, field));
    BOOST_TEST_REQUIRE(ms.has_value(), field << " = " << text(row, field));
    return *ms;
}

std::string file_name(const std::string& location) { return fs::path(location).filename().string(); }

// Posts a few events so that the backups hold something.
void post_some_events(unsigned short port) {
    auto res = http_request(port, "POST", "/observability/events",
                            R"({"events":[{"run_id":"r1","type":"thought","payload":{"text":"a"}},)"
                            R"({"run_id":"r1","type":"thought","payload":{"text":"b"}}]})");
    BOOST_TEST_REQUIRE(res.status == 201, res.body);
}

// The history as the server gives it after a restart without the schedule
// (so nothing changes while it is compared with what is stored).
rows_t history_after_restart(const std::string& db, std::vector<std::string> args = {}) {
    server_process reader{server_options{db, std::move(args), {}, true}};
    return history(reader.port());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backup_schedule_s3)

BOOST_AUTO_TEST_CASE(keeps_the_newest_two_objects_and_marks_the_rest_deleted) {
    bt::s3rver_process s3("rotation");
    temp_dir dir;
    const auto db = (dir.path() / "obs.db").string();
    const std::string prefix = "sched/";
    server_process server{server_options{db, {"--backup-interval", "1s", "--backup-keep", "2"}, s3_env(s3, prefix), true}};
    BOOST_TEST(server.log().find(R"("destination":"s3")") != std::string::npos);
    post_some_events(server.port());

    // Two scheduled backups, then a manual one (rotated like the others),
    // then scheduled ones until at least five succeeded in all.
    wait_for_history(server.port(), [](const rows_t& r) { return count_if(r, [](auto& b) { return text(b, "status") == "succeeded"; }) >= 2; },
                     std::chrono::seconds(8));
    http_response manual;
    for (int i = 0; i < 20; ++i) {  // 409 while a scheduled one runs
        manual = http_request(server.port(), "POST", "/observability/backup");
        if (manual.status != 409) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    BOOST_TEST_REQUIRE(manual.status == 201, manual.body);
    const rows_t before_stop = wait_for_history(
        server.port(),
        [](const rows_t& r) { return count_if(r, [](auto& b) { return text(b, "status") == "succeeded"; }) >= 5 && just_rotated(r, 2); },
        std::chrono::seconds(10));
    BOOST_TEST_REQUIRE(just_rotated(before_stop, 2));
    BOOST_TEST(server.stop() == 0);  // SIGTERM stops the schedule and the server
    BOOST_TEST(server.log().find(R"("msg":"stopped")") != std::string::npos);

    const rows_t rows = history_after_restart(db);
    rows_t succeeded;
    for (const auto& r : rows)
        if (text(r, "status") == "succeeded") succeeded.push_back(r);
    BOOST_TEST_REQUIRE(succeeded.size() >= 5u);
    BOOST_TEST(count_if(rows, [](auto& b) { return text(b, "status") == "failed"; }) == 0u);
    BOOST_TEST(count_if(rows, [](auto& b) { return text(b, "started_by") == "manual"; }) == 1u);
    BOOST_TEST(count_if(rows, [](auto& b) { return text(b, "started_by") == "scheduled"; }) == rows.size() - 1);

    // The newest two succeeded rows are kept; every older one is marked deleted.
    std::set<std::string> kept_names;
    for (std::size_t i = 0; i < succeeded.size(); ++i) {
        BOOST_TEST_CONTEXT("row " << succeeded[i].at("id")) {
            BOOST_TEST(text(succeeded[i], "location").starts_with("s3://rotation/sched/observability-"));
            if (i < 2) {
                BOOST_TEST(succeeded[i].at("deleted_at").is_null());
                kept_names.insert(file_name(text(succeeded[i], "location")));
            } else {
                BOOST_TEST(!succeeded[i].at("deleted_at").is_null());
                BOOST_TEST(text(succeeded[i], "deleted_at") >= text(succeeded[i], "finished_at"));
            }
        }
    }
    // Exactly those two objects remain in the bucket, per the aws CLI.
    BOOST_TEST(s3_names(s3, prefix) == kept_names);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(backup_schedule_local)

BOOST_AUTO_TEST_CASE(keeps_the_newest_two_tarballs_in_the_data_dir) {
    temp_dir dir;
    const auto db = (dir.path() / "obs.db").string();
    const fs::path data = dir.path() / "data";
    const std::vector<std::string> args{"--data-dir", data.string(), "--backup-interval", "1s", "--backup-keep", "2"};
    {
        server_process server{server_options{db, args, {}, true}};
        BOOST_TEST(server.log().find(R"("destination":"local")") != std::string::npos);
        post_some_events(server.port());
        // A file of someone else's in the folder is never touched.
        fs::create_directories(data / "backups");
        bt::write_file((data / "backups" / "notes.txt").string(), "mine\n");
        const rows_t rows = wait_for_history(
            server.port(),
            [](const rows_t& r) { return count_if(r, [](auto& b) { return text(b, "status") == "succeeded"; }) >= 4 && just_rotated(r, 2); },
            std::chrono::seconds(10));
        BOOST_TEST_REQUIRE(count_if(rows, [](auto& b) { return text(b, "status") == "succeeded"; }) >= 4u);
        BOOST_TEST_REQUIRE(just_rotated(rows, 2));
        BOOST_TEST(server.stop() == 0);
    }

    const rows_t rows = history_after_restart(db, {"--data-dir", data.string()});
    std::set<std::string> kept, deleted;
    for (const auto& r : rows) {
        if (text(r, "status") != "succeeded") continue;
        BOOST_TEST(text(r, "location").starts_with((data / "backups").string() + "/"));
        (r.at("deleted_at").is_null() ? kept : deleted).insert(file_name(text(r, "location")));
    }
    BOOST_TEST(kept.size() == 2u);
    BOOST_TEST(deleted.size() >= 2u);
    // The newest two succeeded rows are the kept ones.
    std::set<std::string> newest_two;
    for (const auto& r : rows)
        if (text(r, "status") == "succeeded" && newest_two.size() < 2) newest_two.insert(file_name(text(r, "location")));
    BOOST_TEST(kept == newest_two);

    std::set<std::string> on_disk;
    for (const auto& name : bt::list_dir((data / "backups").string())) on_disk.insert(name);
    std::set<std::string> expected = kept;
    expected.insert("notes.txt");
    BOOST_TEST(on_disk == expected);  // no deleted tarball, no leftover .part
    // A kept tarball is a real backup: GNU tar lists the database in it.
    auto listing = bt::run_command("tar -tzf " + bt::shell_quote((data / "backups" / *kept.begin()).string()));
    BOOST_TEST_REQUIRE(listing.status == 0, listing.output);
    BOOST_TEST(listing.output.find("observability.db") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(backup_schedule_outage)

// keep 1: the one good backup must survive every failed attempt.
BOOST_AUTO_TEST_CASE(failed_attempts_back_off_and_never_delete_the_good_backup) {
    bt::s3rver_process s3("outage");
    temp_dir dir;
    const auto db = (dir.path() / "obs.db").string();
    const std::string prefix = "p/";
    server_process server{server_options{db, {"--backup-interval", "1s", "--backup-keep", "1"}, s3_env(s3, prefix), true}};
    post_some_events(server.port());
    auto succeeded = [](const boost::json::object& b) { return text(b, "status") == "succeeded"; };
    auto failed = [](const boost::json::object& b) { return text(b, "status") == "failed"; };
    // Killed in the quiet time after a rotation, so no delete is in flight.
    rows_t rows = wait_for_history(
        server.port(), [&](const rows_t& r) { return count_if(r, succeeded) >= 2 && just_rotated(r, 1); },
        std::chrono::seconds(8));
    BOOST_TEST_REQUIRE(count_if(rows, succeeded) >= 2u);
    BOOST_TEST_REQUIRE(just_rotated(rows, 1));

    // S3 goes away: the attempts fail, each one a row, with growing waits.
    s3.stop();
    rows = wait_for_history(server.port(), [&](const rows_t& r) { return count_if(r, failed) >= 4; },
                            std::chrono::seconds(10));
    rows_t failures;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it)
        if (failed(*it)) failures.push_back(*it);  // oldest first
    BOOST_TEST_REQUIRE(failures.size() >= 4u);
    for (const auto& f : failures) {
        BOOST_TEST(text(f, "started_by") == "scheduled");
        BOOST_TEST(text(f, "error").find("S3 cannot be reached") != std::string::npos, text(f, "error"));
    }
    // The wait between an attempt's end and the next one's start is the
    // backoff (125, 250, 500, 1000 ms for a 1 s interval): never shorter,
    // growing, and capped near the interval. The log names each wait.
    const std::int64_t backoff[] = {125, 250, 500};
    std::vector<std::int64_t> gaps;
    for (std::size_t i = 0; i + 1 < failures.size(); ++i)
        gaps.push_back(ms_of(failures[i + 1], "started_at") - ms_of(failures[i], "finished_at"));
    BOOST_TEST_MESSAGE("waits between failed attempts (ms): " << [&] {
        std::string list;
        for (auto g : gaps) list += std::to_string(g) + " ";
        return list;
    }());
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(gaps[i] >= backoff[i], "wait " << i << ": " << gaps[i]);
    BOOST_TEST(gaps[2] > gaps[0] + 150);
    for (auto g : gaps) BOOST_TEST(g <= 1000 + 1500);  // the cap is the interval (plus a loaded machine's slack)
    BOOST_TEST(server.log().find("retrying in 125 ms") != std::string::npos);
    BOOST_TEST(server.log().find("retrying in 250 ms") != std::string::npos);
    BOOST_TEST(server.log().find("retrying in 500 ms") != std::string::npos);

    // Nothing was deleted meanwhile: the one good backup is still there.
    rows_t kept;
    for (const auto& r : rows)
        if (is_kept(r)) kept.push_back(r);
    BOOST_TEST_REQUIRE(kept.size() == 1u);
    const std::string good = file_name(text(kept[0], "location"));

    BOOST_TEST(server.stop() == 0);  // a retry is due every second: stop before S3 comes back

    // S3 comes back with what it held: the good object, alone. A server
    // restarted with the schedule makes a new backup and only then, once it
    // succeeded, deletes the old one.
    s3.start_again();
    BOOST_TEST((s3_names(s3, prefix) == std::set<std::string>{good}));
    const std::size_t succeeded_before = count_if(rows, succeeded);
    {
        server_process again{
            server_options{db, {"--backup-interval", "1s", "--backup-keep", "1"}, s3_env(s3, prefix), true}};
        rows = wait_for_history(
            again.port(), [&](const rows_t& r) { return count_if(r, succeeded) > succeeded_before && just_rotated(r, 1); },
            std::chrono::seconds(6));
        BOOST_TEST_REQUIRE(count_if(rows, succeeded) > succeeded_before);
        BOOST_TEST_REQUIRE(just_rotated(rows, 1));
        BOOST_TEST(again.stop() == 0);
    }
    rows = history_after_restart(db);
    kept.clear();
    for (const auto& r : rows)
        if (is_kept(r)) kept.push_back(r);
    BOOST_TEST_REQUIRE(kept.size() == 1u);
    BOOST_TEST(file_name(text(kept[0], "location")) != good);
    BOOST_TEST((s3_names(s3, prefix) == std::set<std::string>{file_name(text(kept[0], "location"))}));
}

BOOST_AUTO_TEST_SUITE_END()
