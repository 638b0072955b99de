// The handlers of the buffered routes of docs/api.md, by area: write routes
// (write_routes.cpp), read routes (read_routes.cpp), operations
// (ops_routes.cpp, metrics_route.cpp) and backups (backup_routes.cpp). Each runs on the io
// thread, hops to the writer or a reader for SQLite work, and returns its
// answer or its api_error. The table that names them is table.cpp.
#pragma once

#include "server/http/route.hpp"

#include <boost/asio/awaitable.hpp>

namespace obs::server {

boost::asio::awaitable<handler_result> post_events(app& a, request req);
boost::asio::awaitable<handler_result> post_run(app& a, request req);
boost::asio::awaitable<handler_result> post_steps(app& a, request req);
boost::asio::awaitable<handler_result> finish_run(app& a, request req);

boost::asio::awaitable<handler_result> list_runs(app& a, request req);
boost::asio::awaitable<handler_result> get_run(app& a, request req);
boost::asio::awaitable<handler_result> delete_run(app& a, request req);
boost::asio::awaitable<handler_result> list_steps(app& a, request req);

boost::asio::awaitable<handler_result> post_backup(app& a, request req);
boost::asio::awaitable<handler_result> list_backups(app& a, request req);

boost::asio::awaitable<handler_result> healthz(app& a, request req);
boost::asio::awaitable<handler_result> readyz(app& a, request req);
boost::asio::awaitable<handler_result> metrics(app& a, request req);

}  // namespace obs::server
