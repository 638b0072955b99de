// End-to-end regressions of issue 13, items 1 and 7, against the real binary
// over raw sockets: framing that could smuggle a second request (a
// Transfer-Encoding not ending in chunked, one beside Content-Length), a
// missing Host, targets that are not paths, oversized heads, the header
// timeout on every request of a kept-alive connection, bytes that are not
// UTF-8 in a path (the error body and the log line stay valid JSON), HEAD on
// the GET routes, and the stream's strict query.
#include "domain/artifact_name.hpp"
#include "tests/e2e/raw_socket.hpp"
#include "tests/e2e/server_process.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <sstream>
#include <thread>

using namespace obs::e2e;
using namespace std::chrono_literals;

namespace {

// The contract's error body: valid UTF-8, valid JSON, {"error":{"code",...}}.
std::string error_code_of(const std::string& body) {
    BOOST_TEST_REQUIRE(obs::domain::is_valid_utf8(body), "the error body is not UTF-8");
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    BOOST_TEST_REQUIRE(!ec, "the error body is not JSON: " << body);
    return std::string(v.at("error").at("code").as_string());
}

std::string post_head(const std::string& extra_headers) {
    return "POST /observability/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra_headers +
           "\r\n";
}

// A complete request that stores one event of run `run`.
std::string event_request(const std::string& run) {
    const std::string body = R"({"events":[{"run_id":")" + run + R"(","type":"thought","payload":{"text":"hi"}}]})";
    return post_head("Content-Length: " + std::to_string(body.size()) + "\r\n") + body;
}

std::string chunked(const std::string& data) {
    std::ostringstream out;
    out << std::hex << data.size() << "\r\n" << data << "\r\n0\r\n\r\n";
    return out.str();
}

struct framing_case {
    std::string name;
    std::string bytes;  // sent as is; a smuggled request may follow inside
    int status;
    std::string code;
};

std::vector<framing_case> framing_cases() {
    const std::string smuggled = event_request("smuggled");
    std::vector<framing_case> cases;
    // The body bytes are a whole second request: read as "no body", it
    // would run next on the same connection.
    for (const std::string te : {"chunked, identity", "gzip", "xchunked", "identity", "chunked;q=1, gzip"})
        cases.push_back({"Transfer-Encoding: " + te, post_head("Transfer-Encoding: " + te + "\r\n") + smuggled, 400,
                         "bad_request"});
    cases.push_back({"Transfer-Encoding: chunked with Content-Length",
                     post_head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") + chunked(smuggled), 400,
                     "bad_request"});
    cases.push_back({"Content-Length then Transfer-Encoding",
                     post_head("Content-Length: " + std::to_string(smuggled.size()) +
                               "\r\nTransfer-Encoding: chunked\r\n") + smuggled,
                     400, "bad_request"});
    cases.push_back({"HTTP/1.1 without Host", "GET /healthz HTTP/1.1\r\n\r\n" + smuggled, 400, "bad_request"});
    cases.push_back({"absolute-form target", "GET http://127.0.0.1:1/healthz HTTP/1.1\r\nHost: x\r\n\r\n" + smuggled,
                     400, "bad_request"});
    cases.push_back({"absolute-form POST",
                     "POST http://x/observability/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     "Content-Length: 0\r\n\r\n" + smuggled,
                     400, "bad_request"});
    cases.push_back({"asterisk-form target", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n" + smuggled, 400, "bad_request"});
    cases.push_back({"one header over 16 KiB",
                     "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17 * 1024, 'b') + "\r\n\r\n", 431,
                     "headers_too_large"});
    std::string many;
    for (int i = 0; i < 400; ++i) many += "X-H" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
    cases.push_back({"many headers over 16 KiB", "GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + "\r\n", 431,
                     "headers_too_large"});
    return cases;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_framing)

BOOST_AUTO_TEST_CASE(refused_framing_closes_and_smuggles_nothing) {
    temp_dir dir;
    const auto db = (dir.path() / "obs.db").string();
    server_process server{server_options{db, {}, {}, true}};
    for (const auto& c : framing_cases()) {
        BOOST_TEST_CONTEXT(c.name) {
            raw_socket s(server.port());
            BOOST_TEST_REQUIRE(s.send(c.bytes));
            std::string received;
            const auto closed = s.read_to_close(received, 5000ms);
            BOOST_TEST(closed.has_value(), "the connection stayed open");
            auto answer = take_answer(received);
            BOOST_TEST_REQUIRE(answer.has_value(), "no complete answer: " << received.substr(0, 200));
            BOOST_TEST(answer->status == c.status);
            BOOST_TEST(error_code_of(answer->body) == c.code);
            BOOST_TEST(answer->headers["connection"] == "close");
            // Nothing after the refusal: the smuggled request got no answer.
            BOOST_TEST(received.empty(), "bytes after the refusal: " << received.substr(0, 200));
        }
    }
    // The smuggled POST was never run: no row, no run.
    BOOST_TEST(sqlite_count(db, "select count(*) from events") == 0);
    BOOST_TEST(http_request(server.port(), "GET", "/observability/runs/smuggled").status == 404);
    // The same request framed properly is stored (the check above can fail).
    raw_socket control(server.port());
    BOOST_TEST_REQUIRE(control.send(post_head("Transfer-Encoding: chunked\r\n") +
                                    chunked(R"({"events":[{"run_id":"framed","type":"thought","payload":{"text":"hi"}}]})")));
    std::string received;
    std::optional<raw_answer> stored;
    while (!(stored = take_answer(received)) && control.read_some(received, 65536, 5000ms) == raw_socket::got::data) {
    }
    BOOST_TEST_REQUIRE(stored.has_value());
    BOOST_TEST(stored->status == 201);
    BOOST_TEST(sqlite_count(db, "select count(*) from events where run_id = 'framed'") == 1);
}

BOOST_AUTO_TEST_CASE(http_1_0_without_host_is_served) {
    // The Host rule is HTTP/1.1's (RFC 9112 §3.2); 1.0 has no such header.
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), {}, {}, true}};
    raw_socket s(server.port());
    BOOST_TEST_REQUIRE(s.send("GET /healthz HTTP/1.0\r\n\r\n"));
    std::string received;
    s.read_to_close(received, 5000ms);
    BOOST_TEST(received.rfind("HTTP/1.1 200", 0) == 0, received.substr(0, 100));
}

