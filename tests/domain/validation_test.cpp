// Tests of domain/validation.cpp, the accepting half: good events of every
// type at the edges of every bound, with their run facts, compact payload
// text and defaults; the steps route's forced run id; event lists; a payload
// validated alone; the same body; and violations as JSON. Parsing and the
// refused events have their own files (validation_parse_test.cpp,
// validation_bad_events_test.cpp).
#include "domain/same_body.hpp"
#include "domain/validation.hpp"

#include "validation_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>
#include <string>
#include <vector>

namespace domain = obs::domain;
namespace json = boost::json;
using namespace obs::domain::test;

BOOST_AUTO_TEST_SUITE(validation_suite)

// ------------------------------------------------------------ good events

BOOST_AUTO_TEST_CASE(boundaries_that_are_allowed) {
    const std::string cases[] = {
        R"({"run_id":")" + std::string(128, 'r') + R"(","id":")" + std::string(128, 'i') +
            R"(","parent_id":")" + std::string(128, 'p') + R"(","type":"thought","payload":{"text":"t"}})",
        R"({"run_id":"A.b_c:d-9","type":"thought","node":")" + std::string(128, 'n') + R"(","payload":{"text":"t"}})",
        R"({"run_id":"r","type":"thought","node":"","payload":{"text":""}})",
        event_with("thought", R"({"text":")" + longest_text + "\"}"),
        event_with("run_started", R"({"name":"n","agent":"a","tags":)" + string_array(32) +
                                      R"(,"metadata":)" + string_map(64) + "}"),
        event_with("run_started", R"({"name":"n","agent":"a","tags":[],"metadata":{}})"),
        event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + nested_objects(64) + "}"),
        event_with("tool_result", R"({"call_id":"c","output":)" + nested_arrays(64) + "}"),
        event_with("llm_call", R"({"model":"m","prompt":)" + nested_arrays(64) + "}"),
        event_with("tool_result", R"({"call_id":"c","output":1,"duration_ms":9223372036854775807})"),
        event_with("tool_result", R"({"call_id":"c","output":1,"duration_ms":0,"is_error":true})"),
        event_with("tool_result", R"({"call_id":"c","output":1,"duration_ms":-0})"),
        event_with("llm_call", R"({"model":"m","cost_usd":0})"),
        event_with("llm_call", R"({"model":"m","cost_usd":0.0,"prompt":"p","completion":"c","provider":"x"})"),
        R"({"run_id":"r1","type":"thought","ts":"9999-12-31T23:59:59.999Z","payload":{"text":"t"}})",
        R"({"run_id":"r1","type":"thought","ts":"1970-01-01T00:00:00Z","payload":{"text":"t"}})",
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.substr(0, 200)) {
            const auto result = decode_text(one(c));
            BOOST_TEST(result.ok(), describe(result.violations));
            BOOST_TEST(result.events.size() == 1u);
        }
    }
}

BOOST_AUTO_TEST_CASE(good_event_of_every_type) {
    struct good_case {
        std::string type;
        std::string payload;  // compact, so payload_json must equal it
    };
    const good_case cases[] = {
        {"run_started", R"({"name":"n","agent":"a"})"},
        {"run_finished", R"({"status":"cancelled"})"},
        {"thought", R"({"text":"caf\u00e9 \"quoted\"\n"})"},
        {"tool_call", R"({"tool":"search","call_id":"c1","arguments":{"q":"gear ratio","n":[1,2.5,null]}})"},
        {"tool_result", R"({"call_id":"c1","output":"text"})"},
        {"tool_result", R"({"call_id":"c1","output":{"rows":[]},"is_error":false,"duration_ms":12})"},
        {"llm_call", R"({"model":"m"})"},
        {"llm_call", R"({"model":"m","prompt":[{"role":"user","content":"hi"}]})"},
        {"error", R"({"kind":"timeout","message":"m","stack":"s","fatal":true})"},
        {"log", R"({"level":"debug","message":"m"})"},
        {"log", R"({"level":"warning","message":"m"})"},
        {"span", R"({"name":"GET /x"})"},
        {"span", R"({"name":"GET /x","kind":"client","status":"error","duration_ms":3,"attributes":{"http.status":500}})"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.type << " " << c.payload) {
            const auto ev = decode_one(one(event_with(c.type, c.payload)));
            BOOST_TEST(domain::to_string(ev.type) == c.type);
            BOOST_TEST(ev.run_id == "r1");
            // Compact re-serialization: same value, no whitespace.
            BOOST_TEST(json::parse(ev.payload_json) == json::parse(c.payload));
            BOOST_TEST(ev.payload_json == json::serialize(json::parse(c.payload)));
        }
    }
}

