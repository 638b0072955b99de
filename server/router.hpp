// Maps a request's method and path to a route of design/API.md, with the
// path parameters percent-decoded. Pure code (no sockets): unit-tested.
#pragma once

#include "server/config.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace obs::server {

enum class route_id {
    post_events,
    post_runs,
    list_runs,
    get_run,
    post_steps,
    list_steps,
    finish_run,
    list_artifacts,
    put_artifact,
    get_artifact,
    stream,
    post_backup,
    list_backups,
    healthz,
    readyz,
    metrics,
};

struct route_match {
    route_id id = route_id::healthz;
    std::string run_id;         // decoded {run_id}, when the route has one
    std::string artifact_name;  // decoded {name}, when the route has one
    std::optional<scope> needs;  // nullopt: no key needed
};

// What the router found for (method, target).
struct route_result {
    std::optional<route_match> match;  // set when method and path matched
    bool path_known = false;           // the path exists (then no match means 405)
    std::string allow;                 // the path's methods, for 405's Allow header
    bool bad_encoding = false;         // a path segment had a bad %-escape
};

// `target` is the request target (path and optional query); the query is
// ignored here.
route_result match_route(std::string_view method, std::string_view target);

// Percent-decodes `s`; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace obs::server
