// Tests of server/otlp/event_finish: finish_event gives, for every draft of
// a table, exactly what domain::decode_event gives for the same event as a
// JSON object (envelope_object): the same verdict and first violation, and
// for a valid event the same id, run, type, times, node, parent, payload
// text and run facts. The table covers each event type, strings
// with a character to escape at every position of the first 40 bytes and
// of every length up to 40 (the writer scans sixteen bytes at a time and
// the rest as one padded block), UTF-8 past ASCII, nested objects whose keys need
// sorting, every kind of number, and envelopes that break a rule (which go
// through decode_event itself).
#include "server/otlp/event_finish.hpp"

#include "domain/time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace otlp = obs::otlp;
namespace json = boost::json;
using obs::domain::event_type;

namespace {

constexpr std::int64_t now = 1'800'000'000'000;

otlp::event_draft draft(event_type type, std::string_view payload, std::string id = "otel-a-b") {
    otlp::event_draft d;
    d.id = std::move(id);
    d.run_id = "otel-run";
    d.type = type;
    d.ts_ms = 1'700'000'000'123;
    d.node = "node-1";
    d.parent_id = "otel-parent";
    d.payload = json::parse(payload);
    return d;
}

std::vector<otlp::event_draft> table() {
    std::vector<otlp::event_draft> t;
    t.push_back(draft(event_type::run_started, R"({"name":"n","agent":"a","parent_run_id":"otel-x",)"
                                               R"("metadata":{"z":"1","a":"2","otel.span_id":"s"}})"));
    t.push_back(draft(event_type::run_finished, R"({"status":"failed","summary":"why"})"));
    t.push_back(draft(event_type::llm_call, R"({"model":"m","provider":"p","input_tokens":812,"output_tokens":96,)"
                                            R"("latency_ms":7,"completion":"c",)"
                                            R"("prompt":[{"role":"user","parts":[{"type":"text","content":"x"}]}]})"));
    t.push_back(draft(event_type::tool_call, R"({"tool":"t","call_id":"c",)"
                                             R"("arguments":{"q":"g","k":5,"b":{"y":-1,"a":[1.5,2e300,-0.0,true,null]}}})"));
    t.push_back(draft(event_type::tool_result, R"({"call_id":"c","output":{"hits":3,"big":18446744073709551615},)"
                                               R"("is_error":false,"duration_ms":0})"));
    t.push_back(draft(event_type::error, R"({"kind":"Error","message":"m","stack":"at f\n\tat g"})"));
    t.push_back(draft(event_type::span, R"({"name":"GET","kind":"client","status":"unset","duration_ms":3,)"
                                        R"("attributes":{"url.full":"https://x/?q=\"a\"",)"
                                        R"("\u0001key":"v","b":{}, "a":[]}})"));
    // Strings with one character to escape at each position.
    for (const char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
        for (std::size_t at = 0; at < 40; ++at) {
            std::string text(45, 'x');
            text[at] = special;
            json::object payload{{"kind", text}, {"message", text.substr(0, at + 1)}};
            payload[text] = 1;  // an unknown field: a violation, reported the same way
            otlp::event_draft d = draft(event_type::error, "{}");
            d.payload = json::object{{"kind", text}, {"message", text.substr(0, at + 1)}};
            t.push_back(std::move(d));
            otlp::event_draft bad = draft(event_type::error, "{}");
            bad.payload = std::move(payload);
            t.push_back(std::move(bad));
        }
    }
    // Bytes past ASCII are never escaped, wherever they fall in a block.
    for (std::size_t at = 0; at < 34; at += 3) {
        std::string text(36, 'x');
        text.replace(at, 2, "\xc3\xa9");  // é
        otlp::event_draft d = draft(event_type::error, "{}");
        d.payload = json::object{{"kind", text}, {"message", text.substr(0, at + 2)}};
        t.push_back(std::move(d));
    }
    // Broken payloads and envelopes.
    t.push_back(draft(event_type::llm_call, R"({"model":"m","input_tokens":-1})"));
    t.push_back(draft(event_type::tool_call, R"({"tool":"t","call_id":"c","arguments":[1]})"));
    t.push_back(draft(event_type::span, R"({"name":"n","status":"bad"})"));
    t.push_back(draft(event_type::span, R"([1])"));
    t.push_back(draft(event_type::span, R"({"name":"n"})", "bad id"));
    t.push_back(draft(event_type::span, R"({"name":"n"})", std::string(129, 'a')));
    t.push_back(draft(event_type::artifact, R"({"name":"n"})"));
    auto far = draft(event_type::span, R"({"name":"n"})");
    far.ts_ms = obs::domain::rfc3339_ms_limit;
    t.push_back(std::move(far));
    auto long_node = draft(event_type::span, R"({"name":"n"})");
    long_node.node = std::string(129, 'n');
    t.push_back(std::move(long_node));
    auto no_node = draft(event_type::span, R"({"name":"n"})");
    no_node.node.reset();
    no_node.parent_id.reset();
    t.push_back(std::move(no_node));
    auto bad_parent = draft(event_type::span, R"({"name":"n"})");
    bad_parent.parent_id = "no/slash";
    t.push_back(std::move(bad_parent));
    return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_finish_suite)

BOOST_AUTO_TEST_CASE(finish_event_equals_decode_event) {
    std::size_t valid = 0, invalid = 0;
    for (auto& d : table()) {
        const json::value object(otlp::envelope_object(d));
        BOOST_TEST_CONTEXT(json::serialize(object).substr(0, 200)) {
            std::vector<obs::domain::violation> expected_violations, violations;
            const auto expected = obs::domain::decode_event(object, 0, now, expected_violations);
            const auto actual = otlp::finish_event(d, now, violations);
            BOOST_TEST_REQUIRE(actual.has_value() == expected.has_value());
            BOOST_TEST_REQUIRE(violations.size() == expected_violations.size());
            for (std::size_t i = 0; i < violations.size(); ++i) {
                BOOST_TEST(violations[i].path == expected_violations[i].path);
                BOOST_TEST(violations[i].message == expected_violations[i].message);
            }
            if (!expected) {
                ++invalid;
                continue;
            }
            ++valid;
            BOOST_TEST(actual->id == expected->id);
            BOOST_TEST(actual->id_given == expected->id_given);
            BOOST_TEST(actual->run_id == expected->run_id);
            BOOST_TEST((actual->type == expected->type));
            BOOST_TEST(actual->ts_ms == expected->ts_ms);
            BOOST_TEST(actual->received_ms == expected->received_ms);
            BOOST_TEST(actual->node.value_or("<none>") == expected->node.value_or("<none>"));
            BOOST_TEST(actual->parent_id.value_or("<none>") == expected->parent_id.value_or("<none>"));
            BOOST_TEST(actual->payload_json == expected->payload_json);
            BOOST_TEST(actual->ts_given == expected->ts_given);
            const auto& a = actual->facts;
            const auto& e = expected->facts;
            BOOST_TEST(a.name.value_or("<none>") == e.name.value_or("<none>"));
            BOOST_TEST(a.agent.value_or("<none>") == e.agent.value_or("<none>"));
            BOOST_TEST(a.parent_run_id.value_or("<none>") == e.parent_run_id.value_or("<none>"));
            BOOST_TEST(a.metadata_json.value_or("<none>") == e.metadata_json.value_or("<none>"));
            BOOST_TEST(a.final_status.value_or("<none>") == e.final_status.value_or("<none>"));
            BOOST_TEST(a.input_tokens == e.input_tokens);
            BOOST_TEST(a.output_tokens == e.output_tokens);
        }
    }
    BOOST_TEST(valid >= 120u);
    BOOST_TEST(invalid >= 125u);
}

BOOST_AUTO_TEST_SUITE_END()
