// End-to-end: deleting runs (issue 18, items 1 and 2) against the real
// binary. DELETE /observability/runs/{run_id}: the contract's answers for
// every kind of caller and id, the run's events, artifacts and unshared
// content gone at once, everything else (offsets, shared content, a live
// stream) untouched, and an offset never given out twice. Retention with a
// 3 s age and a 200 ms sweep: a quiet run goes with its content while a run
// still written to stays, and under steady ingest the database file stops
// growing.
#include "tests/e2e/raw_socket.hpp"
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

using namespace obs::e2e;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string ingest_key = "ingest-key-0123456789";
const std::string read_key = "read-key-0123456789ab";
const std::string admin_key = "admin-key-0123456789a";

std::map<std::string, std::string> bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

std::vector<std::string> keys() {
    return {"--api-key", "ingest:" + ingest_key, "--api-key", "read:" + read_key, "--api-key", "admin:" + admin_key};
}

// Posts `n` thoughts to `run`; returns their offsets.
std::vector<std::int64_t> post_thoughts(unsigned short port, const std::string& run, int n) {
    std::string body = R"({"events":[)";
    for (int i = 0; i < n; ++i)
        body += std::string(i ? "," : "") + R"({"run_id":")" + run + R"(","type":"thought","payload":{"text":"t)" +
                std::to_string(i) + R"("}})";
    body += "]}";
    auto r = http_request(port, "POST", "/observability/events", body, bearer(ingest_key));
    BOOST_TEST_REQUIRE(r.status == 201, r.body);
    std::vector<std::int64_t> offsets;
    const auto doc = r.json();
    for (const auto& e : doc.at("events").as_array()) offsets.push_back(e.at("offset").as_int64());
    return offsets;
}

std::string put_artifact(unsigned short port, const std::string& run, const std::string& name, const std::string& bytes) {
    auto headers = bearer(ingest_key);
    headers["Content-Type"] = "text/plain";
    auto r = http_request(port, "PUT", "/observability/runs/" + run + "/artifacts/" + name, bytes, headers);
    BOOST_TEST_REQUIRE(r.status == 201, r.body);
    return std::string(r.json().at("sha256").as_string());
}

fs::path content_path(const fs::path& data_dir, const std::string& sha) {
    return data_dir / "artifacts" / "sha256" / sha.substr(0, 2) / sha;
}

int status_of(unsigned short port, const std::string& target) {
    return http_request(port, "GET", target, "", bearer(read_key)).status;
}

// The offsets of a run's steps, in seq order.
std::vector<std::int64_t> step_offsets(unsigned short port, const std::string& run) {
    auto r = http_request(port, "GET", "/observability/runs/" + run + "/steps?limit=1000", "", bearer(read_key));
    BOOST_TEST_REQUIRE(r.status == 200, r.body);
    std::vector<std::int64_t> out;
    const auto doc = r.json();
    for (const auto& s : doc.at("steps").as_array()) out.push_back(s.at("offset").as_int64());
    return out;
}

double metric(unsigned short port, const std::string& series) {
    const auto text = http_request(port, "GET", "/metrics").body;
    const auto at = text.find("\n" + series + " ");
    BOOST_TEST_REQUIRE(at != std::string::npos, "no series " << series);
    return std::stod(text.substr(at + series.size() + 2));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(delete_run)

BOOST_AUTO_TEST_CASE(refusals_answer_the_contract_and_delete_nothing) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), keys(), {}, true}};
    const auto port = server.port();
    const auto offsets = post_thoughts(port, "keep", 3);
    struct refusal {
        const char* what;
        std::string target;
        std::map<std::string, std::string> headers;
        int status;
        const char* code;
    };
    const std::vector<refusal> table{
        {"no key", "/observability/runs/keep", {}, 401, "unauthorized"},
        {"unknown key", "/observability/runs/keep", bearer("nobody-0123456789abcdef"), 401, "unauthorized"},
        {"ingest key", "/observability/runs/keep", bearer(ingest_key), 403, "forbidden"},
        {"read key", "/observability/runs/keep", bearer(read_key), 403, "forbidden"},
        {"unknown run", "/observability/runs/nope", bearer(admin_key), 404, "not_found"},
        {"impossible id", "/observability/runs/" + std::string(300, 'x'), bearer(admin_key), 404, "not_found"},
        {"control byte in id", "/observability/runs/a%01b", bearer(admin_key), 404, "not_found"},
        {"query parameter", "/observability/runs/keep?cascade=true", bearer(admin_key), 400, "bad_request"},
        {"sub-resource", "/observability/runs/keep/steps", bearer(admin_key), 405, "method_not_allowed"},
    };
    for (const auto& t : table) {
        BOOST_TEST_CONTEXT(t.what) {
            auto r = http_request(port, "DELETE", t.target, "", t.headers);
            BOOST_TEST(r.status == t.status, r.body);
            BOOST_TEST(r.json().at("error").at("code").as_string() == t.code);
        }
    }
    BOOST_TEST(step_offsets(port, "keep") == offsets);
}

