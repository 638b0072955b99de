// The conformance scenario of issue 15 with the C++ SDK and the real binary:
// a controller and three worker threads log one run (thoughts, tool calls
// with their results, an LLM call with tokens, an error, an artifact); the
// server is SIGKILLed mid-run and started again 5 s later on the same port
// and database while the agent keeps logging; the agent then finishes. Read
// back through the REST routes: every event stored exactly once, each
// thread's events in the order it logged them, the run's totals and artifact.
#include "observability/provider.hpp"
#include "observability/run_scope.hpp"
#include "sdk_support.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

namespace e2e = obs::e2e;
using namespace obs::sdk_test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(sdk_cpp_conformance)

BOOST_AUTO_TEST_CASE(kill_and_restart_of_the_server_mid_run_loses_and_repeats_nothing) {
    e2e::temp_dir dir;
    const auto db = (dir.path() / "obs.db").string();
    auto server = std::make_unique<e2e::server_process>(e2e::server_options{db, {}, {}, true});
    const unsigned short port = server->port();

    observability::options o;
    o.url = url_of(port);
    o.flush_interval = 50ms;
    o.report = [](std::string_view m) { BOOST_TEST_MESSAGE("sdk: " << m); };
    observability::provider p(o);

    std::mutex mu;
    std::map<std::string, std::vector<std::string>> logged;  // node -> ids in log order
    const auto note = [&](const std::string& node, std::string id) {
        std::lock_guard lock(mu);
        logged[node].push_back(std::move(id));
    };
    std::string run_id;
    const std::string artifact_bytes = "final report\nline 2\n";
    std::int64_t tokens_in = 0;
    {
        observability::run_options ro;
        ro.tags = {"conformance"};
        ro.node = "controller";
        auto run = p.run("conformance", "controller-agent", ro);
        run_id = run.id();
        note("controller", "run_started");
        std::atomic<bool> stop{false};
        std::vector<std::thread> workers;
        for (int w = 1; w <= 3; ++w)
            workers.emplace_back([&, w] {
                const std::string node = "worker-" + std::to_string(w);
                observability::log_options where;
                where.node = node;
                for (int k = 0; !stop; ++k) {
                    note(node, run.log("thought", {{"text", node + " thinks " + std::to_string(k)}}, where));
                    const std::string call = node + "-c" + std::to_string(k);
                    const auto call_id = run.log("tool_call", {{"tool", "search"}, {"call_id", call}, {"arguments", {{"k", k}}}}, where);
                    note(node, call_id);
                    auto nested = where;
                    nested.parent_id = call_id;
                    note(node, run.log("tool_result", {{"call_id", call}, {"output", {{"hits", k % 7}}}, {"duration_ms", 3}}, nested));
                    std::this_thread::sleep_for(10ms);
                }
            });
        observability::log_options at_controller;
        at_controller.node = "controller";
        note("controller", run.log("thought", {{"text", "plan: three workers"}}, at_controller));
        std::this_thread::sleep_for(800ms);
        server->kill_hard();  // mid-run, with batches in flight
        server.reset();
        for (int i = 0; i < 5; ++i) {
            tokens_in += 100 + i;
            note("controller", run.log("llm_call", {{"model", "m-1"}, {"input_tokens", 100 + i}, {"output_tokens", 7}},
                                       at_controller));
            std::this_thread::sleep_for(1s);
        }
        server = std::make_unique<e2e::server_process>(
            e2e::server_options{db, {"--listen", "127.0.0.1:" + std::to_string(port)}, {}, true});
        std::this_thread::sleep_for(700ms);
        stop = true;
        for (auto& t : workers) t.join();
        note("controller", run.log("error", {{"kind", "timeout"}, {"message", "worker-2 was slow"}}, at_controller));
        run.artifact("report.txt", artifact_bytes, "text/plain");
        note("controller", "run_finished");
    }
    BOOST_TEST(p.flush(60s));
    const auto s = p.stats();
    BOOST_TEST(s.rejected == 0u);
    BOOST_TEST(s.dropped == 0u);
    BOOST_TEST(s.retries > 0u);
    BOOST_TEST(s.artifacts_sent == 1u);

    const auto steps = stored_steps(port, run_id);
    std::size_t total_logged = 0;
    for (const auto& [node, ids] : logged) total_logged += ids.size();
    // Every logged event once, plus the artifact event the server writes.
    BOOST_TEST(steps.size() == total_logged + 1);
    BOOST_TEST(s.sent + s.duplicates >= total_logged);
    std::set<std::string> ids;
    std::map<std::string, std::vector<std::string>> stored;  // node -> ids in seq order
    std::int64_t last_seq = 0;
    for (const auto& st : steps) {
        BOOST_TEST(st.at("seq").as_int64() > last_seq);
        last_seq = st.at("seq").as_int64();
        const std::string type(st.at("type").as_string());
        ids.insert(std::string(st.at("id").as_string()));
        if (type == "artifact") continue;
        const std::string node(st.at("node").as_string());
        stored[node].push_back(type == "run_started" || type == "run_finished" ? type
                                                                              : std::string(st.at("id").as_string()));
    }
    BOOST_TEST(ids.size() == steps.size());  // no event twice
    for (const auto& [node, expected] : logged) {
        BOOST_TEST_CONTEXT(node) { BOOST_TEST(stored[node] == expected, boost::test_tools::per_element()); }
    }
    BOOST_TEST(logged["worker-1"].size() > 150u);  // the workers logged during the outage too

    const auto run = e2e::http_request(port, "GET", "/observability/runs/" + run_id).json();
    BOOST_TEST(run.at("status").as_string() == "succeeded");
    BOOST_TEST(run.at("input_tokens").to_number<std::int64_t>() == tokens_in);
    BOOST_TEST(run.at("error_count").to_number<std::int64_t>() == 1);
    const auto artifact = e2e::http_request(port, "GET", "/observability/runs/" + run_id + "/artifacts/report.txt");
    BOOST_TEST(artifact.status == 200);
    BOOST_TEST(artifact.body == artifact_bytes);
}

