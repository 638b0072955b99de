// Tests of two input rules that Boost.JSON alone does not keep (issue 13,
// item 2): a number that does not fit a finite double (1e400 parses as
// infinity, 0e400 as NaN, which no JSON text can carry back to a reader) is
// a 422 violation at its field path, in the full decoder, in NDJSON and for
// the single-event routes, and the streaming fast path declines it; a
// duplicate key in any object (body, envelope, payload, free-form values) is
// a JSON error (400 bad_json) naming the key and its path, from parse_json
// and parse_ndjson, and the fast path declines it too.
#include "domain/plain_batch.hpp"
#include "domain/validation.hpp"

#include "validation_support.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace domain = obs::domain;
namespace json = boost::json;
using namespace obs::domain::test;

BOOST_AUTO_TEST_SUITE(validation_numbers_keys_suite)

namespace {

const std::string out_of_range = "number is out of range (must fit a finite double)";

std::string tool_call(const std::string& arguments) {
    return event_with("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + arguments + "}");
}
std::string tool_result(const std::string& output) {
    return event_with("tool_result", R"({"call_id":"c","output":)" + output + "}");
}

// True when every number of `v` is finite.
bool all_finite(const json::value& v) {
    if (const auto* d = v.if_double()) return std::isfinite(*d);
    if (const auto* a = v.if_array()) {
        for (const auto& e : *a)
            if (!all_finite(e)) return false;
    }
    if (const auto* o = v.if_object()) {
        for (const auto& kv : *o)
            if (!all_finite(kv.value())) return false;
    }
    return true;
}

struct number_case {
    std::string body;  // a {"events":[...]} body
    std::size_t index;
    std::string path;
};

std::vector<number_case> number_cases() {
    return {
        {one(tool_call(R"({"x":1e400})")), 0, "payload.arguments.x"},
        {one(tool_call(R"({"x":-1e400})")), 0, "payload.arguments.x"},
        {one(tool_call(R"({"x":0e400})")), 0, "payload.arguments.x"},
        {one(tool_call(R"({"x":-0E+400})")), 0, "payload.arguments.x"},
        {one(tool_call(R"({"a":[1,{"b":[true,2.5e999]}]})")), 0, "payload.arguments.a[1].b[1]"},
        {one(tool_result("[1,2,-1e400]")), 0, "payload.output[2]"},
        {one(tool_result("1e400")), 0, "payload.output"},
        {one(tool_result(R"({"k":"v","n":{"m":1e309}})")), 0, "payload.output.n.m"},
        {one(event_with("llm_call", R"({"model":"m","prompt":["hi",1e400]})")), 0, "payload.prompt[1]"},
        {batch_of({good_thought, good_thought, tool_call(R"({"deep":{"x":1e400}})")}), 2,
         "payload.arguments.deep.x"},
    };
}

}  // namespace

