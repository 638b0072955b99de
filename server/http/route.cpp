// The small pieces of route.hpp that are not inline.
#include "server/http/route.hpp"

namespace obs::server {

const std::string& request::param(std::string_view name) const {
    static const std::string none;
    for (const auto& [key, value] : params)
        if (key == name) return value;
    return none;
}

namespace {

// `received` equals `lower_name` in ASCII case-insensitive comparison.
bool same_header_name(std::string_view received, std::string_view lower_name) {
    if (received.size() != lower_name.size()) return false;
    for (std::size_t i = 0; i < received.size(); ++i) {
        char c = received[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower_name[i]) return false;
    }
    return true;
}

}  // namespace

std::optional<std::string_view> request::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (same_header_name(key, name)) return value;
    return std::nullopt;
}

http_answer error_answer(const api_error& e) {
    http_answer a{http_status(e.code), error_body(e), std::string(json_content_type), {}};
    if (e.retry_after_seconds > 0) a.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
    return a;
}

}  // namespace obs::server
