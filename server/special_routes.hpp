// The routes that take the connection over from the session instead of
// answering a buffered request: the live stream (which never ends with a
// response) and artifact uploads and downloads (which stream bodies between
// the socket and files). The session calls these after routing and
// authorization succeeded.
#pragma once

#include "server/app.hpp"
#include "server/router.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace obs::server {

// True for the routes serve_special_route handles.
bool is_special_route(route_id id);

// The stream's ?access_token= value ("" when absent or malformed).
std::string access_token_of(std::string_view target);

// Serves `route` on `stream`; `head` holds the parsed request headers and
// `buffer` any bytes already read past them. Returns true when the
// connection may carry another request.
boost::asio::awaitable<bool> serve_special_route(app& a, route_match route, boost::beast::tcp_stream& stream,
                                                 boost::beast::flat_buffer& buffer,
                                                 boost::beast::http::request_parser<boost::beast::http::empty_body>& head,
                                                 std::chrono::steady_clock::time_point started);

}  // namespace obs::server
