// End-to-end: the write and read routes of the core issue against the real
// binary: a batch is stored and read back, runs and steps routes, dedupe,
// conflicts, restart keeps data and seq continues.
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

namespace json = boost::json;
using namespace obs::e2e;

namespace {

const std::string two_events = R"({"events":[
  {"run_id":"r1","type":"run_started","payload":{"name":"demo","agent":"planner","tags":["a","b"]}},
  {"run_id":"r1","type":"tool_call","payload":{"tool":"search","call_id":"c1","arguments":{"q":"gears"}}}]})";

struct fixture {
    temp_dir dir;
    std::string db = (dir.path() / "obs.db").string();
    server_process server{server_options{db, {}, {}, true}};
    unsigned short port() const { return server.port(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(core_routes)

BOOST_FIXTURE_TEST_CASE(batch_is_stored_and_read_back, fixture) {
    auto res = http_request(port(), "POST", "/observability/events", two_events);
    BOOST_TEST_REQUIRE(res.status == 201, res.body);
    auto body = res.json().as_object();
    BOOST_TEST(body.at("accepted").as_int64() == 2);
    BOOST_TEST(body.at("duplicates").as_int64() == 0);
    auto events = body.at("events").as_array();
    BOOST_TEST_REQUIRE(events.size() == 2u);
    BOOST_TEST(events[0].at("offset").as_int64() == 1);
    BOOST_TEST(events[1].at("offset").as_int64() == 2);
    BOOST_TEST(events[0].at("seq").as_int64() == 1);
    BOOST_TEST(events[1].at("seq").as_int64() == 2);

    BOOST_TEST(sqlite_count(db, "select count(*) from events") == 2);

    auto steps = http_request(port(), "GET", "/observability/runs/r1/steps");
    BOOST_TEST_REQUIRE(steps.status == 200, steps.body);
    auto list = steps.json().at("steps").as_array();
    BOOST_TEST_REQUIRE(list.size() == 2u);
    BOOST_TEST(list[1].at("type").as_string() == "tool_call");
    BOOST_TEST(list[1].at("payload").at("arguments").at("q").as_string() == "gears");
    BOOST_TEST(list[1].at("run_id").as_string() == "r1");
    BOOST_TEST(list[1].at("parent_id").is_null());
    BOOST_TEST(list[0].at("ts").as_string().size() == 24u);  // 2026-11-27T22:04:05.123Z

    auto run = http_request(port(), "GET", "/observability/runs/r1");
    BOOST_TEST_REQUIRE(run.status == 200, run.body);
    auto r = run.json().as_object();
    BOOST_TEST(r.at("name").as_string() == "demo");
    BOOST_TEST(r.at("agent").as_string() == "planner");
    BOOST_TEST(r.at("status").as_string() == "running");
    BOOST_TEST(r.at("tags").as_array().size() == 2u);
    BOOST_TEST(r.at("step_counts").at("tool_call").as_int64() == 1);
}

BOOST_FIXTURE_TEST_CASE(runs_routes_create_finish_and_list, fixture) {
    auto created = http_request(port(), "POST", "/observability/runs",
                                R"({"id":"run-a","name":"alpha","agent":"worker","metadata":{"k":"v"}})");
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    BOOST_TEST(created.json().at("id").as_string() == "run-a");
    auto again = http_request(port(), "POST", "/observability/runs",
                              R"({"id":"run-a","name":"alpha","agent":"worker","metadata":{"k":"v"}})");
    BOOST_TEST(again.status == 200, again.body);
    auto changed = http_request(port(), "POST", "/observability/runs", R"({"id":"run-a","name":"beta","agent":"w"})");
    BOOST_TEST(changed.status == 409, changed.body);
    BOOST_TEST(changed.json().at("error").at("code").as_string() == "conflict");

    auto generated = http_request(port(), "POST", "/observability/runs", R"({"name":"gamma","agent":"worker"})");
    BOOST_TEST_REQUIRE(generated.status == 201, generated.body);
    BOOST_TEST(generated.json().at("id").as_string().size() == 36u);  // a UUIDv7

    auto step = http_request(port(), "POST", "/observability/runs/run-a/steps",
                             R"({"type":"llm_call","payload":{"model":"m1","input_tokens":10,"output_tokens":5,"cost_usd":0.25}})");
    BOOST_TEST_REQUIRE(step.status == 201, step.body);
    auto steps = http_request(port(), "POST", "/observability/runs/run-a/steps",
                              R"({"steps":[{"type":"thought","payload":{"text":"hmm"}},
                                           {"type":"error","payload":{"kind":"E","message":"bad"}}]})");
    BOOST_TEST_REQUIRE(steps.status == 201, steps.body);
    BOOST_TEST(steps.json().at("events").as_array()[1].at("seq").as_int64() == 4);

    auto finished = http_request(port(), "POST", "/observability/runs/run-a/finish", R"({"status":"failed","summary":"x"})");
    BOOST_TEST_REQUIRE(finished.status == 200, finished.body);
    auto run = finished.json().as_object();
    BOOST_TEST(run.at("status").as_string() == "failed");
    BOOST_TEST(run.at("error_count").as_int64() == 1);
    BOOST_TEST(run.at("input_tokens").as_int64() == 10);
    BOOST_TEST(run.at("output_tokens").as_int64() == 5);
    BOOST_TEST(run.at("cost_usd").to_number<double>() == 0.25);
    BOOST_TEST(!run.at("ended_at").is_null());

    auto unknown_finish = http_request(port(), "POST", "/observability/runs/nope/finish", R"({"status":"failed"})");
    BOOST_TEST(unknown_finish.status == 404);

    auto listed = http_request(port(), "GET", "/observability/runs?status=failed");
    BOOST_TEST_REQUIRE(listed.status == 200, listed.body);
    auto runs = listed.json().at("runs").as_array();
    BOOST_TEST_REQUIRE(runs.size() == 1u);
    BOOST_TEST(runs[0].at("id").as_string() == "run-a");
    auto by_agent = http_request(port(), "GET", "/observability/runs?agent=worker&limit=500");
    BOOST_TEST(by_agent.json().at("runs").as_array().size() == 2u);

    auto only_errors = http_request(port(), "GET", "/observability/runs/run-a/steps?type=error");
    BOOST_TEST(only_errors.json().at("steps").as_array().size() == 1u);
    auto page = http_request(port(), "GET", "/observability/runs/run-a/steps?limit=2");
    BOOST_TEST(page.json().at("steps").as_array().size() == 2u);
    BOOST_TEST(page.json().at("next_after_seq").as_int64() == 2);
    auto rest = http_request(port(), "GET", "/observability/runs/run-a/steps?after_seq=2");
    BOOST_TEST(rest.json().at("steps").as_array().size() == 3u);
    BOOST_TEST(rest.json().at("steps").as_array()[0].at("seq").as_int64() == 3);
}

BOOST_FIXTURE_TEST_CASE(runs_pagination_walks_every_run_once, fixture) {
    std::string batch = R"({"events":[)";
    for (int i = 0; i < 25; ++i) {
        if (i) batch += ",";
        batch += R"({"run_id":"p)" + std::to_string(i) + R"(","type":"run_started","ts":"2026-01-01T00:00:)" +
                 (i < 10 ? "0" : "") + std::to_string(i) + R"(.000Z","payload":{"name":"n","agent":"a"}})";
    }
    batch += "]}";
    BOOST_TEST_REQUIRE(http_request(port(), "POST", "/observability/events", batch).status == 201);
    std::set<std::string> seen;
    std::string cursor;
    std::vector<std::string> order;
    for (int page = 0; page < 10; ++page) {
        auto res = http_request(port(), "GET", "/observability/runs?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor));
        BOOST_TEST_REQUIRE(res.status == 200, res.body);
        auto page_json = res.json();
        for (const auto& r : page_json.at("runs").as_array()) {
            order.emplace_back(r.at("id").as_string());
            seen.emplace(r.at("id").as_string());
        }
        const auto& next = page_json.at("next_cursor");
        if (next.is_null()) break;
        cursor = std::string(next.as_string());
    }
    BOOST_TEST(seen.size() == 25u);
    BOOST_TEST(order.size() == 25u);
    BOOST_TEST(order.front() == "p24");  // newest first
    BOOST_TEST(order.back() == "p0");
}

