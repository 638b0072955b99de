// End-to-end: POST /observability/backup and GET /observability/backups
// against the real binary and a real S3-compatible server (s3rver, started
// by scripts/s3-test-server), checked with the aws CLI, GNU tar and
// sqlite3; and the `restore` subcommand's round trip.
#include "tests/backup/support.hpp"
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <set>
#include <filesystem>
#include <thread>

using namespace obs::e2e;
namespace bt = obs::backup::test;

namespace {

std::map<std::string, std::string> s3_env(const bt::s3rver_process& s3) {
    return {{"AWS_ACCESS_KEY_ID", "S3RVER"},     {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
            {"AWS_REGION", "us-east-1"},         {"AWS_ENDPOINT_URL_S3", s3.endpoint()},
            {"OBS_S3_BUCKET", s3.bucket()},      {"OBS_S3_PREFIX", "e2e/"}};
}

// Pseudo-random hex text: compresses only about 2:1, like real payloads.
std::string noise(std::size_t n) {
    static std::uint64_t state = 0x9e3779b97f4a7c15ull;
    std::string out(n, '0');
    for (auto& c : out) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        c = "0123456789abcdef"[(state >> 59) & 15];
    }
    return out;
}

// Posts `batches` batches of 50 events of about 1 KB each.
void fill(unsigned short port, int batches, std::map<std::string, std::string> headers = {}) {
    http_connection conn(port);
    for (int b = 0; b < batches; ++b) {
        std::string body = R"({"events":[)";
        for (int i = 0; i < 50; ++i)
            body += std::string(i ? "," : "") + R"({"run_id":"fill-)" + std::to_string(b % 7) +
                    R"(","type":"thought","payload":{"text":")" + noise(1000) + "\"}}";
        body += "]}";
        auto res = conn.request("POST", "/observability/events", body, headers);
        BOOST_TEST_REQUIRE(res.status == 201, res.body);
    }
}

const std::string admin_key = "admin-key-for-backups-01";

}  // namespace

BOOST_AUTO_TEST_SUITE(backup_route)

BOOST_AUTO_TEST_CASE(multipart_backup_while_clients_post_then_restore) {
    bt::s3rver_process s3("backups");
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    server_process server{server_options{db, {"--api-key", "admin:" + admin_key}, s3_env(s3), true}};
    const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + admin_key}};
    // About 12 MB of rows that gzip to more than one 5 MiB part, and two artifacts.
    fill(server.port(), 240, auth);
    const std::map<std::string, std::string> artifacts{{"notes.txt", "first findings\n"},
                                                       {"weights.bin", std::string(300000, '\x07') + "end"}};
    for (const auto& [name, bytes] : artifacts) {
        auto put = http_request(server.port(), "PUT", "/observability/runs/kept/artifacts/" + name, bytes, auth);
        BOOST_TEST_REQUIRE(put.status == 201, put.body);
    }
    auto before = sqlite_count(db, "select count(*) from events");

    // Clients keep posting during the backup; none of them may fail.
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0}, posted{0};
    std::thread poster([&] {
        http_connection conn(server.port());
        while (!stop) {
            auto res = conn.request("POST", "/observability/events",
                                    R"({"events":[{"run_id":"during","type":"thought","payload":{"text":"x"}}]})", auth);
            if (res.status == 201) ++posted;
            else ++failures;
        }
    });
    auto res = http_request(server.port(), "POST", "/observability/backup", "", auth);
    stop = true;
    poster.join();
    BOOST_TEST_REQUIRE(res.status == 201, res.body);
    BOOST_TEST(failures == 0);
    BOOST_TEST(posted > 0);
    auto body = res.json().as_object();
    std::string location(body.at("location").as_string());
    BOOST_TEST(location.starts_with("s3://backups/e2e/"));
    BOOST_TEST(body.at("events").as_int64() >= before);
    BOOST_TEST(body.at("bytes").as_int64() > 5 * 1024 * 1024);  // so it went up in several parts
    BOOST_TEST(body.at("sha256").as_string().size() == 64u);
    BOOST_TEST(server.log().find("Backup successful: " + location) != std::string::npos);

    // The object, fetched with the aws CLI, is a tarball with a database
    // holding every event acknowledged before the snapshot.
    bt::temp_dir work;
    auto got = s3.aws("s3 cp '" + location + "' '" + work / "backup.tar.gz" + "'");
    BOOST_TEST_REQUIRE(got.status == 0, got.output);
    auto untar = bt::run_command("tar -xzf '" + work / "backup.tar.gz" + "' -C '" + work.path() + "'");
    BOOST_TEST_REQUIRE(untar.status == 0, untar.output);
    auto count = bt::run_command("sqlite3 '" + work / "observability.db" + "' 'select count(*) from events'");
    BOOST_TEST_REQUIRE(count.status == 0, count.output);
    BOOST_TEST(std::stoll(count.output) == body.at("events").as_int64());
    BOOST_TEST(std::stoll(count.output) >= before);

    // The history lists it.
    auto history = http_request(server.port(), "GET", "/observability/backups", "", auth);
    BOOST_TEST_REQUIRE(history.status == 200, history.body);
    auto rows = history.json().at("backups").as_array();
    BOOST_TEST_REQUIRE(rows.size() >= 1u);
    BOOST_TEST(rows[0].at("status").as_string() == "succeeded");

    // Restore it into a new database with the same binary: equal counts and offsets.
    std::filesystem::create_directories(dir.path() / "restored");
    auto restored = (dir.path() / "restored" / "obs.db").string();
    std::string env;
    for (const auto& [k, v] : s3_env(s3)) env += k + "='" + v + "' ";
    auto restore = bt::run_command(env + "'" + server_process::binary() + "' restore '" + location + "' --db '" +
                                   restored + "'");
    BOOST_TEST_REQUIRE(restore.status == 0, restore.output);
    BOOST_TEST(sqlite_count(restored, "select count(*) from events") == body.at("events").as_int64());
    BOOST_TEST(sqlite_count(restored, "select max(\"offset\") from events") == body.at("last_offset").as_int64());
    auto again = bt::run_command(env + "'" + server_process::binary() + "' restore '" + location + "' --db '" +
                                 restored + "'");
    BOOST_TEST(again.status != 0);  // refuses to overwrite without --force

    // A server on the restored database with its default data directory
    // serves every artifact, byte for byte.
    server_process revived{server_options{restored, {}, {}, true}};
    for (const auto& [name, bytes] : artifacts) {
        BOOST_TEST_CONTEXT(name) {
            auto got = http_request(revived.port(), "GET", "/observability/runs/kept/artifacts/" + name);
            BOOST_TEST_REQUIRE(got.status == 200, got.body);
            BOOST_TEST((got.body == bytes));
        }
    }
}