BOOST_AUTO_TEST_CASE(payload_json_is_compact) {
    const auto ev = decode_one(one(
        R"({ "run_id" : "r1", "type" : "tool_call", "payload" : { "tool" : "t", "call_id" : "c", "arguments" : { "a" : [ 1 , 2 ] } } })"));
    BOOST_TEST(ev.payload_json == R"({"tool":"t","call_id":"c","arguments":{"a":[1,2]}})");
}

BOOST_AUTO_TEST_CASE(defaults_when_fields_are_absent) {
    const auto ev = decode_one(one(good_thought));
    BOOST_TEST(ev.ts_ms == now);
    BOOST_TEST(ev.received_ms == now);
    BOOST_TEST(!ev.id_given);
    BOOST_TEST(std::regex_match(ev.id, std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")));
    BOOST_TEST(ev.id.substr(0, 8) + ev.id.substr(9, 4) == "01a21f097c83");  // `now` as 48-bit hex
    BOOST_TEST(!ev.node.has_value());
    BOOST_TEST(!ev.parent_id.has_value());
    BOOST_TEST(!ev.facts.name.has_value());
    BOOST_TEST(!ev.ts_given);

    // A tool_result without is_error is stored as sent; false is the reader's default.
    const auto result = decode_one(one(event_with("tool_result", R"({"call_id":"c","output":null})")));
    BOOST_TEST(result.payload_json == R"({"call_id":"c","output":null})");
}

BOOST_AUTO_TEST_CASE(envelope_fields_are_taken) {
    const auto ev = decode_one(one(
        R"({"id":"e-1","run_id":"r-9","type":"log","ts":"2026-11-27T23:04:05.5+01:00","node":"worker \"2\"",)"
        R"("parent_id":"step:4","payload":{"level":"error","message":"m"}})"));
    BOOST_TEST(ev.id == "e-1");
    BOOST_TEST(ev.id_given);
    BOOST_TEST(ev.run_id == "r-9");
    BOOST_TEST((ev.type == domain::event_type::log));
    BOOST_TEST(ev.ts_ms == now - 123 + 500);
    BOOST_TEST(ev.received_ms == now);
    BOOST_TEST(ev.node.value() == "worker \"2\"");
    BOOST_TEST(ev.parent_id.value() == "step:4");
}

BOOST_AUTO_TEST_CASE(run_facts_from_payloads) {
    const auto started = decode_one(one(event_with(
        "run_started",
        R"({"name":"plan trip","agent":"planner","parent_run_id":"r0","tags":["a","b"],"metadata":{"team":"x","env":"prod"}})")));
    BOOST_TEST(started.facts.name.value() == "plan trip");
    BOOST_TEST(started.facts.agent.value() == "planner");
    BOOST_TEST(started.facts.parent_run_id.value() == "r0");
    BOOST_TEST(started.facts.tags_json.value() == R"(["a","b"])");
    BOOST_TEST(started.facts.metadata_json.value() == R"({"team":"x","env":"prod"})");
    BOOST_TEST(!started.facts.final_status.has_value());

    const auto bare = decode_one(one(event_with("run_started", R"({"name":"n","agent":"a"})")));
    BOOST_TEST(!bare.facts.parent_run_id.has_value());
    BOOST_TEST(!bare.facts.tags_json.has_value());
    BOOST_TEST(!bare.facts.metadata_json.has_value());

    for (const std::string status : {"succeeded", "failed", "cancelled"}) {
        const auto finished = decode_one(one(event_with("run_finished", R"({"status":")" + status + "\"}")));
        BOOST_TEST(finished.facts.final_status.value() == status);
        BOOST_TEST(!finished.facts.name.has_value());
    }

    const auto llm = decode_one(one(event_with(
        "llm_call", R"({"model":"m","input_tokens":1200,"output_tokens":9223372036854775807,"cost_usd":0.0375})")));
    BOOST_TEST(llm.facts.input_tokens == 1200);
    BOOST_TEST(llm.facts.output_tokens == 9223372036854775807);
    BOOST_TEST(llm.facts.cost_usd == 0.0375);
    const auto llm_int_cost = decode_one(one(event_with("llm_call", R"({"model":"m","cost_usd":2})")));
    BOOST_TEST(llm_int_cost.facts.cost_usd == 2.0);
    BOOST_TEST(llm_int_cost.facts.input_tokens == 0);

    const auto thought = decode_one(one(good_thought));
    BOOST_TEST(thought.facts.input_tokens == 0);
    BOOST_TEST(!thought.facts.final_status.has_value());
}

