// Files embedded in the binary at build time (cmake/embed.cmake): the web
// page (GET / and /ui/{file}, server/web/) and the OpenAPI document (GET
// /observability/openapi.json, docs/openapi.json). Each is answered with its
// strong ETag (If-None-Match -> 304) and, when the client accepts it and it
// is smaller, its gzip copy.
#pragma once

#include "server/http/route.hpp"

#include <boost/asio/awaitable.hpp>

namespace obs::server {

boost::asio::awaitable<handler_result> get_page(app& a, request req);
boost::asio::awaitable<handler_result> get_openapi(app& a, request req);

}  // namespace obs::server
