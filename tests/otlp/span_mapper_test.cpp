// Tests of server/otlp/span_mapper: the agent trace the real OpenTelemetry
// JS exporters sent (both fixtures) becomes the run, steps, tree, tokens and
// error docs/otlp.md promises; then one case per row of the mapping table
// (nested agents, conversation ids, OpenInference kinds, plain root spans,
// status-only errors), determinism, and the spans that are rejected while
// the rest go on.
#include "server/otlp/span_mapper.hpp"

#include "server/otlp/json_decoder.hpp"
#include "server/otlp/protobuf_decoder.hpp"
#include "tests/otlp/fixtures.hpp"
#include "tests/otlp/span_builder.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

namespace otlp = obs::otlp;
namespace json = boost::json;
using namespace obs::otlp::testing;

namespace {

constexpr std::int64_t now = 1'800'000'000'000;
const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";

otlp::span make_span(std::string span_id, std::string parent, std::string name, json::object attributes,
                     int status = 0) {
    const span_times times{1'700'000'000'000'000'000ull, 1'700'000'000'250'000'000ull};
    return test_span(trace, std::move(span_id), std::move(parent), std::move(name), 1, times, std::move(attributes),
                     status);
}

otlp::trace_request request_of(std::vector<otlp::span> spans) {
    otlp::trace_request r;
    r.resources.emplace_back();
    r.resources[0].resource = json::object{{"service.name", "svc"}};
    r.resources[0].spans = std::move(spans);
    r.span_count = r.resources[0].spans.size();
    return r;
}

// The events by id, with their payload parsed.
struct mapped_event {
    std::string type, run_id;
    std::optional<std::string> parent_id, node;
    json::object payload;
    std::int64_t ts_ms;
};
std::map<std::string, mapped_event> by_id(const otlp::export_result& r) {
    std::map<std::string, mapped_event> out;
    for (const auto& e : r.events)
        out[e.id] = {std::string(obs::domain::to_string(e.type)), e.run_id, e.parent_id, e.node,
                     json::parse(e.payload_json).as_object(), e.ts_ms};
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(span_mapper_suite)

BOOST_AUTO_TEST_CASE(real_exporter_agent_trace_maps_onto_a_run) {
    for (const std::string protocol : {"json", "proto"}) {
        BOOST_TEST_CONTEXT(protocol) {
            const auto decoded = protocol == "json" ? otlp::decode_json(read_fixture("agent_trace.json"))
                                                    : otlp::decode_protobuf(read_fixture("agent_trace.pb"));
            BOOST_TEST_REQUIRE(decoded.has_value());
            const auto result = otlp::map_spans(*decoded, now);
            BOOST_TEST(result.rejected_spans == 0);
            BOOST_TEST(result.error_message.empty(), result.error_message);
            BOOST_TEST(result.accepted_spans == 6u);
            BOOST_TEST(result.events.size() == 10u);
            const auto ids = fixture_ids(protocol);
            const std::string t(ids.at("trace_id").as_string());
            const auto& sp = ids.at("spans").as_object();
            const auto id = [&](const char* span) { return "otel-" + t + "-" + std::string(sp.at(span).as_string()); };
            const std::string run = "otel-" + t;
            const auto events = by_id(result);
            for (const auto& [event_id, e] : events) {
                BOOST_TEST(e.run_id == run, event_id);
                BOOST_TEST(e.node.value_or("") == "worker-7", event_id);
            }
            const auto& start = events.at(id("root"));
            BOOST_TEST(start.type == "run_started");
            BOOST_TEST(start.payload.at("name").as_string() == "research-agent");
            BOOST_TEST(start.payload.at("agent").as_string() == "research-agent");
            BOOST_TEST(!start.parent_id.has_value());
            const auto& finish = events.at(id("root") + "-end");
            BOOST_TEST(finish.type == "run_finished");
            BOOST_TEST(finish.payload.at("status").as_string() == "succeeded");
            std::int64_t input = 0, output = 0;
            for (const char* chat : {"chat1", "chat2"}) {
                const auto& llm = events.at(id(chat));
                BOOST_TEST(llm.type == "llm_call");
                BOOST_TEST(llm.parent_id.value_or("") == id("root"));
                BOOST_TEST(llm.payload.at("model").as_string() == "gpt-4o-2024-08-06");
                BOOST_TEST(llm.payload.at("provider").as_string() == "openai");
                BOOST_TEST(llm.payload.at("prompt").is_array());
                input += llm.payload.at("input_tokens").as_int64();
                output += llm.payload.at("output_tokens").as_int64();
            }
            BOOST_TEST(input == 320);
            BOOST_TEST(output == 80);
            const auto& call = events.at(id("search"));
            BOOST_TEST(call.type == "tool_call");
            BOOST_TEST(json::serialize(call.payload) ==
                       R"({"tool":"web_search","call_id":"call_1","arguments":{"q":"gear ratio 40/16"}})");
            const auto& result_event = events.at(id("search") + "-result");
            BOOST_TEST(result_event.type == "tool_result");
            BOOST_TEST(result_event.parent_id.value_or("") == id("search"));
            BOOST_TEST(json::serialize(result_event.payload.at("output")) == R"({"hits":3})");
            BOOST_TEST(result_event.payload.at("is_error").as_bool() == false);
            const auto& http = events.at(id("http"));
            BOOST_TEST(http.type == "span");
            BOOST_TEST(http.parent_id.value_or("") == id("search"));
            BOOST_TEST(http.payload.at("name").as_string() == "GET");
            BOOST_TEST(http.payload.at("kind").as_string() == "client");
            BOOST_TEST(http.payload.at("status").as_string() == "unset");
            BOOST_TEST(http.payload.at("attributes").at("http.response.status_code").as_int64() == 200);
            BOOST_TEST(json::serialize(http.payload.at("attributes").at("http.flags")) == R"(["a","b"])");
            const auto& failed = events.at(id("fetch") + "-result");
            BOOST_TEST(failed.payload.at("is_error").as_bool() == true);
            BOOST_TEST(failed.payload.at("call_id").as_string() == "call_2");
            const auto& error = events.at(id("fetch") + "-exception-0");
            BOOST_TEST(error.type == "error");
            BOOST_TEST(error.parent_id.value_or("") == id("fetch"));
            BOOST_TEST(error.payload.at("kind").as_string() == "Error");
            BOOST_TEST(error.payload.at("message").as_string() == "upstream unavailable");
            BOOST_TEST(error.payload.at("stack").as_string().find("otel_agent.cjs") != json::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(mapping_is_deterministic) {
    const auto decoded = otlp::decode_protobuf(read_fixture("agent_trace.pb"));
    BOOST_TEST_REQUIRE(decoded.has_value());
    const auto a = otlp::map_spans(*decoded, now);
    const auto b = otlp::map_spans(*decoded, now + 5000);  // a retry, received later
    BOOST_TEST_REQUIRE(a.events.size() == b.events.size());
    for (std::size_t i = 0; i < a.events.size(); ++i) {
        BOOST_TEST_CONTEXT(a.events[i].id) {
            BOOST_TEST(a.events[i].id == b.events[i].id);
            BOOST_TEST(a.events[i].id_given);
            BOOST_TEST(a.events[i].payload_json == b.events[i].payload_json);
            BOOST_TEST(a.events[i].ts_ms == b.events[i].ts_ms);
            BOOST_TEST(a.events[i].ts_given);
        }
    }
}

BOOST_AUTO_TEST_CASE(nested_agent_is_a_child_run) {
    const auto result = otlp::map_spans(
        request_of({make_span("00000000000000a2", "00000000000000a1", "invoke_agent helper",
                              {{"gen_ai.operation.name", "invoke_agent"}, {"gen_ai.agent.name", "helper"}}, 2),
                    make_span("00000000000000a3", "00000000000000a2", "chat m",
                              {{"gen_ai.operation.name", "chat"}, {"gen_ai.request.model", "m"}})}),
        now);
    BOOST_TEST(result.rejected_spans == 0, result.error_message);
    const auto events = by_id(result);
    const std::string run = "otel-" + trace, prefix = "otel-" + trace + "-";
    const auto& step = events.at(prefix + "00000000000000a2");
    BOOST_TEST(step.type == "span");
    BOOST_TEST(step.run_id == run);
    BOOST_TEST(step.parent_id.value_or("") == prefix + "00000000000000a1");
    const auto& child_start = events.at(prefix + "00000000000000a2-run");
    BOOST_TEST(child_start.type == "run_started");
    BOOST_TEST(child_start.run_id == prefix + "00000000000000a2");
    BOOST_TEST(child_start.payload.at("parent_run_id").as_string() == run);
    BOOST_TEST(child_start.payload.at("agent").as_string() == "helper");
    const auto& child_end = events.at(prefix + "00000000000000a2-end");
    BOOST_TEST(child_end.run_id == prefix + "00000000000000a2");
    BOOST_TEST(child_end.payload.at("status").as_string() == "failed");
    const auto& error = events.at(prefix + "00000000000000a2-error");  // status ERROR, no exception event
    BOOST_TEST(error.type == "error");
    BOOST_TEST(error.run_id == run);
    const auto& llm = events.at(prefix + "00000000000000a3");
    BOOST_TEST(llm.run_id == run);  // steps stay in the trace's run, under the agent's step
    BOOST_TEST(llm.parent_id.value_or("") == prefix + "00000000000000a2");
    BOOST_TEST(llm.payload.at("model").as_string() == "m");
    BOOST_TEST(llm.payload.at("latency_ms").as_int64() == 250);
}

BOOST_AUTO_TEST_CASE(conversation_id_names_the_run_of_its_trace) {
    const auto result = otlp::map_spans(
        request_of({make_span("00000000000000b2", "00000000000000b1", "GET", {}),
                    make_span("00000000000000b1", "", "invoke_agent a",
                              {{"gen_ai.operation.name", "invoke_agent"}, {"gen_ai.conversation.id", "conv-77"}})}),
        now);
    BOOST_TEST_REQUIRE(result.events.size() == 3u);
    for (const auto& e : result.events) BOOST_TEST(e.run_id == "conv-77", e.id);
    const auto started = by_id(result).at("otel-" + trace + "-00000000000000b1");
    BOOST_TEST(started.payload.at("agent").as_string() == "svc");  // no agent name: the service
    BOOST_TEST(started.payload.at("metadata").at("gen_ai.conversation.id").as_string() == "conv-77");
}

BOOST_AUTO_TEST_CASE(openinference_kinds_map_like_gen_ai) {
    const auto result = otlp::map_spans(
        request_of({make_span("00000000000000c1", "", "chain",
                              {{"openinference.span.kind", "CHAIN"}, {"input.value", "q"}}),
                    make_span("00000000000000c2", "00000000000000c1", "llm",
                              {{"openinference.span.kind", "LLM"}, {"llm.model_name", "claude"},
                               {"llm.provider", "anthropic"}, {"llm.token_count.prompt", 11},
                               {"llm.token_count.completion", "4"}, {"input.value", "hi"},
                               {"output.value", "hello"}}),
                    make_span("00000000000000c3", "00000000000000c1", "tool",
                              {{"openinference.span.kind", "TOOL"}, {"tool.name", "calc"},
                               {"tool.parameters", R"({"x":1})"}, {"output.value", "2"}}),
                    make_span("00000000000000c4", "00000000000000c1", "retrieve",
                              {{"openinference.span.kind", "RETRIEVER"}})}),
        now);
    BOOST_TEST(result.rejected_spans == 0, result.error_message);
    const auto events = by_id(result);
    const std::string prefix = "otel-" + trace + "-";
    BOOST_TEST(events.at(prefix + "00000000000000c1-run").type == "run_started");
    BOOST_TEST(events.at(prefix + "00000000000000c1").type == "span");
    BOOST_TEST(events.at(prefix + "00000000000000c1-end").type == "run_finished");
    BOOST_TEST(json::serialize(events.at(prefix + "00000000000000c2").payload) ==
               R"({"model":"claude","provider":"anthropic","input_tokens":11,"output_tokens":4,"latency_ms":250,)"
               R"("prompt":"hi","completion":"hello"})");
    BOOST_TEST(json::serialize(events.at(prefix + "00000000000000c3").payload) ==
               R"({"tool":"calc","call_id":"00000000000000c3","arguments":{"x":1}})");
    BOOST_TEST(events.at(prefix + "00000000000000c3-result").payload.at("output").as_int64() == 2);
    BOOST_TEST(events.at(prefix + "00000000000000c4").type == "span");
}

// Arguments and results are JSON when they parse, else text; a text that
// does not parse leaves nothing behind for the next one (the parser is
// reused from span to span).
BOOST_AUTO_TEST_CASE(json_texts_parse_or_stay_text_span_after_span) {
    std::vector<otlp::span> spans;
    const std::vector<std::pair<std::string, std::string>> texts = {
        {R"({"q":"a")", R"({"input":"{\"q\":\"a\""})"},  // cut short: kept as text
        {R"({"q":"b","k":[1,true]})", R"({"q":"b","k":[1,true]})"},
        {"[1,", R"({"input":"[1,"})"},
        {"7", R"({"input":7})"},
        {R"({"nested":{"x":null}} trailing)", R"({"input":"{\"nested\":{\"x\":null}} trailing"})"},
        {R"({"nested":{"x":null}})", R"({"nested":{"x":null}})"},
    };
    for (std::size_t i = 0; i < texts.size(); ++i)
        spans.push_back(make_span("00000000000000a" + std::to_string(i), "", "tool",
                                  {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.name", "t"},
                                   {"gen_ai.tool.call.arguments", texts[i].first}}));
    const auto result = otlp::map_spans(request_of(std::move(spans)), now);
    BOOST_TEST(result.rejected_spans == 0, result.error_message);
    const auto events = by_id(result);
    for (std::size_t i = 0; i < texts.size(); ++i)
        BOOST_TEST(json::serialize(events.at("otel-" + trace + "-00000000000000a" + std::to_string(i))
                                       .payload.at("arguments")) == texts[i].second,
                   texts[i].first);
}

BOOST_AUTO_TEST_CASE(bad_spans_are_rejected_and_the_rest_go_on) {
    std::vector<otlp::span> spans;
    const auto with_ids = [](std::string t, std::string s, std::string p) {
        auto span = make_span(std::move(s), std::move(p), "x", {});
        span.trace_id = std::move(t);
        return span;
    };
    spans.push_back(with_ids(trace, "00000000000000d1", "00000000000000d0"));  // good
    spans.push_back(with_ids("xyz", "00000000000000d2", ""));
    spans.push_back(with_ids(std::string(32, '0'), "00000000000000d3", ""));
    spans.push_back(with_ids(trace, "00000000000000d", ""));
    spans.push_back(with_ids(trace, "0000000000000000", ""));
    spans.push_back(with_ids(trace, "00000000000000d6", "zz"));
    spans.push_back(with_ids(trace + "00", "00000000000000d7", ""));  // longer than any id: kept as too long
    spans.push_back(with_ids(trace, "00000000000000d1", "00000000000000d0"));  // a repeat: mapped once
    const auto result = otlp::map_spans(request_of(std::move(spans)), now);
    BOOST_TEST(result.accepted_spans == 1u);
    BOOST_TEST(result.rejected_spans == 6);
    BOOST_TEST(result.events.size() == 1u);
    BOOST_TEST(result.error_message.find("span 1 (00000000000000d2): trace id is not 32 hex digits") !=
                   std::string::npos,
               result.error_message);
    BOOST_TEST(result.error_message.find("; ...") != std::string::npos);  // capped at three messages
}

BOOST_AUTO_TEST_CASE(a_span_breaking_a_payload_rule_is_rejected_whole) {
    const auto result = otlp::map_spans(
        request_of({make_span("00000000000000e1", "", "llm",
                              {{"gen_ai.operation.name", "chat"},
                               {"gen_ai.request.model", std::string(1024 * 1024 + 1, 'm')}})}),
        now);
    BOOST_TEST(result.rejected_spans == 1);
    BOOST_TEST(result.events.empty());  // not even its run_started
    BOOST_TEST(result.error_message.find("span 0 (00000000000000e1): payload.model must be at most") !=
                   std::string::npos,
               result.error_message);
}

BOOST_AUTO_TEST_CASE(plain_root_span_opens_and_closes_its_run) {
    auto root = make_span("00000000000000f1", "", "POST /ask", {{"http.route", "/ask"}}, 2);
    root.status_message = "upstream timeout";
    root.kind = 2;
    root.start_time_unix_nano = 0;  // unset: the receive time
    const auto result = otlp::map_spans(request_of({root}), now);
    const auto events = by_id(result);
    const std::string id = "otel-" + trace + "-00000000000000f1";
    BOOST_TEST_REQUIRE(result.events.size() == 4u);
    BOOST_TEST(events.at(id + "-run").type == "run_started");
    BOOST_TEST(events.at(id + "-run").payload.at("name").as_string() == "POST /ask");
    BOOST_TEST(events.at(id + "-run").ts_ms == now);
    BOOST_TEST(json::serialize(events.at(id).payload) ==
               R"({"name":"POST /ask","kind":"server","status":"error","duration_ms":0,"attributes":{"http.route":"/ask"}})");
    BOOST_TEST(events.at(id + "-error").payload.at("message").as_string() == "upstream timeout");
    BOOST_TEST(events.at(id + "-end").payload.at("status").as_string() == "failed");
    BOOST_TEST(events.at(id + "-end").payload.at("summary").as_string() == "upstream timeout");
}

BOOST_AUTO_TEST_SUITE_END()
