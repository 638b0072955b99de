// Tests of server/artifact_service.cpp's make_artifact_event: the event that
// records a stored artifact in its run's log obeys the event model (type,
// ids, time, parent step) and its payload passes the
// `artifact` payload rules, with and without a step.
#include "server/artifacts/artifact_service.hpp"

#include "domain/validation.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace obs;
using namespace obs::server;

BOOST_AUTO_TEST_SUITE(artifact_service_suite)

BOOST_AUTO_TEST_CASE(artifact_event_obeys_the_model) {
    for (const std::optional<std::string>& step : {std::optional<std::string>{}, std::optional<std::string>{"s-1"}}) {
        BOOST_TEST_CONTEXT("step " << step.value_or("none")) {
            persistence::artifact_row row{"01936a7e-0000-7000-8000-000000000000", "r1", step, "out \"x\".bin",
                                          "image/png", 12, std::string(64, 'c'), 1795817045123};
            const domain::event ev = make_artifact_event(row);
            BOOST_TEST(ev.id == row.id);
            BOOST_TEST(ev.run_id == "r1");
            BOOST_TEST((ev.type == domain::event_type::artifact));
            BOOST_TEST(ev.ts_ms == row.created_ms);
            BOOST_TEST((ev.parent_id == step));
            const auto payload = boost::json::parse(ev.payload_json);
            std::vector<domain::violation> violations;
            domain::validate_payload(domain::event_type::artifact, payload, 0, violations);
            BOOST_TEST(violations.empty());
            BOOST_TEST(payload.at("name").as_string() == row.name);
            BOOST_TEST(payload.at("sha256").as_string() == row.sha256);
            BOOST_TEST(payload.at("size").to_number<std::int64_t>() == 12);
            BOOST_TEST(payload.at("content_type").as_string() == "image/png");
            BOOST_TEST(payload.as_object().contains("step_id") == step.has_value());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
