// The small pieces of route.hpp that are not inline.
#include "server/http/route.hpp"

#include <boost/beast/core/string.hpp>

namespace obs::server {

const std::string& request::param(std::string_view name) const {
    static const std::string none;
    for (const auto& [key, value] : params)
        if (key == name) return value;
    return none;
}

std::optional<std::string_view> request::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (boost::beast::iequals(key, name)) return value;
    return std::nullopt;
}

http_answer error_answer(const api_error& e) {
    http_answer a{http_status(e.code), error_body(e), std::string(json_content_type), {}};
    if (e.retry_after_seconds > 0) a.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
    return a;
}

}  // namespace obs::server
