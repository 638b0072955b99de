// The error answer of the HTTP contract (design/API.md, "Errors"): a status,
// a stable code, a message safe to show clients, and optional details. Route
// code returns these as values; the session turns them into the one error
// body format. Status codes are chosen by the code, in http_status(), and
// nowhere else.
#pragma once

#include <boost/json/array.hpp>

#include <string>
#include <utility>

namespace obs::server {

enum class error_code {
    bad_json,                // 400
    bad_request,             // 400 (a bad query parameter or header)
    unauthorized,            // 401
    forbidden,               // 403
    not_found,               // 404
    method_not_allowed,      // 405
    conflict,                // 409
    too_large,               // 413
    headers_too_large,       // 431
    range_not_satisfiable,   // 416 (an artifact Range beyond its end)
    unsupported_media_type,  // 415
    validation_failed,       // 422
    overloaded,              // 503 with Retry-After
    bad_gateway,             // 502 (S3 refused or unreachable)
    unavailable,             // 503 (a dependency is not configured or not ready)
    internal,                // 500
};

// The HTTP status of `code`.
unsigned http_status(error_code code);
// The wire name of `code` ("validation_failed").
const char* wire_name(error_code code);

struct api_error {
    error_code code = error_code::internal;
    std::string message;
    boost::json::array details;  // [{"index","path","message"}], may be empty
    unsigned retry_after_seconds = 0;  // sent as Retry-After when > 0
};

inline api_error make_error(error_code code, std::string message) {
    return api_error{code, std::move(message), {}, 0};
}

// The JSON text {"error":{"code","message"[,"details"]}} of `e`.
std::string error_body(const api_error& e);

}  // namespace obs::server
