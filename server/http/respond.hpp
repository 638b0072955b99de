// The one place an answer leaves the server: respond() writes it (a
// buffered answer, a streamed body or a stream's head before the takeover),
// counts it by status class and by route for /metrics, and logs it. Every
// answer goes through here, the malformed-HTTP 400s and the stream's 200
// included.
#pragma once

#include "server/http/route.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace obs::server {

// What respond() needs to know of the request it answers.
struct answer_context {
    std::string_view method;                 // HEAD answers carry no body (a view: see request)
    std::string_view path;                   // for the log (never the query: it may hold a key)
    std::optional<std::size_t> route_index;  // the table row, when one matched
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::size_t bytes_in = 0;                // request body bytes read
    header_list extra_headers;               // added to every answer (CORS)
};

// Writes `r` on `stream`, counts and logs it. `keep_alive`: the connection
// may carry another request after this answer (else `Connection: close`).
// Returns true when it may (keep_alive and the write succeeded); always false
// after a takeover, which owns the socket from then on and runs on a
// coroutine of its own (the connection ends).
boost::asio::awaitable<bool> respond(app& a, boost::beast::tcp_stream& stream, answer_context ctx, response r,
                                     bool keep_alive);

// The status line and headers of `answer`, ending with the empty line:
// Server, Content-Type, the answer's headers, Content-Length (the body's
// size, also for HEAD), `Connection: close` unless keep_alive. A header whose
// name or value holds CR, LF or NUL is left out.
std::string format_response_head(unsigned status, std::string_view content_type, const header_list& headers,
                                 std::uint64_t content_length, bool keep_alive);

// Sends the interim `100 Continue` a client asked for with Expect before its
// body. Returns false when the write failed (the connection is done).
boost::asio::awaitable<bool> write_continue(boost::beast::tcp_stream& stream, std::chrono::milliseconds timeout);

// Reads and drops what the client still sends, within bounds (4 MiB, one
// second), after an answer went out with `Connection: close` before the body
// was read: closing a socket with unread bytes resets it and may destroy the
// answer before the client reads it. Shuts down the sending side first.
boost::asio::awaitable<void> drain_after_refusal(boost::beast::tcp_stream& stream);

}  // namespace obs::server
