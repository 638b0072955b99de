// The HTTP/1.1 listener (Boost.Beast, C++20 coroutines, all on the io
// thread): accepts connections and runs one session each (session.hpp) over
// the route table it is given. Knows no route: the table is built above it.
#pragma once

#include "server/http/cors.hpp"
#include "server/http/route_table.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <unordered_set>

namespace obs::server {

class app;

class http_listener {
public:
    // Binds and listens on cfg.listen_host:listen_port. Throws on failure.
    // `routes` outlives the listener.
    http_listener(app& a, const route_table& routes);

    // The bound port (useful with --listen HOST:0).
    unsigned short port() const;

    // Accepts connections until shutdown(); spawns one session each.
    boost::asio::awaitable<void> run();

    // Stops accepting and closes idle keep-alive connections; requests in
    // flight finish and their connections then close.
    void shutdown();

    // What sessions read of the listener.
    bool stopping() const { return stopping_; }
    const route_table& routes() const { return routes_; }
    const cors_policy& cors() const { return cors_; }
    // Sockets of sessions waiting for a request (closable by shutdown).
    std::unordered_set<boost::asio::ip::tcp::socket*>& idle() { return idle_; }

private:
    app& app_;
    const route_table& routes_;
    cors_policy cors_;
    boost::asio::ip::tcp::acceptor acceptor_;
    bool stopping_ = false;
    std::unordered_set<boost::asio::ip::tcp::socket*> idle_;
};

}  // namespace obs::server
