// The artifact routes of docs/api.md. PUT /observability/runs/{run_id}/
// artifacts/{name} (body_mode::upload) streams the body into a
// content-addressed file chunk by chunk, never a whole file in memory, and
// answers 201 only after the file is renamed into place and its `artifacts`
// row and `artifact` event are committed in one transaction. GET of the same
// path (body_mode::download) answers the stored bytes, a Range of them, or
// 304; GET .../artifacts lists a run's artifacts.
//
// Executors: the handlers run on the io thread; every file read, write and
// fsync runs on artifact_service's workers, the SQL on the writer or a
// reader thread.
#pragma once

#include "server/http/route.hpp"

#include <boost/asio/awaitable.hpp>

namespace obs::server {

// PUT: validates the run id, the name and X-Step-Id (400), refuses a body
// over the limit with 413 (at once when Content-Length says so, else as
// soon as it is crossed; nothing is kept), then stores it; `201 {artifact}`.
boost::asio::awaitable<handler_result> put_artifact(app& a, request req);

// GET: 404 for an unknown run or name; the stored bytes with their
// Content-Type, Content-Length and `ETag: "<sha256>"`; If-None-Match → 304;
// one Range → 206 (unsatisfiable → 416; several ranges → the whole file).
boost::asio::awaitable<handler_result> get_artifact(app& a, request req);

// GET /observability/runs/{run_id}/artifacts: {"artifacts": [artifact...]}
// ordered by name; 404 for an unknown run.
boost::asio::awaitable<handler_result> list_artifacts(app& a, request req);

}  // namespace obs::server
