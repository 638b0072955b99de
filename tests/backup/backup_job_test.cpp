// Tests of backup/backup_job.cpp, end to end with real parts: backups of a
// real database to s3rver (several 5 MiB parts, or one PutObject) while a
// writer keeps ingesting, checked with the aws CLI, GNU tar and sqlite3;
// local tarballs (?upload=false); 409, 503 and 502 outcomes (missing
// bucket, wrong secret, S3 down, a part that keeps failing mid-upload,
// which must be aborted); the `backups` rows; no temporary file left.
#include "backup/backup_job.hpp"

#include "backup/backup_record.hpp"
#include "backup_fixture.hpp"
#include "domain/sha256.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

using namespace obs::backup;
using namespace obs::backup::test;
namespace asio = boost::asio;
namespace persistence = obs::persistence;
namespace fs = std::filesystem;

namespace {

backup_outcome run_one(const backup_request& req) {
    asio::io_context io;
    backup_runner runner(io.get_executor());
    return run_until_done(io, runner.run(req), std::chrono::minutes(5));
}

std::vector<backup_row> rows_of(const std::string& db) {
    persistence::db_ptr conn = persistence::open_database(db, true);
    return list_backups(conn.get(), 100);
}

std::string key_of(const std::string& location) { return location.substr(std::string("s3://bkt/").size()); }

}  // namespace

BOOST_AUTO_TEST_SUITE(backup_job_suite)

BOOST_AUTO_TEST_CASE(multipart_upload_while_ingesting_opens_with_tar_and_sqlite3) {
    shared_fixture& f = shared();
    temp_dir work;
    std::vector<std::string> log;
    backup_request req = request_for(f.big_db, work / "data", s3_at(f.s3.port()), &log);

    std::atomic<bool> stop{false};
    std::atomic<int> batches{0};
    std::thread writer([&] {  // ingestion goes on, at full rate, during the backup
        persistence::db_ptr db = persistence::open_database(f.big_db, false);
        while (!stop.load()) {
            add_events(db.get(), 100, 48);
            ++batches;
        }
    });
    const backup_outcome out = run_one(req);
    stop = true;
    writer.join();

    BOOST_TEST_REQUIRE(out.ok(), out.message);
    BOOST_TEST((out.status == backup_status::ok));
    BOOST_TEST(out.location.rfind("s3://bkt/observability/backups/observability-", 0) == 0u, out.location);
    BOOST_TEST(out.bytes > 2 * s3_min_part_size);  // a multipart upload of 3 parts or more
    BOOST_TEST(out.events >= f.big_rows);
    BOOST_TEST(out.last_offset >= f.big_rows);
    BOOST_TEST(out.db_bytes > 0u);
    BOOST_TEST(batches.load() > 0);
    BOOST_TEST((log == std::vector<std::string>{"Backup successful: " + out.location}));

    const command_result cp = f.s3.aws("s3 cp s3://bkt/" + key_of(out.location) + " " + shell_quote(work / "b.tar.gz"));
    BOOST_TEST_REQUIRE(cp.status == 0, cp.output);
    const std::string tarball = read_file(work / "b.tar.gz");
    BOOST_TEST(tarball.size() == out.bytes);
    BOOST_TEST(obs::domain::sha256_hex(tarball) == out.sha256);

    fs::create_directories(work / "x");
    const command_result x = run_command("tar xzf " + shell_quote(work / "b.tar.gz") + " -C " + shell_quote(work / "x"));
    BOOST_TEST_REQUIRE(x.status == 0, x.output);
    const command_result count =
        run_command("sqlite3 " + shell_quote(work / "x/observability.db") + " 'SELECT count(*), max(\"offset\") FROM events'");
    BOOST_TEST(count.output == std::to_string(out.events) + "|" + std::to_string(out.last_offset) + "\n");
    const auto manifest = boost::json::parse(read_file(work / "x/manifest.json")).as_object();
    BOOST_TEST(manifest.at("event_count").as_int64() == out.events);
    BOOST_TEST(manifest.at("last_offset").as_int64() == out.last_offset);
    BOOST_TEST(manifest.at("server_version").as_string() == "0.1.0-test");
    BOOST_TEST(manifest.at("members").as_array().at(0).at("sha256").as_string() ==
               obs::domain::sha256_hex(read_file(work / "x/observability.db")));

    const auto rows = rows_of(f.big_db);
    BOOST_TEST_REQUIRE(!rows.empty());
    BOOST_TEST(rows[0].id == out.id);
    BOOST_TEST(rows[0].status == "succeeded");
    BOOST_TEST(rows[0].location.value_or("") == out.location);
    BOOST_TEST(rows[0].sha256.value_or("") == out.sha256);
    BOOST_TEST(rows[0].events.value_or(0) == out.events);
    BOOST_TEST(list_dir(work / "data").empty());  // the snapshot is gone
}