BOOST_AUTO_TEST_CASE(a_run_goes_at_once_and_nothing_else_moves) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), keys(), {}, true}};
    const auto port = server.port();
    const fs::path data_dir = dir.path() / "observability-data";

    // A live stream of everything, open before and after the deletion.
    raw_socket stream(port);
    BOOST_TEST_REQUIRE(
        stream.send("GET /observability/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + read_key + "\r\n\r\n"));
    std::string streamed;
    BOOST_TEST_REQUIRE(stream.read_until_seen("retry:", streamed));

    const auto before = post_thoughts(port, "before", 2);
    const auto doomed = post_thoughts(port, "doomed", 5);
    const std::string only_doomed = put_artifact(port, "doomed", "mine.txt", "only the doomed run has this");
    const std::string shared = put_artifact(port, "doomed", "shared.txt", "both runs have this");
    const auto after = post_thoughts(port, "after", 2);
    BOOST_TEST(put_artifact(port, "after", "shared.txt", "both runs have this") == shared);
    BOOST_TEST_REQUIRE(fs::exists(content_path(data_dir, only_doomed)));

    auto r = http_request(port, "DELETE", "/observability/runs/doomed", "", bearer(admin_key));
    BOOST_TEST_REQUIRE(r.status == 204, r.body);
    BOOST_TEST(r.body.empty());
    for (const char* target : {"/observability/runs/doomed", "/observability/runs/doomed/steps",
                               "/observability/runs/doomed/artifacts", "/observability/runs/doomed/artifacts/mine.txt"})
        BOOST_TEST(status_of(port, target) == 404, target);
    BOOST_TEST(!fs::exists(content_path(data_dir, only_doomed)), "unshared content left behind");
    BOOST_TEST(fs::exists(content_path(data_dir, shared)), "content another run refers to was removed");
    BOOST_TEST(http_request(port, "GET", "/observability/runs/after/artifacts/shared.txt", "", bearer(read_key)).body ==
               "both runs have this");
    BOOST_TEST(step_offsets(port, "before") == before);
    auto after_steps = step_offsets(port, "after");
    BOOST_TEST(std::vector<std::int64_t>(after_steps.begin(), after_steps.begin() + 2) == after);
    BOOST_TEST(http_request(port, "DELETE", "/observability/runs/doomed", "", bearer(admin_key)).status == 404);
    BOOST_TEST(metric(port, "obs_runs_deleted_by_request_total") == 1);

    // The stream goes on; the next events get new offsets, past every one given out.
    const auto last_given = after_steps.back();
    const auto next = post_thoughts(port, "after-delete", 1);
    BOOST_TEST(next.front() == last_given + 1);
    BOOST_TEST(stream.read_until_seen("\"run_id\":\"after-delete\"", streamed));
}

BOOST_AUTO_TEST_CASE(deleting_the_newest_run_never_reuses_its_offsets) {
    temp_dir dir;
    const std::string db = (dir.path() / "obs.db").string();
    std::int64_t newest = 0;
    {
        server_process server{server_options{db, keys(), {}, true}};
        post_thoughts(server.port(), "old", 2);
        newest = post_thoughts(server.port(), "newest", 3).back();
        BOOST_TEST_REQUIRE(
            http_request(server.port(), "DELETE", "/observability/runs/newest", "", bearer(admin_key)).status == 204);
        BOOST_TEST(post_thoughts(server.port(), "next", 1).front() == newest + 1);
        BOOST_TEST_REQUIRE(server.stop() == 0);
    }
    // Across a restart too: the last run is deleted again, then the server starts anew.
    {
        server_process server{server_options{db, keys(), {}, true}};
        BOOST_TEST_REQUIRE(
            http_request(server.port(), "DELETE", "/observability/runs/next", "", bearer(admin_key)).status == 204);
        BOOST_TEST_REQUIRE(server.stop() == 0);
    }
    server_process server{server_options{db, keys(), {}, true}};
    const auto again = post_thoughts(server.port(), "next", 1);
    BOOST_TEST(again.front() == newest + 2);
    // The same run id starts a new run.
    auto run = http_request(server.port(), "GET", "/observability/runs/next/steps", "", bearer(read_key));
    BOOST_TEST(run.json().at("steps").as_array().at(0).at("seq").as_int64() == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(retention)

BOOST_AUTO_TEST_CASE(a_quiet_run_goes_with_its_content_a_busy_one_stays) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(),
                                         {"--retention", "3s", "--retention-sweep", "200ms"}, {}, true}};
    const auto port = server.port();
    const fs::path data_dir = dir.path() / "observability-data";
    post_thoughts(port, "quiet", 50);
    const std::string content = put_artifact(port, "quiet", "notes.txt", "only the quiet run has this");
    const auto busy_first = post_thoughts(port, "busy", 2);
    // The busy run gets an event every 500 ms for 5 s; the quiet one none.
    const auto start = std::chrono::steady_clock::now();
    bool quiet_gone = false;
    while (std::chrono::steady_clock::now() - start < 5s) {
        std::this_thread::sleep_for(500ms);
        post_thoughts(port, "busy", 1);
        quiet_gone = quiet_gone || status_of(port, "/observability/runs/quiet") == 404;
    }
    // The quiet run was deleted after about 3 s, not before.
    BOOST_TEST(quiet_gone);
    BOOST_TEST(status_of(port, "/observability/runs/quiet/artifacts/notes.txt") == 404);
    BOOST_TEST(!fs::exists(content_path(data_dir, content)));
    const auto busy = step_offsets(port, "busy");
    BOOST_TEST(busy.size() == 12u);
    BOOST_TEST(std::vector<std::int64_t>(busy.begin(), busy.begin() + 2) == busy_first);
    BOOST_TEST(metric(port, "obs_retention_runs_deleted_total") == 1);
    BOOST_TEST(metric(port, "obs_retention_events_deleted_total") == 51);  // 50 thoughts and the artifact event
    // A small database keeps its few free pages for new rows (the reserve).
    BOOST_TEST(metric(port, "obs_retention_pages_released_total") == 0);
    BOOST_TEST(metric(port, "obs_retention_sweeps_total") >= 10);
}

