// Tests of server/artifact_routes.cpp. The routes run behind the real
// listener (and route table) on a loopback port, with the io_context on its own thread
// and a blocking client on the test thread: round trips (Content-Length,
// chunked, 100-continue), hostile names, 413 without leftovers, 304, 206 and
// 416, dedupe, replacement, a client that leaves mid-upload, keep-alive.
// The header decisions and the artifact event are tested on their own in
// artifact_http_test.cpp and artifact_service_test.cpp.
#include "server/artifacts/artifact_routes.hpp"

#include "domain/sha256.hpp"
#include "persistence/migrations.hpp"
#include "persistence/sqlite_handle.hpp"
#include "backup/backup_job.hpp"
#include "server/app.hpp"
#include "server/artifacts/artifact_service.hpp"
#include "server/http/listener.hpp"
#include "server/routes/table.hpp"
#include "server/stream/stream_hub.hpp"
#include "tests/support/test_files.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <future>
#include <map>
#include <sstream>
#include <cctype>

#include <sys/socket.h>
#include <unistd.h>
#include <thread>

using namespace obs;
using namespace obs::server;
using obs::test::count_files;
using obs::test::random_bytes;
namespace fs = std::filesystem;
namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::uint64_t mib = 1024 * 1024;

struct reply {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
    std::string error_code() const {
        return std::string(boost::json::parse(body).at("error").at("code").as_string());
    }
};

// A blocking client connection with a receive timeout, so a server that
// never answers fails the test instead of hanging it.
struct client {
    net::io_context io;
    tcp::socket socket{io};
    boost::beast::flat_buffer buffer;

    explicit client(unsigned short port) {
        socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        timeval limit{30, 0};
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }
    void send(const std::string& bytes) { net::write(socket, net::buffer(bytes)); }
    reply read() {
        http::response_parser<http::string_body> parser;
        parser.body_limit(64 * mib);
        http::read(socket, buffer, parser);
        reply r;
        r.status = parser.get().result_int();
        for (const auto& field : parser.get()) {
            std::string name(field.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = std::string(field.value());
        }
        r.body = parser.get().body();
        return r;
    }
    reply request(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::map<std::string, std::string>& headers = {}) {
        std::string head = method + " " + target + " HTTP/1.1\r\nHost: test\r\n";
        for (const auto& [name, value] : headers) head += name + ": " + value + "\r\n";
        if (method == "PUT" || !body.empty()) head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
        send(head + "\r\n" + body);
        return read();
    }
};

reply http_call(unsigned short port, const std::string& method, const std::string& target, const std::string& body = "",
              const std::map<std::string, std::string>& headers = {}) {
    client c(port);
    auto h = headers;
    h.emplace("Connection", "close");
    return c.request(method, target, body, h);
}

// The real listener, app, writer, readers and artifact service on a
// temporary database and data directory; the io_context runs on its own
// thread until the fixture is destroyed.
struct test_server {
    fs::path dir;
    config cfg;
    std::unique_ptr<persistence::event_writer> writer;
    std::unique_ptr<persistence::read_pool> readers;
    net::io_context io{1};

    std::unique_ptr<stream_hub> hub;
    std::shared_ptr<completion_inbox> inbox;
    std::unique_ptr<artifact_service> artifacts;
    std::unique_ptr<backup::backup_runner> backups;
    std::unique_ptr<route_table> routes;
    std::unique_ptr<app> a;
    std::unique_ptr<http_listener> listener;
    std::future<void> io_done;

