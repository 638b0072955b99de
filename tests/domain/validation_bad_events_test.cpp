// Tests of domain/validation.cpp, the refusing half: the table of bad
// events (bad_events_table.hpp: every envelope and payload rule of every
// type, and the batch's shape, each row with its expected index, path and
// message, and no violation besides it), and that one event, one batch or
// one body with several faults has every one of them reported.
#include "domain/validation.hpp"

#include "bad_events_table.hpp"
#include "validation_support.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace domain = obs::domain;
using namespace obs::domain::test;

BOOST_AUTO_TEST_SUITE(validation_bad_events_suite)


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

BOOST_AUTO_TEST_SUITE_END()
