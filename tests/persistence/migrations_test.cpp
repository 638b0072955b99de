// Tests of persistence/migrations.cpp on temporary databases with migration
// lists defined here: first run, no-op rerun, upgrade keeping data, and each
// refusal (changed file, newer database, unknown or skipped version, failing
// file leaving nothing of itself); then the real embedded files.
#include "persistence/migrations.hpp"

#include "domain/sha256.hpp"
#include "persistence/sqlite_handle.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

using namespace obs::persistence;
using obs::persistence::test::query_int;
using obs::persistence::test::query_text;
using obs::persistence::test::temp_db;

BOOST_AUTO_TEST_SUITE(migrations_suite)

namespace {

const migration m1{1, "0001_notes.sql", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);"};
const migration m2{2, "0002_tags.sql", "ALTER TABLE notes ADD COLUMN tag TEXT; CREATE INDEX notes_by_tag ON notes(tag);"};
const migration m3{3, "0003_more.sql", "CREATE TABLE more (x INTEGER);"};

bool table_exists(sqlite3* db, const std::string& name) {
    return query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '" + name + "'") == 1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(empty_database_gets_every_migration) {
    temp_db tmp(false);
    db_ptr db = tmp.open();
    BOOST_TEST(current_schema_version(db.get()) == 0);
    const migration_report r = apply_migrations(db.get(), {m1, m2});
    BOOST_TEST(r.applied_now == 2);
    BOOST_TEST(r.schema_version == 2);
    BOOST_TEST(current_schema_version(db.get()) == 2);
    BOOST_TEST(table_exists(db.get(), "notes"));
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM schema_migrations") == 2);
    BOOST_TEST(query_text(db.get(), "SELECT name FROM schema_migrations WHERE version = 2") == "0002_tags.sql");
    BOOST_TEST(query_text(db.get(), "SELECT sha256 FROM schema_migrations WHERE version = 1") ==
               obs::domain::sha256_hex(m1.sql));
    const std::string applied_at = query_text(db.get(), "SELECT applied_at FROM schema_migrations WHERE version = 1");
    BOOST_TEST(applied_at.size() == 24u);  // 2026-11-27T22:04:05.123Z
    BOOST_TEST(applied_at.back() == 'Z');
}

BOOST_AUTO_TEST_CASE(up_to_date_database_is_a_no_op) {
    temp_db tmp(false);
    db_ptr db = tmp.open();
    apply_migrations(db.get(), {m1, m2});
    const migration_report r = apply_migrations(db.get(), {m1, m2});
    BOOST_TEST(r.applied_now == 0);
    BOOST_TEST(r.schema_version == 2);
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM schema_migrations") == 2);
}

BOOST_AUTO_TEST_CASE(upgrade_keeps_data) {
    temp_db tmp(false);
    db_ptr db = tmp.open();
    BOOST_TEST(apply_migrations(db.get(), {m1}).schema_version == 1);
    exec(db.get(), "INSERT INTO notes(body) VALUES ('kept'), ('also kept')");
    const migration_report r = apply_migrations(db.get(), {m1, m2, m3});
    BOOST_TEST(r.applied_now == 2);
    BOOST_TEST(r.schema_version == 3);
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM notes") == 2);
    BOOST_TEST(query_text(db.get(), "SELECT body FROM notes ORDER BY id LIMIT 1") == "kept");
    exec(db.get(), "UPDATE notes SET tag = 't'");  // the new column exists
    BOOST_TEST(table_exists(db.get(), "more"));
}

BOOST_AUTO_TEST_CASE(refusals_name_the_reason) {
    const migration m1_changed{1, "0001_notes.sql", m1.sql + " -- edited"};
    const migration m2_bad{2, "0002_bad.sql", "CREATE TABLE half (x); SELEC oops;"};
    struct refusal_case {
        std::string what;
        std::vector<migration> applied_first;  // by an earlier (or later) binary
        std::vector<migration> known_now;      // by this binary
        std::vector<std::string> message_parts;
        int version_after;
    };
    const refusal_case cases[] = {
        {"changed file", {m1}, {m1_changed, m2}, {"0001_notes.sql", "changed after it was applied"}, 1},
        {"newer database", {m1, m2, m3}, {m1, m2}, {"database has schema version 3, newer than this binary knows (2)"}, 3},
        {"unknown older version", {m1, m2, m3}, {m1, m3}, {"0002_tags.sql", "does not know"}, 3},
        {"skipped file", {m1, m3}, {m1, m2, m3}, {"0002_tags.sql", "never applied"}, 3},
        {"out of order list", {}, {m2, m1}, {"0001_notes.sql", "out of order"}, 0},
        {"failing file", {m1}, {m1, m2_bad, m3}, {"0002_bad.sql failed", "syntax error"}, 1},
    };
    for (const refusal_case& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            temp_db tmp(false);
            db_ptr db = tmp.open();
            if (!c.applied_first.empty()) apply_migrations(db.get(), c.applied_first);
            try {
                apply_migrations(db.get(), c.known_now);
                BOOST_FAIL("no migration_error");
            } catch (const migration_error& e) {
                const std::string msg = e.what();
                for (const std::string& part : c.message_parts) {
                    BOOST_TEST_CONTEXT("message: " << msg) { BOOST_TEST(msg.find(part) != std::string::npos); }
                }
            }
            BOOST_TEST(current_schema_version(db.get()) == c.version_after);
            BOOST_TEST(sqlite3_get_autocommit(db.get()) == 1);  // no transaction left open
        }
    }
}

BOOST_AUTO_TEST_CASE(failing_migration_leaves_nothing_of_itself) {
    const migration m2_bad{2, "0002_bad.sql", "CREATE TABLE half (x); INSERT INTO notes(body) VALUES ('x'); SELEC;"};
    temp_db tmp(false);
    db_ptr db = tmp.open();
    BOOST_CHECK_THROW(apply_migrations(db.get(), {m1, m2_bad}), migration_error);
    BOOST_TEST(table_exists(db.get(), "notes"));  // 0001 stays applied
    BOOST_TEST(!table_exists(db.get(), "half"));
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM notes") == 0);
    BOOST_TEST(query_int(db.get(), "SELECT count(*) FROM schema_migrations WHERE version = 2") == 0);
    // Fixed in a later build, it applies.
    const migration m2_fixed{2, "0002_bad.sql", "CREATE TABLE half (x);"};
    BOOST_TEST(apply_migrations(db.get(), {m1, m2_fixed}).applied_now == 1);
    BOOST_TEST(table_exists(db.get(), "half"));
}

BOOST_AUTO_TEST_CASE(embedded_migrations_apply_cleanly) {
    const std::vector<migration>& all = embedded_migrations();
    BOOST_REQUIRE(!all.empty());
    BOOST_TEST(all.front().version == 1);
    BOOST_TEST(all.front().name == "0001_initial.sql");
    temp_db tmp(false);
    db_ptr db = tmp.open();
    const migration_report r = apply_migrations(db.get(), all);
    BOOST_TEST(r.applied_now == static_cast<int>(all.size()));
    BOOST_TEST(r.schema_version == all.back().version);
    BOOST_TEST(table_exists(db.get(), "events"));
    BOOST_TEST(table_exists(db.get(), "runs"));
    BOOST_TEST(apply_migrations(db.get(), all).applied_now == 0);
    BOOST_TEST(query_text(db.get(), "PRAGMA integrity_check") == "ok");
}

BOOST_AUTO_TEST_SUITE_END()