    explicit test_server(std::uint64_t max_artifact_bytes = 16 * mib) {
        static int serial = 0;
        dir = fs::temp_directory_path() / ("obs-artifact-routes-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(serial++));
        fs::remove_all(dir);
        fs::create_directories(dir);
        cfg.listen_port = 0;
        cfg.db_path = (dir / "obs.db").string();
        cfg.data_dir = (dir / "data").string();
        cfg.max_artifact_bytes = max_artifact_bytes;
        cfg.log_requests = false;
        int version = 0;
        {
            auto db = persistence::open_database(cfg.db_path, false);
            version = persistence::apply_migrations(db.get(), persistence::embedded_migrations()).schema_version;
        }
        persistence::writer_options wopts;
        wopts.db_path = cfg.db_path;
        writer = std::make_unique<persistence::event_writer>(wopts);
        readers = std::make_unique<persistence::read_pool>(cfg.db_path, 1);
        hub = std::make_unique<stream_hub>(io.get_executor(), writer->last_offset());
        inbox = std::make_shared<completion_inbox>(io.get_executor());
        writer->start({{}, [inbox = inbox] { inbox->flush(); }});
        artifacts = std::make_unique<artifact_service>(io, cfg.data_dir, max_artifact_bytes);
        backups = std::make_unique<backup::backup_runner>(io.get_executor());
        routes = std::make_unique<route_table>(build_route_table(cfg));
        a = std::make_unique<app>(io, cfg, app_parts{*writer, *readers, *hub, *artifacts, *backups, inbox}, version,
                                  route_names(*routes));
        listener = std::make_unique<http_listener>(*a, *routes);
        net::co_spawn(io, listener->run(), net::detached);
        io_done = std::async(std::launch::async, [this] { io.run(); });
    }

    ~test_server() {
        // Let every session end by itself (the clients have closed), so no
        // coroutine outlives the app it refers to.
        net::post(io, [this] { listener->shutdown(); });
        if (io_done.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
            BOOST_ERROR("the io_context did not finish within 30 s");
            io.stop();
        }
        io_done.wait();
        artifacts->stop();
        readers->stop();
        writer->stop();
        inbox->discard();
        listener.reset();
        a.reset();
        backups.reset();
        artifacts.reset();
        hub.reset();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }

    unsigned short port() const { return listener->port(); }
    fs::path content_dir() const { return fs::path(cfg.data_dir) / "artifacts" / "sha256"; }
    fs::path temp_dir() const { return fs::path(cfg.data_dir) / "artifacts" / "tmp"; }
    std::int64_t count(const std::string& sql) const {
        auto db = persistence::open_database(cfg.db_path, true);
        auto stmt = persistence::prepare(db.get(), sql);
        BOOST_REQUIRE(sqlite3_step(stmt.get()) == SQLITE_ROW);
        return sqlite3_column_int64(stmt.get(), 0);
    }
    // GET /observability/runs/{run_id}/artifacts through the listener.
    std::pair<unsigned, std::string> list(const std::string& run_id);
};

std::pair<unsigned, std::string> test_server::list(const std::string& run_id) {
    auto r = http_call(port(), "GET", "/observability/runs/" + run_id + "/artifacts");
    return {r.status, r.body};
}

const std::string base = "/observability/runs/r1/artifacts/";

}  // namespace

BOOST_AUTO_TEST_SUITE(artifact_routes_suite)

BOOST_AUTO_TEST_CASE(binary_round_trip_with_event) {
    test_server s;
    const std::string data = random_bytes(3 * mib + 17, 1);
    auto put = http_call(s.port(), "PUT", base + "model%20v1.bin", data,
                       {{"Content-Type", "application/x-test"}, {"X-Step-Id", "step-9"}});
    BOOST_TEST_REQUIRE(put.status == 201u, put.body);
    const auto art = boost::json::parse(put.body).as_object();
    const std::string sha = domain::sha256_hex(data);
    BOOST_TEST(art.at("name").as_string() == "model v1.bin");
    BOOST_TEST(art.at("run_id").as_string() == "r1");
    BOOST_TEST(art.at("step_id").as_string() == "step-9");
    BOOST_TEST(art.at("size").to_number<std::uint64_t>() == data.size());
    BOOST_TEST(art.at("sha256").as_string() == sha);
    BOOST_TEST(art.at("content_type").as_string() == "application/x-test");
    BOOST_TEST(put.header("etag") == "\"" + sha + "\"");

    auto get = http_call(s.port(), "GET", base + "model%20v1.bin");
    BOOST_TEST_REQUIRE(get.status == 200u);
    BOOST_TEST((get.body == data));
    BOOST_TEST(get.header("content-type") == "application/x-test");
    BOOST_TEST(get.header("content-length") == std::to_string(data.size()));
    BOOST_TEST(get.header("etag") == "\"" + sha + "\"");

    BOOST_TEST(s.count("SELECT count(*) FROM events WHERE type = 'artifact' AND run_id = 'r1' AND parent_id = "
                       "'step-9' AND json_extract(payload, '$.sha256') = '" + sha + "'") == 1);
    BOOST_TEST(s.count("SELECT count(*) FROM artifacts") == 1);
    BOOST_TEST(count_files(s.temp_dir()) == 0u);

    // Without a Content-Type the stored one is application/octet-stream.
    BOOST_TEST(http_call(s.port(), "PUT", base + "plain", "abc").status == 201u);
    BOOST_TEST(http_call(s.port(), "GET", base + "plain").header("content-type") == "application/octet-stream");

    // An empty artifact is an artifact.
    auto empty_put = http_call(s.port(), "PUT", base + "empty", "");
    BOOST_TEST_REQUIRE(empty_put.status == 201u, empty_put.body);
    BOOST_TEST(boost::json::parse(empty_put.body).at("sha256").as_string() == domain::sha256_hex(""));
    auto empty_get = http_call(s.port(), "GET", base + "empty");
    BOOST_TEST(empty_get.status == 200u);
    BOOST_TEST(empty_get.body.empty());
    BOOST_TEST(empty_get.header("content-length") == "0");
}

BOOST_AUTO_TEST_CASE(chunked_and_expect_continue_uploads) {
    test_server s;
    const std::string data = random_bytes(700 * 1024, 2);
    {
        client c(s.port());
        std::string raw = "PUT " + base + "chunked HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (std::size_t at = 0; at < data.size(); at += 100000) {
            const std::size_t n = std::min<std::size_t>(100000, data.size() - at);
            std::ostringstream size;
            size << std::hex << n;
            raw += size.str() + "\r\n" + data.substr(at, n) + "\r\n";
        }
        c.send(raw + "0\r\n\r\n");
        auto r = c.read();
        BOOST_TEST_REQUIRE(r.status == 201u, r.body);
        BOOST_TEST(boost::json::parse(r.body).at("size").to_number<std::uint64_t>() == data.size());
        // The same connection carries the next request.
        auto get = c.request("GET", base + "chunked");
        BOOST_TEST(get.status == 200u);
        BOOST_TEST((get.body == data));
    }
    {
        client c(s.port());
        c.send("PUT " + base + "continued HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: " +
               std::to_string(data.size()) + "\r\n\r\n");
        BOOST_TEST_REQUIRE(c.read().status == 100u);
        c.send(data);
        auto r = c.read();
        BOOST_TEST(r.status == 201u, r.body);
    }
    BOOST_TEST(count_files(s.content_dir()) == 1u);  // same bytes: one file
}

