// Beast-level helpers shared by the session and the routes that take a
// connection over (stream, artifacts): writing an http_answer, timing, and
// telling parse errors from transport errors. Server-internal.
#pragma once

#include "server/app.hpp"
#include "server/http_answer.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace obs::server {

// The status line and headers of `answer`, ending with the empty line:
// Server, Content-Type, the answer's own headers, Content-Length (the body's
// size, also for HEAD) and `Connection: close` unless keep_alive. A header
// whose name or value holds CR, LF or NUL is left out.
std::string format_response_head(const http_answer& answer, bool keep_alive);

// Writes `answer` (with Content-Length, Connection per keep_alive) and counts
// its status class. Returns the bytes written, 0 when the write failed.
boost::asio::awaitable<std::size_t> write_answer(boost::beast::tcp_stream& stream, const http_answer& answer,
                                                 bool keep_alive, std::string_view method, app& a);

// Sends the interim `100 Continue` a client asked for with Expect before
// its body. Returns false when the write failed (the connection is done).
boost::asio::awaitable<bool> write_continue(boost::beast::tcp_stream& stream, app& a);

// Microseconds since `start`.
inline std::int64_t elapsed_us(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
}

// True for errors of Beast's HTTP parser (the client sent bad HTTP), false
// for transport errors (reset, timeout, end of file).
inline bool is_http_parse_error(const boost::system::error_code& ec) {
    return ec.category() == boost::beast::http::make_error_code(boost::beast::http::error::bad_target).category();
}

}  // namespace obs::server
