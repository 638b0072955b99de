// The C++ SDK refuses what the server refuses, with the same field path and
// message: every row of the server's bad-event table (tests/domain/
// bad_events_table.hpp, the table unit_domain holds domain's decoder to) whose
// bad event can be said through log()'s typed arguments is logged, and must
// throw validation_error naming the row's path. Rows log() cannot express are
// the ones its types rule out (a run_id that is a number, a payload that is
// an array, an unknown envelope key, a batch of 1001): they are counted, and
// the test fails if that count grows past the known shape of the table. Good
// events of every type are accepted. No server is needed: log() validates
// before anything is sent (the provider points at a closed port).
#include "bad_events_table.hpp"
#include "observability/provider.hpp"
#include "sdk_support.hpp"

#include "domain/validation.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <set>

namespace json = boost::json;
namespace table = obs::domain::test;
using observability::log_options;
using observability::validation_error;

BOOST_AUTO_TEST_SUITE(sdk_cpp_validation_parity)

namespace {

observability::options offline() {
    observability::options o;
    o.url = obs::sdk_test::url_of(obs::sdk_test::closed_port());
    o.report = [](std::string_view) {};
    return o;
}

// The log() call of one event of a table row, or nullopt when a field is of
// a JSON type log()'s C++ signature cannot carry.
struct log_call {
    std::string type;
    json::object payload;
    log_options where;
};

std::optional<std::string> text_field(const json::object& o, std::string_view key, bool& expressible) {
    const auto* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
        expressible = false;
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::optional<log_call> as_log_call(const json::value& event) {
    const auto* o = event.if_object();
    if (!o) return std::nullopt;
    static const std::set<std::string_view> envelope{"id", "run_id", "type", "ts", "node", "parent_id", "payload"};
    for (const auto& kv : *o)
        if (!envelope.count(kv.key())) return std::nullopt;  // log() has no way to send an unknown key
    bool expressible = true;
    log_call call;
    const auto type = text_field(*o, "type", expressible);
    if (!type) return std::nullopt;  // a missing type cannot be passed either
    call.type = *type;
    const auto* payload = o->if_contains("payload");
    if (!payload || !payload->is_object()) return std::nullopt;
    call.payload = payload->get_object();
    if (const auto run_id = text_field(*o, "run_id", expressible)) {
        if (run_id->empty()) return std::nullopt;  // log() reads an empty run_id as none given
        call.where.run_id = *run_id;
    }
    call.where.id = text_field(*o, "id", expressible);
    call.where.ts = text_field(*o, "ts", expressible);
    call.where.node = text_field(*o, "node", expressible);
    call.where.parent_id = text_field(*o, "parent_id", expressible);
    if (!expressible) return std::nullopt;
    return call;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_expressible_bad_row_is_refused_with_the_servers_path_and_message) {
    observability::provider p(offline());
    std::size_t checked = 0;
    std::size_t inexpressible = 0;
    for (const auto& row : table::bad_cases()) {
        const auto body = obs::domain::parse_json(row.body);
        BOOST_REQUIRE(body.value);
        const auto* object = body.value->if_object();
        const auto* events = object ? object->if_contains("events") : nullptr;
        if (!events || !events->is_array() || row.index >= events->as_array().size() || row.path.empty()) {
            ++inexpressible;  // the batch's own shape: not one event's rule
            continue;
        }
        // The row's message in the server's words, as domain's decoder says it.
        const auto verdict = obs::domain::decode_event_batch(*body.value, 1795817045123);
        BOOST_REQUIRE_EQUAL(verdict.violations.size(), 1u);
        // A row whose event is fine on its own breaks a rule of the batch
        // (1001 events, a key beside "events"): nothing log() can send.
        std::vector<obs::domain::violation> alone;
        if (obs::domain::decode_event(events->as_array()[row.index], 0, 1795817045123, alone)) {
            ++inexpressible;
            continue;
        }
        const auto call = as_log_call(events->as_array()[row.index]);
        if (!call) {
            ++inexpressible;
            continue;
        }
        BOOST_TEST_CONTEXT("row " << row.body.substr(0, 160)) {
            ++checked;
            bool thrown = false;
            try {
                p.log(call->type, call->payload, call->where);
            } catch (const validation_error& e) {
                thrown = true;
                BOOST_TEST(e.path() == row.path);
                BOOST_TEST(e.detail() == verdict.violations.front().message);
                BOOST_TEST(e.detail().find(row.message) != std::string::npos);
            }
            BOOST_TEST(thrown);
        }
    }
    BOOST_TEST_MESSAGE("bad-event rows checked through log(): " << checked << ", not expressible: " << inexpressible);
    // Most rows are payload rules, all expressible; the typed envelope rules
    // out the rest. A table that grows keeps this ratio.
    BOOST_TEST(checked >= 2 * inexpressible);
    BOOST_TEST(checked > 50u);
    BOOST_TEST(p.stats().queued == 0u);  // nothing refused was queued
}

BOOST_AUTO_TEST_CASE(good_events_of_every_type_are_accepted) {
    observability::provider p(offline());
    const log_options where{"r1", "worker-1", std::nullopt, std::nullopt, std::nullopt};
    const std::pair<std::string, std::string> good[] = {
        {"run_started", R"({"name":"n","agent":"a","tags":["x"],"metadata":{"k":"v"},"parent_run_id":"p1"})"},
        {"run_finished", R"({"status":"failed","summary":"s"})"},
        {"thought", R"({"text":"t"})"},
        {"tool_call", R"({"tool":"search","call_id":"c1","arguments":{"q":"gear"}})"},
        {"tool_result", R"({"call_id":"c1","output":[1,{"a":null}],"is_error":false,"duration_ms":3})"},
        {"llm_call", R"({"model":"m","provider":"p","input_tokens":1,"output_tokens":2,"latency_ms":3,"cost_usd":0.5,"prompt":[{"role":"user"}],"completion":"c"})"},
        {"error", R"({"kind":"k","message":"m","stack":"s","fatal":true})"},
        {"log", R"({"level":"warning","message":"m"})"},
    };
    std::set<std::string> ids;
    for (const auto& [type, payload] : good) {
        BOOST_TEST_CONTEXT(type) {
            BOOST_CHECK_NO_THROW(ids.insert(p.log(type, json::parse(payload).as_object(), where)));
        }
    }
    BOOST_TEST(ids.size() == std::size(good));
    for (const auto& id : ids) BOOST_TEST(obs::domain::is_valid_id(id));
    BOOST_TEST(p.stats().queued == std::size(good));
}

BOOST_AUTO_TEST_CASE(what_only_a_cpp_caller_can_get_wrong_is_refused_too) {
    observability::provider p(offline());
    const log_options where{"r1", std::nullopt, std::nullopt, std::nullopt, std::nullopt};
    // Boost.JSON keeps any bytes; the server's parser refuses them, so log() must.
    try {
        p.log("thought", {{"text", "bad \xff byte"}}, where);
        BOOST_FAIL("invalid UTF-8 accepted");
    } catch (const validation_error& e) {
        BOOST_TEST(e.path() == "payload.text");
    }
    try {
        p.log("thought", {{"text", "t"}}, {});
        BOOST_FAIL("missing run_id accepted");
    } catch (const validation_error& e) {
        BOOST_TEST(e.path() == "run_id");
        BOOST_TEST(e.detail() == "required");
    }
    // An event no request body could carry: each string keeps its 1 MiB
    // limit, the whole passes 4 MiB.
    json::object huge{{"call_id", "c"}, {"output", json::array(5, json::value(std::string(1000 * 1024, 'x')))}};
    BOOST_CHECK_THROW(p.log("tool_result", huge, where), validation_error);
    BOOST_CHECK_THROW(p.artifact("r1", "a/b", "x"), validation_error);
    BOOST_CHECK_THROW(p.artifact("r 1", "a", "x"), validation_error);
}

BOOST_AUTO_TEST_SUITE_END()