BOOST_AUTO_TEST_CASE(header_timeout_applies_to_every_request_of_a_connection) {
    temp_dir dir;
    server_process server{
        server_options{(dir.path() / "obs.db").string(), {"--header-timeout-ms", "300", "--idle-timeout-ms", "5000"}, {}, true}};
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

    // Idle between requests is the idle timeout's: 1 s of silence is fine.
    raw_socket patient(server.port());
    BOOST_TEST_REQUIRE(patient.send(request));
    std::string received;
    while (!take_answer(received) && patient.read_some(received, 65536, 5000ms) == raw_socket::got::data) {
    }
    std::this_thread::sleep_for(1000ms);
    BOOST_TEST_REQUIRE(patient.send(request));
    received.clear();
    std::optional<raw_answer> second;
    while (!(second = take_answer(received)) && patient.read_some(received, 65536, 5000ms) == raw_socket::got::data) {
    }
    BOOST_TEST_REQUIRE(second.has_value(), "a request after 1 s idle got no answer");
    BOOST_TEST(second->status == 200);

    // A second request's head dripped a byte per 100 ms: the header timeout
    // (300 ms from its first byte) ends it, not the 5 s idle timeout.
    raw_socket drip(server.port());
    BOOST_TEST_REQUIRE(drip.send(request));
    received.clear();
    while (!take_answer(received) && drip.read_some(received, 65536, 5000ms) == raw_socket::got::data) {
    }
    const auto start = std::chrono::steady_clock::now();
    bool closed = false;
    const std::string slow = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'd');
    for (std::size_t i = 0; i < slow.size() && !closed; ++i) {
        if (!drip.send(slow.substr(i, 1))) {
            closed = true;
            break;
        }
        received.clear();
        closed = drip.read_some(received, 1, 100ms) == raw_socket::got::closed;
        if (std::chrono::steady_clock::now() - start > 4000ms) break;
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    BOOST_TEST_MESSAGE("dripped head closed after " << elapsed.count() << " ms");
    BOOST_TEST(closed, "the dripped head was still being read after " << elapsed.count() << " ms");
    BOOST_TEST(elapsed.count() < 1500);
    BOOST_TEST(elapsed.count() >= 250);
}

