// persistence/run_deletion on a real, migrated SQLite file: a run deleted
// at once or step by step, a run that turns busy again left alone, the
// offset high-water mark, and free pages given back above the reserve only.
#include "persistence/run_deletion.hpp"

#include "persistence/sqlite_handle.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <string>

using namespace obs::persistence;
using namespace obs::persistence::test;

namespace {

// `n` events of run `run` received at `received_ms`, straight into the tables
// (offsets after the current last), with its runs row.
void add_run(sqlite3* db, const std::string& run, int n, std::int64_t received_ms, int payload_bytes = 20) {
    exec(db, "BEGIN");
    exec(db, "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " + std::to_string(n) +
                 ") INSERT INTO events(\"offset\", id, run_id, seq, type, ts_ms, received_ms, payload, fingerprint) "
                 "SELECT (SELECT coalesce(max(\"offset\"), 0) FROM events) + i, '" + run + "-' || i, '" + run +
                 "', i, 'thought', 1, " + std::to_string(received_ms) + ", '{\"text\":\"' || hex(zeroblob(" +
                 std::to_string(payload_bytes / 2) + ")) || '\"}', 'f' FROM k");
    exec(db, "INSERT INTO runs(id, started_ms, last_event_ms, last_seq, last_received_ms) VALUES ('" + run +
                 "', 1, 1, " + std::to_string(n) + ", " + std::to_string(received_ms) + ")");
    exec(db, "INSERT INTO artifacts(run_id, name, id, content_type, size, sha256, created_ms) VALUES ('" + run +
                 "', 'a.txt', 'art-" + run + "', 'text/plain', 1, '" + std::string(64, run[0] == 'o' ? 'a' : 'b') +
                 "', 1)");
    exec(db, "COMMIT");
}

std::int64_t scalar(sqlite3* db, const std::string& sql) {
    stmt_ptr s = prepare(db, sql);
    check(db, sqlite3_step(s.get()), sql);
    return sqlite3_column_int64(s.get(), 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(run_deletion_suite)

BOOST_AUTO_TEST_CASE(a_run_goes_at_once_with_its_rows_and_the_high_water_stays) {
    temp_db tmp;
    auto db = tmp.open();
    add_run(db.get(), "old", 5, 1000);
    add_run(db.get(), "new", 3, 2000);
    BOOST_TEST(!delete_run(db.get(), "nope").has_value());
    const auto counts = delete_run(db.get(), "new");
    BOOST_TEST_REQUIRE(counts.has_value());
    BOOST_TEST(counts->runs == 1);
    BOOST_TEST(counts->events == 3);
    BOOST_TEST(counts->artifacts == 1);
    BOOST_TEST(counts->released_content == std::vector<std::string>{std::string(64, 'b')});
    BOOST_TEST(scalar(db.get(), "SELECT count(*) FROM events") == 5);
    BOOST_TEST(scalar(db.get(), "SELECT last_offset FROM offset_high_water") == 8);
}

BOOST_AUTO_TEST_CASE(retention_steps_through_an_expired_run_and_spares_a_busy_one) {
    temp_db tmp;
    auto db = tmp.open();
    add_run(db.get(), "old", 250, 1000);
    add_run(db.get(), "busy", 10, 5000);
    BOOST_TEST(find_expired_runs(db.get(), 3000, 10) == std::vector<std::string>{"old"});
    auto step = delete_expired_run_step(db.get(), "old", 3000, 100);
    BOOST_TEST(step.deleted.events == 100);
    BOOST_TEST(step.more);
    BOOST_TEST(step.deleted.runs == 0);
    step = delete_expired_run_step(db.get(), "old", 3000, 100);
    step = delete_expired_run_step(db.get(), "old", 3000, 100);
    BOOST_TEST(step.deleted.events == 50);
    BOOST_TEST(!step.more);
    BOOST_TEST(step.deleted.runs == 1);
    BOOST_TEST(step.deleted.artifacts == 1);
    // Not expired: nothing happens to it.
    step = delete_expired_run_step(db.get(), "busy", 3000, 100);
    BOOST_TEST(step.deleted.events == 0);
    BOOST_TEST(scalar(db.get(), "SELECT count(*) FROM events WHERE run_id = 'busy'") == 10);
    BOOST_TEST(find_expired_runs(db.get(), 3000, 10).empty());
}

BOOST_AUTO_TEST_CASE(free_pages_above_the_reserve_go_back_to_the_file_system) {
    temp_db tmp;  // migrated: a new database is auto_vacuum=INCREMENTAL
    auto db = tmp.open();
    BOOST_TEST(scalar(db.get(), "PRAGMA auto_vacuum") == 2);
    add_run(db.get(), "small", 100, 1000);
    delete_run(db.get(), "small");
    BOOST_TEST(release_free_pages(db.get(), 1000) == 0);  // a few free pages stay for reuse
    add_run(db.get(), "old", 20000, 1000, 2000);           // about 40 MB
    delete_run(db.get(), "old");
    exec(db.get(), "PRAGMA wal_checkpoint(TRUNCATE)");
    const auto size_before = std::filesystem::file_size(tmp.path());
    const auto free_before = scalar(db.get(), "PRAGMA freelist_count");
    BOOST_TEST(release_free_pages(db.get(), 1000) == 1000);
    BOOST_TEST(scalar(db.get(), "PRAGMA freelist_count") == free_before - 1000);
    exec(db.get(), "PRAGMA wal_checkpoint(TRUNCATE)");
    // The 1000 pages, and a pointer-map page that no longer has any to map.
    BOOST_TEST(size_before - std::filesystem::file_size(tmp.path()) >= 1000u * 4096u);
    BOOST_TEST(size_before - std::filesystem::file_size(tmp.path()) <= 1002u * 4096u);
    // Down to the reserve (16 MiB), not below.
    while (release_free_pages(db.get(), 100000) > 0) {
    }
    BOOST_TEST(scalar(db.get(), "PRAGMA freelist_count") == 16 * 1024 * 1024 / 4096);
}

BOOST_AUTO_TEST_SUITE_END()
