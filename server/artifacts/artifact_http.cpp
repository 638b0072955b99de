// The header decisions of the artifact routes (see artifact_http.hpp). Range
// parsing follows RFC 9110: a range that cannot be parsed, or several
// ranges, is ignored (the whole content is served) rather than refused, and
// a last position past the end is clamped to it.
#include "server/artifacts/artifact_http.hpp"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <limits>
#include <system_error>

namespace obs::server {

namespace {

constexpr std::string_view default_content_type = "application/octet-stream";
constexpr std::size_t max_content_type_bytes = 255;

// Parses digits of a byte position; values past 2^64-1 saturate (a huge
// last-byte position is legal and means "to the end").
std::optional<std::uint64_t> parse_position(std::string_view digits) {
    if (digits.empty()) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : digits)
        if (c < '0' || c > '9') return std::nullopt;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc::result_out_of_range) return std::numeric_limits<std::uint64_t>::max();
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string etag_of(std::string_view sha256) { return "\"" + std::string(sha256) + "\""; }

std::optional<std::string> stored_content_type(std::string_view header) {
    if (header.empty()) return std::string(default_content_type);
    if (header.size() > max_content_type_bytes) return std::nullopt;
    for (const char c : header)
        if (c < 0x20 || c > 0x7e) return std::nullopt;
    return std::string(header);
}

range_decision decide_range(std::string_view range, std::uint64_t size) {
    range = trim(range);
    constexpr std::string_view unit = "bytes=";
    if (range.size() < unit.size()) return {};
    for (std::size_t i = 0; i < unit.size(); ++i)
        if ((range[i] | 0x20) != unit[i] && range[i] != unit[i]) return {};
    const std::string_view spec = trim(range.substr(unit.size()));
    if (spec.find(',') != std::string_view::npos) return {};  // several ranges: the whole file
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return {};
    const std::string_view first_text = trim(spec.substr(0, dash));
    const std::string_view last_text = trim(spec.substr(dash + 1));
    const range_decision unsatisfiable{range_decision::kind::unsatisfiable, 0, 0};

    if (first_text.empty()) {  // suffix: the last n bytes
        const auto n = parse_position(last_text);
        if (!n) return {};
        if (*n == 0 || size == 0) return unsatisfiable;
        return {range_decision::kind::partial, size - std::min(*n, size), size - 1};
    }
    const auto first = parse_position(first_text);
    if (!first) return {};
    std::uint64_t last = std::numeric_limits<std::uint64_t>::max();
    if (!last_text.empty()) {
        const auto parsed = parse_position(last_text);
        if (!parsed || *parsed < *first) return {};  // invalid: ignored, as RFC 9110 says
        last = *parsed;
    }
    if (*first >= size) return unsatisfiable;
    return {range_decision::kind::partial, *first, std::min(last, size - 1)};
}

bool if_none_match_hits(std::string_view if_none_match, std::string_view sha256) {
    const std::string wanted = etag_of(sha256);
    std::string_view rest = if_none_match;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view tag = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (tag == "*") return true;
        if (tag.starts_with("W/")) tag.remove_prefix(2);  // If-None-Match compares weakly
        if (tag == wanted) return true;
    }
    return false;
}

}  // namespace obs::server
