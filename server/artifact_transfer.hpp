// The byte streaming of the artifact routes: an upload's body from the
// socket into a store file, stored bytes onto the socket, and the bounded
// drain of an unwanted body after a refusal. Bodies move in chunks through
// Beast's buffer_body, never a whole file in memory; each chunk is read or
// written on an artifact_service worker while the io thread serves other
// connections. Internal to the artifact routes (artifact_routes.cpp), which
// decide what to answer; every function runs on the io thread.
#pragma once

#include "persistence/artifact_store.hpp"
#include "server/app.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace obs::server {

// What an upload's body reading ended with.
enum class body_end { complete, too_large, bad_http, gone, storage_failed };

// Reads the body into `upload`, chunk by chunk, each chunk written (and
// hashed) on a worker; counts the bytes read into `total`. Stops with
// too_large as soon as `total` passes the service's max_bytes, with bad_http
// on a parse error, gone when the client left or timed out (each chunk has
// cfg().body_timeout_ms), storage_failed when a write threw (logged).
// REQUIRES: a.artifacts is set; `parser` holds the request's head.
boost::asio::awaitable<body_end> receive_artifact_body(
    app& a, boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser,
    std::shared_ptr<persistence::artifact_upload> upload, std::uint64_t& total);

// Sends `length` bytes of `content` from `first`, after the head in `res`
// (which must state that length). Returns the bytes written, or nullopt
// when the connection must close (the client left, or the file could not be
// read: the promised length is gone). REQUIRES: a.artifacts is set.
boost::asio::awaitable<std::optional<std::size_t>> send_artifact_content(
    app& a, boost::beast::tcp_stream& stream, boost::beast::http::response<boost::beast::http::buffer_body>& res,
    std::shared_ptr<persistence::artifact_content> content, std::uint64_t first, std::uint64_t length);

// Reads and drops what the client still sends, within bounds (4 MiB, one
// second), after the answer went out with `Connection: close`: closing a
// socket with unread bytes resets it and may destroy the answer before the
// client reads it. Shuts down the sending side first.
boost::asio::awaitable<void> drain_after_refusal(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer);

}  // namespace obs::server
