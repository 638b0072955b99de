// Unit tests of server/http/route_table.cpp over the real table of
// server/routes/table.cpp: every route of docs/api.md with its scope and body
// mode, 405 vs 404 with Allow, HEAD on GET rows, and percent-decoding of
// path parameters.
#include "server/http/route_table.hpp"
#include "server/routes/table.hpp"

#include <boost/test/unit_test.hpp>

using namespace obs::server;

BOOST_AUTO_TEST_SUITE(router)

namespace {

const route_table& table() {
    static const route_table t = build_route_table(config{});
    return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_route_matches_with_its_scope) {
    struct row {
        std::string method, path;
        std::string pattern;
        std::optional<scope> needs;
        body_mode body;
        std::string run_id, name;
    };
    const std::vector<row> rows{
        {"POST", "/observability/events", "/observability/events", scope::ingest, body_mode::buffered, "", ""},
        {"POST", "/observability/runs", "/observability/runs", scope::ingest, body_mode::buffered, "", ""},
        {"GET", "/observability/runs", "/observability/runs", scope::read, body_mode::none, "", ""},
        {"GET", "/observability/runs/r-1", "/observability/runs/{run_id}", scope::read, body_mode::none, "r-1", ""},
        {"POST", "/observability/runs/r-1/steps", "/observability/runs/{run_id}/steps", scope::ingest,
         body_mode::buffered, "r-1", ""},
        {"GET", "/observability/runs/r-1/steps", "/observability/runs/{run_id}/steps", scope::read, body_mode::none,
         "r-1", ""},
        {"POST", "/observability/runs/r-1/finish", "/observability/runs/{run_id}/finish", scope::ingest,
         body_mode::buffered, "r-1", ""},
        {"GET", "/observability/runs/r-1/artifacts", "/observability/runs/{run_id}/artifacts", scope::read,
         body_mode::none, "r-1", ""},
        {"PUT", "/observability/runs/r-1/artifacts/report%20v2.pdf", "/observability/runs/{run_id}/artifacts/{name}",
         scope::ingest, body_mode::upload, "r-1", "report v2.pdf"},
        {"GET", "/observability/runs/r-1/artifacts/a%2Fb", "/observability/runs/{run_id}/artifacts/{name}",
         scope::read, body_mode::download, "r-1", "a/b"},
        {"HEAD", "/observability/runs/r-1/artifacts/x", "/observability/runs/{run_id}/artifacts/{name}", scope::read,
         body_mode::download, "r-1", "x"},
        {"GET", "/observability/stream", "/observability/stream", scope::read, body_mode::event_stream, "", ""},
        {"POST", "/observability/backup", "/observability/backup", scope::admin, body_mode::buffered, "", ""},
        {"GET", "/observability/backups", "/observability/backups", scope::admin, body_mode::none, "", ""},
        {"GET", "/observability/openapi.json", "/observability/openapi.json", std::nullopt, body_mode::none, "", ""},
        {"POST", "/v1/traces", "/v1/traces", scope::ingest, body_mode::buffered, "", ""},
        {"GET", "/", "/", std::nullopt, body_mode::none, "", ""},
        {"GET", "/ui/app.js", "/ui/{file}", std::nullopt, body_mode::none, "", "app.js"},
        {"GET", "/healthz", "/healthz", std::nullopt, body_mode::none, "", ""},
        {"HEAD", "/healthz", "/healthz", std::nullopt, body_mode::none, "", ""},
        {"GET", "/readyz", "/readyz", std::nullopt, body_mode::none, "", ""},
        {"GET", "/metrics", "/metrics", std::nullopt, body_mode::none, "", ""},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.method << " " << r.path) {
            auto found = table().find(r.method, r.path);
            BOOST_TEST_REQUIRE(found.row != nullptr);
            BOOST_TEST(found.row->pattern == r.pattern);
            BOOST_TEST((found.row->needs == r.needs));
            BOOST_TEST(static_cast<int>(found.row->body) == static_cast<int>(r.body));
            BOOST_TEST(static_cast<bool>(found.row->handle));
            std::string run_id, name;
            for (const auto& [key, value] : found.params) (key == "run_id" ? run_id : name) = value;
            BOOST_TEST(run_id == r.run_id);
            BOOST_TEST(name == r.name);
        }
    }
}

BOOST_AUTO_TEST_CASE(buffered_rows_carry_the_configured_limit) {
    config cfg;
    cfg.max_body_bytes = 12345;
    const auto t = build_route_table(cfg);
    for (const auto& row : t.rows()) {
        BOOST_TEST_CONTEXT(row.method << " " << row.pattern) {
            if (row.body == body_mode::buffered) BOOST_TEST(row.body_limit == 12345u);
        }
    }
}

BOOST_AUTO_TEST_CASE(unknown_paths_and_wrong_methods) {
    struct row {
        std::string method, path;
        bool path_known;
        std::string allow;
    };
    const std::vector<row> rows{
        {"GET", "/observability", false, ""},
        {"GET", "/observability/event", false, ""},
        {"GET", "/observability/runs/r/steps/extra", false, ""},
        {"GET", "/other/runs", false, ""},
        {"DELETE", "/observability/events", true, "POST"},
        {"PUT", "/observability/runs", true, "GET, HEAD, POST"},
        {"POST", "/observability/runs/r", true, "GET, HEAD, DELETE"},
        {"GET", "/observability/runs/r/finish", true, "POST"},
        {"DELETE", "/observability/runs/r/artifacts/x", true, "GET, HEAD, PUT"},
        {"POST", "/healthz", true, "GET, HEAD"},
        {"HEAD", "/v1/traces", true, "POST"},
        // More segments than the matcher's fixed array holds: no row.
        {"GET", "/observability/runs" + std::string(100, '/') + "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", false, ""},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.method << " " << r.path) {
            auto found = table().find(r.method, r.path);
            BOOST_TEST(found.row == nullptr);
            BOOST_TEST(found.path_known == r.path_known);
            BOOST_TEST(found.allow == r.allow);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_bad_escape_in_a_parameter_is_reported) {
    auto found = table().find("GET", "/observability/runs/r%zz");
    BOOST_TEST(found.row == nullptr);
    BOOST_TEST(found.bad_encoding);
}

BOOST_AUTO_TEST_CASE(percent_decoding) {
    BOOST_TEST(*percent_decode("a%20b") == "a b");
    BOOST_TEST(*percent_decode("%2e%2E") == "..");
    BOOST_TEST(*percent_decode("plain") == "plain");
    BOOST_TEST(percent_decode("%").has_value() == false);
    BOOST_TEST(percent_decode("%4").has_value() == false);
    BOOST_TEST(percent_decode("%zz").has_value() == false);
    BOOST_TEST(percent_decode("%00")->size() == 1u);
    auto bad = table().find("GET", "/observability/runs/%zz");
    BOOST_TEST(bad.bad_encoding);
    BOOST_TEST(bad.row == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