BOOST_AUTO_TEST_CASE(a_scope_left_by_an_exception_fails_the_run_with_an_error_step) {
    e2e::temp_dir dir;
    e2e::server_process server({(dir.path() / "obs.db").string(), {}, {}, true});
    observability::options o;
    o.url = url_of(server.port());
    observability::provider p(o);
    std::string unwound, explicit_fail;
    try {
        auto run = p.run("unwinds", "a");
        unwound = run.id();
        throw std::runtime_error("boom");
    } catch (const std::runtime_error&) {
    }
    {
        auto run = p.run("fails", "a");
        explicit_fail = run.id();
        try {
            throw std::logic_error("bad plan");
        } catch (const std::exception& e) {
            run.fail(e);
        }
    }
    BOOST_TEST(p.flush(10s));
    for (const auto& [id, kind, message] : {std::tuple{unwound, std::string("uncaught_exception"), std::string()},
                                           std::tuple{explicit_fail, std::string("std::logic_error"), std::string("bad plan")}}) {
        const auto steps = stored_steps(server.port(), id);
        BOOST_REQUIRE_EQUAL(steps.size(), 3u);
        BOOST_TEST(steps[1].at("type").as_string() == "error");
        BOOST_TEST(steps[1].at("payload").at("kind").as_string() == kind);
        if (!message.empty()) BOOST_TEST(steps[1].at("payload").at("message").as_string() == message);
        BOOST_TEST(steps[2].at("payload").at("status").as_string() == "failed");
        const auto run = e2e::http_request(server.port(), "GET", "/observability/runs/" + id).json();
        BOOST_TEST(run.at("status").as_string() == "failed");
    }
}

BOOST_AUTO_TEST_SUITE_END()
