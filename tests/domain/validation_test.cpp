// Tests of domain/validation.cpp: JSON and NDJSON parsing with error
// offsets; the table of bad events (every envelope and payload rule, each
// row with its expected index, path and message); good events of every type
// with their run facts, payload text and defaults; the steps route's forced
// run id; batches reporting every bad event; and the fingerprint.
#include "domain/validation.hpp"

#include "domain/time.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include <regex>
#include <string>
#include <vector>

namespace domain = obs::domain;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(validation_suite)

namespace {

constexpr std::int64_t now = 1795817045123;  // 2026-11-27T22:04:05.123Z

// Builders for bodies; content is plain ASCII so no escaping is needed.
std::string quoted(const std::string& s) { return "\"" + s + "\""; }

std::string event_with(const std::string& type, const std::string& payload) {
    return R"({"run_id":"r1","type":")" + type + R"(","payload":)" + payload + "}";
}

std::string batch_of(const std::vector<std::string>& events) {
    std::string body = R"({"events":[)";
    for (std::size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
    return body + "]}";
}

std::string one(const std::string& event) { return batch_of({event}); }

const std::string good_thought = event_with("thought", R"({"text":"hi"})");

// `levels` nested arrays: 1 gives [], 2 gives [[]].
std::string nested_arrays(std::size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

// `levels` nested objects: 1 gives {}, 2 gives {"a":{}}.
std::string nested_objects(std::size_t levels) {
    std::string s;
    for (std::size_t i = 1; i < levels; ++i) s += R"({"a":)";
    s += "{}";
    return s + std::string(levels - 1, '}');
}

std::string string_array(std::size_t n) {
    std::string s = "[";
    for (std::size_t i = 0; i < n; ++i) s += (i ? "," : "") + quoted("t" + std::to_string(i));
    return s + "]";
}

std::string string_map(std::size_t n) {
    std::string s = "{";
    for (std::size_t i = 0; i < n; ++i) s += (i ? "," : "") + quoted("k" + std::to_string(i)) + ":\"v\"";
    return s + "}";
}

const std::string too_long_text(domain::max_text_length + 1, 'x');
const std::string longest_text(domain::max_text_length, 'x');

json::value parse_or_fail(std::string_view text) {
    auto parsed = domain::parse_json(text);
    BOOST_TEST_REQUIRE(!parsed.error.has_value(), "parse error: " << parsed.error->message);
    return std::move(*parsed.value);
}

domain::batch_result decode_text(std::string_view body) {
    return domain::decode_event_batch(parse_or_fail(body), now);
}

std::string describe(const std::vector<domain::violation>& v) {
    std::string s;
    for (const auto& x : v) s += "[" + std::to_string(x.index) + " " + x.path + ": " + x.message + "] ";
    return s;
}

bool has_violation(const std::vector<domain::violation>& v, std::size_t index, const std::string& path,
                   const std::string& message) {
    for (const auto& x : v)
        if (x.index == index && x.path == path && x.message.find(message) != std::string::npos) return true;
    return false;
}

// Decodes a body expected to hold exactly one good event.
domain::event decode_one(const std::string& body) {
    auto result = decode_text(body);
    BOOST_TEST_REQUIRE(result.ok(), describe(result.violations));
    BOOST_TEST_REQUIRE(result.events.size() == 1u);
    return std::move(result.events.front());
}

struct bad_case {
    std::string body;
    std::size_t index;
    std::string path;
    std::string message;  // substring
};

std::vector<bad_case> bad_cases() {
    const std::string id_rule = "1 to 128 characters";
    const std::string too_long = "at most 1048576 bytes";
    const std::string not_string = "must be a string";
    const std::string required = "required";
    const std::string unknown = "unknown field";
    const std::string deep = "nested deeper than 64 levels";
    auto payload = [](const std::string& type, const std::string& p) { return one(event_with(type, p)); };
    auto envelope = [](const std::string& fields) {
        return one(R"({"run_id":"r1","type":"thought","payload":{"text":"t"})" + fields + "}");
    };
    std::vector<std::string> thousand_and_one(1001, good_thought);
    return {
        // --- envelope
        {one(R"({"type":"thought","payload":{"text":"t"}})"), 0, "run_id", required},
        {one(R"({"run_id":17,"type":"thought","payload":{"text":"t"}})"), 0, "run_id", not_string},
        {one(R"({"run_id":null,"type":"thought","payload":{"text":"t"}})"), 0, "run_id", not_string},
        {one(R"({"run_id":"","type":"thought","payload":{"text":"t"}})"), 0, "run_id", id_rule},
        {one(R"({"run_id":")" + std::string(129, 'r') + R"(","type":"thought","payload":{"text":"t"}})"), 0,
         "run_id", id_rule},
        {one(R"({"run_id":"r 1","type":"thought","payload":{"text":"t"}})"), 0, "run_id", id_rule},
        {one(R"({"run_id":"r/1","type":"thought","payload":{"text":"t"}})"), 0, "run_id", id_rule},
        {one(R"({"run_id":"r\u00e9","type":"thought","payload":{"text":"t"}})"), 0, "run_id", id_rule},
        {envelope(R"(,"id":")" + std::string(129, 'i') + "\""), 0, "id", id_rule},
        {envelope(R"(,"id":"a#b")"), 0, "id", id_rule},
        {envelope(R"(,"id":"")"), 0, "id", id_rule},
        {envelope(R"(,"id":5)"), 0, "id", not_string},
        {envelope(R"(,"id":null)"), 0, "id", not_string},
        {one(R"({"run_id":"r1","payload":{"text":"t"}})"), 0, "type", required},
        {one(R"({"run_id":"r1","type":3,"payload":{"text":"t"}})"), 0, "type", not_string},
        {one(R"({"run_id":"r1","type":"thinking","payload":{"text":"t"}})"), 0, "type", "must be one of"},
        {one(R"({"run_id":"r1","type":"Thought","payload":{"text":"t"}})"), 0, "type", "must be one of"},
        {one(R"({"run_id":"r1","type":"artifact","payload":{"name":"a","sha256":"x","size":1,"content_type":"t"}})"),
         0, "type", "written by the server"},
        {one(R"({"run_id":"r1","type":"thought"})"), 0, "payload", required},
        {one(R"({"run_id":"r1","type":"thought","payload":[]})"), 0, "payload", "must be an object"},
        {one(R"({"run_id":"r1","type":"thought","payload":"t"})"), 0, "payload", "must be an object"},
        {one(R"({"run_id":"r1","type":"thought","payload":null})"), 0, "payload", "must be an object"},
        {envelope(R"(,"ts":"yesterday")"), 0, "ts", "RFC 3339"},
        {envelope(R"(,"ts":1795817045123)"), 0, "ts", not_string},
        {envelope(R"(,"ts":"2026-02-30T00:00:00Z")"), 0, "ts", "RFC 3339"},
        {envelope(R"(,"ts":"2026-11-27T22:04:05")"), 0, "ts", "RFC 3339"},
        {envelope(R"(,"ts":"1969-12-31T23:59:59Z")"), 0, "ts", "between 1970 and 9999"},
        {envelope(R"(,"ts":"9999-12-31T23:59:59-01:00")"), 0, "ts", "between 1970 and 9999"},
        {envelope(R"(,"node":")" + std::string(129, 'n') + "\""), 0, "node", "at most 128 bytes"},
        {envelope(R"(,"node":["w"])"), 0, "node", not_string},
        {envelope(R"(,"parent_id":"p p")"), 0, "parent_id", id_rule},
        {envelope(R"(,"parent_id":")" + std::string(129, 'p') + "\""), 0, "parent_id", id_rule},
        {envelope(R"(,"parent_id":1)"), 0, "parent_id", not_string},
        {envelope(R"(,"extra":1)"), 0, "extra", unknown},
        {envelope(R"(,"offset":1)"), 0, "offset", unknown},
        {envelope(R"(,"Run_id":"r1")"), 0, "Run_id", unknown},
        {one("5"), 0, "", "must be an object"},
        {one("[]"), 0, "", "must be an object"},
        {one("null"), 0, "", "must be an object"},
        // --- run_started
        {payload("run_started", R"({"agent":"a"})"), 0, "payload.name", required},
        {payload("run_started", R"({"name":"n"})"), 0, "payload.agent", required},
        {payload("run_started", R"({"name":1,"agent":"a"})"), 0, "payload.name", not_string},
        {payload("run_started", R"({"name":")" + too_long_text + R"(","agent":"a"})"), 0, "payload.name", too_long},
        {payload("run_started", R"({"name":"n","agent":"a","parent_run_id":"a b"})"), 0, "payload.parent_run_id",
         id_rule},
        {payload("run_started", R"({"name":"n","agent":"a","tags":"t"})"), 0, "payload.tags", "must be an array"},
        {payload("run_started", R"({"name":"n","agent":"a","tags":)" + string_array(33) + "}"), 0, "payload.tags",
         "at most 32"},
        {payload("run_started", R"({"name":"n","agent":"a","tags":["a","b","c",4]})"), 0, "payload.tags[3]",
         not_string},
        {payload("run_started", R"({"name":"n","agent":"a","tags":[")" + too_long_text + R"("]})"), 0,
         "payload.tags[0]", too_long},
        {payload("run_started", R"({"name":"n","agent":"a","metadata":[]})"), 0, "payload.metadata",
         "must be an object"},
        {payload("run_started", R"({"name":"n","agent":"a","metadata":)" + string_map(65) + "}"), 0,
         "payload.metadata", "at most 64 keys"},
        {payload("run_started", R"({"name":"n","agent":"a","metadata":{"team":"x","cost":5}})"), 0,
         "payload.metadata.cost", not_string},
        {payload("run_started", R"({"name":"n","agent":"a","metadata":{"nested":{"a":"b"}}})"), 0,
         "payload.metadata.nested", not_string},
        {payload("run_started", R"({"name":"n","agent":"a","color":"red"})"), 0, "payload.color", unknown},
        // --- run_finished
        {payload("run_finished", R"({"summary":"s"})"), 0, "payload.status", required},
        {payload("run_finished", R"({"status":"done"})"), 0, "payload.status", "succeeded, failed, cancelled"},
        {payload("run_finished", R"({"status":"Succeeded"})"), 0, "payload.status", "must be one of"},
        {payload("run_finished", R"({"status":1})"), 0, "payload.status", not_string},
        {payload("run_finished", R"({"status":"failed","summary":false})"), 0, "payload.summary", not_string},
        // --- thought
        {payload("thought", "{}"), 0, "payload.text", required},
        {payload("thought", R"({"text":")" + too_long_text + "\"}"), 0, "payload.text", too_long},
        {payload("thought", R"({"text":null})"), 0, "payload.text", not_string},
        {payload("thought", R"({"text":"t","tool":"x"})"), 0, "payload.tool", unknown},
        // --- tool_call
        {payload("tool_call", R"({"call_id":"c","arguments":{}})"), 0, "payload.tool", required},
        {payload("tool_call", R"({"tool":"t","arguments":{}})"), 0, "payload.call_id", required},
        {payload("tool_call", R"({"tool":"t","call_id":"c"})"), 0, "payload.arguments", required},
        {payload("tool_call", R"({"tool":"t","call_id":"c","arguments":[]})"), 0, "payload.arguments",
         "must be an object"},
        {payload("tool_call", R"({"tool":"t","call_id":"c","arguments":"q=1"})"), 0, "payload.arguments",
         "must be an object"},
        {payload("tool_call", R"({"tool":"t","call_id":"c","arguments":)" + nested_objects(65) + "}"), 0,
         "payload.arguments", deep},
        {payload("tool_call", R"({"tool":"t","call_id":7,"arguments":{}})"), 0, "payload.call_id", not_string},
        // --- tool_result
        {payload("tool_result", R"({"output":1})"), 0, "payload.call_id", required},
        {payload("tool_result", R"({"call_id":"c"})"), 0, "payload.output", required},
        {payload("tool_result", R"({"call_id":"c","output":1,"is_error":"true"})"), 0, "payload.is_error",
         "must be a boolean"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":-1})"), 0, "payload.duration_ms",
         "must be >= 0"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":1.5})"), 0, "payload.duration_ms",
         "must be an integer"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":1e300})"), 0, "payload.duration_ms",
         "must be an integer"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":2.0})"), 0, "payload.duration_ms",
         "must be an integer"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":9223372036854775808})"), 0,
         "payload.duration_ms", "out of range"},
        {payload("tool_result", R"({"call_id":"c","output":1,"duration_ms":"5"})"), 0, "payload.duration_ms",
         "must be an integer"},
        {payload("tool_result", R"({"call_id":"c","output":)" + nested_arrays(65) + "}"), 0, "payload.output", deep},
        // --- llm_call
        {payload("llm_call", R"({"provider":"p"})"), 0, "payload.model", required},
        {payload("llm_call", R"({"model":"m","input_tokens":-5})"), 0, "payload.input_tokens", "must be >= 0"},
        {payload("llm_call", R"({"model":"m","output_tokens":1.5})"), 0, "payload.output_tokens", "integer"},
        {payload("llm_call", R"({"model":"m","latency_ms":18446744073709551615})"), 0, "payload.latency_ms",
         "out of range"},
        {payload("llm_call", R"({"model":"m","input_tokens":99999999999999999999})"), 0, "payload.input_tokens",
         "must be an integer"},
        {payload("llm_call", R"({"model":"m","cost_usd":-0.01})"), 0, "payload.cost_usd", "must be >= 0"},
        {payload("llm_call", R"({"model":"m","cost_usd":-1})"), 0, "payload.cost_usd", "must be >= 0"},
        {payload("llm_call", R"({"model":"m","cost_usd":"0.1"})"), 0, "payload.cost_usd", "must be a number"},
        {payload("llm_call", R"({"model":"m","cost_usd":1e400})"), 0, "payload.cost_usd", "finite"},
        {payload("llm_call", R"({"model":"m","cost_usd":-1e400})"), 0, "payload.cost_usd", "finite"},
        {payload("llm_call", R"({"model":"m","prompt":42})"), 0, "payload.prompt", "string or an array"},
        {payload("llm_call", R"({"model":"m","prompt":{"role":"user"}})"), 0, "payload.prompt",
         "string or an array"},
        {payload("llm_call", R"({"model":"m","prompt":)" + nested_arrays(65) + "}"), 0, "payload.prompt", deep},
        {payload("llm_call", R"({"model":"m","prompt":")" + too_long_text + "\"}"), 0, "payload.prompt", too_long},
        {payload("llm_call", R"({"model":"m","completion":true})"), 0, "payload.completion", not_string},
        {payload("llm_call", R"({"model":"m","provider":1})"), 0, "payload.provider", not_string},
        {payload("llm_call", R"({"model":"m","temperature":0.2})"), 0, "payload.temperature", unknown},
        // --- error
        {payload("error", R"({"message":"m"})"), 0, "payload.kind", required},
        {payload("error", R"({"kind":"k"})"), 0, "payload.message", required},
        {payload("error", R"({"kind":"k","message":"m","fatal":"yes"})"), 0, "payload.fatal", "must be a boolean"},
        {payload("error", R"({"kind":"k","message":"m","fatal":1})"), 0, "payload.fatal", "must be a boolean"},
        {payload("error", R"({"kind":"k","message":"m","stack":["a"]})"), 0, "payload.stack", not_string},
        // --- log
        {payload("log", R"({"message":"m"})"), 0, "payload.level", required},
        {payload("log", R"({"level":"warn","message":"m"})"), 0, "payload.level", "debug, info, warning, error"},
        {payload("log", R"({"level":"INFO","message":"m"})"), 0, "payload.level", "must be one of"},
        {payload("log", R"({"level":"info"})"), 0, "payload.message", required},
        {payload("log", R"({"level":"info","message":")" + too_long_text + "\"}"), 0, "payload.message", too_long},
        // --- batch shape
        {"[]", 0, "", "must be an object"},
        {"{}", 0, "events", required},
        {R"({"events":{}})", 0, "events", "must be an array"},
        {R"({"events":null})", 0, "events", "must be an array"},
        {R"({"events":[]})", 0, "events", "1 to 1000 events"},
        {batch_of(thousand_and_one), 0, "events", "1 to 1000 events"},
        {R"({"events":[)" + good_thought + R"(],"extra":1})", 0, "extra", unknown},
        // --- the bad event's own index
        {batch_of({good_thought, good_thought, event_with("thought", "{}")}), 2, "payload.text", required},
        {batch_of({good_thought, event_with("log", R"({"level":"loud","message":"m"})")}), 1, "payload.level",
         "must be one of"},
    };
}

}  // namespace

