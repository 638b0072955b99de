// The C++ SDK's several connections (options::connections) against the real
// server binary, through the test proxy (sdk_support.hpp), which holds each
// events request for a random few milliseconds and refuses every fourth
// of them (the second first) with 503 (Retry-After: 0), so batches on different connections
// overtake each other and some are sent again while others go on. A run's
// events must still be stored exactly once each and in the order they were
// logged: had two connections carried one run, a resent or slower batch
// would land after a later one. Also: bookkeeping stays exact when close()
// gives up on a connection that cannot deliver while the others can.
#include "observability/provider.hpp"
#include "sdk_support.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace e2e = obs::e2e;
using namespace obs::sdk_test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(sdk_cpp_connections)

namespace {

struct server_fixture {
    e2e::temp_dir dir;
    e2e::server_process server{{(dir.path() / "obs.db").string(), {}, {}, true}};
};

// Every run id named in a batch body.
std::set<std::string> runs_in(const std::string& body) {
    std::set<std::string> out;
    constexpr std::string_view key = "\"run_id\":\"";
    for (auto pos = body.find(key); pos != std::string::npos; pos = body.find(key, pos)) {
        pos += key.size();
        out.insert(body.substr(pos, body.find('"', pos) - pos));
    }
    return out;
}

// What the proxy saw of the events requests: how many were held at once at
// most, and which proxy connection (its serving thread) carried each run.
struct traffic {
    std::mutex mu;
    int in_flight = 0;
    int most_in_flight = 0;
    int refused = 0;
    std::map<std::string, std::set<std::thread::id>> connections_of_run;
    std::mt19937 rng{20260315};

    int requests = 0;

    // Counts the request in; returns its ordinal (0, 1, 2, ...).
    int enter(const std::string& body) {
        std::lock_guard lock(mu);
        most_in_flight = std::max(most_in_flight, ++in_flight);
        for (const auto& run : runs_in(body)) connections_of_run[run].insert(std::this_thread::get_id());
        return requests++;
    }
    int delay_ms() {
        std::lock_guard lock(mu);
        return 1 + static_cast<int>(rng() % 12);
    }
    void leave() {
        std::lock_guard lock(mu);
        --in_flight;
    }
};

observability::log_options in_run(const std::string& run) {
    observability::log_options w;
    w.run_id = run;
    return w;
}

// Options sending through `proxy` on four connections, with the delivery
// reports (the refusals these tests provoke) kept quiet.
observability::options four_connections_through(const fault_proxy& proxy) {
    observability::options o;
    o.url = url_of(proxy.port());
    o.report = [](std::string_view) {};
    o.connections = 4;
    return o;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(each_run_keeps_its_order_while_batches_overtake_on_several_connections, server_fixture) {
    traffic seen;
    fault_proxy proxy(server.port(), [&](const proxied_request& r, std::string&) -> std::optional<canned_answer> {
        if (r.target != "/observability/events") return std::nullopt;
        const int ordinal = seen.enter(r.decoded_body);
        std::this_thread::sleep_for(std::chrono::milliseconds(seen.delay_ms()));
        seen.leave();
        // A quarter refused, the second request among them: counted, not
        // drawn, so a run that happens to send few batches still sees one.
        if (ordinal % 4 == 1) {
            std::lock_guard lock(seen.mu);
            ++seen.refused;
            return canned_answer{503, R"({"error":{"code":"overloaded","message":"busy"}})", {{"retry-after", "0"}}};
        }
        return std::nullopt;
    });
    observability::options o = four_connections_through(proxy);
    o.flush_at = 40;  // many small batches: many chances to overtake
    constexpr int runs = 8, per_run = 300;
    {
        observability::provider p(o);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&p, t] {
                for (int i = 0; i < per_run; ++i)
                    for (const int run : {2 * t, 2 * t + 1})
                        p.log("thought", {{"text", "step " + std::to_string(i)}}, in_run("conn-" + std::to_string(run)));
            });
        for (auto& t : threads) t.join();
        BOOST_TEST(p.flush(60s));
        const auto s = p.stats();
        BOOST_TEST(s.sent + s.duplicates == std::uint64_t{runs * per_run});
        BOOST_TEST(s.queued == 0u);
        BOOST_TEST(s.rejected == 0u);
        BOOST_TEST(s.dropped == 0u);
        BOOST_TEST(s.retries > 0u);
    }
    for (int run = 0; run < runs; ++run) {
        const std::string id = "conn-" + std::to_string(run);
        const auto steps = stored_steps(server.port(), id);
        BOOST_TEST_REQUIRE(steps.size() == std::size_t{per_run}, id);
        std::size_t in_order = 0;  // stored in the logged order up to here
        while (in_order < steps.size() &&
               steps[in_order].at("payload").at("text").as_string() == "step " + std::to_string(in_order))
            ++in_order;
        BOOST_TEST(in_order == steps.size(), id << " is out of order from position " << in_order);
    }
    std::lock_guard lock(seen.mu);
    BOOST_TEST_MESSAGE("most requests held at once: " << seen.most_in_flight << ", refused: " << seen.refused);
    BOOST_TEST(seen.most_in_flight >= 2);  // batches really were in flight side by side
    BOOST_TEST(seen.refused > 0);
    std::set<std::thread::id> all;
    for (const auto& [run, connections] : seen.connections_of_run) {
        BOOST_TEST(connections.size() == 1u, run << " travelled over " << connections.size() << " connections");
        all.insert(connections.begin(), connections.end());
    }
    BOOST_TEST(all.size() >= 2u);
}

