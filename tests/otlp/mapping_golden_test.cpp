// The mapping's exact output on a corpus, against a golden file: every field
// of every event (id, run, type, times, node, parent, the payload text byte
// for byte, the run facts, whether it has a ts) and every rejection message, for
// the real exporters' fixtures and a table of hand-built spans that walks
// every row of the mapping and every rule a mapped event can break (a text
// over 1 MiB, a number JSON cannot carry, a time past 9999, bad ids,
// escapes, UTF-8 clipping). fixtures/mapping_golden.txt was written by the
// mapping as it was before its payloads were written as text directly
// (commit 58f4e6e, which built JSON trees and ran each event through
// domain::decode_event), so this test holds the faster mapping to the same
// output. After a deliberate change of the mapping, rewrite the file with
// OBS_OTLP_WRITE_GOLDEN=<path> and review the diff.
#include "server/otlp/json_decoder.hpp"
#include "server/otlp/protobuf_decoder.hpp"
#include "server/otlp/span_mapper.hpp"
#include "domain/validation.hpp"
#include "tests/otlp/fixtures.hpp"
#include "tests/otlp/span_builder.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace otlp = obs::otlp;
namespace json = boost::json;
using namespace obs::otlp::testing;

namespace {

constexpr std::int64_t now = 1'800'000'000'000;
const std::string trace = "0af7651916cd43dd8448eb211c80319c";

otlp::span make_span(std::string span_id, std::string parent, std::string name, json::object attributes,
                     int status = 0, std::string status_message = "") {
    const span_times times{1'700'000'000'123'456'789ull, 1'700'000'001'987'654'321ull};
    return test_span(trace, std::move(span_id), std::move(parent), std::move(name), 3, times, std::move(attributes),
                     status, std::move(status_message));
}

otlp::span_event make_event(std::string name, json::object attributes, std::uint64_t t = 1'700'000'000'500'000'000ull) {
    return otlp::span_event{t, std::move(name), std::move(attributes)};
}

// Spans covering the mapping table and the rules a mapped event can break.
std::vector<otlp::span> table_spans() {
    std::vector<otlp::span> s;
    s.push_back(make_span("00000000000000a1", "", "invoke_agent planner",
                          {{"gen_ai.operation.name", "invoke_agent"}, {"gen_ai.agent.name", "planner"},
                           {"gen_ai.conversation.id", "conv-1"}}));
    s.push_back(make_span("00000000000000a2", "00000000000000a1", "invoke_agent helper",
                          {{"gen_ai.operation.name", "invoke_agent"}, {"gen_ai.agent.id", "helper-id"}}, 2, "boom"));
    s.push_back(make_span("00000000000000a3", "00000000000000a2", "chat m",
                          {{"gen_ai.operation.name", "chat"}, {"gen_ai.request.model", "m"},
                           {"gen_ai.system", "sys"}, {"gen_ai.usage.prompt_tokens", "12"},
                           {"gen_ai.usage.completion_tokens", 3.0},
                           {"gen_ai.input.messages", R"([{"role":"user","content":"q \"x\"\n\u00e9"}])"},
                           {"gen_ai.output.messages", R"([{"role":"assistant"}])"}}));
    s.push_back(make_span("00000000000000a4", "00000000000000a1", "chat",
                          {{"gen_ai.operation.name", "text_completion"}, {"gen_ai.prompt.0.role", "system"},
                           {"gen_ai.prompt.0.content", "be brief"}, {"gen_ai.prompt.1.content", 7},
                           {"gen_ai.completion.0.content", "ok"}, {"gen_ai.usage.input_tokens", -4}}));
    auto events_llm = make_span("00000000000000a5", "00000000000000a1", "generate",
                                {{"gen_ai.operation.name", "generate_content"}, {"gen_ai.response.model", "r"}});
    events_llm.events = {make_event("gen_ai.user.message", {{"content", "hi"}}),
                         make_event("gen_ai.assistant.message", {{"content", json::array{1, 2.5, true, nullptr}}}),
                         make_event("gen_ai.choice", {{"message", {{"content", "yo"}, {"z", 1}, {"a", 2}}}})};
    s.push_back(std::move(events_llm));
    s.push_back(make_span("00000000000000a6", "00000000000000a1", "execute_tool search",
                          {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.name", "search"},
                           {"gen_ai.tool.call.id", "call_9"},
                           {"gen_ai.tool.call.arguments", R"({"q":"gear","k":5,"b":{"y":1,"a":[1,{"d":0,"c":1}]}})"},
                           {"gen_ai.tool.call.result", "[3,1e2,-0.5]"}}));
    auto failed_tool = make_span("00000000000000a7", "00000000000000a1", "execute_tool fetch",
                                 {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.call.arguments", "not json"}},
                                 2, "upstream down");
    failed_tool.events = {make_event("exception", {{"exception.type", "Error"}, {"exception.message", "m1"},
                                                   {"exception.stacktrace", "at f\n\tat g"}}),
                          make_event("exception", {{"exception.escaped", true}}), make_event("log", {})};
    s.push_back(std::move(failed_tool));
    s.push_back(make_span("00000000000000a8", "00000000000000a1", "execute_tool",
                          {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.call.arguments", "[1,2]"}}, 0,
                          "done"));
    s.push_back(make_span("00000000000000a9", "00000000000000a1", "tool",
                          {{"openinference.span.kind", "TOOL"}, {"tool.name", "calc"}, {"input.value", "\"s\""},
                           {"output.value", "{\"v\":1}"}}));
    s.push_back(make_span("00000000000000aa", "00000000000000a1", "llm",
                          {{"openinference.span.kind", "EMBEDDING"}, {"llm.model_name", "e"},
                           {"llm.token_count.prompt", 5}, {"input.value", "text"}, {"output.value", "out"}}));
    s.push_back(make_span("00000000000000ab", "00000000000000a1", "agent",
                          {{"openinference.span.kind", "AGENT"}, {"input.value", "x"}}));
    s.push_back(make_span("00000000000000ac", "00000000000000a1", "GET /x",
                          {{"http.method", "GET"}, {"n", 1.25}, {"big", 1e300}, {"u", "\x01\x1f\x7f\"\\/"},
                           {"nested", {{"b", json::array{json::object{{"y", 1}, {"x", nullptr}}}}, {"a", false}}},
                           {"empty", json::object{}}, {"neg", -7}}));
    s.back().kind = 9;
    s.push_back(make_span("00000000000000ad", "00000000000000a1", "", {}, 2));
    s.back().start_time_unix_nano = 0;
    s.back().end_time_unix_nano = 0;
    s.push_back(make_span("00000000000000ae", "00000000000000a1", "err",
                          {{"error.type", "Timeout"}, {"gen_ai.conversation.id", "bad id!"}}, 2));
    s.push_back(make_span("00000000000000a3", "00000000000000a2", "repeat", {}));  // mapped once
    s.push_back(make_span("00000000000000a", "", "short id", {}));
    return s;
}

// Each of these breaks a rule of the events it would give (mapped one per
// request, so that every rejection message is kept).
std::vector<otlp::span> hostile_spans() {
    const std::string big(obs::domain::max_text_length + 1, 'x');
    std::vector<otlp::span> s;
    s.push_back(make_span("00000000000000b1", "00000000000000a1", "chat",
                          {{"gen_ai.operation.name", "chat"}, {"gen_ai.request.model", big}}));
    s.push_back(make_span("00000000000000b2", "00000000000000a1", "execute_tool",
                          {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.call.arguments", "[1e400]"}}));
    s.push_back(make_span("00000000000000b3", "00000000000000a1", "execute_tool",
                          {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.call.result", "{\"a\":-1e999}"}}));
    auto late = make_span("00000000000000b4", "00000000000000a1", "late", {});
    late.events = {make_event("exception", {}, 18'000'000'000'000'000'000ull)};
    s.push_back(std::move(late));
    s.push_back(make_span("00000000000000b5", "00000000000000a1", big, {}));
    s.push_back(make_span("00000000000000b6", "00000000000000a1", "err", {}, 2, big));
    s.push_back(make_span("00000000000000b7", "00000000000000a1", "chat",
                          {{"gen_ai.operation.name", "chat"}, {"gen_ai.request.model", "m"}, {"gen_ai.prompt", big}}));
    s.push_back(make_span("00000000000000b8", "", "invoke_agent",
                          {{"gen_ai.operation.name", "invoke_agent"}, {"gen_ai.agent.name", big}}));
    s.push_back(make_span("00000000000000b9", "00000000000000a1", "execute_tool",
                          {{"gen_ai.operation.name", "execute_tool"}, {"gen_ai.tool.call.id", big}}));
    auto exception = make_span("00000000000000ba", "00000000000000a1", "x", {});
    exception.events = {make_event("exception", {{"exception.stacktrace", big}})};
    s.push_back(std::move(exception));
    s.push_back(make_span("00000000000000bb", "00000000000000a1", "chat",
                          {{"gen_ai.operation.name", "chat"}, {"gen_ai.completion", big}}));
    s.push_back(make_span("00000000000000bc", "00000000000000a1", "chat",
                          {{"gen_ai.operation.name", "chat"},
                           {"gen_ai.input.messages", "[" + std::string(40, '[') + std::string(40, ']') + "]"}}));
    return s;
}

// A second resource: a plain root span, a long node id clipped on a UTF-8
// boundary, and a root LLM span (which opens its run too).
otlp::resource_spans second_resource() {
    otlp::resource_spans r;
    r.resource = json::object{{"service.name", "svc-b"},
                              {"service.instance.id", std::string(126, 'n') + "\xc3\xa9\xc3\xa9"}};
    auto root = make_span("00000000000000c1", "", "root", {{"k", "v"}});
    root.trace_id = "1af7651916cd43dd8448eb211c80319c";
    r.spans.push_back(std::move(root));
    auto llm = make_span("00000000000000c2", "", "chat",
                         {{"gen_ai.operation.name", "chat"}, {"gen_ai.provider.name", "p"}});
    llm.trace_id = "2af7651916cd43dd8448eb211c80319c";
    r.spans.push_back(std::move(llm));
    return r;
}

void dump(std::ostream& out, const std::string& name, const otlp::export_result& r) {
    out << "# " << name << " accepted=" << r.accepted_spans << " rejected=" << r.rejected_spans
        << " message=" << json::serialize(json::string(r.error_message)) << "\n";
    for (const auto& e : r.events) {
        const auto& f = e.facts;
        const auto opt = [](const std::optional<std::string>& s) { return s ? json::value(*s) : json::value(nullptr); };
        json::object line{{"id", e.id},
                          {"id_given", e.id_given},
                          {"run_id", e.run_id},
                          {"type", obs::domain::to_string(e.type)},
                          {"ts_ms", e.ts_ms},
                          {"received_ms", e.received_ms},
                          {"node", opt(e.node)},
                          {"parent_id", opt(e.parent_id)},
                          {"facts",
                           {{"name", opt(f.name)},
                            {"agent", opt(f.agent)},
                            {"parent_run_id", opt(f.parent_run_id)},
                            {"tags_json", opt(f.tags_json)},
                            {"metadata_json", opt(f.metadata_json)},
                            {"final_status", opt(f.final_status)},
                            {"input_tokens", f.input_tokens},
                            {"output_tokens", f.output_tokens},
                            {"cost_usd", f.cost_usd}}},
                          {"ts_given", e.ts_given}};
        out << json::serialize(line) << "\n" << e.payload_json << "\n";
    }
}

std::string corpus_output() {
    std::ostringstream out;
    for (const char* name : {"agent_trace.json", "agent_trace.pb"}) {
        const std::string body = read_fixture(name);
        const auto decoded = name[12] == 'j' ? otlp::decode_json(body) : otlp::decode_protobuf(body);
        BOOST_TEST_REQUIRE(decoded.has_value());
        dump(out, name, otlp::map_spans(*decoded, now));
    }
    otlp::trace_request table;
    table.resources.emplace_back();
    table.resources[0].resource = json::object{{"service.name", "svc"}, {"service.instance.id", 42}};
    table.resources[0].spans = table_spans();
    table.resources.push_back(second_resource());
    table.span_count = table.resources[0].spans.size() + table.resources[1].spans.size();
    dump(out, "table", otlp::map_spans(table, now));
    for (auto& span : hostile_spans()) {
        otlp::trace_request one;
        one.resources.emplace_back();
        one.resources[0].resource = json::object{{"service.name", "svc"}};
        one.resources[0].spans.push_back(std::move(span));
        one.span_count = 1;
        dump(out, "hostile", otlp::map_spans(one, now));
    }
    return out.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mapping_golden_suite)

BOOST_AUTO_TEST_CASE(mapping_output_matches_the_golden_file) {
    const std::string actual = corpus_output();
    if (const char* path = std::getenv("OBS_OTLP_WRITE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << actual;
        BOOST_TEST_MESSAGE("wrote " << path);
    }
    const std::string expected = read_fixture("mapping_golden.txt");
    // Line by line, so a difference names the event.
    std::istringstream a(actual), e(expected);
    std::string la, le;
    std::size_t line = 0;
    while (true) {
        const bool more_a = static_cast<bool>(std::getline(a, la));
        const bool more_e = static_cast<bool>(std::getline(e, le));
        ++line;
        if (!more_a && !more_e) break;
        BOOST_TEST_REQUIRE(more_a == more_e, "line " << line << ": one output ends early");
        BOOST_TEST_REQUIRE(la == le, "line " << line << ":\n  actual   " << la.substr(0, 400) << "\n  expected "
                                             << le.substr(0, 400));
    }
    BOOST_TEST(line > 60u);  // the corpus really produced events
}

BOOST_AUTO_TEST_SUITE_END()
