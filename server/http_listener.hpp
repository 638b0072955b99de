// The HTTP/1.1 listener and its sessions (Boost.Beast, C++20 coroutines, all
// on the io thread). A session reads a request's headers under a timeout,
// routes and authorizes it, reads its body under the body limit and a
// timeout, answers, and keeps the connection alive when the client allows.
// The stream and artifact routes take the connection over from the session.
#pragma once

#include "server/app.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <unordered_set>

namespace obs::server {

class http_listener {
public:
    // Binds and listens on cfg.listen_host:listen_port. Throws on failure.
    explicit http_listener(app& a);

    // The bound port (useful with --listen HOST:0).
    unsigned short port() const;

    // Accepts connections until shutdown(); spawns one session each.
    boost::asio::awaitable<void> run();

    // Stops accepting and closes idle keep-alive connections; requests in
    // flight finish and their connections then close.
    void shutdown();

private:
    boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);

    app& app_;
    boost::asio::ip::tcp::acceptor acceptor_;
    bool stopping_ = false;
    // Sockets of sessions waiting for a request (idle), closed on shutdown.
    std::unordered_set<boost::asio::ip::tcp::socket*> idle_;
};

}  // namespace obs::server
