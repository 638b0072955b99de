// Bearer-key checks; see auth.hpp.
#include "server/auth.hpp"

#include <string>

#include <algorithm>

namespace obs::server {

bool constant_time_equal(std::string_view a, std::string_view b) {
    // Compare every byte of the longer input so the time leaks lengths only.
    std::size_t n = a.size() > b.size() ? a.size() : b.size();
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

namespace {

// RFC 9110 §11.1: an auth scheme is case-insensitive (bearer, BEARER).
bool ascii_iequals(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace

std::optional<api_error> authorizer::check(std::string_view header, std::string_view query_token,
                                           scope needed) const {
    if (keys_.empty()) return std::nullopt;
    std::string_view presented;
    if (!header.empty()) {
        constexpr std::string_view bearer = "Bearer ";
        if (header.size() <= bearer.size() || !ascii_iequals(header.substr(0, bearer.size()), bearer))
            return make_error(error_code::unauthorized, "Authorization must be 'Bearer KEY'");
        presented = header.substr(bearer.size());
    } else if (!query_token.empty()) {
        presented = query_token;
    } else {
        return make_error(error_code::unauthorized, "an API key is required (Authorization: Bearer KEY)");
    }
    // Check every key (no early exit) so timing does not tell which matched.
    const api_key* match = nullptr;
    for (const auto& key : keys_)
        if (constant_time_equal(presented, key.secret) && match == nullptr) match = &key;
    if (match == nullptr) return make_error(error_code::unauthorized, "unknown API key");
    if (match->granted == scope::admin || match->granted == needed) return std::nullopt;
    static constexpr const char* names[] = {"ingest", "read", "admin"};
    return make_error(error_code::forbidden, std::string("this route needs a key with the scope '") +
                                                 names[static_cast<int>(needed)] + "' (or 'admin'); this key has '" +
                                                 names[static_cast<int>(match->granted)] + "'");
}

}  // namespace obs::server
