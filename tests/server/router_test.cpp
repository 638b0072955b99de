// Unit tests of server/router.cpp: every route of API.md, 405 vs 404, and
// percent-decoding of path parameters.
#include "server/router.hpp"

#include <boost/test/unit_test.hpp>

using namespace obs::server;

BOOST_AUTO_TEST_SUITE(router)

BOOST_AUTO_TEST_CASE(every_route_matches_with_its_scope) {
    struct row {
        std::string method, target;
        route_id id;
        std::optional<scope> needs;
        std::string run_id, name;
    };
    const std::vector<row> table{
        {"POST", "/observability/events", route_id::post_events, scope::ingest, "", ""},
        {"POST", "/observability/runs", route_id::post_runs, scope::ingest, "", ""},
        {"GET", "/observability/runs?limit=5", route_id::list_runs, scope::read, "", ""},
        {"GET", "/observability/runs/r-1", route_id::get_run, scope::read, "r-1", ""},
        {"POST", "/observability/runs/r-1/steps", route_id::post_steps, scope::ingest, "r-1", ""},
        {"GET", "/observability/runs/r-1/steps?after_seq=3", route_id::list_steps, scope::read, "r-1", ""},
        {"POST", "/observability/runs/r-1/finish", route_id::finish_run, scope::ingest, "r-1", ""},
        {"GET", "/observability/runs/r-1/artifacts", route_id::list_artifacts, scope::read, "r-1", ""},
        {"PUT", "/observability/runs/r-1/artifacts/report%20v2.pdf", route_id::put_artifact, scope::ingest, "r-1", "report v2.pdf"},
        {"GET", "/observability/runs/r-1/artifacts/a%2Fb", route_id::get_artifact, scope::read, "r-1", "a/b"},
        {"GET", "/observability/stream?run_id=x", route_id::stream, scope::read, "", ""},
        {"POST", "/observability/backup?upload=false", route_id::post_backup, scope::admin, "", ""},
        {"GET", "/observability/backups", route_id::list_backups, scope::admin, "", ""},
        {"GET", "/healthz", route_id::healthz, std::nullopt, "", ""},
        {"GET", "/readyz", route_id::readyz, std::nullopt, "", ""},
        {"GET", "/metrics", route_id::metrics, std::nullopt, "", ""},
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT(r.method << " " << r.target) {
            auto result = match_route(r.method, r.target);
            BOOST_TEST_REQUIRE(result.match.has_value());
            BOOST_TEST(static_cast<int>(result.match->id) == static_cast<int>(r.id));
            BOOST_TEST((result.match->needs == r.needs));
            BOOST_TEST(result.match->run_id == r.run_id);
            BOOST_TEST(result.match->artifact_name == r.name);
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_paths_and_wrong_methods) {
    struct row {
        std::string method, target;
        bool path_known;
        std::string allow;
    };
    const std::vector<row> table{
        {"GET", "/", false, ""},
        {"GET", "/observability", false, ""},
        {"GET", "/observability/event", false, ""},
        {"GET", "/observability/runs/r/steps/extra", false, ""},
        {"GET", "/other/runs", false, ""},
        {"DELETE", "/observability/events", true, "POST"},
        {"PUT", "/observability/runs", true, "GET, POST"},
        {"POST", "/observability/runs/r", true, "GET"},
        {"GET", "/observability/runs/r/finish", true, "POST"},
        {"DELETE", "/observability/runs/r/artifacts/x", true, "GET, PUT"},
        {"POST", "/healthz", true, "GET"},
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT(r.method << " " << r.target) {
            auto result = match_route(r.method, r.target);
            BOOST_TEST(!result.match.has_value());
            BOOST_TEST(result.path_known == r.path_known);
            BOOST_TEST(result.allow == r.allow);
        }
    }
}

BOOST_AUTO_TEST_CASE(percent_decoding) {
    BOOST_TEST(*percent_decode("a%20b") == "a b");
    BOOST_TEST(*percent_decode("%2e%2E") == "..");
    BOOST_TEST(*percent_decode("plain") == "plain");
    BOOST_TEST(percent_decode("%").has_value() == false);
    BOOST_TEST(percent_decode("%4").has_value() == false);
    BOOST_TEST(percent_decode("%zz").has_value() == false);
    BOOST_TEST(percent_decode("%00")->size() == 1u);
    auto bad = match_route("GET", "/observability/runs/%zz");
    BOOST_TEST(bad.bad_encoding);
    BOOST_TEST(!bad.match.has_value());
}

BOOST_AUTO_TEST_SUITE_END()
