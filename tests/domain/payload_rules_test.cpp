// Tests of domain/payload_rules.cpp: the id check shared with the envelope
// and the run facts of each type, called directly. The payload rules
// themselves (validate_payload, every field kind) are tested through the
// public API in validation_test.cpp.
#include "domain/payload_rules.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace domain = obs::domain;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(payload_rules_suite)

struct id_case {
    std::string value;    // JSON text
    std::string message;  // the violation, or empty when valid
};

BOOST_AUTO_TEST_CASE(check_id_reports_at_the_path) {
    const std::string bad_id(domain::detail::id_rule_message);
    const id_case cases[] = {
        {R"("r-1.a:b_C")", ""},
        {"\"" + std::string(128, 'a') + "\"", ""},
        {"\"" + std::string(129, 'a') + "\"", bad_id},
        {R"("")", bad_id},
        {R"("a b")", bad_id},
        {R"("a/b")", bad_id},
        {"7", "must be a string"},
        {"null", "must be a string"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.value) {
            std::vector<domain::violation> out;
            domain::detail::check_id(json::parse(c.value), "payload.parent_run_id", {4, out});
            if (c.message.empty()) {
                BOOST_TEST(out.empty());
            } else {
                BOOST_TEST_REQUIRE(out.size() == 1u);
                BOOST_TEST(out[0].index == 4u);
                BOOST_TEST(out[0].path == "payload.parent_run_id");
                BOOST_TEST(out[0].message == c.message);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(facts_of_each_type) {
    using domain::event_type;
    const auto facts = [](event_type type, const char* payload) {
        return domain::detail::facts_of(type, json::parse(payload).as_object());
    };

    const auto started = facts(event_type::run_started,
                               R"({"name":"n","agent":"a","parent_run_id":"p","tags":["x"],"metadata":{"k":"v"}})");
    BOOST_TEST(started.name.value() == "n");
    BOOST_TEST(started.agent.value() == "a");
    BOOST_TEST(started.parent_run_id.value() == "p");
    BOOST_TEST(started.tags_json.value() == R"(["x"])");
    BOOST_TEST(started.metadata_json.value() == R"({"k":"v"})");
    BOOST_TEST(!started.final_status.has_value());

    const auto bare = facts(event_type::run_started, R"({"name":"n","agent":"a"})");
    BOOST_TEST(!bare.parent_run_id.has_value());
    BOOST_TEST(!bare.tags_json.has_value());
    BOOST_TEST(!bare.metadata_json.has_value());

    BOOST_TEST(facts(event_type::run_finished, R"({"status":"failed"})").final_status.value() == "failed");

    const auto llm = facts(event_type::llm_call, R"({"model":"m","input_tokens":3,"output_tokens":4,"cost_usd":0.5})");
    BOOST_TEST(llm.input_tokens == 3);
    BOOST_TEST(llm.output_tokens == 4);
    BOOST_TEST(llm.cost_usd == 0.5);
    const auto llm_bare = facts(event_type::llm_call, R"({"model":"m"})");
    BOOST_TEST(llm_bare.input_tokens == 0);
    BOOST_TEST(llm_bare.output_tokens == 0);
    BOOST_TEST(llm_bare.cost_usd == 0.0);

    // Other types change nothing in the run's row.
    const auto thought = facts(event_type::thought, R"({"text":"t"})");
    BOOST_TEST(!thought.name.has_value());
    BOOST_TEST(!thought.final_status.has_value());
    BOOST_TEST(thought.input_tokens == 0);
}

BOOST_AUTO_TEST_SUITE_END()
