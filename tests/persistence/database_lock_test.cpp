// Tests of persistence/database_lock.cpp: the lock of a database is
// exclusive across processes (a child holding it, by plain flock or by
// try_lock_database, makes the next attempt busy with a message naming the
// lock file), it is free again once the holder exits or is SIGKILLed,
// releasing it in-process frees it, and a folder that does not exist is an
// error that is not "busy".
#include "persistence/database_lock.hpp"

#include "tests/support/flock_holder.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace persistence = obs::persistence;
namespace fs = std::filesystem;

namespace {

// A fresh folder for one test case.
struct lock_dir {
    fs::path path;
    lock_dir() {
        path = fs::temp_directory_path() / ("obs-lock-test-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(counter++));
        fs::create_directories(path);
    }
    ~lock_dir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    std::string db() const { return (path / "obs.db").string(); }
    static inline int counter = 0;
};

// Forks a child that tries try_lock_database(db) and exits 0 when it got
// the lock, 1 when busy, 2 on another error.
int child_attempt(const std::string& db) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const auto attempt = persistence::try_lock_database(db);
        ::_exit(attempt.lock ? 0 : attempt.busy ? 1 : 2);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(database_lock_suite)

BOOST_AUTO_TEST_CASE(held_by_another_process_is_busy) {
    lock_dir dir;
    {
        obs::test::flock_holder other(persistence::database_lock::path_for(dir.db()));
        const auto attempt = persistence::try_lock_database(dir.db());
        BOOST_TEST(!attempt.lock.has_value());
        BOOST_TEST(attempt.busy);
        BOOST_TEST(attempt.message.find(dir.db() + ".lock") != std::string::npos, attempt.message);
        BOOST_TEST(attempt.message.find("in use") != std::string::npos, attempt.message);
    }
    // The holder exited: the lock is free.
    const auto attempt = persistence::try_lock_database(dir.db());
    BOOST_TEST(attempt.lock.has_value(), attempt.message);
    BOOST_TEST(attempt.message.empty());
}

BOOST_AUTO_TEST_CASE(two_holders_in_two_processes_exclude_each_other) {
    lock_dir dir;
    {
        auto mine = persistence::try_lock_database(dir.db());
        BOOST_TEST_REQUIRE(mine.lock.has_value(), mine.message);
        BOOST_TEST(child_attempt(dir.db()) == 1);  // busy in the child
        // A second descriptor in this very process is refused as well.
        BOOST_TEST(persistence::try_lock_database(dir.db()).busy);
        // Moving the lock keeps it held.
        persistence::database_lock moved = std::move(*mine.lock);
        mine.lock.reset();
        BOOST_TEST(child_attempt(dir.db()) == 1);
    }
    // Released on destruction: the child gets it.
    BOOST_TEST(child_attempt(dir.db()) == 0);
}

BOOST_AUTO_TEST_CASE(released_when_the_holder_is_killed) {
    lock_dir dir;
    obs::test::flock_holder other(persistence::database_lock::path_for(dir.db()));
    BOOST_TEST(persistence::try_lock_database(dir.db()).busy);
    other.kill();
    const auto attempt = persistence::try_lock_database(dir.db());
    BOOST_TEST(attempt.lock.has_value(), attempt.message);
}

BOOST_AUTO_TEST_CASE(missing_folder_is_an_error_not_busy) {
    lock_dir dir;
    const std::string db = (dir.path / "no-such-dir" / "obs.db").string();
    const auto attempt = persistence::try_lock_database(db);
    BOOST_TEST(!attempt.lock.has_value());
    BOOST_TEST(!attempt.busy);
    BOOST_TEST(attempt.message.find("cannot open the lock file") != std::string::npos, attempt.message);
}

BOOST_AUTO_TEST_SUITE_END()
