// Tests of server/http_io.cpp's response head: the status line and reason,
// the fixed and extra headers, Content-Length (also for HEAD), Connection
// per keep-alive, and headers that could split the head left out.
#include "server/http_io.hpp"

#include <boost/test/unit_test.hpp>

using obs::server::format_response_head;
using obs::server::http_answer;

BOOST_AUTO_TEST_SUITE(http_io_suite)

BOOST_AUTO_TEST_CASE(head_of_a_json_answer) {
    http_answer answer{201, R"({"accepted":1})", "application/json", {{"Location", "/observability/runs/r1"}}};
    BOOST_TEST(format_response_head(answer, true) ==
               "HTTP/1.1 201 Created\r\n"
               "Server: observability-server\r\n"
               "Content-Type: application/json\r\n"
               "Location: /observability/runs/r1\r\n"
               "Content-Length: 14\r\n"
               "\r\n");
}

BOOST_AUTO_TEST_CASE(connection_close_and_statuses) {
    struct head_case {
        unsigned status;
        bool keep_alive;
        std::string status_line;
        bool closes;
    };
    const head_case cases[] = {
        {200, true, "HTTP/1.1 200 OK\r\n", false},
        {304, true, "HTTP/1.1 304 Not Modified\r\n", false},
        {400, false, "HTTP/1.1 400 Bad Request\r\n", true},
        {413, false, "HTTP/1.1 413 Payload Too Large\r\n", true},
        {503, true, "HTTP/1.1 503 Service Unavailable\r\n", false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("status " << c.status) {
            const auto head = format_response_head(http_answer{c.status, "", "text/plain", {}}, c.keep_alive);
            BOOST_TEST(head.starts_with(c.status_line));
            BOOST_TEST((head.find("\r\nConnection: close\r\n") != std::string::npos) == c.closes);
            BOOST_TEST(head.find("\r\nContent-Length: 0\r\n") != std::string::npos);
            BOOST_TEST(head.ends_with("\r\n\r\n"));
        }
    }
}

BOOST_AUTO_TEST_CASE(headers_that_would_split_the_head_are_left_out) {
    http_answer answer{200, "ok", "", {{"X-Good", "yes"}, {"X-Bad", "a\r\nSet-Cookie: x=1"}, {"X\nBad", "v"}}};
    const auto head = format_response_head(answer, true);
    BOOST_TEST(head.find("X-Good: yes\r\n") != std::string::npos);
    BOOST_TEST(head.find("Set-Cookie") == std::string::npos);
    BOOST_TEST(head.find("X-Bad") == std::string::npos);
    BOOST_TEST(head.find("Content-Type") == std::string::npos);  // none given
    BOOST_TEST(head.find("Content-Length: 2\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
