// Tests of server/otlp/payload_check: on a table of payloads of every event
// type, valid ones and ones breaking each field kind's rule,
// payload_surely_valid says "valid" exactly when domain::validate_payload
// reports nothing (it may only be unsure of a valid payload, and this table
// has no such case).
#include "server/otlp/payload_check.hpp"

#include "domain/validation.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

namespace json = boost::json;
using obs::domain::event_type;

namespace {

struct payload_case {
    event_type type;
    json::value payload;
};

std::vector<payload_case> table() {
    const std::string big(obs::domain::max_text_length + 1, 'x');
    const std::string at_limit(obs::domain::max_text_length, 'x');
    json::value deep = json::array{};
    for (int i = 0; i < 64; ++i) deep = json::array{deep};  // 65 levels
    json::value deep_ok = json::array{};
    for (int i = 0; i < 63; ++i) deep_ok = json::array{deep_ok};  // 64 levels
    json::object many_keys;
    for (int i = 0; i < 65; ++i) many_keys[std::to_string(i)] = "v";
    json::array many_tags;
    for (int i = 0; i < 33; ++i) many_tags.push_back("t");
    const double inf = std::numeric_limits<double>::infinity();
    const auto p = [](std::string_view text) { return json::parse(text); };
    return {
        {event_type::run_started, p(R"({"name":"n","agent":"a"})")},
        {event_type::run_started,
         p(R"({"name":"n","agent":"a","parent_run_id":"otel-1","tags":["x"],"metadata":{"k":"v"}})")},
        {event_type::run_started, p(R"({"name":"n"})")},
        {event_type::run_started, p(R"({"name":"n","agent":"a","parent_run_id":"bad id"})")},
        {event_type::run_started, p(R"({"name":"n","agent":"a","parent_run_id":7})")},
        {event_type::run_started, p(R"({"name":"n","agent":"a","tags":[1]})")},
        {event_type::run_started, json::object{{"name", "n"}, {"agent", "a"}, {"tags", many_tags}}},
        {event_type::run_started, json::object{{"name", "n"}, {"agent", "a"}, {"metadata", many_keys}}},
        {event_type::run_started, p(R"({"name":"n","agent":"a","metadata":{"k":1}})")},
        {event_type::run_started, json::object{{"name", "n"}, {"agent", "a"}, {"metadata", {{big, "v"}}}}},
        {event_type::run_started, json::object{{"name", big}, {"agent", "a"}}},
        {event_type::run_started, json::object{{"name", at_limit}, {"agent", "a"}}},
        {event_type::run_started, p(R"({"name":"n","agent":"a","extra":1})")},
        {event_type::run_finished, p(R"({"status":"succeeded","summary":"s"})")},
        {event_type::run_finished, p(R"({"status":"done"})")},
        {event_type::run_finished, p(R"({"status":1})")},
        {event_type::tool_call, p(R"({"tool":"t","call_id":"c","arguments":{"a":[1,{"b":2.5}]}})")},
        {event_type::tool_call, p(R"({"tool":"t","call_id":"c","arguments":[1]})")},
        {event_type::tool_call, json::object{{"tool", "t"}, {"call_id", "c"}, {"arguments", {{"x", inf}}}}},
        {event_type::tool_call, json::object{{"tool", "t"}, {"call_id", "c"}, {"arguments", {{"x", deep}}}}},
        {event_type::tool_call, json::object{{"tool", "t"}, {"call_id", "c"}, {"arguments", {{"x", deep_ok}}}}},
        {event_type::tool_result, p(R"({"call_id":"c","output":null,"is_error":false,"duration_ms":3})")},
        {event_type::tool_result, p(R"({"call_id":"c","output":[1,2],"is_error":"no"})")},
        {event_type::tool_result, p(R"({"call_id":"c","output":1,"duration_ms":-1})")},
        {event_type::tool_result, p(R"({"call_id":"c","output":1,"duration_ms":1.5})")},
        {event_type::tool_result, p(R"({"call_id":"c","output":1,"duration_ms":18446744073709551615})")},
        {event_type::tool_result, p(R"({"call_id":"c","output":1,"duration_ms":9223372036854775807})")},
        {event_type::tool_result, json::object{{"call_id", "c"}, {"output", deep}}},
        {event_type::tool_result, json::object{{"call_id", "c"}, {"output", -inf}}},
        {event_type::tool_result, p(R"({"output":1})")},
        {event_type::llm_call,
         p(R"({"model":"m","input_tokens":1,"output_tokens":2,"latency_ms":3,"prompt":"p","completion":"c"})")},
        {event_type::llm_call, p(R"({"model":"m","prompt":[{"role":"user"}],"cost_usd":0.5})")},
        {event_type::llm_call, p(R"({"model":"m","prompt":{"role":"user"}})")},
        {event_type::llm_call, p(R"({"model":"m","cost_usd":-1})")},
        {event_type::llm_call, p(R"({"model":"m","cost_usd":"1"})")},
        {event_type::llm_call, json::object{{"model", "m"}, {"cost_usd", inf}}},
        {event_type::llm_call, json::object{{"model", "m"}, {"prompt", big}}},
        {event_type::llm_call, json::object{{"model", "m"}, {"prompt", deep}}},
        {event_type::error, p(R"({"kind":"k","message":"m","stack":"s","fatal":true})")},
        {event_type::error, p(R"({"kind":"k","message":"m","fatal":1})")},
        {event_type::error, json::object{{"kind", "k"}, {"message", big}}},
        {event_type::log, p(R"({"level":"info","message":"m"})")},
        {event_type::log, p(R"({"level":"loud","message":"m"})")},
        {event_type::span,
         p(R"({"name":"n","kind":"client","status":"ok","duration_ms":1,"attributes":{"a":{"b":[1]}}})")},
        {event_type::span, p(R"({"name":"n","status":"fine"})")},
        {event_type::span, p(R"({"name":"n","attributes":[1]})")},
        {event_type::span, p(R"({"kind":"client"})")},
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(payload_check_suite)

BOOST_AUTO_TEST_CASE(quick_check_agrees_with_validate_payload) {
    std::size_t valid = 0, invalid = 0;
    for (const auto& c : table()) {
        std::vector<obs::domain::violation> violations;
        obs::domain::validate_payload(c.type, c.payload, 0, violations);
        const bool quick = obs::otlp::payload_surely_valid(c.type, c.payload.as_object());
        BOOST_TEST(quick == violations.empty(), obs::domain::to_string(c.type)
                                                    << " " << json::serialize(c.payload).substr(0, 200));
        ++(violations.empty() ? valid : invalid);
    }
    BOOST_TEST(valid >= 10u);  // the table has both kinds
    BOOST_TEST(invalid >= 25u);
}

BOOST_AUTO_TEST_SUITE_END()
