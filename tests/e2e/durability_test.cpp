// End-to-end: an acknowledged event is never lost. Clients post batches
// while the server is killed with SIGKILL (or stopped with SIGTERM); after a
// restart every event that was answered 201 is in the database.
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

using namespace obs::e2e;

namespace {

std::set<std::string> stored_ids(const std::string& db_path) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "select id from events", -1, &stmt, nullptr);
    std::set<std::string> ids;
    while (sqlite3_step(stmt) == SQLITE_ROW) ids.emplace(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return ids;
}

// Posts batches of 10 events with known ids from `clients` threads until
// `stop` is set or the server goes away; returns the ids answered 201.
struct load {
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::set<std::string> acked;
    std::vector<std::thread> threads;

    void start(unsigned short port, int clients) {
        for (int c = 0; c < clients; ++c)
            threads.emplace_back([this, port, c] {
                try {
                    http_connection conn(port);
                    for (int batch = 0; !stop; ++batch) {
                        std::vector<std::string> ids;
                        std::string body = R"({"events":[)";
                        for (int i = 0; i < 10; ++i) {
                            ids.push_back("c" + std::to_string(c) + "-b" + std::to_string(batch) + "-" + std::to_string(i));
                            body += std::string(i ? "," : "") + R"({"id":")" + ids.back() + R"(","run_id":"run-)" +
                                    std::to_string(c) + R"(","type":"thought","payload":{"text":"crash test"}})";
                        }
                        body += "]}";
                        auto res = conn.request("POST", "/observability/events", body);
                        if (res.status != 201) continue;
                        std::lock_guard lock(mutex);
                        acked.insert(ids.begin(), ids.end());
                    }
                } catch (const std::exception&) {
                    // The server went away mid-request: that batch was not acknowledged.
                }
            });
    }
    void join() {
        stop = true;
        for (auto& t : threads) t.join();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(durability)

BOOST_AUTO_TEST_CASE(sigkill_loses_no_acknowledged_event) {
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    load clients;
    {
        server_process server{server_options{db, {}, {}, true}};
        clients.start(server.port(), 8);
        std::this_thread::sleep_for(std::chrono::seconds(3));  // the load runs for a while: this is its duration
        server.kill_hard();
        clients.join();
    }
    BOOST_TEST_REQUIRE(clients.acked.size() > 100u);
    server_process restarted{server_options{db, {}, {}, true}};
    BOOST_TEST(http_request(restarted.port(), "GET", "/readyz").status == 200);
    auto ids = stored_ids(db);
    std::size_t missing = 0;
    for (const auto& id : clients.acked) missing += ids.count(id) ? 0 : 1;
    BOOST_TEST(missing == 0u, missing << " of " << clients.acked.size() << " acknowledged events are missing");
    // Offsets stay gap-free and seq continues after the crash.
    BOOST_TEST(sqlite_count(db, "select count(*) from events") == sqlite_count(db, "select max(\"offset\") from events"));
    auto res = http_request(restarted.port(), "POST", "/observability/runs/run-0/steps",
                            R"({"type":"thought","payload":{"text":"after crash"}})");
    BOOST_TEST_REQUIRE(res.status == 201, res.body);
    BOOST_TEST(res.json().at("events").as_array()[0].at("seq").as_int64() ==
               sqlite_count(db, "select count(*) from events where run_id = 'run-0'"));
}

BOOST_AUTO_TEST_CASE(sigterm_finishes_in_flight_work_and_exits_zero) {
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    load clients;
    int code = -1;
    std::chrono::milliseconds took{};
    {
        server_process server{server_options{db, {}, {}, true}};
        clients.start(server.port(), 4);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        auto t0 = std::chrono::steady_clock::now();
        code = server.stop(std::chrono::milliseconds(10000));
        took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        clients.join();
    }
    BOOST_TEST(code == 0);
    BOOST_TEST(took.count() < 5000);
    auto ids = stored_ids(db);
    std::size_t missing = 0;
    for (const auto& id : clients.acked) missing += ids.count(id) ? 0 : 1;
    BOOST_TEST(missing == 0u);
    // The WAL was checkpointed and truncated on the way out.
    std::error_code ec;
    auto wal_size = std::filesystem::file_size(db + "-wal", ec);
    BOOST_TEST((ec || wal_size == 0u));
}

BOOST_AUTO_TEST_SUITE_END()