// ------------------------------------------------------------ parsing

BOOST_AUTO_TEST_CASE(parse_json_errors_with_offsets) {
    struct parse_case {
        std::string text;
        std::size_t offset;
        std::string message;  // substring
    };
    const parse_case cases[] = {
        {"", 0, ""},
        {"   ", 3, ""},
        {R"({"a":1} x)", 8, "unexpected text"},
        {R"({"a":1}{})", 7, "unexpected text"},
        {"[1,2] [3]", 6, "unexpected text"},
        {"[1,]", 3, ""},
        {R"({"a" 1})", 5, ""},
        {R"({"a":1,})", 7, ""},
        {"{'a':1}", 1, ""},
        {"[1,2", 4, ""},
        {R"({"cost":NaN})", 8, ""},
        {"\"\xff\"", 1, ""},
        {"[\"ok\", \"\xC0\xAF\"]", 8, ""},
        {nested_arrays(257), 256, ""},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("'" << c.text.substr(0, 40) << "'") {
            const auto result = domain::parse_json(c.text);
            BOOST_TEST(!result.value.has_value());
            BOOST_TEST_REQUIRE(result.error.has_value());
            BOOST_TEST(result.error->byte_offset == c.offset);
            BOOST_TEST(!result.error->message.empty());
            BOOST_TEST(result.error->message.find(c.message) != std::string::npos, result.error->message);
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_json_good_values) {
    for (const std::string& text : {std::string(R"({"a":[1,2,{"b":null}]})"), std::string(" \n\t{} \r\n"),
                                   std::string("\"caf\xC3\xA9\""), std::string("12"), nested_arrays(256)}) {
        BOOST_TEST_CONTEXT(text.substr(0, 40)) {
            const auto result = domain::parse_json(text);
            BOOST_TEST(!result.error.has_value());
            BOOST_TEST(result.value.has_value());
        }
    }
    // Duplicate keys: the last one wins, as documented.
    BOOST_TEST(parse_or_fail(R"({"a":1,"a":2})").at("a").as_int64() == 2);
}

BOOST_AUTO_TEST_CASE(ndjson_lines) {
    const std::string body = "{\"a\":1}\n\n  \r\n{\"b\":2}\r\n[3]";
    const auto result = domain::parse_ndjson(body);
    BOOST_TEST_REQUIRE(!result.error.has_value());
    BOOST_TEST_REQUIRE(result.values.size() == 3u);
    BOOST_TEST(result.values[0].at("a").as_int64() == 1);
    BOOST_TEST(result.values[1].at("b").as_int64() == 2);
    BOOST_TEST(result.values[2].at(0).as_int64() == 3);

    BOOST_TEST(domain::parse_ndjson("").values.empty());
    BOOST_TEST(!domain::parse_ndjson("\n\n").error.has_value());
    BOOST_TEST(domain::parse_ndjson("{}\n").values.size() == 1u);
}

BOOST_AUTO_TEST_CASE(ndjson_errors_name_the_line) {
    struct ndjson_case {
        std::string body;
        std::size_t offset;
        std::string message;
    };
    const ndjson_case cases[] = {
        {"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":}\n", 27, "line 5: "},
        {"{\"a\":1} {\"b\":2}\n", 8, "line 1: unexpected text"},
        {"{}\n[1,\n2]\n", 6, "line 2: "},
        {"{}\r\n{\"x\":\"\xff\"}", 10, "line 2: "},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.body) {
            const auto result = domain::parse_ndjson(c.body);
            BOOST_TEST_REQUIRE(result.error.has_value());
            BOOST_TEST(result.values.empty());
            BOOST_TEST(result.error->byte_offset == c.offset);
            BOOST_TEST(result.error->message.find(c.message) == 0u, result.error->message);
        }
    }
}

// ------------------------------------------------------------ bad events

BOOST_AUTO_TEST_CASE(bad_events_table) {
    const auto cases = bad_cases();
    BOOST_TEST(cases.size() >= 70u);
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        BOOST_TEST_CONTEXT("row " << i << ": " << c.body.substr(0, 160) << " -> " << c.index << " " << c.path
                                  << ": " << c.message) {
            const auto result = decode_text(c.body);
            BOOST_TEST(!result.ok());
            BOOST_TEST(result.events.empty());
            // Exactly the one expected violation: no spurious extras.
            BOOST_TEST_REQUIRE(result.violations.size() == 1u, describe(result.violations));
            const auto& v = result.violations.front();
            BOOST_TEST(v.index == c.index);
            BOOST_TEST(v.path == c.path);
            BOOST_TEST(v.message.find(c.message) != std::string::npos, v.message);
        }
    }
}