BOOST_AUTO_TEST_CASE(a_run_is_kept_until_its_age_passes) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(),
                                         {"--retention", "3s", "--retention-sweep", "200ms"}, {}, true}};
    post_thoughts(server.port(), "young", 3);
    std::this_thread::sleep_for(2000ms);
    BOOST_TEST(status_of(server.port(), "/observability/runs/young") == 200);
    std::this_thread::sleep_for(2000ms);
    BOOST_TEST(status_of(server.port(), "/observability/runs/young") == 404);
}

BOOST_AUTO_TEST_CASE(under_steady_ingest_the_file_stops_growing) {
    temp_dir dir;
    const fs::path db = dir.path() / "obs.db";
    server_process server{server_options{db.string(), {"--retention", "2s", "--retention-sweep", "200ms"}, {}, true}};
    // About 2 MB a second into a new run every 100 ms, for 9 s: without
    // retention the file would grow by ~18 MB; with it, what is older than
    // 2 s goes and its pages are reused or returned.
    const std::string text(4000, 'z');
    std::string body = R"({"events":[)";
    for (int i = 0; i < 50; ++i)
        body += std::string(i ? "," : "") + R"({"run_id":"RUN","type":"thought","payload":{"text":")" + text + R"("}})";
    body += "]}";
    auto total_size = [&] {
        std::uintmax_t size = fs::file_size(db);
        std::error_code ec;
        if (auto wal = fs::file_size(db.string() + "-wal", ec); !ec) size += wal;
        return size;
    };
    std::uintmax_t at_4s = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int tick = 0; std::chrono::steady_clock::now() - start < 9s; ++tick) {
        std::string batch = body;
        for (auto at = batch.find("RUN"); at != std::string::npos; at = batch.find("RUN", at))
            batch.replace(at, 3, "run-" + std::to_string(tick));
        BOOST_TEST_REQUIRE(http_request(server.port(), "POST", "/observability/events", batch).status == 201);
        if (at_4s == 0 && std::chrono::steady_clock::now() - start >= 4s) at_4s = total_size();
        std::this_thread::sleep_for(100ms);
    }
    const std::uintmax_t at_9s = total_size();
    BOOST_TEST_MESSAGE("database and WAL: " << at_4s / 1024 << " KiB at 4 s, " << at_9s / 1024 << " KiB at 9 s");
    BOOST_TEST(metric(server.port(), "obs_retention_runs_deleted_total") >= 40);
    // Five more seconds of ingest (~10 MB) grew it by less than a fifth.
    BOOST_TEST(at_9s < at_4s + at_4s / 5, at_9s << " >= 1.2 x " << at_4s);
}

BOOST_AUTO_TEST_SUITE_END()
