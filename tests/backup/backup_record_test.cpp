// Tests of backup/backup_record.cpp: the `backups` rows (migrations 0002
// and 0005) from `running` to their end, the history newest first with its
// limit, the rows rotation may delete and its mark, and the JSON of a row.
#include "backup/backup_record.hpp"

#include "support.hpp"

#include <boost/test/unit_test.hpp>

using namespace obs::backup;
using namespace obs::backup::test;
namespace persistence = obs::persistence;

BOOST_AUTO_TEST_SUITE(backup_record_suite)

BOOST_AUTO_TEST_CASE(rows_from_start_to_end_newest_first) {
    temp_dir dir;
    make_event_db(dir / "live.db", 0, 0);
    persistence::db_ptr db = persistence::open_database(dir / "live.db", false);
    const std::int64_t first = insert_backup_started(db.get(), 1795817045123);
    const std::int64_t second = insert_backup_started(db.get(), 1795817046000);
    BOOST_TEST(second > first);

    backup_row ok;
    ok.id = first;
    ok.finished_ms = 1795817045623;
    ok.status = "succeeded";
    ok.location = "s3://b/k";
    ok.bytes = 1234;
    ok.sha256 = std::string(64, 'a');
    ok.db_bytes = 4096;
    ok.events = 10;
    ok.last_offset = 12;
    update_backup_finished(db.get(), ok);

    backup_row failed;
    failed.id = second;
    failed.finished_ms = 1795817047000;
    failed.status = "failed";
    failed.error = "S3 NoSuchBucket (HTTP 404)";
    update_backup_finished(db.get(), failed);
    const std::int64_t third = insert_backup_started(db.get(), 1795817048000);

    const auto rows = list_backups(db.get(), 10);
    BOOST_TEST_REQUIRE(rows.size() == 3u);
    BOOST_TEST(rows[0].id == third);
    BOOST_TEST(rows[0].status == "running");
    BOOST_TEST(!rows[0].finished_ms.has_value());
    BOOST_TEST(rows[1].id == second);
    BOOST_TEST(rows[1].error.value_or("") == "S3 NoSuchBucket (HTTP 404)");
    BOOST_TEST(!rows[1].location.has_value());
    BOOST_TEST(rows[2].id == first);
    BOOST_TEST(rows[2].location.value_or("") == "s3://b/k");
    BOOST_TEST(rows[2].bytes.value_or(0) == 1234);
    BOOST_TEST(rows[2].events.value_or(0) == 10);
    BOOST_TEST(rows[2].last_offset.value_or(0) == 12);

    BOOST_TEST(list_backups(db.get(), 2).size() == 2u);
    BOOST_TEST(list_backups(db.get(), 0).size() == 1u);  // clamped to 1..1000

    const auto j = to_json(rows[2]);
    BOOST_TEST(j.at("status").as_string() == "succeeded");
    BOOST_TEST(j.at("started_at").as_string() == "2026-11-27T22:04:05.123Z");
    BOOST_TEST(j.at("finished_at").as_string() == "2026-11-27T22:04:05.623Z");
    BOOST_TEST(j.at("duration_ms").as_int64() == 500);
    BOOST_TEST(j.at("error").is_null());
    BOOST_TEST(j.at("sha256").as_string() == std::string(64, 'a'));
    const auto running = to_json(rows[0]);
    BOOST_TEST(running.at("finished_at").is_null());
    BOOST_TEST(running.at("duration_ms").is_null());
    BOOST_TEST(running.at("location").is_null());
}

BOOST_AUTO_TEST_CASE(rows_left_running_by_a_crash_are_marked_failed) {
    temp_dir dir;
    make_event_db(dir / "live.db", 0, 0);
    persistence::db_ptr db = persistence::open_database(dir / "live.db", false);
    const std::int64_t done = insert_backup_started(db.get(), 1000);
    backup_row ok;
    ok.id = done;
    ok.finished_ms = 2000;
    ok.status = "succeeded";
    update_backup_finished(db.get(), ok);
    insert_backup_started(db.get(), 3000);
    BOOST_TEST(mark_interrupted_backups(db.get(), 5000) == 1);
    const auto rows = list_backups(db.get(), 10);
    BOOST_TEST_REQUIRE(rows.size() == 2u);
    BOOST_TEST(rows[0].status == "failed");
    BOOST_TEST(rows[0].finished_ms.value_or(0) == 5000);
    BOOST_TEST(rows[0].error.value_or("").find("interrupted") == 0u);
    BOOST_TEST(rows[1].status == "succeeded");
    BOOST_TEST(mark_interrupted_backups(db.get(), 6000) == 0);
}

BOOST_AUTO_TEST_CASE(kept_rows_of_a_destination_and_the_deletion_mark) {
    temp_dir dir;
    make_event_db(dir / "live.db", 0, 0);
    persistence::db_ptr db = persistence::open_database(dir / "live.db", false);
    auto add = [&](const std::string& status, const std::string& location, const char* by) {
        backup_row r;
        r.id = insert_backup_started(db.get(), 1000, by);
        r.finished_ms = 2000;
        r.status = status;
        if (!location.empty()) r.location = location;
        update_backup_finished(db.get(), r);
        return r.id;
    };
    const std::int64_t a = add("succeeded", "s3://b/p/observability-1.tar.gz", "scheduled");
    add("failed", "", "scheduled");
    add("succeeded", "s3://b/other/observability-2.tar.gz", "manual");
    const std::int64_t d = add("succeeded", "s3://b/p/observability-3.tar.gz", "manual");
    add("succeeded", "s3://b/p_/x.tar.gz", "manual");  // '_' is no wildcard here
    const std::int64_t running = insert_backup_started(db.get(), 3000, "scheduled");

    auto ids = [](const std::vector<backup_row>& rows) {
        std::vector<std::int64_t> out;
        for (const auto& r : rows) out.push_back(r.id);
        return out;
    };
    BOOST_TEST(ids(list_kept_backups(db.get(), "s3://b/p/")) == (std::vector<std::int64_t>{d, a}),
               boost::test_tools::per_element());
    BOOST_TEST(mark_backup_deleted(db.get(), a, 5000));
    BOOST_TEST(!mark_backup_deleted(db.get(), a, 6000));        // once
    BOOST_TEST(!mark_backup_deleted(db.get(), running, 6000));  // never a row that is not succeeded
    BOOST_TEST(ids(list_kept_backups(db.get(), "s3://b/p/")) == (std::vector<std::int64_t>{d}),
               boost::test_tools::per_element());

    const auto rows = list_backups(db.get(), 10);
    const auto& oldest = rows.back();
    BOOST_TEST(oldest.id == a);
    BOOST_TEST(oldest.deleted_ms.value_or(0) == 5000);
    BOOST_TEST(oldest.started_by == "scheduled");
    const auto j = to_json(oldest);
    BOOST_TEST(j.at("deleted_at").as_string() == "1970-01-01T00:00:05.000Z");
    BOOST_TEST(j.at("started_by").as_string() == "scheduled");
    BOOST_TEST(to_json(rows[0]).at("deleted_at").is_null());
    BOOST_TEST(rows[1].started_by == "manual");
}

BOOST_AUTO_TEST_SUITE_END()
