// End-to-end: artifacts against the real binary. A binary round trip of
// several MiB, the listing, the `artifact` event on the stream, hostile
// names, 413 without leftovers, If-None-Match and Range, dedupe of identical
// content, a crash mid-upload (no row, no file under a real name, the
// temporary swept at restart), and the artifact's bytes in a local backup.
#include "tests/e2e/raw_socket.hpp"
#include "tests/e2e/server_process.hpp"
#include "tests/support/test_files.hpp"

#include "domain/sha256.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

namespace json = boost::json;
namespace fs = std::filesystem;
namespace net = boost::asio;
using namespace obs::e2e;
using obs::test::count_files;
using obs::test::file_bytes;
using obs::test::random_bytes;

namespace {

constexpr std::size_t mib = 1024 * 1024;

// Waits (bounded) until `done()` holds: for effects the server shows only
// on disk, such as a temporary file.
template <class F>
bool eventually(F done, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

// A temporary database and data directory, and the server on them.
struct fixture {
    temp_dir dir;
    std::string db = (dir.path() / "obs.db").string();
    fs::path data = dir.path() / "data";
    std::optional<server_process> server;

    explicit fixture(std::vector<std::string> extra = {}) { start(std::move(extra)); }
    void start(std::vector<std::string> extra = {}) {
        extra.insert(extra.begin(), {"--data-dir", data.string()});
        server.emplace(server_options{db, std::move(extra), {}, true});
    }
    unsigned short port() const { return server->port(); }
    fs::path content_dir() const { return data / "artifacts" / "sha256"; }
    fs::path temp_files() const { return data / "artifacts" / "tmp"; }
    long long rows() const { return sqlite_count(db, "SELECT count(*) FROM artifacts"); }

    http_response put(const std::string& run, const std::string& name, const std::string& body,
                      std::map<std::string, std::string> headers = {{"Content-Type", "application/octet-stream"}}) {
        return http_request(port(), "PUT", "/observability/runs/" + run + "/artifacts/" + name, body,
                            std::move(headers));
    }
    http_response get(const std::string& run, const std::string& name, std::map<std::string, std::string> headers = {}) {
        return http_request(port(), "GET", "/observability/runs/" + run + "/artifacts/" + name, "", std::move(headers));
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(artifacts_e2e)

BOOST_AUTO_TEST_CASE(binary_round_trip_listing_and_stream) {
    fixture f;
    const std::string data = random_bytes(5 * mib + 3, 1);
    const std::string sha = obs::domain::sha256_hex(data);
    auto put = f.put("run-a", "weights.bin", data, {{"Content-Type", "application/x-weights"}, {"X-Step-Id", "s-1"}});
    BOOST_TEST_REQUIRE(put.status == 201, put.body);
    const auto art = put.json().as_object();
    BOOST_TEST(art.at("sha256").as_string() == sha);
    BOOST_TEST(art.at("size").to_number<std::int64_t>() == static_cast<std::int64_t>(data.size()));
    BOOST_TEST(art.at("step_id").as_string() == "s-1");

    auto got = f.get("run-a", "weights.bin");
    BOOST_TEST_REQUIRE(got.status == 200);
    BOOST_TEST((got.body == data));
    BOOST_TEST(got.header("content-type") == "application/x-weights");
    BOOST_TEST(got.header("etag") == "\"" + sha + "\"");
    BOOST_TEST(file_bytes(f.content_dir() / sha.substr(0, 2) / sha) == data);

    BOOST_TEST(f.put("run-a", "notes.txt", "hello", {{"Content-Type", "text/plain"}}).status == 201);
    auto listed = http_request(f.port(), "GET", "/observability/runs/run-a/artifacts");
    BOOST_TEST_REQUIRE(listed.status == 200, listed.body);
    const auto items = listed.json().at("artifacts").as_array();
    BOOST_TEST_REQUIRE(items.size() == 2u);
    BOOST_TEST(items[0].at("name").as_string() == "notes.txt");
    BOOST_TEST(items[1].at("name").as_string() == "weights.bin");
    for (const char* key : {"id", "run_id", "step_id", "name", "content_type", "size", "sha256", "created_at"})
        BOOST_TEST(items[1].as_object().contains(key), key);
    BOOST_TEST(http_request(f.port(), "GET", "/observability/runs/no-such-run/artifacts").status == 404);

    // The `artifact` event is in the run's log and on the stream like any other.
    raw_socket stream(f.port());
    BOOST_TEST_REQUIRE(stream.send(
        "GET /observability/stream?run_id=run-a&type=artifact HTTP/1.1\r\nHost: t\r\nLast-Event-ID: 0\r\n\r\n"));
    std::string received;
    BOOST_TEST_REQUIRE(stream.read_until_seen("\"name\":\"notes.txt\"", received), received);
    BOOST_TEST(received.find("\"type\":\"artifact\"") != std::string::npos);
    BOOST_TEST(received.find("\"sha256\":\"" + sha + "\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(hostile_names_store_nothing) {
    fixture f;
    struct name_case {
        std::string target_name;  // as sent in the path
        int status;
        std::string why;
    };
    const name_case cases[] = {
        {"../escape", 404, "traversal (no such route)"},
        {"..", 400, "parent"},
        {"%2e%2e", 400, "encoded parent"},
        {"..%2F..%2Fetc%2Fpasswd", 400, "encoded traversal"},
        {"a%5c..%5cb", 400, "backslashes"},
        {"a%00b", 400, "NUL"},
        {"a%1bb", 400, "control character"},
        {"%ff", 400, "invalid UTF-8"},
        {"", 405, "empty (the listing's path)"},
        {std::string(256, 'n'), 400, "256 bytes"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.why) {
            auto res = f.put("run-h", c.target_name, "payload");
            BOOST_TEST(res.status == c.status);
            BOOST_TEST(res.json().at("error").is_object());
        }
    }
    BOOST_TEST(f.put("run-h", std::string(255, 'n'), "payload").status == 201);  // the longest valid name
    BOOST_TEST(f.rows() == 1);
    BOOST_TEST(count_files(f.content_dir()) == 1u);
    BOOST_TEST(count_files(f.temp_files()) == 0u);
    BOOST_TEST(!fs::exists(f.data / "escape"));
}

BOOST_AUTO_TEST_CASE(too_large_leaves_nothing) {
    fixture f({"--max-artifact-bytes", std::to_string(mib)});
    auto res = f.put("run-l", "big.bin", random_bytes(mib + 1, 2));
    BOOST_TEST(res.status == 413);
    BOOST_TEST(res.json().at("error").at("code").as_string() == "too_large");
    BOOST_TEST(f.rows() == 0);
    BOOST_TEST(sqlite_count(f.db, "SELECT count(*) FROM events") == 0);
    BOOST_TEST(count_files(f.content_dir()) == 0u);
    BOOST_TEST(count_files(f.temp_files()) == 0u);
    BOOST_TEST(f.put("run-l", "fits.bin", random_bytes(mib, 3)).status == 201);
}

BOOST_AUTO_TEST_CASE(conditional_range_and_dedupe) {
    fixture f;
    const std::string data = random_bytes(100000, 4);
    const std::string etag = "\"" + obs::domain::sha256_hex(data) + "\"";
    BOOST_TEST_REQUIRE(f.put("run-c", "a.bin", data).status == 201);
    BOOST_TEST_REQUIRE(f.put("run-c", "b.bin", data).status == 201);
    BOOST_TEST_REQUIRE(f.put("run-d", "a.bin", data).status == 201);
    BOOST_TEST(count_files(f.content_dir()) == 1u);  // identical content stored once
    BOOST_TEST(f.rows() == 3);

    auto cached = f.get("run-c", "a.bin", {{"If-None-Match", etag}});
    BOOST_TEST(cached.status == 304);
    BOOST_TEST(cached.body.empty());
    BOOST_TEST(f.get("run-c", "a.bin", {{"If-None-Match", "\"elsewhere\""}}).status == 200);

    auto part = f.get("run-c", "b.bin", {{"Range", "bytes=1000-1999"}});
    BOOST_TEST(part.status == 206);
    BOOST_TEST(part.header("content-range") == "bytes 1000-1999/100000");
    BOOST_TEST((part.body == data.substr(1000, 1000)));
    auto tail = f.get("run-c", "b.bin", {{"Range", "bytes=-10"}});
    BOOST_TEST(tail.status == 206);
    BOOST_TEST((tail.body == data.substr(data.size() - 10)));
    auto outside = f.get("run-c", "b.bin", {{"Range", "bytes=100000-"}});
    BOOST_TEST(outside.status == 416);
    BOOST_TEST(outside.header("content-range") == "bytes */100000");
    BOOST_TEST(outside.json().at("error").at("code").as_string() == "range_not_satisfiable");

    BOOST_TEST(f.get("run-c", "missing").status == 404);
    BOOST_TEST(f.get("run-none", "a.bin").status == 404);
}

BOOST_AUTO_TEST_CASE(crash_mid_upload_leaves_no_artifact) {
    fixture f;
    {
        raw_socket upload(f.port());
        BOOST_TEST_REQUIRE(upload.send("PUT /observability/runs/run-x/artifacts/cut.bin HTTP/1.1\r\nHost: t\r\n"
                                       "Content-Length: " + std::to_string(8 * mib) + "\r\n\r\n" +
                                       random_bytes(2 * mib, 5)));
        // The server is writing the temporary file: crash it there.
        BOOST_TEST_REQUIRE(eventually([&] { return count_files(f.temp_files()) == 1; }));
        f.server->kill_hard();
    }
    BOOST_TEST(f.rows() == 0);
    BOOST_TEST(count_files(f.content_dir()) == 0u);  // nothing under a real name

    f.start();  // the restart sweeps the temporary file
    BOOST_TEST(count_files(f.temp_files()) == 0u);
    BOOST_TEST(f.get("run-x", "cut.bin").status == 404);
    BOOST_TEST(f.put("run-x", "cut.bin", "whole").status == 201);
    BOOST_TEST((f.get("run-x", "cut.bin").body == "whole"));
}

// The artifact's bytes travel in the local tarball at the path the
// snapshot's rows name.
BOOST_AUTO_TEST_CASE(local_backup_carries_the_artifact) {
    fixture f;
    const std::string data = random_bytes(3 * mib, 6);
    const std::string sha = obs::domain::sha256_hex(data);
    BOOST_TEST_REQUIRE(f.put("run-b", "model.bin", data).status == 201);
    auto backup = http_request(f.port(), "POST", "/observability/backup?upload=false");
    BOOST_TEST_REQUIRE(backup.status == 201, backup.body);
    const std::string tarball(backup.json().at("location").as_string());
    const fs::path out = f.dir.path() / "extracted";
    fs::create_directories(out);
    const std::string member = "artifacts/sha256/" + sha.substr(0, 2) + "/" + sha;
    const std::string command = "tar -xzf '" + tarball + "' -C '" + out.string() + "' '" + member + "'";
    BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0, command);
    BOOST_TEST((file_bytes(out / member) == data));
}

BOOST_AUTO_TEST_SUITE_END()