BOOST_AUTO_TEST_CASE(every_violation_of_an_event_is_reported) {
    const auto result = decode_text(one(R"({"run_id":"bad id","type":"tool_call","x":1,"payload":{"tool":1,"y":2}})"));
    BOOST_TEST(result.violations.size() == 6u, describe(result.violations));
    BOOST_TEST(has_violation(result.violations, 0, "run_id", "1 to 128 characters"));
    BOOST_TEST(has_violation(result.violations, 0, "x", "unknown field"));
    BOOST_TEST(has_violation(result.violations, 0, "payload.tool", "must be a string"));
    BOOST_TEST(has_violation(result.violations, 0, "payload.y", "unknown field"));
    BOOST_TEST(has_violation(result.violations, 0, "payload.call_id", "required"));
    BOOST_TEST(has_violation(result.violations, 0, "payload.arguments", "required"));
}

BOOST_AUTO_TEST_CASE(every_bad_event_of_a_batch_is_reported) {
    const auto result = decode_text(batch_of({
        event_with("thought", "{}"),                    // 0: text missing
        good_thought,                                   // 1: fine
        R"({"run_id":"r1","type":"nope","payload":{}})",  // 2: bad type
        good_thought,                                   // 3: fine
        event_with("llm_call", R"({"model":"m","input_tokens":-1,"cost_usd":-2})"),  // 4: two
    }));
    BOOST_TEST(!result.ok());
    BOOST_TEST(result.events.empty());
    BOOST_TEST(result.violations.size() == 4u, describe(result.violations));
    BOOST_TEST(has_violation(result.violations, 0, "payload.text", "required"));
    BOOST_TEST(has_violation(result.violations, 2, "type", "must be one of"));
    BOOST_TEST(has_violation(result.violations, 4, "payload.input_tokens", ">= 0"));
    BOOST_TEST(has_violation(result.violations, 4, "payload.cost_usd", ">= 0"));
}

