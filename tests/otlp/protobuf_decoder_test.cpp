// Tests of server/otlp/protobuf_decoder: a request with every field the
// mapping reads, unknown fields at every level, the body the real
// OpenTelemetry JS protobuf exporter sent (fixtures/agent_trace.pb), and a
// table of hostile bodies (truncated, wrong wire types, deep nesting, too
// many attributes or spans, invalid UTF-8) that must be refused with a
// message naming the problem.
#include "server/otlp/protobuf_decoder.hpp"

#include "server/otlp/wire_reader.hpp"
#include "tests/otlp/fixtures.hpp"
#include "tests/otlp/otlp_builder.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace otlp = obs::otlp;
namespace wire = obs::otlp::wire;
using namespace obs::otlp::testing;
using namespace std::string_literals;

namespace {

const std::string trace = "0af7651916cd43dd8448eb211c80319c";

span_spec full_span() {
    span_spec s;
    s.trace_id = trace;
    s.span_id = "b7ad6b7169203331";
    s.parent_span_id = "00f067aa0ba902b7";
    s.name = "chat gpt-4o";
    s.kind = 3;
    s.start_ns = 1'700'000'000'123'000'000ull;
    s.end_ns = 1'700'000'000'456'000'000ull;
    s.attributes = {kv_string("gen_ai.operation.name", "chat"), kv_int("gen_ai.usage.input_tokens", 12),
                    kv_double("temperature", 0.5), kv_bool("stream", true),
                    kv_any("tags", any_array({any_string("a"), any_string("b")})),
                    kv_any("nested", any_kvlist({kv_int("n", -3)})), kv_double("nan", std::numeric_limits<double>::quiet_NaN())};
    std::string bytes_any;
    wire::append_bytes_field(bytes_any, 7, "\x01\x02\xff"s);
    s.attributes.push_back(kv_any("raw", bytes_any));
    s.events = {encode_event(1'700'000'000'200'000'000ull, "exception",
                             {kv_string("exception.type", "ValueError"), kv_string("exception.message", "bad")})};
    s.status = 2;
    s.status_message = "boom";
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(protobuf_decoder_suite)

BOOST_AUTO_TEST_CASE(decodes_every_field_the_mapping_reads) {
    const auto body = encode_request({kv_string("service.name", "svc")}, {encode_span(full_span())});
    const auto r = otlp::decode_protobuf(body);
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_value() ? "" : r.error().message));
    BOOST_TEST_REQUIRE(r->resources.size() == 1u);
    BOOST_TEST(r->span_count == 1u);
    BOOST_TEST(boost::json::serialize(r->resources[0].resource) == R"({"service.name":"svc"})");
    const auto& s = r->resources[0].spans.at(0);
    BOOST_TEST(s.trace_id == trace);
    BOOST_TEST(s.span_id == "b7ad6b7169203331");
    BOOST_TEST(s.parent_span_id == "00f067aa0ba902b7");
    BOOST_TEST(s.name == "chat gpt-4o");
    BOOST_TEST(s.kind == 3);
    BOOST_TEST(s.start_time_unix_nano == 1'700'000'000'123'000'000ull);
    BOOST_TEST(s.end_time_unix_nano == 1'700'000'000'456'000'000ull);
    BOOST_TEST(boost::json::serialize(s.attributes) ==
               R"({"gen_ai.operation.name":"chat","gen_ai.usage.input_tokens":12,"temperature":5E-1,"stream":true,)"
               R"("tags":["a","b"],"nested":{"n":-3},"nan":"NaN","raw":"AQL/"})");
    BOOST_TEST_REQUIRE(s.events.size() == 1u);
    BOOST_TEST(s.events[0].name == "exception");
    BOOST_TEST(s.events[0].time_unix_nano == 1'700'000'000'200'000'000ull);
    BOOST_TEST(boost::json::serialize(s.events[0].attributes) ==
               R"({"exception.type":"ValueError","exception.message":"bad"})");
    BOOST_TEST(s.status == 2);
    BOOST_TEST(s.status_message == "boom");
}

