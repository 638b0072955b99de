// A request target's query string: parameters %-decoded ('+' is a space), in
// order, and the check that only a route's own parameters are present. Every
// route refuses unknown parameters (a typo must not silently widen a read).
#pragma once

#include "server/api_error.hpp"

#include <boost/system/result.hpp>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obs::server {

using query_params = std::vector<std::pair<std::string, std::string>>;

// The parameters of `target`'s query; 400 bad_request on a malformed escape.
// `plus_is_space`: '+' decodes to a space (HTML forms); false keeps it (an
// access token may hold '+').
boost::system::result<query_params, api_error> parse_query(std::string_view target, bool plus_is_space = true);

// The parameters of `target`, when each is one of `allowed`; else 400 naming
// the first unknown one.
boost::system::result<query_params, api_error> parse_query(std::string_view target,
                                                          std::initializer_list<std::string_view> allowed);

}  // namespace obs::server