BOOST_AUTO_TEST_CASE(wrong_top_level_keys_are_all_reported) {
    const auto result = decode_text(R"({"event":[],"Events":[]})");
    BOOST_TEST(result.violations.size() == 3u, describe(result.violations));
    BOOST_TEST(has_violation(result.violations, 0, "event", "unknown field"));
    BOOST_TEST(has_violation(result.violations, 0, "Events", "unknown field"));
    BOOST_TEST(has_violation(result.violations, 0, "events", "required"));
}

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
    BOOST_TEST(ev.fingerprint.size() == 64u);

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
    const auto step = parse_or_fail(R"({"type":"thought","payload":{"text":"t"}})");
    const auto same = parse_or_fail(R"({"run_id":"r-7","type":"thought","payload":{"text":"t"}})");
    const auto other = parse_or_fail(R"({"run_id":"r-8","type":"thought","payload":{"text":"t"}})");

    std::vector<domain::violation> out;
    const auto taken = domain::decode_event(step, 0, now, out, "r-7");
    BOOST_TEST_REQUIRE(taken.has_value());
    BOOST_TEST(taken->run_id == "r-7");
    const auto kept = domain::decode_event(same, 0, now, out, "r-7");
    BOOST_TEST_REQUIRE(kept.has_value());
    BOOST_TEST(kept->run_id == "r-7");
    // The path's run counts as sent: both forms are the same body.
    BOOST_TEST(taken->fingerprint == kept->fingerprint);
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