BOOST_FIXTURE_TEST_CASE(duplicates_and_conflicts, fixture) {
    const std::string one = R"({"events":[{"id":"e-1","run_id":"r","type":"thought","payload":{"text":"a"}}]})";
    auto first = http_request(port(), "POST", "/observability/events", one);
    BOOST_TEST_REQUIRE(first.status == 201, first.body);
    auto again = http_request(port(), "POST", "/observability/events", one);
    BOOST_TEST_REQUIRE(again.status == 201, again.body);
    BOOST_TEST(again.json().at("duplicates").as_int64() == 1);
    BOOST_TEST(again.json().at("accepted").as_int64() == 0);
    BOOST_TEST(again.json().at("events").as_array()[0].at("offset").as_int64() == 1);
    BOOST_TEST(again.json().at("events").as_array()[0].at("duplicate").as_bool());

    const std::string other = R"({"events":[{"id":"e-2","run_id":"r","type":"thought","payload":{"text":"x"}},
        {"id":"e-1","run_id":"r","type":"thought","payload":{"text":"b"}}]})";
    auto conflict = http_request(port(), "POST", "/observability/events", other);
    BOOST_TEST(conflict.status == 409, conflict.body);
    BOOST_TEST(conflict.json().at("error").at("details").as_array()[0].at("index").as_int64() == 1);
    BOOST_TEST(sqlite_count(db, "select count(*) from events") == 1);  // e-2 was not stored either

    // An id the server made, sent back with the event as it was stored
    // (its time included), is that event: a duplicate. With another body,
    // it is a conflict like any other.
    const std::string anonymous = R"({"run_id":"r","type":"thought","payload":{"text":"c"}})";
    auto made = http_request(port(), "POST", "/observability/events", "{\"events\":[" + anonymous + "]}");
    BOOST_TEST_REQUIRE(made.status == 201, made.body);
    const auto made_json = made.json();
    const std::string made_id(made_json.at("events").as_array()[0].at("id").as_string());
    const std::int64_t made_offset = made_json.at("events").as_array()[0].at("offset").as_int64();
    auto read = http_request(port(), "GET", "/observability/runs/r/steps");
    BOOST_TEST_REQUIRE(read.status == 200, read.body);
    std::string made_ts;
    const auto read_json = read.json();
    for (const auto& step : read_json.at("steps").as_array())
        if (step.at("id").as_string() == made_id) made_ts = std::string(step.at("ts").as_string());
    BOOST_TEST_REQUIRE(!made_ts.empty());
    auto resend = http_request(port(), "POST", "/observability/events",
                               R"({"events":[{"id":")" + made_id + R"(","ts":")" + made_ts +
                                   R"(","run_id":"r","type":"thought","payload":{"text":"c"}}]})");
    BOOST_TEST(resend.status == 201, resend.body);
    BOOST_TEST(resend.json().at("duplicates").as_int64() == 1);
    BOOST_TEST(resend.json().at("events").as_array()[0].at("offset").as_int64() == made_offset);
    auto reuse = http_request(port(), "POST", "/observability/events",
                              R"({"events":[{"id":")" + made_id + R"(","run_id":"r","type":"thought","payload":{"text":"d"}}]})");
    BOOST_TEST(reuse.status == 409, reuse.body);
    BOOST_TEST(sqlite_count(db, "select count(*) from events") == 2);
}

