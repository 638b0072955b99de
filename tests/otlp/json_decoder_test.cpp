// Tests of server/otlp/json_decoder: the body the real OpenTelemetry JS
// JSON exporter sent (fixtures/agent_trace.json) decodes to the same spans
// as its protobuf twin would; the Protobuf JSON mapping's variants (int64 as
// string or number, enum names, snake_case names, every AnyValue kind); and
// a table of hostile bodies refused with the JSON path of the problem.
#include "server/otlp/json_decoder.hpp"

#include "server/otlp/protobuf_decoder.hpp"
#include "tests/otlp/fixtures.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace otlp = obs::otlp;
using namespace obs::otlp::testing;

namespace {

std::string request_with_span(const std::string& span_json) {
    return R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},)"
           R"("scopeSpans":[{"scope":{"name":"s"},"spans":[)" +
           span_json + "]}]}]}";
}

const std::string good_span =
    R"({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"",)"
    R"("name":"GET","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1700000000123000000",)"
    R"("endTimeUnixNano":1700000000456000000,"attributes":[)"
    R"({"key":"s","value":{"stringValue":"x"}},{"key":"i","value":{"intValue":"-42"}},)"
    R"({"key":"i2","value":{"intValue":7}},{"key":"d","value":{"doubleValue":1.5}},)"
    R"({"key":"inf","value":{"doubleValue":"Infinity"}},{"key":"b","value":{"boolValue":false}},)"
    R"({"key":"a","value":{"arrayValue":{"values":[{"stringValue":"p"},{"intValue":"1"}]}}},)"
    R"({"key":"kv","value":{"kvlistValue":{"values":[{"key":"n","value":{"boolValue":true}}]}}},)"
    R"({"key":"bytes","value":{"bytesValue":"AQL/"}},{"key":"empty","value":{}}],)"
    R"("events":[{"timeUnixNano":"1700000000200000000","name":"exception","attributes":[)"
    R"({"key":"exception.message","value":{"stringValue":"bad"}}]}],)"
    R"("status":{"code":"STATUS_CODE_ERROR","message":"boom"},"links":[],"flags":257,"futureField":{"x":1}})";

}  // namespace

BOOST_AUTO_TEST_SUITE(json_decoder_suite)

BOOST_AUTO_TEST_CASE(decodes_the_json_mapping_variants) {
    const auto r = otlp::decode_json(request_with_span(good_span));
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_value() ? "" : r.error().message));
    BOOST_TEST(r->span_count == 1u);
    const auto& s = r->resources.at(0).spans.at(0);
    BOOST_TEST(s.trace_id == "5b8efff798038103d269b633813fc60c");  // lower-cased
    BOOST_TEST(s.span_id == "eee19b7ec3c1b174");
    BOOST_TEST(s.parent_span_id.empty());
    BOOST_TEST(s.kind == 3);
    BOOST_TEST(s.start_time_unix_nano == 1700000000123000000ull);
    BOOST_TEST(s.end_time_unix_nano == 1700000000456000000ull);
    BOOST_TEST(boost::json::serialize(s.attributes) ==
               R"({"s":"x","i":-42,"i2":7,"d":1.5E0,"inf":"Infinity","b":false,"a":["p",1],"kv":{"n":true},)"
               R"("bytes":"AQL/","empty":null})");
    BOOST_TEST_REQUIRE(s.events.size() == 1u);
    BOOST_TEST(s.events[0].time_unix_nano == 1700000000200000000ull);
    BOOST_TEST(s.status == 2);
    BOOST_TEST(s.status_message == "boom");
}

BOOST_AUTO_TEST_CASE(snake_case_names_are_accepted) {
    const auto r = otlp::decode_json(
        R"({"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"5b8efff798038103d269b633813fc60c",)"
        R"("span_id":"eee19b7ec3c1b174","parent_span_id":"aaaaaaaaaaaaaaaa","start_time_unix_nano":5,"kind":2}]}]}]})");
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_value() ? "" : r.error().message));
    const auto& s = r->resources.at(0).spans.at(0);
    BOOST_TEST(s.span_id == "eee19b7ec3c1b174");
    BOOST_TEST(s.parent_span_id == "aaaaaaaaaaaaaaaa");
    BOOST_TEST(s.start_time_unix_nano == 5u);
    BOOST_TEST(s.kind == 2);
}

