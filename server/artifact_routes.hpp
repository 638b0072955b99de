// The artifact routes of design/API.md. PUT and GET
// /observability/runs/{run_id}/artifacts/{name} take the connection over
// from the session (special_routes.hpp) to stream bodies between the socket
// and content-addressed files, chunk by chunk, never a whole file in memory;
// GET /observability/runs/{run_id}/artifacts is an ordinary buffered route.
// An upload is answered 201 only after its file is renamed into place and
// its `artifacts` row and `artifact` event are committed in one transaction.
//
// Executors: the routes run on the io thread; every file read, write and
// fsync runs on artifact_service's worker threads, the SQL on the writer or
// a reader thread.
//
// This header also gives its callers the artifact service and event
// (artifact_service.hpp) and the header decisions (artifact_http.hpp).
#pragma once

#include "persistence/artifact_store.hpp"
#include "server/app.hpp"
#include "server/artifact_http.hpp"
#include "server/artifact_service.hpp"
#include "server/http_answer.hpp"
#include "server/router.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <string>

namespace obs::server {

// PUT: validates the run id, the name (400) and X-Step-Id, refuses a body
// over the limit with 413 (at once when Content-Length says so, else as soon
// as it is crossed; nothing is kept), answers `Expect: 100-continue`,
// streams the body to a temporary file in chunks, then renames it into
// place and commits the row and the event; answers `201 {artifact}`. Writes
// its own answer and log line; returns whether the connection may be reused.
boost::asio::awaitable<bool> serve_artifact_put(app& a, route_match route, boost::beast::tcp_stream& stream,
                                                boost::beast::flat_buffer& buffer,
                                                boost::beast::http::request_parser<boost::beast::http::empty_body>& head,
                                                std::chrono::steady_clock::time_point started);

// GET: 404 for an unknown run or name; the stored bytes with their
// Content-Type, Content-Length and `ETag: "<sha256>"`; If-None-Match → 304;
// one Range → 206 (unsatisfiable → 416; several ranges → the whole file).
boost::asio::awaitable<bool> serve_artifact_get(app& a, route_match route, boost::beast::tcp_stream& stream,
                                                boost::beast::flat_buffer& buffer,
                                                boost::beast::http::request_parser<boost::beast::http::empty_body>& head,
                                                std::chrono::steady_clock::time_point started);

// GET /observability/runs/{run_id}/artifacts: {"artifacts": [artifact...]}
// ordered by name; throws api_failure(not_found) for an unknown run.
boost::asio::awaitable<http_answer> list_artifacts(app& a, std::string run_id, http_request_view req);

// See persistence::artifact_files_for_backup: (path inside the tarball,
// absolute path) of every content file the snapshot refers to.
using persistence::artifact_files_for_backup;

}  // namespace obs::server