BOOST_AUTO_TEST_CASE(hostile_names_are_refused) {
    test_server s;
    struct name_case {
        std::string encoded;
        std::string why;
    };
    const name_case cases[] = {
        {"..", "parent"}, {".", "self"}, {"%2e%2e", "encoded parent"}, {"%2E", "encoded self"},
        {"a%2fb", "encoded slash"}, {"..%2f..%2fetc%2fpasswd", "encoded traversal"}, {"a%5cb", "backslash"},
        {"a%00b", "NUL"}, {"%0a", "newline"}, {"a%7f", "DEL"}, {"%ff%fe", "invalid UTF-8"},
        {"%c0%ae%c0%ae", "overlong dots"}, {std::string(256, 'x'), "256 bytes"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.why) {
            auto put = http_call(s.port(), "PUT", base + c.encoded, "evil");
            BOOST_TEST(put.status == 400u);
            BOOST_TEST(put.error_code() == "bad_request");
            auto get = http_call(s.port(), "GET", base + c.encoded);
            BOOST_TEST(get.status == 400u);
        }
    }
    BOOST_TEST(http_call(s.port(), "PUT", base + std::string(255, 'x'), "ok").status == 201u);
    BOOST_TEST(http_call(s.port(), "PUT", "/observability/runs/bad%20run/artifacts/a", "x").status == 400u);
    BOOST_TEST(http_call(s.port(), "PUT", base + "a", "x", {{"X-Step-Id", "no spaces"}}).status == 400u);
    BOOST_TEST(s.count("SELECT count(*) FROM artifacts") == 1);
    BOOST_TEST(count_files(s.content_dir()) == 1u);
    BOOST_TEST(count_files(s.temp_dir()) == 0u);
}