// ------------------------------------------------------------ lists and the steps route

BOOST_AUTO_TEST_CASE(forced_run_id) {
    const auto step = parse_or_fail(R"({"id":"s1","type":"thought","payload":{"text":"t"}})");
    const auto same = parse_or_fail(R"({"id":"s1","run_id":"r-7","type":"thought","payload":{"text":"t"}})");
    const auto other = parse_or_fail(R"({"run_id":"r-8","type":"thought","payload":{"text":"t"}})");

    std::vector<domain::violation> out;
    const auto taken = domain::decode_event(step, 0, now, out, "r-7");
    BOOST_TEST_REQUIRE(taken.has_value());
    BOOST_TEST(taken->run_id == "r-7");
    const auto kept = domain::decode_event(same, 0, now, out, "r-7");
    BOOST_TEST_REQUIRE(kept.has_value());
    BOOST_TEST(kept->run_id == "r-7");
    // The path's run counts as sent: both forms are the same body.
    BOOST_TEST(domain::same_body(*kept, as_stored(*taken)));
    BOOST_TEST(out.empty());

    BOOST_TEST(!domain::decode_event(other, 3, now, out, "r-7").has_value());
    BOOST_TEST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0].index == 3u);
    BOOST_TEST(out[0].path == "run_id");
    BOOST_TEST(out[0].message.find("must match") != std::string::npos);

    // Without a forced run, the same step lacks its run_id.
    out.clear();
    BOOST_TEST(!domain::decode_event(step, 0, now, out).has_value());
    BOOST_TEST(has_violation(out, 0, "run_id", "required"));
}

BOOST_AUTO_TEST_CASE(event_lists) {
    const auto lines = domain::parse_ndjson(good_thought + "\n" +
                                            event_with("log", R"({"level":"info","message":"m"})") + "\n");
    BOOST_TEST_REQUIRE(lines.values.size() == 2u);
    const auto ok = domain::decode_event_list(lines.values, now);
    BOOST_TEST(ok.ok(), describe(ok.violations));
    BOOST_TEST_REQUIRE(ok.events.size() == 2u);
    BOOST_TEST((ok.events[1].type == domain::event_type::log));
    BOOST_TEST(ok.events[0].id != ok.events[1].id);

    const auto empty = domain::decode_event_list({}, now);
    BOOST_TEST_REQUIRE(empty.violations.size() == 1u);
    BOOST_TEST(empty.violations[0].message.find("1 to 1000 events") != std::string::npos);

    const std::vector<json::value> too_many(1001, parse_or_fail(good_thought));
    BOOST_TEST(!domain::decode_event_list(too_many, now).ok());
    const std::vector<json::value> most(1000, parse_or_fail(good_thought));
    BOOST_TEST(domain::decode_event_list(most, now).events.size() == 1000u);

    const std::vector<json::value> steps = {parse_or_fail(R"({"type":"thought","payload":{"text":"t"}})"),
                                            parse_or_fail(R"({"type":"thought","run_id":"x","payload":{}})")};
    const auto forced = domain::decode_event_list(steps, now, "r-5");
    BOOST_TEST(forced.violations.size() == 2u, describe(forced.violations));
    BOOST_TEST(has_violation(forced.violations, 1, "run_id", "must match"));
    BOOST_TEST(has_violation(forced.violations, 1, "payload.text", "required"));
}

