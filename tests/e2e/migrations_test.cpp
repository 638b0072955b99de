// End-to-end: the server refuses to start, naming the file and the reason,
// when an applied migration's file changed or the database is newer than
// the binary.
#include "tests/e2e/server_process.hpp"

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

using namespace obs::e2e;

namespace {

void exec(const std::string& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open(db_path.c_str(), &db);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    if (rc != SQLITE_OK) throw std::runtime_error(message);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(startup_migrations)


// A database the real binary created and then stopped.
std::string fresh_database(const temp_dir& dir, const std::string& name) {
    auto db = (dir.path() / name).string();
    server_process server{server_options{db, {}, {}, true}};
    auto code = server.stop();
    BOOST_TEST(code == 0, "exit " << code << "\n" << server.log());
    return db;
}

BOOST_AUTO_TEST_CASE(refuses_a_changed_migration) {
    temp_dir dir;
    auto db = fresh_database(dir, "tampered.db");
    BOOST_TEST(sqlite_count(db, "select count(*) from schema_migrations") >= 1);
    exec(db, "update schema_migrations set sha256 = 'abc' where version = 1");
    server_process server{server_options{db, {}, {}, false}};
    BOOST_TEST(server.wait_exit(std::chrono::seconds(10)) == 1);
    BOOST_TEST(server.log().find("0001_initial.sql") != std::string::npos, server.log());
}

BOOST_AUTO_TEST_CASE(refuses_a_newer_database) {
    temp_dir dir;
    auto db = fresh_database(dir, "newer.db");
    exec(db, "insert into schema_migrations(version, name, sha256, applied_at) values (9999, '9999_future.sql', 'x', 'now')");
    server_process server{server_options{db, {}, {}, false}};
    BOOST_TEST(server.wait_exit(std::chrono::seconds(10)) == 1);
    BOOST_TEST(server.log().find("9999") != std::string::npos, server.log());
}

BOOST_AUTO_TEST_CASE(starting_twice_is_a_no_op) {
    temp_dir dir;
    auto db = fresh_database(dir, "twice.db");
    auto rows = sqlite_count(db, "select count(*) from schema_migrations");
    fresh_database(dir, "twice.db");
    BOOST_TEST(sqlite_count(db, "select count(*) from schema_migrations") == rows);
}

BOOST_AUTO_TEST_SUITE_END()