BOOST_FIXTURE_TEST_CASE(ndjson_bodies_are_accepted, fixture) {
    std::string body = "{\"run_id\":\"n1\",\"type\":\"log\",\"payload\":{\"level\":\"info\",\"message\":\"a\"}}\n"
                       "\n"
                       "{\"run_id\":\"n1\",\"type\":\"log\",\"payload\":{\"level\":\"debug\",\"message\":\"b\"}}\r\n";
    auto res = http_request(port(), "POST", "/observability/events", body, {{"Content-Type", "application/x-ndjson"}});
    BOOST_TEST_REQUIRE(res.status == 201, res.body);
    BOOST_TEST(res.json().at("accepted").as_int64() == 2);
    auto bad = http_request(port(), "POST", "/observability/events", body + "{oops\n",
                            {{"Content-Type", "application/x-ndjson"}});
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.json().at("error").at("code").as_string() == "bad_json");
}

BOOST_FIXTURE_TEST_CASE(keep_alive_carries_many_requests, fixture) {
    http_connection conn(port());
    for (int i = 0; i < 50; ++i) {
        auto res = conn.request("POST", "/observability/events",
                                R"({"events":[{"run_id":"k","type":"thought","payload":{"text":"t"}}]})");
        BOOST_TEST_REQUIRE(res.status == 201, res.body);
        BOOST_TEST(res.json().at("events").as_array()[0].at("seq").as_int64() == i + 1);
    }
    auto bad = conn.request("POST", "/observability/events", "{");
    BOOST_TEST(bad.status == 400);
    auto ok = conn.request("GET", "/healthz");
    BOOST_TEST(ok.status == 200);
}

