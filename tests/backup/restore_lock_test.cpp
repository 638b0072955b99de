// Tests of restore's database lock (issue 13, item 5): while another process
// holds `<db>.lock` (as a running server does), `restore --force` onto that
// database refuses with a message saying so and exits 1, and the database,
// its -wal and -shm are left exactly as they were; once the holder is gone
// (exited or killed) the same restore succeeds.
#include "backup/restore.hpp"

#include "backup_fixture.hpp"
#include "persistence/database_lock.hpp"
#include "tests/support/flock_holder.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>

using namespace obs::backup;
using namespace obs::backup::test;
namespace asio = boost::asio;
namespace persistence = obs::persistence;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(restore_lock_suite)

BOOST_AUTO_TEST_CASE(refuses_while_the_lock_is_held_and_changes_nothing) {
    temp_dir work;
    make_event_db(work / "src.db", 500, 16);
    asio::io_context io;
    backup_runner runner(io.get_executor());
    const backup_outcome b =
        run_until_done(io, runner.run(request_for(work / "src.db", work / "data", std::nullopt)), std::chrono::minutes(5));
    BOOST_TEST_REQUIRE(b.ok(), b.message);

    // The "live" database of a running server: its file, -wal and -shm.
    fs::create_directories(work / "live");
    make_event_db(work / "live/obs.db", 20, 16);
    write_file(work / "live/obs.db-wal", "wal frames a server still needs");
    write_file(work / "live/obs.db-shm", "shared memory index");
    const std::string db_before = read_file(work / "live/obs.db");
    const restore_options options{b.location, work / "live/obs.db", work / "live", true, std::nullopt};
    {
        obs::test::flock_holder server(persistence::database_lock::path_for(work / "live/obs.db"));
        const restore_result r = restore_backup(options);
        BOOST_TEST(!r.ok);
        BOOST_TEST(r.message.find("is in use by another process") != std::string::npos, r.message);
        BOOST_TEST(r.message.find("stop the server first, nothing was changed") != std::string::npos, r.message);
        BOOST_TEST(read_file(work / "live/obs.db") == db_before);
        BOOST_TEST(read_file(work / "live/obs.db-wal") == "wal frames a server still needs");
        BOOST_TEST(read_file(work / "live/obs.db-shm") == "shared memory index");
        BOOST_TEST((list_dir(work / "live") ==
                    std::vector<std::string>{"obs.db", "obs.db-shm", "obs.db-wal", "obs.db.lock"}));

        // The subcommand: exit status 1.
        BOOST_TEST(run_restore({b.location, "--db", work / "live/obs.db", "--force"}) == 1);
        BOOST_TEST(read_file(work / "live/obs.db") == db_before);
        server.kill();  // as a crash: the kernel drops the lock
    }
    const restore_result r = restore_backup(options);
    BOOST_TEST_REQUIRE(r.ok, r.message);
    BOOST_TEST(r.events == b.events);
    BOOST_TEST(!fs::exists(work / "live/obs.db-wal"));
    // And restore released the lock when it finished.
    BOOST_TEST(persistence::try_lock_database(work / "live/obs.db").lock.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