BOOST_AUTO_TEST_CASE(too_large_leaves_nothing) {
    test_server s(1 * mib);
    {
        // Content-Length over the limit: refused before any byte of the body.
        client c(s.port());
        c.send("PUT " + base + "big HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(1 * mib + 1) +
               "\r\n\r\n");
        auto r = c.read();
        BOOST_TEST(r.status == 413u);
        BOOST_TEST(r.error_code() == "too_large");
    }
    {
        // Chunked: refused as soon as the running count crosses the limit.
        client c(s.port());
        c.send("PUT " + base + "big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
        const std::string piece = random_bytes(256 * 1024, 3);
        boost::system::error_code ec;
        for (int i = 0; i < 8 && !ec; ++i) net::write(c.socket, net::buffer("40000\r\n" + piece + "\r\n"), ec);
        auto r = c.read();
        BOOST_TEST(r.status == 413u);
    }
    BOOST_TEST(http_call(s.port(), "PUT", base + "exact", random_bytes(1 * mib, 4)).status == 201u);
    BOOST_TEST(s.count("SELECT count(*) FROM artifacts") == 1);
    BOOST_TEST(s.count("SELECT count(*) FROM events") == 1);
    BOOST_TEST(count_files(s.content_dir()) == 1u);
    BOOST_TEST(count_files(s.temp_dir()) == 0u);
}

BOOST_AUTO_TEST_CASE(conditional_and_range_requests) {
    test_server s;
    const std::string data = random_bytes(1000, 5);
    BOOST_TEST_REQUIRE(http_call(s.port(), "PUT", base + "r.bin", data).status == 201u);
    const std::string etag = "\"" + domain::sha256_hex(data) + "\"";

    auto not_modified = http_call(s.port(), "GET", base + "r.bin", "", {{"If-None-Match", etag}});
    BOOST_TEST(not_modified.status == 304u);
    BOOST_TEST(not_modified.body.empty());
    BOOST_TEST(not_modified.header("etag") == etag);
    BOOST_TEST(http_call(s.port(), "GET", base + "r.bin", "", {{"If-None-Match", "\"other\""}}).status == 200u);

    struct range_case {
        std::string range;
        std::string if_range;
        unsigned status;
        std::string content_range;
        std::size_t first, length;
    };
    const range_case cases[] = {
        {"bytes=0-9", "", 206, "bytes 0-9/1000", 0, 10},
        {"bytes=990-", "", 206, "bytes 990-999/1000", 990, 10},
        {"bytes=-1", "", 206, "bytes 999-999/1000", 999, 1},
        {"bytes=100-5000", etag, 206, "bytes 100-999/1000", 100, 900},
        {"bytes=1000-", "", 416, "bytes */1000", 0, 0},
        {"bytes=0-1,4-5", "", 200, "", 0, 1000},
        {"bytes=0-9", "\"stale\"", 200, "", 0, 1000},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.range << " If-Range " << c.if_range) {
            std::map<std::string, std::string> headers{{"Range", c.range}};
            if (!c.if_range.empty()) headers["If-Range"] = c.if_range;
            auto r = http_call(s.port(), "GET", base + "r.bin", "", headers);
            BOOST_TEST(r.status == c.status);
            BOOST_TEST(r.header("content-range") == c.content_range);
            if (c.status == 416) {
                BOOST_TEST(r.error_code() == "range_not_satisfiable");
            } else {
                BOOST_TEST((r.body == data.substr(c.first, c.length)));
                BOOST_TEST(r.header("content-length") == std::to_string(c.length));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(dedupe_replace_list_and_unknowns) {
    test_server s;
    const std::string one = random_bytes(5000, 6), two = random_bytes(6000, 7);
    BOOST_TEST(http_call(s.port(), "PUT", base + "b", one).status == 201u);
    BOOST_TEST(http_call(s.port(), "PUT", base + "a", one).status == 201u);
    BOOST_TEST(http_call(s.port(), "PUT", "/observability/runs/r2/artifacts/a", one).status == 201u);
    BOOST_TEST(count_files(s.content_dir()) == 1u);

    // Re-put replaces r1's pointer; r2 still gets the old bytes.
    BOOST_TEST(http_call(s.port(), "PUT", base + "a", two).status == 201u);
    BOOST_TEST((http_call(s.port(), "GET", base + "a").body == two));
    BOOST_TEST((http_call(s.port(), "GET", "/observability/runs/r2/artifacts/a").body == one));
    BOOST_TEST(count_files(s.content_dir()) == 2u);

    auto [status, body] = s.list("r1");
    BOOST_TEST_REQUIRE(status == 200u);
    const auto listed = boost::json::parse(body).at("artifacts").as_array();
    BOOST_TEST_REQUIRE(listed.size() == 2u);
    BOOST_TEST(listed[0].at("name").as_string() == "a");
    BOOST_TEST(listed[0].at("sha256").as_string() == domain::sha256_hex(two));
    BOOST_TEST(listed[1].at("name").as_string() == "b");
    BOOST_TEST(listed[0].as_object().size() == 8u);
    BOOST_TEST(s.list("nope").first == 404u);
    BOOST_TEST(s.list("bad%20run").first == 404u);

    BOOST_TEST(http_call(s.port(), "GET", "/observability/runs/nope/artifacts/a").status == 404u);
    auto missing = http_call(s.port(), "GET", base + "missing");
    BOOST_TEST(missing.status == 404u);
    BOOST_TEST(missing.error_code() == "not_found");
}

BOOST_AUTO_TEST_CASE(client_leaving_mid_upload_leaves_nothing) {
    test_server s;
    {
        client c(s.port());
        c.send("PUT " + base + "cut HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(4 * mib) + "\r\n\r\n" +
               random_bytes(600 * 1024, 8));
        // The server has the first chunk once the temporary file exists.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (count_files(s.temp_dir()) == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        BOOST_TEST_REQUIRE(count_files(s.temp_dir()) == 1u);
    }  // the connection closes here, mid-body
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (count_files(s.temp_dir()) != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST(count_files(s.temp_dir()) == 0u);
    BOOST_TEST(count_files(s.content_dir()) == 0u);
    BOOST_TEST(s.count("SELECT count(*) FROM artifacts") == 0);
    BOOST_TEST(http_call(s.port(), "GET", base + "cut").status == 404u);
}

BOOST_AUTO_TEST_SUITE_END()
