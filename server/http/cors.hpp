// Cross-origin access for browsers (--cors-origin): which origins get the
// CORS headers, on every answer (errors and the stream included), and what a
// preflight (OPTIONS) answers. A page on another origin can then read the
// API with a Bearer key and follow the stream with EventSource. Pure code.
#pragma once

#include "server/http/route.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obs::server {

class cors_policy {
public:
    // `origins`: exact origins ("http://localhost:5173") or "*" for any.
    explicit cors_policy(std::vector<std::string> origins) : origins_(std::move(origins)) {}

    // True when at least one origin is configured.
    bool enabled() const { return !origins_.empty(); }

    // Appends the headers of an ordinary answer to a request whose Origin
    // header is `origin`: Access-Control-Allow-Origin (the request's origin)
    // and Access-Control-Expose-Headers when it is allowed, and Vary: Origin
    // whenever CORS is configured (the answer depends on the header).
    void add_answer_headers(std::optional<std::string_view> origin, header_list& out) const;

    // Appends what a preflight adds to the answer headers (which the session
    // adds to every answer): the allowed methods (`allow`), request headers
    // and how long to cache them.
    void add_preflight_headers(std::optional<std::string_view> origin, std::string_view allow,
                               header_list& out) const;

private:
    bool allows(std::string_view origin) const;

    std::vector<std::string> origins_;
};

}  // namespace obs::server
