// Reading a buffered request body (body_mode::buffered): under the route's
// limit, with `Content-Encoding: gzip` inflated as it is decoded so the
// limit applies to the decoded size (a 10 KB zip bomb cannot become 4 GiB);
// any other coding is a 415. Runs on the io thread.
#pragma once

#include "server/api_error.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace obs::server {

using head_parser = boost::beast::http::request_parser<boost::beast::http::empty_body>;

// How a body is encoded, from its Content-Encoding header.
enum class body_coding { identity, gzip, unsupported };
body_coding coding_of(std::string_view content_encoding);

// What reading the body ended with.
struct body_read {
    boost::system::result<std::string, api_error> body;  // the decoded body, or why not
    bool connection_usable = true;  // false: the body was not read to its end (or the peer is gone)
    std::size_t bytes_in = 0;       // bytes received (encoded)
};

// Reads the body that follows `head` (already parsed from `buffer`), at most
// `limit` bytes received and `limit` decoded; 413 past either, 400 for
// malformed HTTP or gzip, 415 for an unknown coding (checked before reading).
// `invite`: the client asked for `100 Continue` and gets it once the head's
// coding and length are acceptable, just before the body is read. `timeout`
// bounds the whole body.
boost::asio::awaitable<body_read> read_buffered_body(boost::beast::tcp_stream& stream,
                                                     boost::beast::flat_buffer& buffer, head_parser& head,
                                                     std::size_t limit, std::chrono::milliseconds timeout,
                                                     bool invite);

// Inflates a gzip member into at most `limit` bytes; 413 past it, 400 when it
// is not gzip or is truncated. Exposed for tests.
boost::system::result<std::string, api_error> gunzip_bounded(std::string_view compressed, std::size_t limit);

}  // namespace obs::server
