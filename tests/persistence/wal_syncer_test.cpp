// Tests of persistence/wal_syncer.cpp: a request is served by its thread,
// requests made while one is pending fold into it, and a missing file is
// skipped (SQLite has not created the WAL yet).
#include "persistence/wal_syncer.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

using obs::persistence::wal_syncer;
namespace fs = std::filesystem;

namespace {

// Waits up to 10 s for `syncer` to have completed `n` syncs.
bool wait_for_syncs(const wal_syncer& syncer, unsigned long n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (syncer.syncs() < n) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

struct temp_file {
    fs::path path = fs::temp_directory_path() /
                    ("obs-wal-syncer-" + std::to_string(::getpid()) + "-" +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    ~temp_file() {
        std::error_code ignored;
        fs::remove(path, ignored);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(wal_syncer_suite)

BOOST_AUTO_TEST_CASE(a_request_is_synced_by_the_thread) {
    temp_file file;
    std::ofstream(file.path) << std::string(64 * 1024, 'w');
    wal_syncer syncer(file.path.string());
    BOOST_TEST(syncer.syncs() == 0u);  // nothing without a request
    syncer.request();
    BOOST_TEST(wait_for_syncs(syncer, 1));
    syncer.request();
    BOOST_TEST(wait_for_syncs(syncer, 2));
}

BOOST_AUTO_TEST_CASE(requests_while_pending_fold_into_one) {
    temp_file file;
    std::ofstream(file.path) << "x";
    wal_syncer syncer(file.path.string());
    for (int i = 0; i < 1000; ++i) syncer.request();
    BOOST_TEST(wait_for_syncs(syncer, 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // At most one running and one pending: never a sync per request.
    BOOST_TEST(syncer.syncs() <= 2u);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_skipped) {
    temp_file file;  // never created
    wal_syncer syncer(file.path.string());
    syncer.request();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(syncer.syncs() == 0u);
    BOOST_TEST(!fs::exists(file.path));  // not created by the syncer
}

BOOST_AUTO_TEST_SUITE_END()