BOOST_AUTO_TEST_CASE(restart_keeps_data_and_seq_continues) {
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    {
        server_process server{server_options{db, {}, {}, true}};
        BOOST_TEST_REQUIRE(http_request(server.port(), "POST", "/observability/events", two_events).status == 201);
        BOOST_TEST(server.stop() == 0);
    }
    server_process server{server_options{db, {}, {}, true}};
    auto res = http_request(server.port(), "POST", "/observability/runs/r1/steps",
                            R"({"type":"thought","payload":{"text":"after restart"}})");
    BOOST_TEST_REQUIRE(res.status == 201, res.body);
    auto ack = res.json().at("events").as_array()[0];
    BOOST_TEST(ack.at("offset").as_int64() == 3);
    BOOST_TEST(ack.at("seq").as_int64() == 3);
    BOOST_TEST(http_request(server.port(), "GET", "/observability/runs/r1").json().at("step_count").as_int64() >= 2);
}

// The "listening" line is the readiness cue scripts and this harness wait
// for; a SIGTERM sent the moment it appears must already be a clean stop
// (exit 0 after the "stopped" line), never the default action of the signal.
BOOST_AUTO_TEST_CASE(sigterm_right_after_listening_is_a_clean_stop) {
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    for (int attempt = 0; attempt < 25; ++attempt) {
        server_process server{server_options{db, {}, {}, true}};
        auto code = server.stop();
        BOOST_TEST_REQUIRE(code == 0, "attempt " << attempt << ": exit " << code << "\n" << server.log());
        BOOST_TEST(server.log().find("\"msg\":\"stopped\"") != std::string::npos, server.log());
    }
}

BOOST_AUTO_TEST_CASE(health_ready_metrics_and_help) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), {}, {}, true}};
    auto health = http_request(server.port(), "GET", "/healthz");
    BOOST_TEST(health.status == 200);
    BOOST_TEST(health.body == "ok\n");
    auto ready = http_request(server.port(), "GET", "/readyz");
    BOOST_TEST(ready.status == 200, ready.body);
    BOOST_TEST(ready.json().at("schema_version").as_int64() >= 1);
    auto metrics = http_request(server.port(), "GET", "/metrics");
    BOOST_TEST(metrics.status == 200);
    BOOST_TEST(metrics.body.find("obs_http_requests_total") != std::string::npos);
    BOOST_TEST(metrics.header("content-type").find("version=0.0.4") != std::string::npos);
    auto log = server.log();
    BOOST_TEST(log.find("\"schema_version\"") != std::string::npos);
    BOOST_TEST(log.find("\"durability\":\"normal\"") != std::string::npos);
    BOOST_TEST(log.find("\"msg\":\"request\"") != std::string::npos);
    BOOST_TEST(server.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
