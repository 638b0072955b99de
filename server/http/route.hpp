// What the HTTP edge (server/http/) and the handlers share: a route row, the
// request a handler gets and the response it returns. The edge knows no
// route by name: the table is built above it (server/routes/table.cpp) and
// handed to the listener at startup. A route is one row and one handler.
//
// Errors: a handler returns its expected failures (404, 409, 422, ...) as an
// api_error value; an exception out of a handler is a bug, answered 500 and
// logged. The status of an error is chosen by api_error's code alone.
#pragma once

#include "server/api_error.hpp"
#include "server/config.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace obs::server {

class app;

inline constexpr std::string_view json_content_type = "application/json; charset=utf-8";

using header_list = std::vector<std::pair<std::string, std::string>>;

// How the session treats a route's request body.
enum class body_mode {
    none,          // no body expected; one that comes is read and dropped under the body limit
    buffered,      // read whole (gzip inflated) under the route's limit, then the handler runs
    upload,        // the handler reads it chunk by chunk (request::upload)
    download,      // no body; the answer may be a file range
    event_stream,  // no body; the answer takes the connection over
};

// Reads an upload's body chunk by chunk (body_mode::upload). Implemented by
// the session over the socket; valid while the handler runs.
class body_reader {
public:
    enum class status { data, end, bad_http, gone };
    struct chunk {
        status what = status::end;
        std::size_t size = 0;  // bytes written into the buffer (status::data)
    };
    virtual ~body_reader() = default;
    // Reads the next bytes of the body into `into` (each read has the body
    // timeout). end: the body is complete.
    virtual boost::asio::awaitable<chunk> read(std::span<char> into) = 0;
    // True once the body was read to its end.
    virtual bool done() const = 0;
};

// A request as handlers see it, without Beast types. The method, target,
// path and headers are views into the session's copy of the head, which it
// keeps until the handler's answer is written: a handler copies what must
// outlive its answer. (A string per field and header was four to eight
// allocations a request on the hottest path.)
struct request {
    std::string_view method;                          // "GET", "HEAD", "POST", ...
    std::string_view target;                          // path and query, as received
    std::string_view path;                            // without the query
    std::vector<std::pair<std::string_view, std::string>> params;  // {name} of the pattern, %-decoded
    std::vector<std::pair<std::string_view, std::string_view>> headers;  // names as received
    std::string body;                                 // body_mode::buffered: decoded (inflated) body
    body_reader* upload = nullptr;                    // body_mode::upload
    // A path parameter ("" when the pattern has none of that name).
    const std::string& param(std::string_view name) const;
    // A header's value, or nullopt. `name` lower-case; names are matched
    // without regard to case (RFC 9110 5.1).
    std::optional<std::string_view> header(std::string_view name) const;
};

// A buffered answer: status, body and headers.
struct http_answer {
    unsigned status = 200;
    std::string body;
    std::string content_type{json_content_type};
    header_list headers;  // extra headers
};

// An answer whose body is read in pieces (an artifact's bytes): `read_next`
// fills the buffer and returns the bytes it wrote (0 at the end), or nullopt
// when the source failed (the connection then closes: the length is gone).
struct streamed_answer {
    unsigned status = 200;
    std::string content_type;
    header_list headers;
    std::uint64_t length = 0;
    std::function<boost::asio::awaitable<std::optional<std::size_t>>(std::span<char>)> read_next;
};

// The connection is handed over: the session writes nothing more. `run` gets
// the socket and the response head (status line and headers, CORS
// included), which it writes first.
struct stream_takeover {
    header_list headers;  // beyond the stream's fixed ones
    using runner = std::function<boost::asio::awaitable<void>(boost::asio::ip::tcp::socket, std::string head)>;
    runner run;
};

using response = std::variant<http_answer, streamed_answer, stream_takeover>;
using handler_result = boost::system::result<response, api_error>;
using handler = std::function<boost::asio::awaitable<handler_result>(app&, request)>;

// One row of the route table.
struct route {
    std::string_view method;        // GET rows answer HEAD too
    std::string_view pattern;       // "/observability/runs/{run_id}/steps"; {x} matches one segment
    std::optional<scope> needs;     // nullopt: no key needed
    body_mode body = body_mode::none;
    std::size_t body_limit = 0;     // buffered: the decoded body's limit in bytes
    handler handle;
};

// A JSON answer.
inline http_answer json_answer(unsigned status, std::string body) {
    return http_answer{status, std::move(body), std::string(json_content_type), {}};
}

// The answer of an error: its status, the contract's body and Retry-After.
http_answer error_answer(const api_error& e);

// An api_error as a handler's result.
inline handler_result failure(error_code code, std::string message) { return make_error(code, std::move(message)); }

}  // namespace obs::server