BOOST_AUTO_TEST_CASE(second_backup_at_the_same_time_gets_409) {
    bt::s3rver_process s3("busy");
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), {}, s3_env(s3), true}};
    fill(server.port(), 200);
    http_response first, second;
    std::thread a([&] { first = http_request(server.port(), "POST", "/observability/backup"); });
    std::thread b([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        second = http_request(server.port(), "POST", "/observability/backup");
    });
    a.join();
    b.join();
    std::multiset<int> statuses{first.status, second.status};
    // Either the second arrived while the first ran (409), or the first was
    // already done (both 201): the 409 case must be seen in a few tries.
    BOOST_TEST((statuses == std::multiset<int>{201, 409} || statuses == std::multiset<int>{201, 201}));
    int conflicts = statuses.count(409);
    for (int attempt = 0; attempt < 5 && conflicts == 0; ++attempt) {
        std::thread c([&] { first = http_request(server.port(), "POST", "/observability/backup"); });
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        second = http_request(server.port(), "POST", "/observability/backup");
        c.join();
        conflicts += (first.status == 409) + (second.status == 409);
    }
    BOOST_TEST(conflicts >= 1);
    auto body = (first.status == 409 ? first : second).json();
    BOOST_TEST(body.at("error").at("code").as_string() == "conflict");
}

BOOST_AUTO_TEST_CASE(unconfigured_unreachable_and_local) {
    temp_dir dir;
    auto db = (dir.path() / "obs.db").string();
    {
        // No S3 settings at all: 503 with a clear message.
        server_process server{server_options{db, {}, {{"OBS_S3_BUCKET", ""}, {"AWS_ACCESS_KEY_ID", ""}}, true}};
        fill(server.port(), 2);
        auto res = http_request(server.port(), "POST", "/observability/backup");
        BOOST_TEST(res.status == 503, res.body);
        BOOST_TEST(res.json().at("error").at("code").as_string() == "unavailable");
        BOOST_TEST(res.json().at("error").at("message").as_string().find("S3") != std::string::npos);
        auto local = http_request(server.port(), "POST", "/observability/backup?upload=false");
        BOOST_TEST_REQUIRE(local.status == 201, local.body);
        std::string path(local.json().at("location").as_string());
        auto list = bt::run_command("tar -tzf '" + path + "'");
        BOOST_TEST(list.status == 0);
        BOOST_TEST(list.output.find("observability.db") != std::string::npos);
        BOOST_TEST(list.output.find("manifest.json") != std::string::npos);
        BOOST_TEST(http_request(server.port(), "POST", "/observability/backup?upload=maybe").status == 400);
        BOOST_TEST(server.stop() == 0);
    }
    {
        // S3 configured but down: 502, the attempt is in the history, ingestion goes on.
        bt::s3rver_process s3("down");
        auto env = s3_env(s3);
        s3.stop();
        server_process server{server_options{db, {}, env, true}};
        auto res = http_request(server.port(), "POST", "/observability/backup");
        BOOST_TEST(res.status == 502, res.body);
        BOOST_TEST(res.json().at("error").at("code").as_string() == "bad_gateway");
        auto post = http_request(server.port(), "POST", "/observability/events",
                                 R"({"events":[{"run_id":"after","type":"thought","payload":{"text":"x"}}]})");
        BOOST_TEST(post.status == 201);
        auto history = http_request(server.port(), "GET", "/observability/backups").json().at("backups").as_array();
        BOOST_TEST_REQUIRE(history.size() >= 2u);
        BOOST_TEST(history[0].at("status").as_string() == "failed");
        BOOST_TEST(!history[0].at("error").as_string().empty());
    }
    // No temporary snapshot is left in the data directory.
    auto leftovers = bt::run_command("find '" + (dir.path() / "observability-data").string() + "' -name '.backup-*'");
    BOOST_TEST(leftovers.output.empty(), leftovers.output);
}

BOOST_AUTO_TEST_SUITE_END()
