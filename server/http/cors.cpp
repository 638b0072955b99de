// CORS headers; see cors.hpp. The allowed origin is echoed rather than
// answered "*": the same answer then works for a page that sends
// credentials, and Vary: Origin keeps caches from mixing origins up.
#include "server/http/cors.hpp"

namespace obs::server {

bool cors_policy::allows(std::string_view origin) const {
    for (const auto& o : origins_)
        if (o == "*" || o == origin) return true;
    return false;
}

void cors_policy::add_answer_headers(std::optional<std::string_view> origin, header_list& out) const {
    if (!enabled()) return;
    out.emplace_back("Vary", "Origin");
    if (!origin || origin->empty() || !allows(*origin)) return;
    out.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
    out.emplace_back("Access-Control-Expose-Headers", "Retry-After, ETag, Content-Range, Location");
}

void cors_policy::add_preflight_headers(std::optional<std::string_view> origin, std::string_view allow,
                                        header_list& out) const {
    if (!enabled() || !origin || !allows(*origin)) return;
    out.emplace_back("Access-Control-Allow-Methods", std::string(allow));
    out.emplace_back("Access-Control-Allow-Headers",
                     "Authorization, Content-Type, Content-Encoding, Last-Event-ID, X-Step-Id, If-None-Match, Range");
    out.emplace_back("Access-Control-Max-Age", "600");
}

}  // namespace obs::server
