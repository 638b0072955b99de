// Tests of backup/snapshot.cpp: the copy holds what the numbers say even
// while a writer keeps committing, it is a single-file (non-WAL) database
// that passes integrity_check, and failures are thrown.
#include "backup/snapshot.hpp"

#include "persistence/migrations.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

using namespace obs::backup;
using namespace obs::backup::test;
namespace persistence = obs::persistence;

namespace {

std::string text_of(sqlite3* db, const std::string& sql) {
    persistence::stmt_ptr s = persistence::prepare(db, sql);
    persistence::check(db, sqlite3_step(s.get()), sql);
    return reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(snapshot_suite)

BOOST_AUTO_TEST_CASE(copies_a_quiet_database) {
    temp_dir dir;
    make_event_db(dir / "live.db", 5000, 32);
    write_file(dir / "snap.db", "stale junk that must be replaced");
    const snapshot_result r = take_snapshot(dir / "live.db", dir / "snap.db");
    BOOST_TEST(r.events == 5000);
    BOOST_TEST(r.last_offset == 5000);
    BOOST_TEST(r.schema_version == persistence::embedded_migrations().back().version);
    BOOST_TEST(r.db_bytes == std::filesystem::file_size(dir / "snap.db"));

    sqlite3* raw = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open_v2((dir / "snap.db").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    persistence::db_ptr copy(raw);
    BOOST_TEST(text_of(copy.get(), "PRAGMA integrity_check") == "ok");
    BOOST_TEST(text_of(copy.get(), "PRAGMA journal_mode") == "delete");
    BOOST_TEST(query_int(copy.get(), "SELECT count(*) FROM events") == 5000);
    BOOST_TEST(!std::filesystem::exists(dir / "snap.db-wal"));
}

BOOST_AUTO_TEST_CASE(numbers_match_the_copy_while_a_writer_commits) {
    temp_dir dir;
    make_event_db(dir / "live.db", 20000, 64);
    std::atomic<bool> stop{false};
    std::atomic<int> batches{0};
    std::thread writer([&] {
        persistence::db_ptr db = persistence::open_database(dir / "live.db", false);
        while (!stop.load()) {
            add_events(db.get(), 200, 64);
            ++batches;
        }
    });
    // Several snapshots while the writer runs: each must be self-consistent.
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST_CONTEXT("snapshot " << i) {
            const std::string out = dir / ("snap" + std::to_string(i) + ".db");
            const snapshot_result r = take_snapshot(dir / "live.db", out);
            persistence::db_ptr copy = persistence::open_database(out, true);
            BOOST_TEST(query_int(copy.get(), "SELECT count(*) FROM events") == r.events);
            BOOST_TEST(query_int(copy.get(), R"(SELECT max("offset") FROM events)") == r.last_offset);
            BOOST_TEST(r.events >= 20000);
        }
    }
    stop = true;
    writer.join();
    BOOST_TEST(batches.load() > 0);
}

// Over 10 MiB the copy is made in several backup steps on one read
// snapshot: still one consistent state, whole, while the writer goes on.
BOOST_AUTO_TEST_CASE(a_copy_in_several_steps_is_one_state) {
    temp_dir dir;
    make_event_db(dir / "live.db", 30000, 800);  // about 30 MiB
    BOOST_TEST_REQUIRE(std::filesystem::file_size(dir / "live.db") > 20u * 1024 * 1024);
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        persistence::db_ptr db = persistence::open_database(dir / "live.db", false);
        while (!stop.load()) add_events(db.get(), 100, 800);
    });
    const snapshot_result r = take_snapshot(dir / "live.db", dir / "snap.db");
    stop = true;
    writer.join();
    persistence::db_ptr copy = persistence::open_database(dir / "snap.db", true);
    BOOST_TEST(text_of(copy.get(), "PRAGMA integrity_check") == "ok");
    BOOST_TEST(query_int(copy.get(), "SELECT count(*) FROM events") == r.events);
    BOOST_TEST(query_int(copy.get(), R"(SELECT max("offset") FROM events)") == r.last_offset);
    BOOST_TEST(r.events >= 30000);
    BOOST_TEST(r.db_bytes == std::filesystem::file_size(dir / "snap.db"));
}

BOOST_AUTO_TEST_CASE(failures_throw) {
    temp_dir dir;
    BOOST_CHECK_THROW(take_snapshot(dir / "missing.db", dir / "snap.db"), std::exception);
    make_event_db(dir / "live.db", 10, 8);
    BOOST_CHECK_THROW(take_snapshot(dir / "live.db", dir / "no/such/folder/snap.db"), std::exception);
}

BOOST_AUTO_TEST_SUITE_END()
