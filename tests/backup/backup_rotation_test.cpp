// Tests of backup/backup_rotation.cpp: which locations rotation may touch,
// the plan's rules (table-driven), and rotate_backups on real tarball files
// and a real `backups` table, and with DeleteObject against a local HTTP
// server that accepts or refuses it.
#include "backup/backup_rotation.hpp"

#include "backup/backup_record.hpp"
#include "support.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>

using namespace obs::backup;
using namespace obs::backup::test;
namespace asio = boost::asio;
namespace persistence = obs::persistence;
namespace fs = std::filesystem;

namespace {

backup_row row_of(std::int64_t id, std::string status, std::string location, std::optional<std::int64_t> deleted = {}) {
    backup_row r;
    r.id = id;
    r.status = std::move(status);
    if (!location.empty()) r.location = std::move(location);
    r.deleted_ms = deleted;
    return r;
}

std::string tarball(const std::string& prefix, int n) { return prefix + "observability-2026120" + std::to_string(n) + "T000000000Z.tar.gz"; }

// A row as the runner leaves it: started, then finished with `status`.
std::int64_t add_row(sqlite3* db, const std::string& status, const std::string& location) {
    backup_row r;
    r.id = insert_backup_started(db, 1000);
    r.finished_ms = 2000;
    r.status = status;
    if (status == "succeeded") r.location = location;
    else r.error = "S3 NoSuchBucket (HTTP 404)";
    update_backup_finished(db, r);
    return r.id;
}

std::optional<std::int64_t> deleted_ms_of(const std::string& db_path, std::int64_t id) {
    persistence::db_ptr db = persistence::open_database(db_path, true);
    for (const auto& r : list_backups(db.get(), 100))
        if (r.id == id) return r.deleted_ms;
    throw std::runtime_error("no row " + std::to_string(id));
}

rotation_result rotate(rotation_request req) {
    asio::io_context io;
    curl_multi http(io.get_executor());
    asio::thread_pool worker(1);
    auto result = run_until_done(io, rotate_backups(std::move(req), http, worker), std::chrono::seconds(30));
    worker.join();
    return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backup_rotation_suite)

BOOST_AUTO_TEST_CASE(only_tarballs_this_server_names_are_rotatable) {
    struct case_t {
        std::string location, prefix;
        bool rotatable;
    };
    const case_t cases[] = {
        {"s3://b/p/observability-20261202T213504895Z.tar.gz", "s3://b/p/", true},
        {"/d/backups/observability-20261202T213504895Z.tar.gz", "/d/backups/", true},
        {"s3://b/p/sub/observability-1.tar.gz", "s3://b/p/", false},   // deeper folder
        {"s3://b/q/observability-1.tar.gz", "s3://b/p/", false},       // another prefix
        {"s3://b/p/other-1.tar.gz", "s3://b/p/", false},               // not our name
        {"s3://b/p/observability-.tar.gz", "s3://b/p/", false},        // no stamp
        {"/d/backups/observability-1.tar.gz.part", "/d/backups/", false},
        {"/d/backups/../observability-1.tar.gz", "/d/backups/", false},
        {"", "/d/backups/", false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.location) { BOOST_TEST(is_rotatable_location(c.location, c.prefix) == c.rotatable); }
    }
    s3_config s3;
    s3.bucket = "bkt";
    s3.prefix = "obs/";
    BOOST_TEST(s3_location_prefix(s3) == "s3://bkt/obs/");
    BOOST_TEST(local_location_prefix("/d") == "/d/backups/");
    BOOST_TEST(local_location_prefix("") == "./backups/");
}

BOOST_AUTO_TEST_CASE(plan_keeps_the_newest_n_succeeded_of_the_destination) {
    const std::string p = "s3://b/p/";
    // Newest first, as list_kept_backups gives them (plus rows it would
    // never give, to check the plan does not trust its input).
    const std::vector<backup_row> five{row_of(5, "succeeded", tarball(p, 5)), row_of(4, "succeeded", tarball(p, 4)),
                                       row_of(3, "succeeded", tarball(p, 3)), row_of(2, "succeeded", tarball(p, 2)),
                                       row_of(1, "succeeded", tarball(p, 1))};
    const std::vector<backup_row> mixed{row_of(9, "succeeded", tarball(p, 9)), row_of(8, "failed", ""),
                                        row_of(7, "succeeded", tarball("s3://b/other/", 7)),
                                        row_of(6, "succeeded", tarball(p, 6), 12345), row_of(5, "running", ""),
                                        row_of(4, "succeeded", tarball(p, 4)), row_of(3, "succeeded", p + "mine.tar.gz"),
                                        row_of(2, "failed", tarball(p, 2)), row_of(1, "succeeded", tarball(p, 1))};
    struct case_t {
        std::string what;
        const std::vector<backup_row>& rows;
        unsigned keep;
        std::int64_t newest;
        std::vector<std::int64_t> doomed;
    };
    const case_t cases[] = {
        {"keep 2", five, 2, 5, {3, 2, 1}},
        {"keep 1", five, 1, 5, {4, 3, 2, 1}},
        {"keep 0 keeps all", five, 0, 5, {}},
        {"keep as many as there are", five, 5, 5, {}},
        {"keep more than there are", five, 7, 5, {}},
        {"the new backup is not in the history", five, 2, 6, {}},
        {"the new backup is among those kept", five, 2, 4, {3, 2, 1}},
        {"empty history", {}, 2, 1, {}},
        {"failed, running, deleted, foreign rows are never candidates", mixed, 1, 9, {4, 1}},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            std::vector<std::int64_t> got;
            for (const auto& r : plan_rotation(c.rows, p, c.keep, c.newest)) got.push_back(r.id);
            BOOST_TEST(got == c.doomed, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_CASE(local_rotation_removes_old_tarballs_and_marks_their_rows) {
    temp_dir dir;
    const std::string db_path = dir / "live.db";
    make_event_db(db_path, 0, 0);
    const std::string prefix = local_location_prefix(dir / "data");
    fs::create_directories(dir / "data/backups");
    persistence::db_ptr db = persistence::open_database(db_path, false);
    std::vector<std::int64_t> ids;
    for (int i = 1; i <= 4; ++i) {
        write_file(tarball(prefix, i), "tarball " + std::to_string(i));
        ids.push_back(add_row(db.get(), "succeeded", tarball(prefix, i)));
    }
    write_file(tarball(prefix, 5), "left by a failed attempt");  // its row failed: never touched
    const std::int64_t failed_id = add_row(db.get(), "failed", tarball(prefix, 5));
    write_file(prefix + "notes.txt", "mine");

    std::vector<std::string> log;
    rotation_request req;
    req.db_path = db_path;
    req.keep = 2;
    req.newest_id = ids.back();
    req.location_prefix = prefix;
    req.log = [&log](const std::string& line) { log.push_back(line); };
    const rotation_result r = rotate(req);
    BOOST_TEST(r.deleted == 2u);
    BOOST_TEST(r.failed == 0u);
    BOOST_TEST(list_dir(dir / "data/backups") ==
                   (std::vector<std::string>{"notes.txt", fs::path(tarball(prefix, 3)).filename().string(),
                                             fs::path(tarball(prefix, 4)).filename().string(),
                                             fs::path(tarball(prefix, 5)).filename().string()}),
               boost::test_tools::per_element());
    BOOST_TEST(deleted_ms_of(db_path, ids[0]).has_value());
    BOOST_TEST(deleted_ms_of(db_path, ids[1]).has_value());
    BOOST_TEST(!deleted_ms_of(db_path, ids[2]).has_value());
    BOOST_TEST(!deleted_ms_of(db_path, ids[3]).has_value());
    BOOST_TEST(!deleted_ms_of(db_path, failed_id).has_value());
    BOOST_TEST_REQUIRE(log.size() == 2u);
    BOOST_TEST(log[0].starts_with("Backup rotation deleted " + tarball(prefix, 2)));

    // Again: nothing left to delete.
    BOOST_TEST(rotate(req).deleted == 0u);
}

BOOST_AUTO_TEST_CASE(a_tarball_that_cannot_be_removed_stays_listed_and_counts_as_failed) {
    temp_dir dir;
    const std::string db_path = dir / "live.db";
    make_event_db(db_path, 0, 0);
    const std::string prefix = local_location_prefix(dir / "data");
    // The oldest "tarball" is a folder with a file in it: remove() fails.
    fs::create_directories(tarball(prefix, 1));
    write_file(tarball(prefix, 1) + "/inside", "x");
    write_file(tarball(prefix, 2), "b");
    persistence::db_ptr db = persistence::open_database(db_path, false);
    const std::int64_t old_id = add_row(db.get(), "succeeded", tarball(prefix, 1));
    const std::int64_t new_id = add_row(db.get(), "succeeded", tarball(prefix, 2));

    std::vector<std::string> log;
    rotation_request req;
    req.db_path = db_path;
    req.keep = 1;
    req.newest_id = new_id;
    req.location_prefix = prefix;
    req.log = [&log](const std::string& line) { log.push_back(line); };
    const rotation_result r = rotate(req);
    BOOST_TEST(r.deleted == 0u);
    BOOST_TEST(r.failed == 1u);
    BOOST_TEST(!deleted_ms_of(db_path, old_id).has_value());
    BOOST_TEST_REQUIRE(log.size() == 1u);
    BOOST_TEST(log[0].starts_with("Backup rotation could not delete " + tarball(prefix, 1)), log[0]);
}

BOOST_AUTO_TEST_CASE(s3_rotation_sends_a_signed_delete_and_marks_only_what_s3_deleted) {
    struct case_t {
        int status;
        std::string body;
        std::uint64_t deleted, failed;
    };
    const case_t cases[] = {
        {204, "", 1, 0},
        {403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", 0, 1},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("S3 answers " << c.status) {
            temp_dir dir;
            const std::string db_path = dir / "live.db";
            make_event_db(db_path, 0, 0);
            asio::io_context io;
            local_http_server server(io, [&c](const http_request&) { return http_response{c.status, c.body, {}, false}; });
            s3_config s3;
            s3.access_key_id = "AKID";
            s3.secret_access_key = "SECRET";
            s3.endpoint = server.url();
            s3.bucket = "bkt";
            s3.prefix = "p/";
            s3.path_style = true;
            const std::string prefix = s3_location_prefix(s3);
            persistence::db_ptr db = persistence::open_database(db_path, false);
            const std::int64_t old_id = add_row(db.get(), "succeeded", tarball(prefix, 1));
            const std::int64_t new_id = add_row(db.get(), "succeeded", tarball(prefix, 2));

            rotation_request req;
            req.db_path = db_path;
            req.keep = 1;
            req.newest_id = new_id;
            req.location_prefix = prefix;
            req.s3 = s3;
            curl_multi http(io.get_executor());
            asio::thread_pool worker(1);
            const rotation_result r = run_until_done(io, rotate_backups(req, http, worker), std::chrono::seconds(30));
            worker.join();
            BOOST_TEST(r.deleted == c.deleted);
            BOOST_TEST(r.failed == c.failed);
            BOOST_TEST(deleted_ms_of(db_path, old_id).has_value() == (c.deleted == 1));
            BOOST_TEST(!deleted_ms_of(db_path, new_id).has_value());
            BOOST_TEST_REQUIRE(server.requests().size() == 1u);  // 403 is not retried
            const http_request& sent = server.requests()[0];
            BOOST_TEST(sent.method == "DELETE");
            BOOST_TEST(sent.target == "/bkt/p/observability-20261201T000000000Z.tar.gz");
            BOOST_TEST(sent.headers.at("authorization").starts_with("AWS4-HMAC-SHA256 Credential=AKID/"));
            BOOST_TEST(sent.headers.count("x-amz-content-sha256") == 1u);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
