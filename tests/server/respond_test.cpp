// Tests of server/http/respond.cpp's response head: the status line and
// reason, the fixed and extra headers, Content-Length (also for HEAD),
// Connection per keep-alive, and headers that could split the head left out;
// and of the gzip body decoding of server/http/body.cpp under its limit.
#include "server/http/body.hpp"
#include "server/http/respond.hpp"

#include <zlib.h>

#include <boost/test/unit_test.hpp>

using obs::server::format_response_head;
using obs::server::header_list;

namespace {

// A gzip member of `text`.
std::string gzip(const std::string& text) {
    z_stream z{};
    BOOST_REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, text.size()) + 32, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_io_suite)

BOOST_AUTO_TEST_CASE(head_of_a_json_answer) {
    const header_list headers{{"Location", "/observability/runs/r1"}};
    BOOST_TEST(format_response_head(201, "application/json", headers, 14, true) ==
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
        bool has_length;  // 204 and 304 carry none
    };
    const head_case cases[] = {
        {200, true, "HTTP/1.1 200 OK\r\n", false, true},
        {204, true, "HTTP/1.1 204 No Content\r\n", false, false},
        {304, true, "HTTP/1.1 304 Not Modified\r\n", false, false},
        {400, false, "HTTP/1.1 400 Bad Request\r\n", true, true},
        {413, false, "HTTP/1.1 413 Payload Too Large\r\n", true, true},
        {503, true, "HTTP/1.1 503 Service Unavailable\r\n", false, true},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("status " << c.status) {
            const auto head = format_response_head(c.status, "text/plain", {}, 0, c.keep_alive);
            BOOST_TEST(head.starts_with(c.status_line));
            BOOST_TEST((head.find("\r\nConnection: close\r\n") != std::string::npos) == c.closes);
            BOOST_TEST((head.find("\r\nContent-Length: 0\r\n") != std::string::npos) == c.has_length);
            BOOST_TEST(head.ends_with("\r\n\r\n"));
        }
    }
}

BOOST_AUTO_TEST_CASE(headers_that_would_split_the_head_are_left_out) {
    const header_list headers{{"X-Good", "yes"}, {"X-Bad", "a\r\nSet-Cookie: x=1"}, {"X\nBad", "v"}};
    const auto head = format_response_head(200, "", headers, 2, true);
    BOOST_TEST(head.find("X-Good: yes\r\n") != std::string::npos);
    BOOST_TEST(head.find("Set-Cookie") == std::string::npos);
    BOOST_TEST(head.find("X-Bad") == std::string::npos);
    BOOST_TEST(head.find("Content-Type") == std::string::npos);  // none given
    BOOST_TEST(head.find("Content-Length: 2\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gzip_bodies_are_decoded_under_the_limit) {
    using obs::server::error_code;
    using obs::server::gunzip_bounded;
    const std::string text = R"({"events":[{"run_id":"r","type":"thought","payload":{"text":"t"}}]})";
    auto ok = gunzip_bounded(gzip(text), 1024);
    BOOST_TEST_REQUIRE(ok.has_value());
    BOOST_TEST(*ok == text);
    // A bomb: 8 MiB of zeros is a few KiB compressed; refused at the limit.
    const std::string bomb = gzip(std::string(8 * 1024 * 1024, '0'));
    BOOST_TEST(bomb.size() < 64 * 1024u);
    auto refused = gunzip_bounded(bomb, 4 * 1024 * 1024);
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(static_cast<int>(refused.error().code) == static_cast<int>(error_code::too_large));
    // Exactly at the limit is fine.
    BOOST_TEST(gunzip_bounded(gzip(std::string(4096, 'a')), 4096).has_value());
    BOOST_TEST(!gunzip_bounded(gzip(std::string(4097, 'a')), 4096).has_value());
    struct bad_case {
        const char* name;
        std::string body;
    };
    const std::string member = gzip(text);
    const bad_case bad[] = {
        {"not gzip", text},
        {"truncated", member.substr(0, member.size() / 2)},
        {"trailing bytes", member + "xyz"},
        {"empty", ""},
    };
    for (const auto& b : bad) {
        BOOST_TEST_CONTEXT(b.name) {
            auto r = gunzip_bounded(b.body, 1024);
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(static_cast<int>(r.error().code) == static_cast<int>(error_code::bad_request));
        }
    }
}

BOOST_AUTO_TEST_CASE(content_codings) {
    using obs::server::body_coding;
    using obs::server::coding_of;
    BOOST_TEST(static_cast<int>(coding_of("")) == static_cast<int>(body_coding::identity));
    BOOST_TEST(static_cast<int>(coding_of(" identity ")) == static_cast<int>(body_coding::identity));
    BOOST_TEST(static_cast<int>(coding_of("GZIP")) == static_cast<int>(body_coding::gzip));
    BOOST_TEST(static_cast<int>(coding_of("br")) == static_cast<int>(body_coding::unsupported));
    BOOST_TEST(static_cast<int>(coding_of("gzip, gzip")) == static_cast<int>(body_coding::unsupported));
}

BOOST_AUTO_TEST_SUITE_END()