// Ids are held in the span as hex text; bytes of any other length decode
// too (the mapper rejects the span), one longer than any id as "too long".
BOOST_AUTO_TEST_CASE(ids_of_every_length_decode_as_hex_text) {
    for (const std::size_t bytes : {0u, 1u, 8u, 15u, 16u, 17u, 64u}) {
        span_spec s = full_span();
        s.trace_id.clear();
        for (std::size_t i = 0; i < bytes; ++i) s.trace_id += i % 2 == 0 ? "a5" : "0F";
        const auto r = otlp::decode_protobuf(encode_request({}, {encode_span(s)}));
        BOOST_TEST_REQUIRE(r.has_value());
        const auto& id = r->resources.at(0).spans.at(0).trace_id;
        BOOST_TEST_CONTEXT(bytes << " bytes") {
            BOOST_TEST(id.too_long() == (bytes > 16));
            BOOST_TEST(id.size() == (bytes > 16 ? 33u : 2 * bytes));
            if (bytes <= 16) BOOST_TEST(id == otlp::id_text(s.trace_id));  // lower-cased as JSON ids are
            if (bytes <= 16) BOOST_TEST(id.view().find_first_of("ABCDEF") == std::string_view::npos);
            if (bytes > 16) BOOST_TEST(id.view().empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_skipped_at_every_level) {
    // Unknown fields of each wire type, a group included, appended to every
    // message: the result must equal the plain request's.
    std::string junk;
    wire::append_tag(junk, 99, wire::wire_type::varint);
    wire::append_varint(junk, 5);
    wire::append_bytes_field(junk, 100, "xyz");
    wire::append_fixed64_field(junk, 101, 7);
    wire::append_tag(junk, 102, wire::wire_type::fixed32);
    junk += "\x01\x02\x03\x04"s;
    junk += "\xb3\x06\x08\x01\xb4\x06"s;  // group 102 { field 1 = 1 }
    auto s = full_span();
    auto with_junk = s;
    for (auto& a : with_junk.attributes) a += junk;
    for (auto& e : with_junk.events) e += junk;
    const std::string plain = encode_request({kv_string("service.name", "svc")}, {encode_span(s)});
    const std::string noisy = encode_request({kv_string("service.name", "svc") + junk}, {encode_span(with_junk) + junk}) + junk;
    const auto a = otlp::decode_protobuf(plain);
    const auto b = otlp::decode_protobuf(noisy);
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST_REQUIRE(b.has_value(), (b.has_value() ? "" : b.error().message));
    const auto& sa = a->resources[0].spans[0];
    const auto& sb = b->resources[0].spans[0];
    BOOST_TEST(boost::json::serialize(sa.attributes) == boost::json::serialize(sb.attributes));
    BOOST_TEST(boost::json::serialize(sa.events[0].attributes) == boost::json::serialize(sb.events[0].attributes));
    BOOST_TEST(sa.name == sb.name);
    BOOST_TEST(sa.status_message == sb.status_message);
}

BOOST_AUTO_TEST_CASE(empty_request_has_no_spans) {
    const auto r = otlp::decode_protobuf("");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->span_count == 0u);
    BOOST_TEST(r->resources.empty());
}

BOOST_AUTO_TEST_CASE(real_exporter_body_decodes) {
    const auto body = read_fixture("agent_trace.pb");
    const auto r = otlp::decode_protobuf(body);
    BOOST_TEST_REQUIRE(r.has_value(), (r.has_value() ? "" : r.error().message));
    BOOST_TEST(r->span_count == 6u);
    const auto ids = fixture_ids("proto");
    BOOST_TEST(r->resources.at(0).resource.at("service.name").as_string() == "research-agent-svc");
    std::size_t roots = 0;
    for (const auto& s : r->resources[0].spans) {
        BOOST_TEST(s.trace_id == std::string(ids.at("trace_id").as_string()));
        if (s.parent_span_id.empty()) ++roots;
    }
    BOOST_TEST(roots == 1u);
}

BOOST_AUTO_TEST_CASE(every_truncation_of_a_real_body_is_refused_or_shorter) {
    // Cutting a body anywhere either fails cleanly or (at a field boundary of
    // the top message) decodes fewer spans; it never reads past the input.
    const auto body = read_fixture("agent_trace.pb");
    std::size_t refused = 0;
    for (std::size_t n = 0; n < body.size(); ++n) {
        const auto r = otlp::decode_protobuf(std::string_view(body).substr(0, n));
        if (!r) ++refused;
        else BOOST_TEST(r->span_count < 6u);
    }
    BOOST_TEST(refused > body.size() * 9 / 10);
}

BOOST_AUTO_TEST_CASE(hostile_bodies_are_refused_with_a_reason) {
    const auto request_of_span = [](const std::string& span_bytes) { return encode_request({}, {span_bytes}); };
    const auto wrong = [&](std::uint32_t number, wire::wire_type type) {
        std::string span_bytes = encode_span(full_span());
        wire::append_tag(span_bytes, number, type);
        if (type == wire::wire_type::varint) wire::append_varint(span_bytes, 1);
        if (type == wire::wire_type::fixed64) span_bytes += std::string(8, '\0');
        if (type == wire::wire_type::fixed32) span_bytes += std::string(4, '\0');
        if (type == wire::wire_type::length_delimited) wire::append_varint(span_bytes, 0);
        return request_of_span(span_bytes);
    };
    std::string deep = any_string("leaf");
    for (std::size_t i = 0; i < otlp::max_value_depth + 1; ++i) deep = any_array({deep});
    span_spec many = full_span();
    many.attributes.clear();
    for (int i = 0; i < 10000; ++i) many.attributes.push_back(kv_int("k" + std::to_string(i), i));
    std::vector<std::string> spans(otlp::max_spans_per_request + 1, encode_span(full_span()));
    span_spec bad_utf8 = full_span();
    bad_utf8.name = "\xc3\x28"s;
    std::string top_wrong;
    wire::append_tag(top_wrong, 1, wire::wire_type::varint);
    wire::append_varint(top_wrong, 3);
    struct bad_case {
        std::string name;
        std::string body;
        std::string error;
    };
    const std::vector<bad_case> cases = {
        {"truncated", encode_request({}, {encode_span(full_span())}).substr(0, 40), "past the end"},
        {"resource_spans as varint", top_wrong, "ExportTraceServiceRequest.resource_spans: wrong wire type"},
        {"name as varint", wrong(5, wire::wire_type::varint), "Span.name: wrong wire type"},
        {"trace_id as fixed64", wrong(1, wire::wire_type::fixed64), "Span.trace_id: wrong wire type"},
        {"kind as bytes", wrong(6, wire::wire_type::length_delimited), "Span.kind: wrong wire type"},
        {"start time as varint", wrong(7, wire::wire_type::varint), "Span.start_time_unix_nano: wrong wire type"},
        {"end time as fixed32", wrong(8, wire::wire_type::fixed32), "Span.end_time_unix_nano: wrong wire type"},
        {"attributes as varint", wrong(9, wire::wire_type::varint), "Span.attributes: wrong wire type"},
        {"events as fixed64", wrong(11, wire::wire_type::fixed64), "Span.events: wrong wire type"},
        {"status as varint", wrong(15, wire::wire_type::varint), "Span.status: wrong wire type"},
        {"nested too deep", request_of_span(encode_span([&] {
             auto s = full_span();
             s.attributes = {kv_any("deep", deep)};
             return s;
         }())),
         "nested deeper than 16"},
        {"10,000 attributes", request_of_span(encode_span(many)), "more than 1024 attributes"},
        {"too many spans", encode_request({}, spans), "more than 8192 spans"},
        {"name not UTF-8", request_of_span(encode_span(bad_utf8)), "Span.name: not valid UTF-8"},
        {"garbage", "\xff\xff\xff"s, "ExportTraceServiceRequest"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            const auto r = otlp::decode_protobuf(c.body);
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().message.find(c.error) != std::string::npos, r.error().message);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
