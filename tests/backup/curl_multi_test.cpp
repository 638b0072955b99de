// Tests of backup/curl_multi.cpp against a plain-asio HTTP listener on the
// same io_context (one thread: curl has no thread of its own): concurrent
// transfers, reused connections, a timeout, a refused connection, and
// destruction with a transfer still in flight.
#include "backup/curl_multi.hpp"

#include "support.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

using namespace obs::backup;
using namespace obs::backup::test;
namespace asio = boost::asio;

namespace {

// One GET whose body is collected; records the thread the body arrives on.
struct get_request {
    easy_ptr easy = make_easy();
    std::string body;
    std::thread::id callback_thread;

    explicit get_request(const std::string& url, long timeout_ms = 10000) {
        curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
        curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &get_request::on_body);
        curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, this);
    }
    static size_t on_body(char* d, size_t s, size_t n, void* p) {
        auto* self = static_cast<get_request*>(p);
        self->body.append(d, s * n);
        self->callback_thread = std::this_thread::get_id();
        return s * n;
    }
};

http_response echo_target(const http_request& r) { return http_response{200, "reply:" + r.target, {}, false}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(curl_multi_suite)

BOOST_AUTO_TEST_CASE(concurrent_transfers_all_complete_on_the_io_thread) {
    asio::io_context io;
    local_http_server server(io, echo_target);
    curl_multi http(io.get_executor());
    constexpr int n = 8;
    std::vector<std::unique_ptr<get_request>> requests;
    for (int i = 0; i < n; ++i) requests.push_back(std::make_unique<get_request>(server.url() + "/item/" + std::to_string(i)));
    std::vector<transfer_result> results(n);

    const std::size_t in_flight = run_until_done(io, [&]() -> asio::awaitable<std::size_t> {
        int left = n;
        asio::steady_timer all_done(io, std::chrono::hours(1));
        for (int i = 0; i < n; ++i) {
            asio::co_spawn(io, http.perform(requests[i]->easy.get()), [&, i](std::exception_ptr, transfer_result r) {
                results[i] = r;
                if (--left == 0) all_done.cancel();
            });
        }
        co_await asio::post(io, asio::use_awaitable);  // let every transfer start
        const std::size_t active = http.active();
        boost::system::error_code ec;
        co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_return active;
    }());
    BOOST_TEST(in_flight == std::size_t{n});
    for (int i = 0; i < n; ++i) {
        BOOST_TEST_CONTEXT("transfer " << i) {
            BOOST_TEST(results[i].ok(), results[i].error);
            BOOST_TEST(results[i].http_status == 200);
            BOOST_TEST(requests[i]->body == "reply:/item/" + std::to_string(i));
            BOOST_TEST((requests[i]->callback_thread == std::this_thread::get_id()));
        }
    }
    BOOST_TEST(http.active() == 0u);
}

BOOST_AUTO_TEST_CASE(sequential_transfers_reuse_connections) {
    asio::io_context io;
    local_http_server server(io, echo_target);
    curl_multi http(io.get_executor());
    const int ok = run_until_done(io, [&]() -> asio::awaitable<int> {
        int good = 0;
        for (int i = 0; i < 20; ++i) {
            get_request r(server.url() + "/seq/" + std::to_string(i));
            const transfer_result t = co_await http.perform(r.easy.get());
            if (t.ok() && r.body == "reply:/seq/" + std::to_string(i)) ++good;
        }
        co_return good;
    }());
    BOOST_TEST(ok == 20);
    BOOST_TEST(server.requests().size() == 20u);
}

BOOST_AUTO_TEST_CASE(failures_complete_with_curl_codes) {
    struct case_t {
        std::string what;
        bool hang;         // the server takes the request and never answers
        bool refused;      // nothing listens on the port
        CURLcode expected;
    };
    const case_t cases[] = {
        {"timeout", true, false, CURLE_OPERATION_TIMEDOUT},
        {"connection refused", false, true, CURLE_COULDNT_CONNECT},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.what) {
            asio::io_context io;
            local_http_server server(io, [](const http_request&) { return http_response{200, "", {}, true}; });
            curl_multi http(io.get_executor());
            const std::string url = c.refused ? "http://127.0.0.1:" + std::to_string(free_port()) + "/" : server.url() + "/";
            get_request r(url, 300);
            const auto t0 = std::chrono::steady_clock::now();
            const transfer_result t = run_until_done(io, http.perform(r.easy.get()));
            BOOST_TEST(t.code == c.expected, t.error);
            BOOST_TEST(!t.error.empty());
            BOOST_TEST((std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)));
        }
    }
}

BOOST_AUTO_TEST_CASE(destruction_with_a_transfer_in_flight) {
    asio::io_context io;
    get_request r("", 60000);
    {
        local_http_server server(io, [&](const http_request&) {
            io.stop();  // the request arrived: stop with the transfer pending
            return http_response{200, "", {}, true};
        });
        curl_easy_setopt(r.easy.get(), CURLOPT_URL, (server.url() + "/").c_str());
        auto http = std::make_unique<curl_multi>(io.get_executor());
        std::optional<transfer_result> result;
        asio::co_spawn(io, http->perform(r.easy.get()), [&](std::exception_ptr, transfer_result t) { result = t; });
        io.run_for(std::chrono::seconds(10));
        BOOST_TEST(http->active() == 1u);
        BOOST_TEST(!result.has_value());
        http.reset();  // removes the handle and resumes the waiting coroutine
        io.restart();
        io.poll();
        BOOST_TEST_REQUIRE(result.has_value());
        BOOST_TEST(result->code == CURLE_ABORTED_BY_CALLBACK);
    }
}

BOOST_AUTO_TEST_SUITE_END()
