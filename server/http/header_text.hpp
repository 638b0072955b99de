// Reading header values (RFC 9110): a value without the optional whitespace
// around it, and a Content-Type's media type without its parameters. Names,
// tokens and media types compare case-insensitively with
// boost::beast::iequals, so nothing here folds case or copies.
#pragma once

#include <string_view>

namespace obs::server {

// `value` without leading and trailing spaces and tabs.
constexpr std::string_view trim_ows(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    return value;
}

// "application/json; charset=utf-8" -> "application/json" (as sent: compare
// it with beast::iequals).
constexpr std::string_view media_type_of(std::string_view content_type) {
    return trim_ows(content_type.substr(0, content_type.find(';')));
}

}  // namespace obs::server
