// What a route handler answers, independent of Beast: the session turns it
// into the HTTP response. Handlers report contract errors by throwing
// api_failure; anything else thrown becomes a 500 `internal`.
#pragma once

#include "server/api_error.hpp"

#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obs::server {

inline constexpr std::string_view json_content_type = "application/json; charset=utf-8";

struct http_answer {
    unsigned status = 200;
    std::string body;
    std::string content_type{json_content_type};
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// The request as handlers see it: no Beast types, everything owned.
struct http_request_view {
    std::string method;
    std::string target;          // path and query, as received
    std::string content_type;    // the Content-Type header, may be empty
    std::string body;
};

// A contract error raised by a handler.
struct api_failure : std::exception {
    api_error error;
    explicit api_failure(api_error e) : error(std::move(e)) {}
    const char* what() const noexcept override { return error.message.c_str(); }
};

[[noreturn]] inline void fail(error_code code, std::string message) {
    throw api_failure(make_error(code, std::move(message)));
}

inline http_answer json_answer(unsigned status, std::string body) {
    return http_answer{status, std::move(body), std::string(json_content_type), {}};
}

// The answer of an error: its status, body and Retry-After.
http_answer error_answer(const api_error& e);

}  // namespace obs::server
