// The route table: finds the row for a request's method and path, with the
// path's {parameters} %-decoded, or says why none matched (404, 405 with the
// path's methods for Allow, 400 for a malformed %-escape). Pure code: tested
// without sockets.
#pragma once

#include "server/http/route.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace obs::server {

class route_table {
public:
    explicit route_table(std::vector<route> rows);

    struct match {
        const route* row = nullptr;   // set when method and path matched
        std::size_t index = 0;        // the row's index (metrics)
        std::vector<std::pair<std::string_view, std::string>> params;
        bool path_known = false;      // some row has this path (no row: 405)
        std::string allow;            // the path's methods, for Allow and preflights: set
                                      // when path_known and no row matched
        bool bad_encoding = false;    // a segment had a malformed %-escape
    };

    // `path` without the query. HEAD matches a GET row.
    match find(std::string_view method, std::string_view path) const;

    const std::vector<route>& rows() const { return rows_; }

private:
    bool same_shape(std::size_t row, std::span<const std::string_view> parts) const;
    std::string allow_of(std::span<const std::string_view> parts) const;

    std::vector<route> rows_;
    // Each row's pattern split into segments once, here: splitting them per
    // request was a vector allocation per row and request.
    std::vector<std::vector<std::string_view>> segments_;
};

// Percent-decodes `s`; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

}  // namespace obs::server
