// POST /v1/traces: OTLP/HTTP trace export (JSON or protobuf; gzip bodies are
// inflated by the session like any buffered body). Spans are mapped onto
// runs and steps by server/otlp/ and go through the same writer as native
// events; answers as the OTLP/HTTP specification says: 200 with an
// ExportTraceServiceResponse in the request's encoding (partial_success for
// spans that could not be mapped), 400 for an undecodable body, 415 for
// another Content-Type, 503 with Retry-After under backpressure.
#pragma once

#include "server/http/route.hpp"

#include <boost/asio/awaitable.hpp>

namespace obs::server {

boost::asio::awaitable<handler_result> post_traces(app& a, request req);

}  // namespace obs::server
