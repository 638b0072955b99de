// End-to-end: every kind of bad input gets its status and the contract's
// error body, nothing of it is stored, and the server keeps serving.
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <thread>

using namespace obs::e2e;

namespace {

struct bad_case {
    std::string name;
    std::string method;
    std::string target;
    std::string body;
    std::map<std::string, std::string> headers;
    int status;
    std::string code;
    std::string detail_path;  // expected path of details[0], "" to skip
};

std::string events_body(const std::string& event) { return R"({"events":[)" + event + "]}"; }

std::string many_events(int n) {
    std::string s = R"({"events":[)";
    for (int i = 0; i < n; ++i) {
        if (i) s += ",";
        s += R"({"run_id":"m","type":"thought","payload":{"text":"x"}})";
    }
    return s + "]}";
}

std::vector<bad_case> bad_cases() {
    const std::string ev = "/observability/events";
    const std::string json = "application/json";
    std::string deep = "1";
    for (int i = 0; i < 70; ++i) deep = "[" + deep + "]";
    return {
        {"not json", "POST", ev, "{not json", {}, 400, "bad_json", ""},
        {"truncated json", "POST", ev, R"({"events":[)", {}, 400, "bad_json", ""},
        {"trailing garbage", "POST", ev, events_body(R"({"run_id":"r","type":"thought","payload":{"text":"a"}})") + "x", {}, 400, "bad_json", ""},
        {"invalid utf-8", "POST", ev, events_body("{\"run_id\":\"r\",\"type\":\"thought\",\"payload\":{\"text\":\"\xff\xfe\"}}"), {}, 400, "bad_json", ""},
        {"json nested 300 deep", "POST", ev, std::string(300, '[') + std::string(300, ']'), {}, 400, "bad_json", ""},
        {"payload nested 70 deep", "POST", ev, events_body(R"({"run_id":"r","type":"tool_result","payload":{"call_id":"c","output":)" + deep + "}}"), {}, 422, "validation_failed", ""},
        {"no content type", "POST", ev, events_body("{}"), {{"Content-Type", ""}}, 415, "unsupported_media_type", ""},
        {"text/plain", "POST", ev, events_body("{}"), {{"Content-Type", "text/plain"}}, 415, "unsupported_media_type", ""},
        {"form encoded", "POST", ev, "a=b", {{"Content-Type", "application/x-www-form-urlencoded"}}, 415, "unsupported_media_type", ""},
        {"empty batch", "POST", ev, R"({"events":[]})", {}, 422, "validation_failed", "events"},
        {"1001 events", "POST", ev, many_events(1001), {}, 422, "validation_failed", "events"},
        {"events not array", "POST", ev, R"({"events":{}})", {}, 422, "validation_failed", "events"},
        {"body is an array", "POST", ev, "[]", {}, 422, "validation_failed", ""},
        {"unknown top-level key", "POST", ev, R"({"events":[],"extra":1})", {}, 422, "validation_failed", ""},
        {"missing type", "POST", ev, events_body(R"({"run_id":"r","payload":{}})"), {}, 422, "validation_failed", "type"},
        {"unknown type", "POST", ev, events_body(R"({"run_id":"r","type":"dance","payload":{}})"), {}, 422, "validation_failed", "type"},
        {"artifact type from client", "POST", ev, events_body(R"({"run_id":"r","type":"artifact","payload":{}})"), {}, 422, "validation_failed", "type"},
        {"missing run_id", "POST", ev, events_body(R"({"type":"thought","payload":{"text":"a"}})"), {}, 422, "validation_failed", "run_id"},
        {"bad run_id chars", "POST", ev, events_body(R"({"run_id":"a b","type":"thought","payload":{"text":"a"}})"), {}, 422, "validation_failed", "run_id"},
        {"run_id 129 chars", "POST", ev, events_body(R"({"run_id":")" + std::string(129, 'r') + R"(","type":"thought","payload":{"text":"a"}})"), {}, 422, "validation_failed", "run_id"},
        {"unknown envelope field", "POST", ev, events_body(R"({"run_id":"r","type":"thought","payload":{"text":"a"},"x":1})"), {}, 422, "validation_failed", "x"},
        {"unknown payload field", "POST", ev, events_body(R"({"run_id":"r","type":"thought","payload":{"text":"a","y":1}})"), {}, 422, "validation_failed", "payload.y"},
        {"missing payload field", "POST", ev, events_body(R"({"run_id":"r","type":"tool_call","payload":{"tool":"t","arguments":{}}})"), {}, 422, "validation_failed", "payload.call_id"},
        {"wrong payload type", "POST", ev, events_body(R"({"run_id":"r","type":"thought","payload":{"text":5}})"), {}, 422, "validation_failed", "payload.text"},
        {"bad enum", "POST", ev, events_body(R"({"run_id":"r","type":"log","payload":{"level":"loud","message":"m"}})"), {}, 422, "validation_failed", "payload.level"},
        {"negative tokens", "POST", ev, events_body(R"({"run_id":"r","type":"llm_call","payload":{"model":"m","input_tokens":-1}})"), {}, 422, "validation_failed", "payload.input_tokens"},
        {"bad ts", "POST", ev, events_body(R"({"run_id":"r","type":"thought","ts":"yesterday","payload":{"text":"a"}})"), {}, 422, "validation_failed", "ts"},
        {"tag not a string", "POST", ev, events_body(R"({"run_id":"r","type":"run_started","payload":{"name":"n","agent":"a","tags":["ok",3]}})"), {}, 422, "validation_failed", "payload.tags[1]"},
        {"second event bad", "POST", ev, R"({"events":[{"run_id":"r","type":"thought","payload":{"text":"a"}},{"run_id":"r","type":"thought","payload":{}}]})", {}, 422, "validation_failed", "payload.text"},
        {"unknown route", "GET", "/observability/nothing", "", {}, 404, "not_found", ""},
        {"an unknown file of the web page", "GET", "/ui/nothing.js", "", {}, 404, "not_found", ""},
        {"wrong method on events", "GET", ev, "", {}, 405, "method_not_allowed", ""},
        {"wrong method on run", "PATCH", "/observability/runs/r", "", {}, 405, "method_not_allowed", ""},
        {"unknown run", "GET", "/observability/runs/ghost", "", {}, 404, "not_found", ""},
        {"steps of unknown run", "GET", "/observability/runs/ghost/steps", "", {}, 404, "not_found", ""},
        {"bad limit", "GET", "/observability/runs?limit=0", "", {}, 400, "bad_request", ""},
        {"limit over 500", "GET", "/observability/runs?limit=501", "", {}, 400, "bad_request", ""},
        {"bad status filter", "GET", "/observability/runs?status=sleeping", "", {}, 400, "bad_request", ""},
        {"bad since", "GET", "/observability/runs?since=monday", "", {}, 400, "bad_request", ""},
        {"bad cursor", "GET", "/observability/runs?cursor=%%%", "", {}, 400, "bad_request", ""},
        {"garbage cursor", "GET", "/observability/runs?cursor=bm90LWEtY3Vyc29y", "", {}, 400, "bad_request", ""},
        {"unknown query parameter", "GET", "/observability/runs?colour=red", "", {}, 400, "bad_request", ""},
        {"bad after_seq", "GET", "/observability/runs/r/steps?after_seq=-1", "", {}, 400, "bad_request", ""},
        {"bad step type", "GET", "/observability/runs/r/steps?type=dance", "", {}, 400, "bad_request", ""},
        {"steps limit 1001", "GET", "/observability/runs/r/steps?limit=1001", "", {}, 400, "bad_request", ""},
        {"run with bad id", "POST", "/observability/runs", R"({"id":"a/b","name":"n","agent":"a"})", {}, 422, "validation_failed", "id"},
        {"run missing name", "POST", "/observability/runs", R"({"agent":"a"})", {}, 422, "validation_failed", "name"},
        {"run not object", "POST", "/observability/runs", "[1]", {}, 422, "validation_failed", ""},
        {"step with other run_id", "POST", "/observability/runs/r/steps", R"({"run_id":"other","type":"thought","payload":{"text":"a"}})", {}, 422, "validation_failed", "run_id"},
        {"steps not array", "POST", "/observability/runs/r/steps", R"({"steps":5})", {}, 422, "validation_failed", "steps"},
        {"finish bad status", "POST", "/observability/runs/r/finish", R"({"status":"done"})", {}, 422, "validation_failed", "status"},
        {"finish unknown run", "POST", "/observability/runs/ghost/finish", R"({"status":"failed"})", {}, 404, "not_found", ""},
        {"finish with unknown field", "POST", "/observability/runs/r/finish", R"({"status":"failed","why":1})", {}, 422, "validation_failed", "why"},
        {"events with charset json ok but bad body", "POST", ev, "nul\u0000", {{"Content-Type", "application/json; charset=utf-8"}}, 400, "bad_json", ""},
        {"path with bad escape", "GET", "/observability/runs/%zz", "", {}, 400, "bad_request", ""},
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_input)

BOOST_AUTO_TEST_CASE(each_bad_request_gets_its_error_and_nothing_is_stored) {
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    server_process server{server_options{db, {}, {}, true}};
    // One good event first, so "nothing stored" means the count stays 1.
    auto seed = http_request(server.port(), "POST", "/observability/events",
                             events_body(R"({"run_id":"r","type":"thought","payload":{"text":"seed"}})"));
    BOOST_TEST_REQUIRE(seed.status == 201);
    for (const auto& c : bad_cases()) {
        BOOST_TEST_CONTEXT("case: " << c.name) {
            auto headers = c.headers;
            if (!c.body.empty() && headers.find("Content-Type") == headers.end()) headers["Content-Type"] = "application/json";
            auto res = http_request(server.port(), c.method, c.target, c.body, headers);
            BOOST_TEST(res.status == c.status, res.body);
            auto body = res.json();
            BOOST_TEST(body.at("error").at("code").as_string() == c.code);
            BOOST_TEST(!body.at("error").at("message").as_string().empty());
            if (!c.detail_path.empty()) {
                bool found = false;
                for (const auto& d : body.at("error").at("details").as_array())
                    found = found || d.at("path").as_string() == c.detail_path;
                BOOST_TEST(found, "no detail at " << c.detail_path << " in " << res.body);
            }
            BOOST_TEST(http_request(server.port(), "GET", "/healthz").status == 200);
        }
    }
    BOOST_TEST(sqlite_count(db, "select count(*) from events") == 1);
}

BOOST_AUTO_TEST_CASE(every_violation_of_a_batch_is_reported) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), {}, {}, true}};
    auto res = http_request(server.port(), "POST", "/observability/events",
                            R"({"events":[{"run_id":"r","type":"thought","payload":{"text":"fine"}},
                                          {"type":"thought","payload":{}},
                                          {"run_id":"r","type":"log","payload":{"level":"x","message":"m","z":1}}]})");
    BOOST_TEST_REQUIRE(res.status == 422, res.body);
    auto details = res.json().at("error").at("details").as_array();
    std::set<std::pair<std::int64_t, std::string>> got;
    for (const auto& d : details) got.emplace(d.at("index").as_int64(), std::string(d.at("path").as_string()));
    BOOST_TEST(got.count({1, "run_id"}) == 1u);
    BOOST_TEST(got.count({1, "payload.text"}) == 1u);
    BOOST_TEST(got.count({2, "payload.level"}) == 1u);
    BOOST_TEST(got.count({2, "payload.z"}) == 1u);
    BOOST_TEST(res.json().at("error").at("message").as_string() == "2 events are invalid");
}

