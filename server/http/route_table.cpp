// Matching requests against the route table; see route_table.hpp. Paths are
// compared segment by segment (empty segments, as in "//", are skipped);
// a pattern segment "{name}" takes any one segment, %-decoded.
#include "server/http/route_table.hpp"

#include <array>
#include <span>
#include <stdexcept>

namespace obs::server {
namespace {

// A request path's segments, without allocating: no pattern has more than
// max_segments, so a longer path matches no row (`too_long`).
struct path_segments {
    static constexpr std::size_t max_segments = 16;
    std::array<std::string_view, max_segments> parts;
    std::size_t size = 0;
    bool too_long = false;
};

path_segments split_request_path(std::string_view path) {
    path_segments out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        const auto slash = path.find('/');
        if (out.size == out.parts.size()) {
            out.too_long = true;
            break;
        }
        out.parts[out.size++] = path.substr(0, slash);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return out;
}

std::vector<std::string_view> split_pattern(std::string_view pattern) {
    const auto split = split_request_path(pattern);
    if (split.too_long) throw std::logic_error("route pattern has too many segments: " + std::string(pattern));
    return {split.parts.begin(), split.parts.begin() + static_cast<std::ptrdiff_t>(split.size)};
}

bool is_param(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = hex_value(s[i + 1]);
        const int lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

route_table::route_table(std::vector<route> rows) : rows_(std::move(rows)) {
    for (const route& row : rows_) segments_.push_back(split_pattern(row.pattern));
}

bool route_table::same_shape(std::size_t row, std::span<const std::string_view> parts) const {
    const auto& pattern = segments_[row];
    if (pattern.size() != parts.size()) return false;
    for (std::size_t k = 0; k < parts.size(); ++k)
        if (!is_param(pattern[k]) && pattern[k] != parts[k]) return false;
    return true;
}

// The methods of every row whose pattern matches `parts`, for Allow. Only
// for 405s and OPTIONS: building it for every request showed in profiles.
std::string route_table::allow_of(std::span<const std::string_view> parts) const {
    std::string allow;
    for (std::size_t i = 0; i < rows_.size(); ++i) {
        if (!same_shape(i, parts)) continue;
        if (!allow.empty()) allow += ", ";
        allow += rows_[i].method;
        if (rows_[i].method == "GET") allow += ", HEAD";
    }
    return allow;
}

route_table::match route_table::find(std::string_view method, std::string_view path) const {
    const auto split = split_request_path(path);
    match result;
    if (split.too_long) return result;
    const std::span<const std::string_view> parts(split.parts.data(), split.size);
    for (std::size_t i = 0; i < rows_.size() && result.row == nullptr; ++i) {
        if (!same_shape(i, parts)) continue;
        result.path_known = true;
        const route& row = rows_[i];
        const bool method_matches = row.method == method || (method == "HEAD" && row.method == "GET");
        if (!method_matches) continue;
        const auto& pattern = segments_[i];
        std::vector<std::pair<std::string_view, std::string>> params;
        for (std::size_t k = 0; k < parts.size(); ++k) {
            if (!is_param(pattern[k])) continue;
            auto decoded = percent_decode(parts[k]);
            if (!decoded) {
                result.bad_encoding = true;
                return result;
            }
            params.emplace_back(pattern[k].substr(1, pattern[k].size() - 2), std::move(*decoded));
        }
        result.row = &row;
        result.index = i;
        result.params = std::move(params);
    }
    if (result.path_known && result.row == nullptr) result.allow = allow_of(parts);  // (no row takes OPTIONS)
    return result;
}

}  // namespace obs::server
