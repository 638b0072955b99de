// Structured logs: one JSON line per record on stderr, written with a single
// write(2) so lines from different threads never interleave. Never bodies,
// never keys, never query strings (they may hold ?access_token=).
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace obs::server {

// Writes {"time":..., "level":..., "msg":..., <fields>} as one line.
void log_line(std::string_view level, std::string_view message, boost::json::object fields = {});

// The per-request line: method, route (the path only), status, duration,
// bytes received and sent.
void log_request(std::string_view method, std::string_view path, unsigned status, std::int64_t duration_us,
                 std::size_t bytes_in, std::size_t bytes_out);

}  // namespace obs::server
