// The accept loop and the HTTP session; see http_listener.hpp.
#include "server/http_listener.hpp"

#include "server/handlers.hpp"
#include "server/http_io.hpp"
#include "server/log.hpp"
#include "server/special_routes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>

namespace obs::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit_bytes = 16 * 1024;

// Counts the connection as open for as long as the session lives.
struct connection_count {
    server_counters& c;
    explicit connection_count(server_counters& counters) : c(counters) { ++c.open_connections; }
    ~connection_count() { --c.open_connections; }
};

// Marks a socket idle (closable by shutdown) for the guard's lifetime.
struct idle_mark {
    std::unordered_set<tcp::socket*>& set;
    tcp::socket* socket;
    idle_mark(std::unordered_set<tcp::socket*>& s, tcp::socket* sock) : set(s), socket(sock) { set.insert(socket); }
    ~idle_mark() { set.erase(socket); }
};

}  // namespace

http_listener::http_listener(app& a) : app_(a), acceptor_(a.io()) {
    const auto& cfg = a.cfg();
    auto address = asio::ip::make_address(cfg.listen_host == "localhost" ? "127.0.0.1" : cfg.listen_host);
    tcp::endpoint endpoint(address, cfg.listen_port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
}

unsigned short http_listener::port() const { return acceptor_.local_endpoint().port(); }

void http_listener::shutdown() {
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    // Copy first: closing a socket resumes its session, which edits idle_.
    auto idle = idle_;
    for (auto* socket : idle) socket->close(ignored);
}

asio::awaitable<void> http_listener::run() {
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) break;
            // Out of descriptors or a transient error: breathe, then go on.
            asio::steady_timer pause(app_.io(), std::chrono::milliseconds(50));
            co_await pause.async_wait(use_tuple);
            continue;
        }
        if (app_.counters().open_connections >= app_.cfg().max_connections) {
            // Answer rather than silently drop, so the client knows to back off.
            api_error refusal = make_error(error_code::overloaded, "too many open connections");
            refusal.retry_after_seconds = 1;
            const http_answer answer = error_answer(refusal);
            auto text = std::make_shared<std::string>(format_response_head(answer, false) + answer.body);
            auto sock = std::make_shared<tcp::socket>(std::move(socket));
            asio::async_write(*sock, asio::buffer(*text), [sock, text](auto, auto) {});
            continue;
        }
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(app_.io(), session(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> http_listener::session(tcp::socket socket) {
    connection_count counted(app_.counters());
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    const auto& cfg = app_.cfg();
    bool first = true;

    while (!stopping_) {
        http::request_parser<http::empty_body> head;
        head.header_limit(header_limit_bytes);
        // Bodies are limited per route once the route is known (artifacts
        // are larger); until then only the largest limit applies.
        head.body_limit(std::max<std::uint64_t>(cfg.max_body_bytes, cfg.max_artifact_bytes));
        stream.expires_after(std::chrono::milliseconds(first ? cfg.header_timeout_ms : cfg.idle_timeout_ms));
        first = false;
        boost::system::error_code ec;
        {
            idle_mark idle(idle_, &stream.socket());
            std::tie(ec, std::ignore) = co_await http::async_read_header(stream, buffer, head, use_tuple);
        }
        const auto started = std::chrono::steady_clock::now();
        if (ec) {
            // A parse error gets a 400; end of stream, a timeout or a reset just ends.
            if (is_http_parse_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
                auto answer = error_answer(make_error(
                    ec == http::error::header_limit ? error_code::too_large : error_code::bad_request,
                    ec == http::error::header_limit ? "request headers are too large" : "malformed HTTP request"));
                co_await write_answer(stream, answer, false, "", app_);
            }
            break;
        }
        ++app_.counters().requests;
        const auto& h = head.get();
        std::string method(h.method_string());
        std::string target(h.target());
        std::string path = target.substr(0, target.find('?'));
        bool keep_alive = h.keep_alive();

        auto routed = match_route(method, target);
        std::optional<http_answer> early;
        if (routed.bad_encoding) {
            early = error_answer(make_error(error_code::bad_request, "the path has a malformed %-escape"));
        } else if (!routed.match) {
            early = routed.path_known
                        ? error_answer(make_error(error_code::method_not_allowed, method + " is not allowed here"))
                        : error_answer(make_error(error_code::not_found, "no route " + path));
            if (routed.path_known) early->headers.emplace_back("Allow", routed.allow);
        } else if (routed.match->needs) {
            std::string token;
            if (routed.match->id == route_id::stream) token = access_token_of(target);
            if (auto denied = app_.auth().check(h[http::field::authorization], token, *routed.match->needs))
                early = error_answer(*denied);
        }
        if (early) {
            // The body was not read: close unless there is none.
            if (!head.is_done()) keep_alive = false;
            auto sent = co_await write_answer(stream, *early, keep_alive, method, app_);
            if (cfg.log_requests)
                log_request(method, path, early->status, elapsed_us(started), 0, sent);
            if (!keep_alive) break;
            continue;
        }

        const auto route = *routed.match;
        if (is_special_route(route.id)) {
            // The stream and artifact routes own the connection from here;
            // they say whether it may carry another request.
            bool reuse = co_await serve_special_route(app_, route, stream, buffer, head, started);
            if (!reuse || stopping_) break;
            continue;
        }

        if (h[http::field::expect] == "100-continue") {
            const bool continued = co_await write_continue(stream, app_);
            if (!continued) break;
        }
        // The header parser's own limit was checked against Content-Length
        // already; this route's limit is checked here, and on chunked bodies
        // by the body parser as they arrive.
        if (auto length = head.content_length(); length && *length > cfg.max_body_bytes) {
            auto answer = error_answer(make_error(
                error_code::too_large,
                "body is larger than the limit of " + std::to_string(cfg.max_body_bytes) + " bytes"));
            auto sent = co_await write_answer(stream, answer, false, method, app_);
            if (cfg.log_requests) log_request(method, path, answer.status, elapsed_us(started), 0, sent);
            break;
        }
        http::request_parser<http::string_body> full(std::move(head));
        full.body_limit(cfg.max_body_bytes);
        stream.expires_after(std::chrono::milliseconds(cfg.body_timeout_ms));
        std::tie(ec, std::ignore) = co_await http::async_read(stream, buffer, full, use_tuple);
        if (ec) {
            if (ec == http::error::body_limit) {
                auto answer = error_answer(make_error(
                    error_code::too_large,
                    "body is larger than the limit of " + std::to_string(cfg.max_body_bytes) + " bytes"));
                auto sent = co_await write_answer(stream, answer, false, method, app_);
                if (cfg.log_requests) log_request(method, path, answer.status, elapsed_us(started), 0, sent);
            } else if (is_http_parse_error(ec) && ec != http::error::partial_message) {
                auto answer = error_answer(make_error(error_code::bad_request, "malformed HTTP request body"));
                co_await write_answer(stream, answer, false, method, app_);
            }
            break;
        }
        auto request = full.release();
        keep_alive = request.keep_alive();
        http_request_view view{method, target, std::string(request[http::field::content_type]),
                               std::move(request.body())};
        const auto bytes_in = view.body.size();

        http_answer answer;
        try {
            answer = co_await handle_route(app_, route, std::move(view));
        } catch (const api_failure& failure) {
            answer = error_answer(failure.error);
        } catch (const std::exception& e) {
            log_line("error", "request failed", {{"route", path}, {"error", e.what()}});
            answer = error_answer(make_error(error_code::internal, "internal error"));
        }
        auto sent = co_await write_answer(stream, answer, keep_alive && !stopping_, method, app_);
        if (cfg.log_requests) log_request(method, path, answer.status, elapsed_us(started), bytes_in, sent);
        if (!keep_alive || sent == 0) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.socket().close(ignored);
}

}  // namespace obs::server