BOOST_AUTO_TEST_CASE(non_finite_numbers_are_violations_at_their_path) {
    for (const auto& c : number_cases()) {
        BOOST_TEST_CONTEXT(c.body) {
            const auto parsed = domain::parse_json(c.body);
            BOOST_TEST_REQUIRE(parsed.value.has_value());
            const auto full = domain::decode_event_batch(*parsed.value, now);
            BOOST_TEST(!full.ok());
            BOOST_TEST(has_violation(full.violations, c.index, c.path, out_of_range), describe(full.violations));
            BOOST_TEST(full.violations.size() == 1u, describe(full.violations));
            // The fast path declines it, so the full decoder gives the answer.
            BOOST_TEST(!domain::decode_plain_batch(c.body, now).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(non_finite_numbers_in_ndjson_and_single_events) {
    // NDJSON: each line is an event; the second line's number is named with index 1.
    const std::string ndjson = good_thought + "\n" + tool_result("[0,-1e400]") + "\n";
    const auto lines = domain::parse_ndjson(ndjson);
    BOOST_TEST_REQUIRE(!lines.error.has_value());
    const auto decoded = domain::decode_event_list(lines.values, now);
    BOOST_TEST(has_violation(decoded.violations, 1, "payload.output[1]", out_of_range), describe(decoded.violations));

    // A single event (the /runs/{id}/steps route with a forced run).
    const auto step = domain::parse_json(tool_call(R"({"q":1e400})"));
    BOOST_TEST_REQUIRE(step.value.has_value());
    std::vector<domain::violation> out;
    BOOST_TEST(!domain::decode_event(*step.value, 0, now, out, "r1").has_value());
    BOOST_TEST(has_violation(out, 0, "payload.arguments.q", out_of_range), describe(out));

    // validate_payload on its own (POST /runs builds its payload this way).
    const auto payload = domain::parse_json(R"({"call_id":"c","output":{"x":[0e400]}})");
    BOOST_TEST_REQUIRE(payload.value.has_value());
    out.clear();
    domain::validate_payload(domain::event_type::tool_result, *payload.value, 3, out);
    BOOST_TEST(has_violation(out, 3, "payload.output.x[0]", out_of_range), describe(out));
}

BOOST_AUTO_TEST_CASE(non_finite_numbers_in_the_envelope_are_refused) {
    // Envelope fields hold strings, so a number there is refused by its type rule.
    const auto ts = decode_text(one(R"({"run_id":"r1","type":"thought","ts":1e400,"payload":{"text":"t"}})"));
    BOOST_TEST(has_violation(ts.violations, 0, "ts", "must be a string"), describe(ts.violations));
    const auto extra = decode_text(one(R"({"run_id":"r1","type":"thought","n":-1e400,"payload":{"text":"t"}})"));
    BOOST_TEST(has_violation(extra.violations, 0, "n", "unknown field"), describe(extra.violations));
}

BOOST_AUTO_TEST_CASE(finite_extremes_are_accepted_and_serialise_back) {
    // The largest double, a denormal, an underflow to zero and a 30-digit
    // integer all fit a finite double: accepted by both decoders, and the
    // stored text is JSON whose numbers are finite.
    const std::string body = one(
        tool_call(R"({"max":1.7976931348623157e308,"min":-1.7976931348623157e308,"tiny":4.9e-324,)"
                  R"("under":1e-400,"big":123456789012345678901234567890,"neg0":-0.0})"));
    const auto result = decode_text(body);  // also checks that the fast path agrees
    BOOST_TEST_REQUIRE(result.ok(), describe(result.violations));
    BOOST_TEST(domain::decode_plain_batch(body, now).has_value());
    const auto stored = json::parse(result.events.at(0).payload_json);
    BOOST_TEST(all_finite(stored));
    BOOST_TEST(stored.at("arguments").at("max").as_double() == 1.7976931348623157e308);
}

namespace {

struct duplicate_case {
    std::string body;
    std::string message;  // the whole expected message
};

std::string twenty_keys_then(const std::string& repeated) {
    std::string object = "{";
    for (int i = 0; i < 20; ++i) object += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    return object + "\"" + repeated + "\":0}";
}

std::vector<duplicate_case> duplicate_cases() {
    return {
        {R"({"events":[],"events":[]})", R"(duplicate key "events" at events)"},
        {one(R"({"run_id":"r1","run_id":"r2","type":"thought","payload":{"text":"t"}})"),
         R"(duplicate key "run_id" at events[0].run_id)"},
        {one(R"({"run_id":"r1","type":"thought","payload":{"text":"a","text":"b"}})"),
         R"(duplicate key "text" at events[0].payload.text)"},
        {batch_of({good_thought, tool_call(R"({"a":{"b":1,"c":2,"b":3}})")}),
         R"(duplicate key "b" at events[1].payload.arguments.a.b)"},
        {one(tool_result(R"([0,1,{"k":1,"k":1}])")), R"(duplicate key "k" at events[0].payload.output[2].k)"},
        // Equal once unescaped.
        {one(tool_call(R"({"q":1,"\u0071":2})")), R"(duplicate key "q" at events[0].payload.arguments.q)"},
        // An object too large for pairwise comparison is checked by sorting.
        {one(tool_call(twenty_keys_then("k7"))), R"(duplicate key "k7" at events[0].payload.arguments.k7)"},
        {one(event_with("run_started", R"({"name":"n","agent":"a","metadata":{"m":"1","m":"2"}})")),
         R"(duplicate key "m" at events[0].payload.metadata.m)"},
    };
}

}  // namespace

BOOST_AUTO_TEST_CASE(duplicate_keys_are_json_errors_naming_the_key) {
    for (const auto& c : duplicate_cases()) {
        BOOST_TEST_CONTEXT(c.body) {
            const auto parsed = domain::parse_json(c.body);
            BOOST_TEST(!parsed.value.has_value());
            BOOST_TEST_REQUIRE(parsed.error.has_value());
            BOOST_TEST(parsed.error->message == c.message);
            BOOST_TEST(parsed.error->byte_offset <= c.body.size());
            BOOST_TEST(!domain::decode_plain_batch(c.body, now).has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(duplicate_keys_in_ndjson_name_the_line) {
    const std::string body = good_thought + "\n" + R"({"run_id":"r1","type":"thought","type":"log"})" + "\n";
    const auto result = domain::parse_ndjson(body);
    BOOST_TEST_REQUIRE(result.error.has_value());
    BOOST_TEST(result.error->message == R"(line 2: duplicate key "type" at type)");
    BOOST_TEST(result.values.empty());
}

BOOST_AUTO_TEST_CASE(distinct_keys_are_kept) {
    // Keys that are prefixes of each other, equal keys in sibling objects
    // and a large object of distinct keys are not duplicates.
    const std::string body = one(tool_call(R"({"a":{"k":1},"b":{"k":1},"k":0,"kk":1,"big":)" +
                                           twenty_keys_then("k20") + "}"));
    const auto result = decode_text(body);
    BOOST_TEST(result.ok(), describe(result.violations));
    const auto parsed = domain::parse_json(R"({"x":{"y":[{"y":1},{"y":2}],"z":{"x":{"y":3}}}})");
    BOOST_TEST_REQUIRE(parsed.value.has_value());
    BOOST_TEST(parsed.value->at("x").at("z").at("x").at("y").as_int64() == 3);
}

BOOST_AUTO_TEST_SUITE_END()