// ------------------------------------------------------------ fingerprint

BOOST_AUTO_TEST_CASE(fingerprint_ignores_key_order_and_spacing) {
    const std::string variants[] = {
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":{"x":[1,{"p":1,"q":2}],"y":2}}}})",
        R"({"payload":{"arguments":{"b":{"y":2,"x":[1,{"q":2,"p":1}]},"a":1},"call_id":"c","tool":"t"},"ts":"2026-11-27T22:04:05.123Z","type":"tool_call","run_id":"r1","id":"e1"})",
        "{ \"type\" : \"tool_call\",\n \"id\":\"e1\", \"run_id\":\"r1\", \"ts\":\"2026-11-27T22:04:05.123Z\", "
        "\"payload\" : {\"call_id\":\"c\", \"tool\":\"t\", \"arguments\": {\"a\": 1, \"b\": {\"x\": [1, {\"p\": 1, "
        "\"q\": 2}], \"y\": 2}}}}",
    };
    const std::string first = decode_one(one(variants[0])).fingerprint;
    BOOST_TEST(first.size() == 64u);
    for (const auto& v : variants) {
        BOOST_TEST_CONTEXT(v) {
            BOOST_TEST(decode_one(one(v)).fingerprint == first);
            // The receive time is server-made: it does not count.
            BOOST_TEST(domain::decode_event_batch(parse_or_fail(one(v)), now + 5000).events.at(0).fingerprint ==
                       first);
        }
    }
}

