// Tests of server/otlp/otlp: content types, the whole decode_and_map path
// over both real exporter bodies, and the ExportTraceServiceResponse in both
// encodings (the protobuf one read back with the wire reader).
#include "server/otlp/otlp.hpp"

#include "server/otlp/wire_reader.hpp"
#include "tests/otlp/fixtures.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace otlp = obs::otlp;
namespace wire = obs::otlp::wire;
using namespace obs::otlp::testing;

BOOST_AUTO_TEST_SUITE(otlp_suite)

BOOST_AUTO_TEST_CASE(content_types_name_an_encoding) {
    struct type_case {
        std::string content_type;
        std::optional<otlp::encoding> want;
    };
    const std::vector<type_case> cases = {
        {"application/json", otlp::encoding::json},
        {"application/json; charset=utf-8", otlp::encoding::json},
        {"Application/JSON", otlp::encoding::json},
        {"application/x-protobuf", otlp::encoding::protobuf},
        {" application/x-protobuf ;x=y", otlp::encoding::protobuf},
        {"application/protobuf", std::nullopt},
        {"text/plain", std::nullopt},
        {"", std::nullopt},
        {"application/jsonx", std::nullopt},
    };
    for (const auto& c : cases)
        BOOST_TEST_CONTEXT(c.content_type) { BOOST_TEST((otlp::encoding_of(c.content_type) == c.want)); }
    BOOST_TEST(otlp::content_type_of(otlp::encoding::json) == "application/json");
    BOOST_TEST(otlp::content_type_of(otlp::encoding::protobuf) == "application/x-protobuf");
}

BOOST_AUTO_TEST_CASE(decode_and_map_takes_both_real_bodies) {
    const auto j = otlp::decode_and_map(read_fixture("agent_trace.json"), otlp::encoding::json, 1);
    const auto p = otlp::decode_and_map(read_fixture("agent_trace.pb"), otlp::encoding::protobuf, 1);
    BOOST_TEST_REQUIRE(j.has_value());
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(j->events.size() == 10u);
    BOOST_TEST(p->events.size() == 10u);
    // The wrong decoder for a body is an undecodable body, not a crash.
    BOOST_TEST(!otlp::decode_and_map(read_fixture("agent_trace.pb"), otlp::encoding::json, 1).has_value());
    BOOST_TEST(!otlp::decode_and_map(read_fixture("agent_trace.json"), otlp::encoding::protobuf, 1).has_value());
}

BOOST_AUTO_TEST_CASE(full_success_is_an_empty_response) {
    const otlp::export_result ok;
    BOOST_TEST(otlp::encode_response(ok, otlp::encoding::json) == "{}");
    BOOST_TEST(otlp::encode_response(ok, otlp::encoding::protobuf).empty());
}

BOOST_AUTO_TEST_CASE(partial_success_in_both_encodings) {
    otlp::export_result partial;
    partial.rejected_spans = 300;
    partial.error_message = "span 2 (\"x\"): trace id is not 32 hex digits";
    const auto text = otlp::encode_response(partial, otlp::encoding::json);
    const auto parsed = boost::json::parse(text).as_object();
    BOOST_TEST(parsed.at("partialSuccess").at("rejectedSpans").as_string() == "300");
    BOOST_TEST(parsed.at("partialSuccess").at("errorMessage").as_string() == partial.error_message);

    const auto bytes = otlp::encode_response(partial, otlp::encoding::protobuf);
    wire::reader outer(bytes);
    wire::field f;
    BOOST_TEST_REQUIRE(outer.next(f));
    BOOST_TEST(f.number == 1u);  // partial_success
    wire::reader inner(f.bytes);
    wire::field g;
    BOOST_TEST_REQUIRE(inner.next(g));
    BOOST_TEST(g.number == 1u);  // rejected_spans
    BOOST_TEST(g.integer == 300u);
    BOOST_TEST_REQUIRE(inner.next(g));
    BOOST_TEST(g.number == 2u);  // error_message
    BOOST_TEST(std::string(g.bytes) == partial.error_message);
    BOOST_TEST(!inner.next(g));
    BOOST_TEST(!outer.next(f));
}

BOOST_AUTO_TEST_SUITE_END()
