// Tests of issue 13, item 6: the startup sweep of backup/restore leftovers
// (backup/leftovers.cpp), on hand-made names with decoys beside them and on
// what a backup really leaves when SIGKILLed in the middle; and a backup on
// a full disk reported as failure_kind::disk_full: the classification of
// ENOSPC from a write to /dev/full, SQLITE_FULL and others, and a whole
// backup into a 1 MiB tmpfs (mounted in a private mount namespace of a
// child process; this needs root, and fails loudly without it).
#include "backup/backup_job.hpp"
#include "backup/file_io.hpp"
#include "backup/leftovers.hpp"

#include "backup_fixture.hpp"
#include "persistence/sqlite_handle.hpp"

#include <boost/test/unit_test.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

using namespace obs::backup;
using namespace obs::backup::test;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

// Runs `body` in a forked child and returns what it wrote: "" means it went
// as expected, anything else says what did not. The child may do what this
// process must not (a private mount namespace).
std::string in_child(const std::function<std::string()>& body) {
    int out[2];
    if (::pipe(out) != 0) return "pipe failed";
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(out[0]);
        std::string verdict;
        try {
            verdict = body();
        } catch (const std::exception& e) {
            verdict = std::string("threw: ") + e.what();
        }
        const ssize_t ignored = ::write(out[1], verdict.data(), verdict.size());
        (void)ignored;
        ::_exit(0);
    }
    ::close(out[1]);
    std::string verdict;
    char buffer[512];
    for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        verdict.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) verdict += " (child did not exit cleanly)";
    return verdict;
}