BOOST_AUTO_TEST_CASE(fingerprint_changes_with_content) {
    const std::string base =
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})";
    const std::string changed[] = {
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.124Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"u","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":2,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[2,1]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"c":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":"1","b":[1,2]}}})",
        R"({"id":"e1","run_id":"r2","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e2","run_id":"r1","type":"tool_call","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","node":"w","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
        R"({"id":"e1","run_id":"r1","type":"tool_call","parent_id":"p","ts":"2026-11-27T22:04:05.123Z","payload":{"tool":"t","call_id":"c","arguments":{"a":1,"b":[1,2]}}})",
    };
    const std::string fingerprint = decode_one(one(base)).fingerprint;
    for (const auto& c : changed) {
        BOOST_TEST_CONTEXT(c) { BOOST_TEST(decode_one(one(c)).fingerprint != fingerprint); }
    }
}

BOOST_AUTO_TEST_CASE(fingerprint_without_id_ignores_the_made_id) {
    const auto a = decode_one(one(good_thought));
    const auto b = decode_one(one(good_thought));
    BOOST_TEST(a.id != b.id);
    BOOST_TEST(a.fingerprint == b.fingerprint);
}

// ------------------------------------------------------------ error details

BOOST_AUTO_TEST_CASE(violations_as_json) {
    const std::vector<domain::violation> v = {{3, "payload.tool", "required"}, {0, "", "must be an object"}};
    BOOST_TEST(json::serialize(domain::violations_to_json(v)) ==
               R"([{"index":3,"path":"payload.tool","message":"required"},{"index":0,"path":"","message":"must be an object"}])");
    BOOST_TEST(domain::violations_to_json({}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
