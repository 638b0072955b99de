// Bearer-key authorization (design/API.md, "Auth"). Keys carry one scope:
// `ingest` (write routes), `read` (read routes and the stream), `admin`
// (everything). With no key configured every request is allowed (the server
// then listens on loopback only, unless told --insecure-no-auth).
// Keys are compared in constant time and never logged.
#pragma once

#include "server/api_error.hpp"
#include "server/config.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace obs::server {

class authorizer {
public:
    explicit authorizer(std::vector<api_key> keys) : keys_(std::move(keys)) {}

    // True when no key is configured (open access).
    bool open() const { return keys_.empty(); }

    // Checks the `Authorization` header value (may be empty) or, when that is
    // empty, `query_token` (the stream's ?access_token=) against `needed`.
    // nullopt: allowed; else 401 (no or unknown key) or 403 (wrong scope).
    std::optional<api_error> check(std::string_view authorization_header, std::string_view query_token,
                                   scope needed) const;

private:
    std::vector<api_key> keys_;  // immutable after construction
};

// Constant-time equality: the time depends on the lengths only.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace obs::server