BOOST_AUTO_TEST_CASE(small_database_is_one_put_object_with_its_artifacts) {
    shared_fixture& f = shared();
    temp_dir work;
    make_event_db(work / "small.db", 100, 16);
    const std::string artifact = "hello artifact";
    const std::string hash = obs::domain::sha256_hex(artifact);
    fs::create_directories(work / ("data/artifacts/sha256/" + hash.substr(0, 2)));
    fs::create_directories(work / "data/artifacts/tmp");
    write_file(work / ("data/artifacts/sha256/" + hash.substr(0, 2) + "/" + hash), artifact);
    write_file(work / "data/artifacts/tmp/upload-in-progress", "partial");

    const backup_outcome out = run_one(request_for(work / "small.db", work / "data", s3_at(f.s3.port())));
    BOOST_TEST_REQUIRE(out.ok(), out.message);
    BOOST_TEST(out.bytes < s3_min_part_size);
    BOOST_TEST(out.events == 100);
    const command_result cp = f.s3.aws("s3 cp s3://bkt/" + key_of(out.location) + " " + shell_quote(work / "s.tar.gz"));
    BOOST_TEST_REQUIRE(cp.status == 0, cp.output);
    const command_result list = run_command("tar tzf " + shell_quote(work / "s.tar.gz"));
    BOOST_TEST(list.output ==
               "observability.db\nartifacts/sha256/" + hash.substr(0, 2) + "/" + hash + "\nmanifest.json\n");
    BOOST_TEST(obs::domain::sha256_hex(read_file(work / "s.tar.gz")) == out.sha256);
}

BOOST_AUTO_TEST_CASE(upload_false_writes_the_tarball_locally) {
    temp_dir work;
    make_event_db(work / "small.db", 500, 16);
    const backup_outcome out = run_one(request_for(work / "small.db", work / "data", std::nullopt));
    BOOST_TEST_REQUIRE(out.ok(), out.message);
    BOOST_TEST(out.location.rfind(work / "data/backups/observability-", 0) == 0u, out.location);
    BOOST_TEST(out.location.size() > 7);
    BOOST_TEST(out.location.substr(out.location.size() - 7) == ".tar.gz");
    BOOST_TEST(obs::domain::sha256_hex(read_file(out.location)) == out.sha256);
    BOOST_TEST(fs::file_size(out.location) == out.bytes);
    BOOST_TEST(run_command("gzip -t " + shell_quote(out.location)).status == 0);
    BOOST_TEST(run_command("tar tzf " + shell_quote(out.location)).output == "observability.db\nmanifest.json\n");
    BOOST_TEST((list_dir(work / "data") == std::vector<std::string>{"backups"}));
    BOOST_TEST(list_dir(work / "data/backups").size() == 1u);  // no .part left
    BOOST_TEST(rows_of(work / "small.db").at(0).location.value_or("") == out.location);
}