BOOST_AUTO_TEST_CASE(validate_payload_alone) {
    std::vector<domain::violation> out;
    domain::validate_payload(domain::event_type::run_started, parse_or_fail(R"({"name":"n","agent":"a"})"), 0, out);
    BOOST_TEST(out.empty());
    domain::validate_payload(domain::event_type::run_finished, parse_or_fail(R"({"status":"x","more":1})"), 4, out);
    BOOST_TEST(out.size() == 2u);
    BOOST_TEST(has_violation(out, 4, "payload.status", "must be one of"));
    BOOST_TEST(has_violation(out, 4, "payload.more", "unknown field"));
    out.clear();
    domain::validate_payload(domain::event_type::thought, parse_or_fail("[]"), 0, out);
    BOOST_TEST(has_violation(out, 0, "payload", "must be an object"));
}

// ------------------------------------------------------------ the same body
// (domain/same_body.hpp, on events as decoded; same_body_test.cpp has the
// stored side's cases)

BOOST_AUTO_TEST_CASE(the_same_body_in_any_key_order_spacing_or_ts_spelling) {
    const std::string variants[] = {
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":{"x":[1,{"p":1,"q":2}],"y":2}}}})",
        R"({"payload":{"arguments":{"b":{"y":2,"x":[1,{"q":2,"p":1}]},"a":1},"call_id":"c","tool":"t"},"ts":"2026-11-27T22:04:05.123Z","type":"tool_call","run_id":"r1","id":"e1"})",
        "{ \"type\" : \"tool_call\",\n \"id\":\"e1\", \"run_id\":\"r1\", \"ts\":\"2026-11-27T22:04:05.123Z\", "
        "\"payload\" : {\"call_id\":\"c\", \"tool\":\"t\", \"arguments\": {\"a\": 1, \"b\": {\"x\": [1, {\"p\": 1, "
        "\"q\": 2}], \"y\": 2}}}}",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T23:04:05.123+01:00","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":{"x":[1,{"p":1,"q":2}],"y":2}}}})",
    };
    const domain::stored_event stored = as_stored(decode_one(one(variants[0])));
    for (const auto& v : variants) {
        BOOST_TEST_CONTEXT(v) {
            // The receive time is server-made: it does not count.
            const auto again = domain::decode_event_batch(parse_or_fail(one(v)), now + 5000);
            BOOST_TEST_REQUIRE(again.events.size() == 1u);
            BOOST_TEST(domain::same_body(again.events[0], stored));
        }
    }
}

BOOST_AUTO_TEST_CASE(another_body_differs_in_any_field) {
    const std::string base =
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})";
    const std::string changed[] = {
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.124Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"u","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":2,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1.0,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[2,1]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"c":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":"1","b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2],"c":null}}})",
        R"({"id":"e1","run_id":"r2","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","node":"w","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","parent_id":"p","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"thought","ts":"2026-11-27T22:04:05.123Z","payload":{"text":"t"}})",
    };
    // Stored as received a second after its ts, so that the change "no ts"
    // is not the edge case of a row whose ts is its receive time.
    const auto first = domain::decode_event_batch(parse_or_fail(one(base)), now + 1000);
    BOOST_TEST_REQUIRE(first.events.size() == 1u);
    const domain::stored_event stored = as_stored(first.events[0]);
    for (const auto& c : changed) {
        BOOST_TEST_CONTEXT(c) { BOOST_TEST(!domain::same_body(decode_one(one(c)), stored)); }
    }
}

BOOST_AUTO_TEST_CASE(an_event_sent_without_ts_is_the_same_body_when_sent_again_later) {
    // Stored without ts, its time is its receive time; sent again later, it
    // gets a new receive time, which is server-made and does not count.
    const std::string body = R"({"id":"e9","run_id":"r1","type":"thought","payload":{"text":"t"}})";
    const domain::stored_event stored = as_stored(decode_one(one(body)));
    const auto later = domain::decode_event_batch(parse_or_fail(one(body)), now + 60000);
    BOOST_TEST_REQUIRE(later.events.size() == 1u);
    BOOST_TEST(!later.events[0].ts_given);
    BOOST_TEST(domain::same_body(later.events[0], stored));
}

// ------------------------------------------------------------ error details

BOOST_AUTO_TEST_CASE(violations_as_json) {
    const std::vector<domain::violation> v = {{3, "payload.tool", "required"}, {0, "", "must be an object"}};
    BOOST_TEST(json::serialize(domain::violations_to_json(v)) ==
               R"([{"index":3,"path":"payload.tool","message":"required"},{"index":0,"path":"","message":"must be an object"}])");
    BOOST_TEST(domain::violations_to_json({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
