// The route table of docs/api.md: every route the server answers, one row
// each (method, path pattern, scope, body mode and limit, handler). Adding a
// route is adding a row here and writing its handler.
#pragma once

#include "server/config.hpp"
#include "server/http/route_table.hpp"

#include <string>
#include <vector>

namespace obs::server {

// The table for `cfg` (body limits come from it).
route_table build_route_table(const config& cfg);

// "METHOD /pattern" of every row, in table order (the /metrics labels).
std::vector<std::string> route_names(const route_table& table);

}  // namespace obs::server