BOOST_AUTO_TEST_CASE(oversized_and_malformed_http) {
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    server_process server{server_options{db, {"--max-body-bytes", "65536"}, {}, true}};
    std::string big = R"({"events":[{"run_id":"r","type":"thought","payload":{"text":")" + std::string(70000, 'a') + "\"}}]}";
    auto res = http_request(server.port(), "POST", "/observability/events", big);
    BOOST_TEST(res.status == 413);
    BOOST_TEST(res.json().at("error").at("code").as_string() == "too_large");

    auto garbage = raw_request(server.port(), "THIS IS NOT HTTP\r\n\r\n");
    BOOST_TEST(garbage.status == 400);
    BOOST_TEST(garbage.json().at("error").at("code").as_string() == "bad_request");

    auto huge_header = raw_request(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                                      std::string(20000, 'b') + "\r\n\r\n");
    BOOST_TEST(huge_header.status == 431);  // Request Header Fields Too Large (RFC 6585)

    auto bad_length = raw_request(server.port(),
                                  "POST /observability/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
    BOOST_TEST(bad_length.status == 400);

    BOOST_TEST(http_request(server.port(), "GET", "/healthz").status == 200);
    BOOST_TEST(sqlite_count(db, "select count(*) from events") == 0);
}

BOOST_AUTO_TEST_CASE(connections_over_the_limit_are_told_to_come_back) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), {"--max-connections", "2"}, {}, true}};
    std::optional<http_connection> first(std::in_place, server.port());
    http_connection second(server.port());
    BOOST_TEST_REQUIRE(first->request("GET", "/healthz").status == 200);
    BOOST_TEST_REQUIRE(second.request("GET", "/healthz").status == 200);

    auto refused = http_request(server.port(), "GET", "/healthz");
    BOOST_TEST(refused.status == 503);
    BOOST_TEST(refused.json().at("error").at("code").as_string() == "overloaded");
    BOOST_TEST(refused.header("retry-after") == "1");
    BOOST_TEST(refused.header("connection") == "close");

    // A closed connection frees its place (the server sees the close soon).
    first.reset();
    int status = 0;
    for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
        status = http_request(server.port(), "GET", "/healthz").status;
        if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    BOOST_TEST(status == 200);
    BOOST_TEST(second.request("GET", "/healthz").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
