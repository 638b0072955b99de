// The route handlers of design/API.md, grouped by file: write routes
// (write_handlers.cpp), read routes (read_handlers.cpp), operations
// (ops_handlers.cpp). Each runs on the io thread, hops to the writer or a
// reader for SQLite work, and answers an http_answer or throws api_failure.
#pragma once

#include "server/app.hpp"
#include "server/http_answer.hpp"
#include "server/router.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obs::server {

// Dispatches every buffered-body route (all but the stream and artifact
// uploads/downloads, which the session hands to their own code).
boost::asio::awaitable<http_answer> handle_route(app& a, route_match route, http_request_view req);

boost::asio::awaitable<http_answer> post_events(app& a, http_request_view req);
boost::asio::awaitable<http_answer> post_run(app& a, http_request_view req);
boost::asio::awaitable<http_answer> post_steps(app& a, std::string run_id, http_request_view req);
boost::asio::awaitable<http_answer> finish_run(app& a, std::string run_id, http_request_view req);

boost::asio::awaitable<http_answer> list_runs(app& a, http_request_view req);
boost::asio::awaitable<http_answer> get_run(app& a, std::string run_id, http_request_view req);
boost::asio::awaitable<http_answer> list_steps(app& a, std::string run_id, http_request_view req);

boost::asio::awaitable<http_answer> post_backup(app& a, http_request_view req);
boost::asio::awaitable<http_answer> list_backups(app& a, http_request_view req);

boost::asio::awaitable<http_answer> healthz(app& a);
boost::asio::awaitable<http_answer> readyz(app& a);
boost::asio::awaitable<http_answer> metrics(app& a);

// The query parameters of `target`, percent-decoded ('+' is a space), in
// order. Throws api_failure(bad_request) on a malformed escape.
using query_params = std::vector<std::pair<std::string, std::string>>;
query_params parse_query(std::string_view target);

// Throws api_failure(bad_request) naming the first parameter not in `allowed`.
void reject_unknown_params(const query_params& params, std::initializer_list<std::string_view> allowed);

}  // namespace obs::server
