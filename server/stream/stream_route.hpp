// GET /observability/stream (body_mode::event_stream): checks the query
// (filters, resume point; unknown parameters are a 400 as on every route),
// subscribes to the hub, and hands the connection over to the stream session
// (stream_session.hpp), which writes the head, the replay and the live frames.
#pragma once

#include "server/http/route.hpp"

#include <boost/asio/awaitable.hpp>

namespace obs::server {

boost::asio::awaitable<handler_result> open_stream(app& a, request req);

}  // namespace obs::server
