// Structured logs: one JSON line per record on stderr, written with a single
// write(2) so lines from different threads never interleave. Never bodies,
// never keys, never query strings (they may hold ?access_token=).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace obs::server {

// Writes {"time":..., "level":..., "msg":..., <fields>} as one line.
void log_line(std::string_view level, std::string_view message, boost::json::object fields = {});

// Microseconds since `start`.
inline std::int64_t elapsed_us(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
}

// `text` when it is valid UTF-8, else a copy with every byte of 0x80 and
// above replaced by '?': client input echoed into a log line or an error
// body must keep them valid JSON.
std::string printable_text(std::string_view text);

// The per-request line: method, route (the path only, made printable),
// status, duration, bytes received and sent.
void log_request(std::string_view method, std::string_view path, unsigned status, std::int64_t duration_us,
                 std::size_t bytes_in, std::size_t bytes_out);

}  // namespace obs::server