std::vector<std::string> names_in(const std::string& dir) {
    return fs::exists(dir) ? list_dir(dir) : std::vector<std::string>{};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(leftovers_suite)

BOOST_AUTO_TEST_CASE(sweep_removes_exactly_the_leftovers) {
    temp_dir work;
    const std::string data = work / "data";
    fs::create_directories(data + "/backups");
    fs::create_directories(data + "/.restore-41-77/artifacts");
    fs::create_directories(work / "db");
    const std::string snapshot(100000, 's');
    // Leftovers.
    write_file(data + "/.backup-1795817045123.db", snapshot);
    write_file(data + "/.backup-1795817045123.db-journal", "j");
    write_file(data + "/backups/observability-20261127T220405123Z.tar.gz.part", "part");
    write_file(data + "/.restore-41-77/artifacts/a", "artifact");
    write_file(work / "db/.restore-41-77.db", "restored");
    // Decoys: finished tarballs, the database and its files, other names.
    const std::vector<std::string> kept_data{".backup-.db",     ".backup-12x.db", ".backup-1.db.bak", "backup-1.db",
                                             ".restore-1.db",   "obs.db",         "obs.db-wal",       "obs.db.lock"};
    for (const auto& name : kept_data) write_file(data + "/" + name, "keep");
    write_file(data + "/backups/observability-20261127T220405123Z.tar.gz", "tarball");
    write_file(data + "/backups/notes.part", "keep");
    write_file(work / "db/obs.db", "db");

    const sweep_result r = sweep_backup_leftovers(data, work / "db/obs.db");
    BOOST_TEST(r.errors.empty());
    BOOST_TEST(r.removed == 5u);
    BOOST_TEST(r.bytes == snapshot.size() + 1 + 4 + 8 + 8);
    std::vector<std::string> expected_data = kept_data;
    expected_data.push_back("backups");
    std::sort(expected_data.begin(), expected_data.end());
    BOOST_TEST(names_in(data) == expected_data, boost::test_tools::per_element());
    BOOST_TEST((names_in(data + "/backups") ==
                std::vector<std::string>{"notes.part", "observability-20261127T220405123Z.tar.gz"}));
    BOOST_TEST((names_in(work / "db") == std::vector<std::string>{"obs.db"}));

    // A second sweep finds nothing; missing folders are no error.
    const sweep_result again = sweep_backup_leftovers(data, work / "db/obs.db");
    BOOST_TEST(again.removed == 0u);
    BOOST_TEST(again.errors.empty());
    BOOST_TEST(sweep_backup_leftovers(work / "nowhere", work / "nowhere/obs.db").errors.empty());
}

BOOST_AUTO_TEST_CASE(what_a_killed_backup_leaves_is_swept) {
    // A real local backup of the shared ~45 MB database, in a child that is
    // SIGKILLed once its snapshot and tarball part exist.
    temp_dir work;
    const std::string data = work / "data";
    fs::create_directories(data);
    const std::string db = shared().big_db;
    const pid_t pid = ::fork();
    if (pid == 0) {
        asio::io_context io;
        backup_runner runner(io.get_executor());
        run_until_done(io, runner.run(request_for(db, data, std::nullopt)), std::chrono::minutes(5));
        ::_exit(0);
    }
    bool caught = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!caught && std::chrono::steady_clock::now() < deadline) {
        bool snapshot = false, part = false;
        for (const auto& n : names_in(data)) snapshot = snapshot || n.starts_with(".backup-");
        for (const auto& n : names_in(data + "/backups")) part = part || n.ends_with(".tar.gz.part");
        caught = snapshot && part;
        if (!caught) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    BOOST_TEST_REQUIRE(caught, "the backup finished or failed before it could be killed in the middle");

    const sweep_result r = sweep_backup_leftovers(data, db);
    BOOST_TEST(r.errors.empty());
    BOOST_TEST(r.removed == 2u);
    BOOST_TEST(r.bytes > 1000000u);  // the snapshot is as large as the database
    BOOST_TEST((names_in(data) == std::vector<std::string>{"backups"}));
    BOOST_TEST(names_in(data + "/backups").empty());
}

BOOST_AUTO_TEST_CASE(disk_full_is_classified) {
    // ENOSPC from a real write: /dev/full refuses every write with it.
    try {
        unique_fd fd = open_for_writing("/dev/full");
        write_all(fd.get(), "x", 1, "/dev/full");
        BOOST_FAIL("a write to /dev/full succeeded");
    } catch (const std::system_error& e) {
        BOOST_TEST(e.code().value() == ENOSPC);
        BOOST_TEST((failure_kind_of(e) == failure_kind::disk_full));
    }
    BOOST_TEST((failure_kind_of(std::system_error(EDQUOT, std::generic_category())) == failure_kind::disk_full));
    BOOST_TEST((failure_kind_of(fs::filesystem_error("copy", std::error_code(ENOSPC, std::generic_category()))) ==
               failure_kind::disk_full));
    BOOST_TEST((failure_kind_of(obs::persistence::sqlite_error(SQLITE_FULL, "database or disk is full")) ==
               failure_kind::disk_full));
    // Others stay "none" (a 500).
    BOOST_TEST((failure_kind_of(std::system_error(EACCES, std::generic_category())) == failure_kind::none));
    BOOST_TEST((failure_kind_of(std::system_error(EIO, std::generic_category())) == failure_kind::none));
    BOOST_TEST((failure_kind_of(obs::persistence::sqlite_error(SQLITE_IOERR_WRITE, "disk I/O error")) ==
               failure_kind::none));
    BOOST_TEST((failure_kind_of(std::runtime_error("no space left on device")) == failure_kind::none));
}

BOOST_AUTO_TEST_CASE(a_backup_on_a_full_disk_fails_as_disk_full) {
    temp_dir work;
    make_event_db(work / "obs.db", 6000, 256);  // ~3.5 MB: no snapshot fits in 1 MiB
    fs::create_directories(work / "small");
    const std::string verdict = in_child([&]() -> std::string {
        if (::unshare(CLONE_NEWNS) != 0) return std::string("needs root: unshare(CLONE_NEWNS): ") + std::strerror(errno);
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            return std::string("mount --make-rprivate /: ") + std::strerror(errno);
        if (::mount("tmpfs", (work / "small").c_str(), "tmpfs", 0, "size=1m") != 0)
            return std::string("mount tmpfs: ") + std::strerror(errno);
        asio::io_context io;
        backup_runner runner(io.get_executor());
        const backup_outcome o =
            run_until_done(io, runner.run(request_for(work / "obs.db", work / "small", std::nullopt)),
                           std::chrono::minutes(2));
        if (o.status != backup_status::io_error) return "status is not io_error: " + o.message;
        if (o.failure != failure_kind::disk_full) return "not classified as disk_full: " + o.message;
        if (!o.message.starts_with("the disk is full: ")) return "message: " + o.message;
        for (const auto& n : names_in(work / "small"))
            if (n.starts_with(".backup-")) return "snapshot left behind: " + n;
        return "";
    });
    BOOST_TEST(verdict.empty(), verdict);
}

BOOST_AUTO_TEST_SUITE_END()