BOOST_AUTO_TEST_CASE(empty_requests_have_no_spans) {
    for (const char* body : {"{}", R"({"resourceSpans":[]})", R"({"resourceSpans":null})",
                             R"({"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]})"}) {
        BOOST_TEST_CONTEXT(body) {
            const auto r = otlp::decode_json(body);
            BOOST_TEST_REQUIRE(r.has_value());
            BOOST_TEST(r->span_count == 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(real_exporter_json_matches_its_protobuf_twin) {
    // The two fixtures are two runs of the same agent: same shape, other ids
    // and times. Each span's name, kind, status and attribute keys agree.
    const auto j = otlp::decode_json(read_fixture("agent_trace.json"));
    const auto p = otlp::decode_protobuf(read_fixture("agent_trace.pb"));
    BOOST_TEST_REQUIRE(j.has_value(), (j.has_value() ? "" : j.error().message));
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST_REQUIRE(j->span_count == 6u);
    BOOST_TEST(j->resources.at(0).spans.size() == p->resources.at(0).spans.size());
    BOOST_TEST(std::string(j->resources[0].spans[0].trace_id) ==
               std::string(fixture_ids("json").at("trace_id").as_string()));
    for (std::size_t i = 0; i < j->resources[0].spans.size(); ++i) {
        const auto& a = j->resources[0].spans[i];
        const auto& b = p->resources[0].spans[i];
        BOOST_TEST_CONTEXT(a.name) {
            BOOST_TEST(a.name == b.name);
            BOOST_TEST(a.kind == b.kind);
            BOOST_TEST(a.status == b.status);
            BOOST_TEST(a.events.size() == b.events.size());
            BOOST_TEST(a.attributes.size() == b.attributes.size());
            for (const auto& kv : a.attributes) BOOST_TEST(b.attributes.contains(kv.key()), kv.key());
            BOOST_TEST(a.parent_span_id.empty() == b.parent_span_id.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(hostile_bodies_are_refused_with_a_path) {
    std::string deep = R"({"stringValue":"leaf"})";
    for (std::size_t i = 0; i < otlp::max_value_depth + 1; ++i) deep = R"({"arrayValue":{"values":[)" + deep + "]}}";
    std::string many = R"({"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[)";
    for (int i = 0; i < 10000; ++i)
        many += (i ? "," : "") + std::string(R"({"key":"k)") + std::to_string(i) + R"(","value":{"intValue":1}})";
    many += "]}";
    struct bad_case {
        std::string name;
        std::string body;
        std::string error;
    };
    const std::vector<bad_case> cases = {
        {"not JSON", "{\"resourceSpans\":[", "not OTLP JSON"},
        {"truncated", request_with_span(good_span).substr(0, 100), "not OTLP JSON"},
        {"text after the value", "{} x", "not OTLP JSON"},
        {"invalid UTF-8", "{\"resourceSpans\":[],\"k\":\"\xc3\x28\"}", "not OTLP JSON"},
        {"array at the top", "[]", "body: must be a JSON object"},
        {"resourceSpans an object", R"({"resourceSpans":{}})", "resourceSpans: must be an array"},
        {"spans a number", R"({"resourceSpans":[{"scopeSpans":[{"spans":5}]}]})",
         "resourceSpans[0].scopeSpans[0].spans: must be an array"},
        {"span a string", R"({"resourceSpans":[{"scopeSpans":[{"spans":["x"]}]}]})",
         "resourceSpans[0].scopeSpans[0].spans[0]: must be an object"},
        {"traceId a number", request_with_span(R"({"traceId":5})"), "spans[0].traceId: must be a string"},
        {"kind a float", request_with_span(R"({"kind":1.5})"), "spans[0].kind: must be an integer or an enum name"},
        {"kind unknown name", request_with_span(R"({"kind":"CLIENT"})"), "spans[0].kind: unknown enum name"},
        {"start time negative", request_with_span(R"({"startTimeUnixNano":-1})"), "startTimeUnixNano: must not be"},
        {"start time not digits", request_with_span(R"({"startTimeUnixNano":"12x"})"), "startTimeUnixNano: must be"},
        {"intValue not digits", request_with_span(R"({"attributes":[{"key":"k","value":{"intValue":"1.5"}}]})"),
         "attributes[0].value.intValue: must be a 64-bit integer"},
        {"intValue too big", request_with_span(R"({"attributes":[{"key":"k","value":{"intValue":18446744073709551615}}]})"),
         "out of the int64 range"},
        {"stringValue a number", request_with_span(R"({"attributes":[{"key":"k","value":{"stringValue":1}}]})"),
         "stringValue: must be a string"},
        {"bytesValue not base64", request_with_span(R"({"attributes":[{"key":"k","value":{"bytesValue":"a b"}}]})"),
         "bytesValue: must be a base64 string"},
        {"attribute not an object", request_with_span(R"({"attributes":[7]})"), "attributes[0]: must be an object"},
        {"value not an object", request_with_span(R"({"attributes":[{"key":"k","value":3}]})"),
         "attributes[0].value: must be an object (AnyValue)"},
        {"status a string", request_with_span(R"({"status":"ERROR"})"), "spans[0].status: must be an object"},
        {"nested too deep", request_with_span(R"({"attributes":[{"key":"k","value":)" + deep + "}]}"),
         "nested deeper than 16"},
        {"10,000 attributes", request_with_span(many), "more than 1024 attributes"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            const auto r = otlp::decode_json(c.body);
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().message.find(c.error) != std::string::npos, r.error().message);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