BOOST_AUTO_TEST_CASE(a_second_backup_while_one_runs_is_busy) {
    shared_fixture& f = shared();
    temp_dir work;
    asio::io_context io;
    std::vector<bool> busy_calls;  // on_busy: once as the backup starts, once as it ends
    backup_runner runner(io.get_executor(), [&](bool busy) { busy_calls.push_back(busy); });
    const backup_request req = request_for(f.big_db, work / "data", std::nullopt);
    const auto [first, second, running_during] = run_until_done(
        io,
        [&]() -> asio::awaitable<std::tuple<backup_outcome, backup_outcome, bool>> {
            std::optional<backup_outcome> a;
            asio::steady_timer a_done(io, std::chrono::hours(1));
            asio::co_spawn(io, runner.run(req), [&](std::exception_ptr, backup_outcome o) {
                a = std::move(o);
                a_done.cancel();
            });
            co_await asio::post(io, asio::use_awaitable);  // the first one starts
            const bool during = runner.running();
            backup_outcome b = co_await runner.run(req);
            boost::system::error_code ec;
            if (!a) co_await a_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            co_return std::make_tuple(std::move(*a), std::move(b), during);
        }(),
        std::chrono::minutes(5));
    BOOST_TEST(running_during);
    BOOST_TEST(first.ok(), first.message);
    BOOST_TEST((second.status == backup_status::busy));
    BOOST_TEST(second.id == 0);  // a refused attempt writes no row
    BOOST_TEST(!runner.running());
    BOOST_TEST((busy_calls == std::vector<bool>{true, false}));  // the refused one is not a start
}

BOOST_AUTO_TEST_CASE(not_configured_is_503_and_recorded) {
    temp_dir work;
    make_event_db(work / "small.db", 10, 8);
    backup_request req = request_for(work / "small.db", work / "data", std::nullopt);
    req.upload = true;
    req.not_configured_reason = "set OBS_S3_BUCKET";
    const backup_outcome out = run_one(req);
    BOOST_TEST((out.status == backup_status::not_configured));
    BOOST_TEST(out.message == "S3 is not configured: set OBS_S3_BUCKET");
    const auto rows = rows_of(work / "small.db");
    BOOST_TEST_REQUIRE(rows.size() == 1u);
    BOOST_TEST(rows[0].status == "failed");
    BOOST_TEST(rows[0].error.value_or("") == out.message);
    BOOST_TEST((!fs::exists(work / "data") || list_dir(work / "data").empty()));
}

