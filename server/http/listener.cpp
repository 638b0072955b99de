// The accept loop; see listener.hpp.
#include "server/http/listener.hpp"

#include "server/app.hpp"
#include "server/http/respond.hpp"
#include "server/http/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <memory>

namespace obs::server {
namespace asio = boost::asio;
using asio::ip::tcp;

http_listener::http_listener(app& a, const route_table& routes)
    : app_(a), routes_(routes), cors_(a.cfg().cors_origins), acceptor_(a.io()) {
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
    constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
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
            app_.counters().responses.count(answer.status);
            auto text = std::make_shared<std::string>(
                format_response_head(answer.status, answer.content_type, answer.headers, answer.body.size(), false) +
                answer.body);
            auto sock = std::make_shared<tcp::socket>(std::move(socket));
            asio::async_write(*sock, asio::buffer(*text), [sock, text](auto, auto) {});
            continue;
        }
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(app_.io(), run_http_session(app_, *this, std::move(socket)), asio::detached);
    }
}

}  // namespace obs::server
