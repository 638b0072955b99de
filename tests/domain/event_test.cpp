// Tests of domain/event.cpp: type names, identifiers, JSON string escaping
// and the stored-event line (key order, null fields, escaping, payload
// inserted verbatim).
#include "domain/event.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace domain = obs::domain;
using domain::event_type;

BOOST_AUTO_TEST_SUITE(event_suite)

BOOST_AUTO_TEST_CASE(type_names_round_trip) {
    const std::pair<event_type, std::string_view> cases[] = {
        {event_type::run_started, "run_started"}, {event_type::run_finished, "run_finished"},
        {event_type::thought, "thought"},         {event_type::tool_call, "tool_call"},
        {event_type::tool_result, "tool_result"}, {event_type::llm_call, "llm_call"},
        {event_type::error, "error"},             {event_type::log, "log"},
        {event_type::artifact, "artifact"},       {event_type::span, "span"},
    };
    BOOST_TEST(std::size(cases) == static_cast<std::size_t>(domain::event_type_count));
    for (const auto& [type, name] : cases) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(domain::to_string(type) == name);
            BOOST_TEST((domain::parse_event_type(name) == type));
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_type_names) {
    for (const std::string_view name : {"", "Thought", "THOUGHT", "tool-call", "thought ", "runs", "artifacts"}) {
        BOOST_TEST_CONTEXT("'" << name << "'") { BOOST_TEST(!domain::parse_event_type(name).has_value()); }
    }
}

BOOST_AUTO_TEST_CASE(identifiers) {
    const std::pair<std::string, bool> cases[] = {
        {"r", true},
        {"run-17", true},
        {"A.b_c:d-e", true},
        {"01936a7e-0000-7000-8000-000000000000", true},
        {std::string(128, 'x'), true},
        {"", false},
        {std::string(129, 'x'), false},
        {"a b", false},
        {"a/b", false},
        {"a#b", false},
        {"é", false},
        {"a\nb", false},
        {std::string("a\0b", 3), false},
    };
    for (const auto& [id, valid] : cases) {
        BOOST_TEST_CONTEXT("'" << id << "'") { BOOST_TEST(domain::is_valid_id(id) == valid); }
    }
}

BOOST_AUTO_TEST_CASE(json_string_escaping) {
    const std::pair<std::string, std::string> cases[] = {
        {"", R"("")"},
        {"plain", R"("plain")"},
        {"say \"hi\"", R"("say \"hi\"")"},
        {"back\\slash", R"("back\\slash")"},
        {"a\nb\rc\td\be\ff", R"("a\nb\rc\td\be\ff")"},
        {std::string("nul\0", 4), R"("nul\u0000")"},
        {"\x01\x1f", R"("\u0001\u001f")"},
        {"del\x7f", "\"del\x7f\""},
        {"caf\xC3\xA9 \xE2\x82\xAC", "\"caf\xC3\xA9 \xE2\x82\xAC\""},
        {"/slash", R"("/slash")"},
    };
    for (const auto& [input, expected] : cases) {
        BOOST_TEST_CONTEXT(expected) {
            std::string out = "x";
            domain::append_json_string(out, input);
            BOOST_TEST(out == "x" + expected);
            // What we write, a JSON parser reads back as the same text.
            BOOST_TEST(boost::json::parse(expected).as_string() == input);
        }
    }
}

BOOST_AUTO_TEST_CASE(stored_event_line) {
    const domain::stored_event ev{
        .offset = 1042,
        .id = "01936a7e-0000-7000-8000-000000000001",
        .run_id = "r-17",
        .seq = 12,
        .type = event_type::tool_call,
        .ts_ms = 1795817045123,
        .received_ms = 1795817045130,
        .node = "worker-2",
        .parent_id = std::nullopt,
        .payload_json = R"({"tool":"search","call_id":"c1","arguments":{"q":"gear ratio"}})",
    };
    BOOST_TEST(domain::encode_stored_event(ev) ==
               R"({"offset":1042,"id":"01936a7e-0000-7000-8000-000000000001","run_id":"r-17","seq":12,)"
               R"("type":"tool_call","ts":"2026-11-27T22:04:05.123Z","received_at":"2026-11-27T22:04:05.130Z",)"
               R"("node":"worker-2","parent_id":null,)"
               R"("payload":{"tool":"search","call_id":"c1","arguments":{"q":"gear ratio"}}})");
}

BOOST_AUTO_TEST_CASE(stored_event_nulls_escapes_and_parses) {
    domain::stored_event ev{
        .offset = 1,
        .id = "e1",
        .run_id = "r1",
        .seq = 1,
        .type = event_type::log,
        .ts_ms = 0,
        .received_ms = 1,
        .node = std::nullopt,
        .parent_id = "p:1",
        .payload_json = R"({"level":"info","message":"line\nbreak"})",
    };
    const std::string line = domain::encode_stored_event(ev);
    BOOST_TEST(line ==
               R"({"offset":1,"id":"e1","run_id":"r1","seq":1,"type":"log","ts":"1970-01-01T00:00:00.000Z",)"
               R"("received_at":"1970-01-01T00:00:00.001Z","node":null,"parent_id":"p:1",)"
               R"("payload":{"level":"info","message":"line\nbreak"}})");

    ev.node = "we\"ird\\node\x01\n";
    const auto parsed = boost::json::parse(domain::encode_stored_event(ev)).as_object();
    BOOST_TEST(parsed.at("node").as_string() == "we\"ird\\node\x01\n");
    BOOST_TEST(parsed.at("payload").at("message").as_string() == "line\nbreak");
    // Keys in the order of API.md.
    const char* order[] = {"offset", "id", "run_id", "seq", "type", "ts", "received_at", "node", "parent_id", "payload"};
    BOOST_TEST_REQUIRE(parsed.size() == std::size(order));
    std::size_t i = 0;
    for (const auto& kv : parsed) {
        BOOST_TEST_CONTEXT("key " << i) { BOOST_TEST(kv.key() == order[i]); }
        ++i;
    }
}

BOOST_AUTO_TEST_CASE(stored_event_large_offsets) {
    const domain::stored_event ev{
        .offset = 9223372036854775807,
        .id = "e",
        .run_id = "r",
        .seq = 4294967296,
        .type = event_type::artifact,
        .ts_ms = 1,
        .received_ms = 2,
        .node = std::nullopt,
        .parent_id = std::nullopt,
        .payload_json = "{}",
    };
    const auto parsed = boost::json::parse(domain::encode_stored_event(ev)).as_object();
    BOOST_TEST(parsed.at("offset").as_int64() == 9223372036854775807);
    BOOST_TEST(parsed.at("seq").as_int64() == 4294967296);
    BOOST_TEST(parsed.at("type").as_string() == "artifact");
}

BOOST_AUTO_TEST_SUITE_END()