BOOST_AUTO_TEST_CASE(s3_refusals_are_502_with_the_s3_code) {
    shared_fixture& f = shared();
    struct case_t {
        std::string what;
        s3_config s3;
        std::string code;
    };
    s3_config unknown_key = s3_at(f.s3.port());
    unknown_key.access_key_id = "NOT-A-KEY";
    unknown_key.secret_access_key = "not-the-secret";
    const case_t cases[] = {
        {"missing bucket", s3_at(f.s3.port(), "no-such-bucket"), "NoSuchBucket"},
        {"unknown access key", unknown_key, "InvalidAccessKeyId"},
        {"S3 down", s3_at(free_port()), "Unreachable"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            temp_dir work;
            make_event_db(work / "small.db", 50, 8);
            std::vector<std::string> log;
            const backup_outcome out = run_one(request_for(work / "small.db", work / "data", c.s3, &log));
            BOOST_TEST((out.status == backup_status::s3_error));
            BOOST_TEST(out.s3_code == c.code);
            BOOST_TEST(out.message.find(c.code) != std::string::npos, out.message);
            BOOST_TEST(out.message.find("not-the-secret") == std::string::npos);
            BOOST_TEST_REQUIRE(log.size() == 1u);
            BOOST_TEST(log[0] == "Backup failed: " + out.message);
            const auto rows = rows_of(work / "small.db");
            BOOST_TEST_REQUIRE(rows.size() == 1u);
            BOOST_TEST(rows[0].status == "failed");
            BOOST_TEST(rows[0].error.value_or("") == out.message);
            BOOST_TEST(rows[0].events.value_or(0) == 50);
            BOOST_TEST(list_dir(work / "data").empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(a_part_failing_mid_upload_is_retried_then_aborted) {
    shared_fixture& f = shared();
    temp_dir work;
    asio::io_context io;
    // Part 3 never gets through: its connection is cut each time, as if S3
    // died under it; everything else (the abort included) reaches s3rver.
    breaking_relay relay(io, f.s3.port(), "partNumber=3&");
    backup_runner runner(io.get_executor());
    const backup_outcome out =
        run_until_done(io, runner.run(request_for(f.big_db, work / "data", s3_at(relay.port()))), std::chrono::minutes(5));
    BOOST_TEST((out.status == backup_status::s3_error));
    BOOST_TEST(out.s3_code == "Unreachable");
    // Three tries of ours; curl itself may retry once more when a reused
    // connection dies before any answer.
    BOOST_TEST(relay.broken() >= 3);
    BOOST_TEST(relay.broken() <= 6);
    BOOST_TEST(list_dir(work / "data").empty());

    // The upload was aborted: the last request is its DELETE ?uploadId=.
    // (s3rver answers AbortMultipartUpload with 405, so its effect cannot be
    // seen there; real S3 discards the parts.)
    const auto& lines = relay.request_lines();
    BOOST_TEST_REQUIRE(!lines.empty());
    const auto create = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("?uploads=") != std::string::npos; });
    BOOST_TEST_REQUIRE((create != lines.end()));
    BOOST_TEST(lines.back().rfind("DELETE /bkt/observability/backups/observability-", 0) == 0u, lines.back());
    BOOST_TEST(lines.back().find("?uploadId=") != std::string::npos, lines.back());
    const auto part = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("partNumber=1&") != std::string::npos; });
    BOOST_TEST_REQUIRE((part != lines.end()));
    // The same object and upload as the parts: "PUT /bkt/KEY?partNumber=1&uploadId=ID".
    const std::string part_target = part->substr(4);
    const std::string upload_id = part_target.substr(part_target.find("&uploadId=") + 10);
    const std::string object_path = part_target.substr(0, part_target.find('?'));
    BOOST_TEST(lines.back() == "DELETE " + object_path + "?uploadId=" + upload_id);
    BOOST_TEST(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("partNumber=") != std::string::npos; }) >= 5);
    const std::string key = backup_key("observability/backups/", rows_of(f.big_db).at(0).started_ms);
    const command_result ls = f.s3.aws("s3 ls s3://bkt/" + key);
    BOOST_TEST(ls.output.find("observability-") == std::string::npos, ls.output);  // no visible object
    BOOST_TEST(rows_of(f.big_db).at(0).status == "failed");
}

BOOST_AUTO_TEST_CASE(a_stalled_upload_releases_the_blocked_worker) {
    // S3 takes part 1 and never answers. By the time the stall timeout (1 s)
    // fails it, the worker has long filled the channel and blocks on its
    // next part: giving up must unblock it, or this would never end.
    shared_fixture& f = shared();
    temp_dir work;
    asio::io_context io;
    local_http_server fake_s3(io, [](const http_request& r) {
        if (r.method == "POST") {
            return http_response{200, "<InitiateMultipartUploadResult><UploadId>u-1</UploadId></InitiateMultipartUploadResult>", {}, false};
        }
        if (r.method == "DELETE") return http_response{204, "", {}, false};
        return http_response{200, "", {}, true};  // a part: hang
    });
    backup_runner runner(io.get_executor());
    backup_request req = request_for(f.big_db, work / "data", s3_at(fake_s3.port()));
    req.s3_options.tries = 1;
    req.s3_options.stall_timeout = std::chrono::seconds(1);
    const backup_outcome out = run_until_done(io, runner.run(req), std::chrono::seconds(60));
    BOOST_TEST((out.status == backup_status::s3_error));
    BOOST_TEST(out.s3_code == "Unreachable");
    BOOST_TEST_REQUIRE(!fake_s3.requests().empty());
    BOOST_TEST(fake_s3.requests().back().method == "DELETE");
    BOOST_TEST(fake_s3.requests().back().target.find("?uploadId=u-1") != std::string::npos);
    BOOST_TEST(list_dir(work / "data").empty());
    BOOST_TEST(!runner.running());
}

BOOST_AUTO_TEST_SUITE_END()