BOOST_FIXTURE_TEST_CASE(close_counts_exactly_what_a_blocked_connection_left, server_fixture) {
    // Every batch naming run "stuck" is refused for good; the other runs go
    // through unless they share its connection.
    fault_proxy proxy(server.port(), [](const proxied_request& r, std::string&) -> std::optional<canned_answer> {
        if (r.target == "/observability/events" && r.decoded_body.find(R"("run_id":"stuck")") != std::string::npos)
            return canned_answer{503, R"({"error":{"code":"overloaded","message":"busy"}})", {{"retry-after", "1"}}};
        return std::nullopt;
    });
    observability::options o = four_connections_through(proxy);
    constexpr int free_runs = 6, per_run = 100;
    observability::provider p(o);
    for (int i = 0; i < per_run; ++i) {
        p.log("thought", {{"text", "step " + std::to_string(i)}}, in_run("stuck"));
        for (int run = 0; run < free_runs; ++run)
            p.log("thought", {{"text", "step " + std::to_string(i)}}, in_run("free-" + std::to_string(run)));
    }
    BOOST_TEST(!p.flush(1500ms));  // "stuck" cannot be delivered
    p.close(200ms);
    const auto s = p.stats();
    std::uint64_t stored = 0;
    int complete_runs = 0;
    BOOST_TEST(stored_steps(server.port(), "stuck").empty());
    for (int run = 0; run < free_runs; ++run) {
        const auto steps = stored_steps(server.port(), "free-" + std::to_string(run));
        stored += steps.size();
        complete_runs += steps.size() == std::size_t{per_run} ? 1 : 0;
        for (std::size_t i = 0; i < steps.size(); ++i)  // what arrived is the run's beginning, in order
            BOOST_TEST(steps[i].at("payload").at("text").as_string() == "step " + std::to_string(i));
    }
    BOOST_TEST(complete_runs >= 1);  // runs on the other connections were not held up by "stuck"
    BOOST_TEST(s.sent == stored);
    BOOST_TEST(s.dropped == std::uint64_t{(free_runs + 1) * per_run} - stored);
    BOOST_TEST(s.queued == 0u);
    BOOST_TEST(s.rejected == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
