// Tests of persistence/sqlite_handle.cpp: the PRAGMAs of writer and reader
// connections, read-only readers, and the errors of check/exec/prepare.
#include "persistence/sqlite_handle.hpp"
#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>

using namespace obs::persistence;
using obs::persistence::test::query_int;
using obs::persistence::test::query_text;
using obs::persistence::test::temp_db;

BOOST_AUTO_TEST_SUITE(sqlite_handle_suite)

BOOST_AUTO_TEST_CASE(writer_connection_pragmas) {
    struct pragma_case {
        durability d;
        std::int64_t synchronous;  // 1 NORMAL, 2 FULL
    };
    for (const pragma_case c : {pragma_case{durability::normal, 1}, pragma_case{durability::full, 2}}) {
        BOOST_TEST_CONTEXT("synchronous " << c.synchronous) {
            temp_db tmp(false);
            db_ptr db = open_database(tmp.path(), false, c.d);
            BOOST_TEST(query_text(db.get(), "PRAGMA journal_mode") == "wal");
            BOOST_TEST(query_int(db.get(), "PRAGMA synchronous") == c.synchronous);
            BOOST_TEST(query_int(db.get(), "PRAGMA foreign_keys") == 1);
            BOOST_TEST(query_int(db.get(), "PRAGMA busy_timeout") == 5000);
            BOOST_TEST(sqlite3_db_readonly(db.get(), "main") == 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(reader_is_read_only_and_sees_wal) {
    temp_db tmp;
    db_ptr reader = open_database(tmp.path(), true);
    BOOST_TEST(sqlite3_db_readonly(reader.get(), "main") == 1);
    BOOST_TEST(query_text(reader.get(), "PRAGMA journal_mode") == "wal");
    BOOST_TEST(query_int(reader.get(), "PRAGMA busy_timeout") == 5000);
    BOOST_TEST(query_int(reader.get(), "PRAGMA foreign_keys") == 1);
    try {
        exec(reader.get(), "CREATE TABLE t(x)");
        BOOST_FAIL("a reader wrote");
    } catch (const sqlite_error& e) {
        BOOST_TEST((e.code() & 0xff) == SQLITE_READONLY);
    }
}

BOOST_AUTO_TEST_CASE(reader_of_missing_file_throws) {
    const auto missing = std::filesystem::temp_directory_path() / "obs-persistence-no-such-dir" / "x.db";
    BOOST_CHECK_THROW(open_database(missing.string(), true), sqlite_error);
    BOOST_CHECK_THROW(open_database(missing.string(), false), sqlite_error);
}

BOOST_AUTO_TEST_CASE(errors_carry_code_and_context) {
    temp_db tmp(false);
    db_ptr db = tmp.open();
    struct error_case {
        std::string sql;
        int primary_code;
    };
    const error_case cases[] = {
        {"SELEC 1", SQLITE_ERROR},
        {"SELECT * FROM no_such_table", SQLITE_ERROR},
    };
    for (const error_case& c : cases) {
        BOOST_TEST_CONTEXT(c.sql) {
            try {
                exec(db.get(), c.sql);
                BOOST_FAIL("exec did not throw");
            } catch (const sqlite_error& e) {
                BOOST_TEST((e.code() & 0xff) == c.primary_code);
                BOOST_TEST(std::string{e.what()}.find(c.sql) != std::string::npos);
            }
            BOOST_CHECK_THROW(prepare(db.get(), c.sql), sqlite_error);
        }
    }
    BOOST_CHECK_THROW(prepare(db.get(), "   "), sqlite_error);  // no statement at all
    BOOST_CHECK_NO_THROW(check(db.get(), SQLITE_ROW, "row"));
    BOOST_CHECK_NO_THROW(check(db.get(), SQLITE_DONE, "done"));
    try {
        check(db.get(), SQLITE_BUSY, "the context");
        BOOST_FAIL("check did not throw");
    } catch (const sqlite_error& e) {
        BOOST_TEST(e.code() == SQLITE_BUSY);
        BOOST_TEST(std::string{e.what()}.find("the context") == 0);
    }
}

BOOST_AUTO_TEST_CASE(unique_constraint_reports_extended_code) {
    temp_db tmp(false);
    db_ptr db = tmp.open();
    exec(db.get(), "CREATE TABLE t(x INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)");
    stmt_ptr s = prepare(db.get(), "INSERT INTO t VALUES (1)");
    try {
        check(db.get(), sqlite3_step(s.get()), "insert");
        BOOST_FAIL("no constraint error");
    } catch (const sqlite_error& e) {
        BOOST_TEST(e.code() == SQLITE_CONSTRAINT_PRIMARYKEY);
    }
}

BOOST_AUTO_TEST_SUITE_END()
