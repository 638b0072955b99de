// One HTTP connection (ARCHITECTURE.md, "Request path"): the session reads a
// request's head, checks it (framing, Host, target form), matches a route row
// (404, 405 with Allow, OPTIONS preflights), checks the key and CORS, reads
// the body as the row says, calls the handler and hands its result to
// respond(). Keep-alive until the client, a timeout or shutdown ends it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace obs::server {

class app;
class http_listener;

// Serves `socket` until the connection ends. On the io thread.
boost::asio::awaitable<void> run_http_session(app& a, http_listener& listener, boost::asio::ip::tcp::socket socket);

}  // namespace obs::server