BOOST_AUTO_TEST_CASE(bytes_that_are_not_utf8_in_a_path_stay_valid_json) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), {}, {}, true}};
    struct utf8_case {
        std::string target;
        int status;
    };
    const std::vector<utf8_case> cases{
        {"/observability/runs/%FF%FE/x", 404},
        {"/observability/runs/%FF%FE", 404},
        {"/observability/runs/%FF%FE/steps", 404},
        {"/observability/runs/%C3%28/artifacts/a", 404},
        {"/observability/nope/%ED%A0%80", 404},                // an encoded surrogate
        {"/observability/runs?%FF%FE=1", 400},                 // an unknown parameter's name
        {"/observability/runs?status=%FF", 400},
        {"/observability/runs/r/steps?type=%FF%FE", 400},
        {"/observability/runs/\xFF\xFE/x", 0},                 // raw bytes: 400 or 404, either valid JSON
        {"/\xC0\xAF", 0},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.target) {
            auto res = raw_request(server.port(), "GET " + c.target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            if (c.status != 0) BOOST_TEST(res.status == c.status);
            BOOST_TEST((res.status == 400 || res.status == 404));
            const std::string code = error_code_of(res.body);
            BOOST_TEST((code == "not_found" || code == "bad_request"));
        }
    }
    // Every line the server logged (a request line per request) is UTF-8 JSON.
    std::this_thread::sleep_for(200ms);  // the last request's log line
    std::istringstream log(server.log());
    std::string line;
    int request_lines = 0;
    while (std::getline(log, line)) {
        if (line.empty()) continue;
        BOOST_TEST_CONTEXT(line.substr(0, 200)) {
            BOOST_TEST(obs::domain::is_valid_utf8(line));
            boost::system::error_code ec;
            const auto v = boost::json::parse(line, ec);
            BOOST_TEST(!ec);
            if (!ec && v.is_object() && v.as_object().contains("status")) ++request_lines;
        }
    }
    BOOST_TEST(request_lines >= static_cast<int>(cases.size()));
}

BOOST_AUTO_TEST_CASE(head_answers_the_get_headers_without_a_body) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), {}, {}, true}};
    BOOST_TEST_REQUIRE(http_request(server.port(), "POST", "/observability/events",
                                    R"({"events":[{"run_id":"h","type":"thought","payload":{"text":"hi"}}]})")
                           .status == 201);
    const std::string content(3000, 'z');
    BOOST_TEST_REQUIRE(http_request(server.port(), "PUT", "/observability/runs/h/artifacts/notes.txt", content,
                                    {{"Content-Type", "text/plain"}})
                           .status == 201);
    for (const std::string target : {"/healthz", "/observability/runs", "/observability/runs/h",
                                     "/observability/runs/h/steps", "/observability/runs/h/artifacts/notes.txt"}) {
        BOOST_TEST_CONTEXT(target) {
            // HEAD then GET on one connection: were HEAD to carry a body, the
            // GET's answer would not start where the HEAD's head ends.
            raw_socket s(server.port());
            BOOST_TEST_REQUIRE(s.send("HEAD " + target + " HTTP/1.1\r\nHost: x\r\n\r\nGET " + target +
                                      " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            std::string received;
            s.read_to_close(received, 5000ms);
            auto head = take_answer(received, true);
            BOOST_TEST_REQUIRE(head.has_value());
            auto get = take_answer(received);
            BOOST_TEST_REQUIRE(get.has_value(), "no GET answer right after the HEAD's head");
            BOOST_TEST(received.empty());
            BOOST_TEST(head->status == 200);
            BOOST_TEST(get->status == 200);
            BOOST_TEST(!get->body.empty());
            BOOST_TEST(head->headers["content-length"] == std::to_string(get->body.size()));
            BOOST_TEST(head->headers["content-type"] == get->headers["content-type"]);
            if (get->headers.count("etag")) BOOST_TEST(head->headers["etag"] == get->headers["etag"]);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_stream_refuses_unknown_query_parameters) {
    temp_dir dir;
    server_process server{server_options{(dir.path() / "obs.db").string(), {}, {}, true}};
    for (const std::string query : {"?foo=1", "?run_id=r&since=1", "?lastEventId=3", "?type=thought&Type=log"}) {
        BOOST_TEST_CONTEXT(query) {
            // A raw socket: were the stream opened, its answer would never end.
            raw_socket s(server.port());
            BOOST_TEST_REQUIRE(s.send("GET /observability/stream" + query + " HTTP/1.1\r\nHost: x\r\n\r\n"));
            std::string received;
            std::optional<raw_answer> answer;
            while (!(answer = take_answer(received)) && received.rfind("HTTP/1.1 200", 0) != 0 &&
                   s.read_some(received, 65536, 5000ms) == raw_socket::got::data) {
            }
            BOOST_TEST_REQUIRE(answer.has_value(), "not refused: " << received.substr(0, 100));
            BOOST_TEST(answer->status == 400);
            BOOST_TEST(error_code_of(answer->body) == "bad_request");
        }
    }
    // The known ones open the stream (the refusals above can fail).
    raw_socket s(server.port());
    BOOST_TEST_REQUIRE(s.send("GET /observability/stream?run_id=r&type=thought&last_event_id=0 HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string received;
    while (received.find("\r\n\r\n") == std::string::npos &&
           s.read_some(received, 65536, 5000ms) == raw_socket::got::data) {
    }
    BOOST_TEST(received.rfind("HTTP/1.1 200", 0) == 0, received.substr(0, 100));
}

BOOST_AUTO_TEST_SUITE_END()
