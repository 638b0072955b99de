// End-to-end: Bearer keys and scopes, and the refusal to listen on a
// non-loopback address without keys.
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace obs::e2e;

namespace {

const std::string ingest_key = "ingest-key-0123456789";
const std::string read_key = "read-key-0123456789ab";
const std::string admin_key = "admin-key-0123456789a";
const std::string event = R"({"events":[{"run_id":"r","type":"thought","payload":{"text":"a"}}]})";

std::map<std::string, std::string> bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(auth)

BOOST_AUTO_TEST_CASE(scopes_are_enforced) {
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    server_process server{server_options{
        db, {"--api-key", "ingest:" + ingest_key, "--api-key", "read:" + read_key, "--api-key", "admin:" + admin_key}, {}, true}};
    struct row {
        std::string name, method, target, body;
        std::map<std::string, std::string> headers;
        int status;
    };
    const std::vector<row> table{
        {"no key on write", "POST", "/observability/events", event, {}, 401},
        {"wrong key", "POST", "/observability/events", event, bearer("nope-nope-nope-nope"), 401},
        {"not bearer", "POST", "/observability/events", event, {{"Authorization", "Basic abc"}}, 401},
        {"read key on write", "POST", "/observability/events", event, bearer(read_key), 403},
        {"ingest key on read", "GET", "/observability/runs", "", bearer(ingest_key), 403},
        {"ingest key on backup", "POST", "/observability/backup", "", bearer(ingest_key), 403},
        {"no key on read", "GET", "/observability/runs", "", {}, 401},
        {"ingest key on write", "POST", "/observability/events", event, bearer(ingest_key), 201},
        {"admin key on write", "POST", "/observability/events", event, bearer(admin_key), 201},
        {"read key on read", "GET", "/observability/runs", "", bearer(read_key), 200},
        {"admin key on read", "GET", "/observability/runs/r", "", bearer(admin_key), 200},
        {"health without key", "GET", "/healthz", "", {}, 200},
        {"ready without key", "GET", "/readyz", "", {}, 200},
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT("case: " << r.name) {
            auto headers = r.headers;
            if (!r.body.empty()) headers["Content-Type"] = "application/json";
            auto res = http_request(server.port(), r.method, r.target, r.body, headers);
            BOOST_TEST(res.status == r.status, res.body);
            if (r.status == 401) BOOST_TEST(res.json().at("error").at("code").as_string() == "unauthorized");
            if (r.status == 403) BOOST_TEST(res.json().at("error").at("code").as_string() == "forbidden");
        }
    }
    auto log = server.log();
    for (const auto* secret : {&ingest_key, &read_key, &admin_key}) BOOST_TEST(log.find(*secret) == std::string::npos);
    BOOST_TEST(sqlite_count(db, "select count(*) from events") == 2);
}

BOOST_AUTO_TEST_CASE(refuses_public_address_without_keys) {
    temp_dir dir;
    server_options opts{(dir.path() / "obs.db").string(), {"--listen", "0.0.0.0:0"}, {}, false};
    server_process server{opts};
    BOOST_TEST(server.wait_exit(std::chrono::seconds(10)) == 2);
    BOOST_TEST(server.log().find("insecure-no-auth") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(short_keys_and_bad_flags_are_refused) {
    temp_dir dir;
    for (std::vector<std::string> args : {std::vector<std::string>{"--api-key", "read:short"},
                                          std::vector<std::string>{"--api-key", "owner:0123456789abcdefg"},
                                          std::vector<std::string>{"--durability", "sometimes"},
                                          std::vector<std::string>{"--no-such-flag"}}) {
        BOOST_TEST_CONTEXT("args: " << args[0] << " " << (args.size() > 1 ? args[1] : "")) {
            server_process server{server_options{(dir.path() / "obs.db").string(), args, {}, false}};
            BOOST_TEST(server.wait_exit(std::chrono::seconds(10)) == 2);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
