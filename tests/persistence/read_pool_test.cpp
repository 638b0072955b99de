// Tests of persistence/read_pool.cpp: jobs run on the pool's threads with
// read-only connections, the job queue's bound, stop() draining the queue,
// and a throwing job not taking its thread down.
#include "persistence/read_pool.hpp"

#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

using namespace obs::persistence;
using namespace obs::persistence::test;

BOOST_AUTO_TEST_SUITE(read_pool_suite)

BOOST_AUTO_TEST_CASE(jobs_run_on_read_only_connections) {
    temp_db tmp;
    for (const std::size_t threads : {std::size_t{1}, std::size_t{3}}) {
        BOOST_TEST_CONTEXT(threads << " threads") {
            read_pool pool(tmp.path(), threads);
            std::mutex mu;
            std::set<sqlite3*> connections;
            std::set<std::thread::id> thread_ids;
            std::atomic<int> read_only{0};
            std::atomic<int> ran{0};
            for (int i = 0; i < 40; ++i) {
                BOOST_TEST(pool.post([&](sqlite3* db) {
                    if (sqlite3_db_readonly(db, "main") == 1) ++read_only;
                    query_int(db, "SELECT count(*) FROM events");
                    std::lock_guard lk(mu);
                    connections.insert(db);
                    thread_ids.insert(std::this_thread::get_id());
                    ++ran;
                }));
            }
            pool.stop();
            BOOST_TEST(ran.load() == 40);
            BOOST_TEST(read_only.load() == 40);
            BOOST_TEST(connections.size() <= threads);
            BOOST_TEST(connections.size() == thread_ids.size());  // one connection per thread
            BOOST_TEST(thread_ids.count(std::this_thread::get_id()) == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(queue_is_bounded_and_stop_drains_it) {
    temp_db tmp;
    read_pool pool(tmp.path(), 1, 2);
    std::promise<void> started;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    BOOST_TEST(pool.post([&started, released](sqlite3*) {
        started.set_value();
        released.wait();
    }));
    BOOST_REQUIRE(started.get_future().wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    std::atomic<int> ran{0};
    BOOST_TEST(pool.post([&ran](sqlite3*) { ++ran; }));
    BOOST_TEST(pool.post([&ran](sqlite3*) { ++ran; }));
    BOOST_TEST(!pool.post([&ran](sqlite3*) { ++ran; }));  // two queued already
    release.set_value();
    pool.stop();
    BOOST_TEST(ran.load() == 2);
    BOOST_TEST(!pool.post([&ran](sqlite3*) { ++ran; }));  // stopped
    pool.stop();                                          // idempotent
    BOOST_TEST(ran.load() == 2);
}

BOOST_AUTO_TEST_CASE(a_throwing_job_does_not_end_its_thread) {
    temp_db tmp;
    read_pool pool(tmp.path(), 1);
    BOOST_TEST(pool.post([](sqlite3*) { throw std::runtime_error("job bug"); }));
    BOOST_TEST(pool.post([](sqlite3* db) { exec(db, "CREATE TABLE nope (x)"); }));  // read-only: throws
    std::promise<int> answer;
    BOOST_TEST(pool.post([&answer](sqlite3* db) { answer.set_value(static_cast<int>(query_int(db, "SELECT 41 + 1"))); }));
    auto f = answer.get_future();
    BOOST_REQUIRE(f.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
    BOOST_TEST(f.get() == 42);
}

BOOST_AUTO_TEST_CASE(missing_database_throws_at_construction) {
    temp_db tmp(false);  // never created: read-only open fails
    BOOST_CHECK_THROW(read_pool(tmp.path(), 2), sqlite_error);
}

BOOST_AUTO_TEST_SUITE_END()
