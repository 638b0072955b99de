// Server-Sent Events framing: see sse_frame.hpp. Plain string building, no
// I/O; the field layout follows the event stream format of the WHATWG HTML
// standard, which splits data on every line terminator (CRLF, LF or CR).
#include "server/stream/sse_frame.hpp"

#include <string>

namespace obs::server {

namespace {

// Appends one "data: LINE\n" per line of `data`; an empty value still gives
// one (empty) data line so the frame dispatches with data "".
void append_data_lines(std::string& out, std::string_view data) {
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = data.find_first_of("\r\n", start);
        out += "data: ";
        out.append(data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        out += '\n';
        if (end == std::string_view::npos) {
            return;
        }
        // CRLF is one terminator, not two.
        start = (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? end + 2 : end + 1;
    }
}

}  // namespace

std::string format_frame(std::optional<std::int64_t> id, std::string_view event, std::string_view data) {
    std::string out;
    out.reserve(data.size() + event.size() + 48);
    if (id) {
        out += "id: ";
        out += std::to_string(*id);
        out += '\n';
    }
    if (!event.empty()) {
        out += "event: ";
        out.append(event);
        out += '\n';
    }
    append_data_lines(out, data);
    out += '\n';
    return out;
}

shared_frame encode_event_frame(const domain::stored_event& ev) {
    return std::make_shared<const std::string>(
        format_frame(ev.offset, "", domain::encode_stored_event(ev)));
}

shared_frame retry_frame(std::chrono::milliseconds delay) {
    const auto ms = delay.count() < 0 ? 0 : delay.count();
    return std::make_shared<const std::string>("retry: " + std::to_string(ms) + "\n\n");
}

shared_frame ping_frame() {
    // Built once: every idle stream shares it.
    static const shared_frame ping = std::make_shared<const std::string>(": ping\n\n");
    return ping;
}

shared_frame overflow_frame(std::int64_t last_offset) {
    return std::make_shared<const std::string>(
        format_frame(last_offset, "overflow", "{\"last_offset\":" + std::to_string(last_offset) + "}"));
}

}  // namespace obs::server

namespace obs::server {

shared_frame rewound_frame(std::int64_t last_offset) {
    return std::make_shared<const std::string>(
        format_frame(last_offset, "rewound", "{\"last_offset\":" + std::to_string(last_offset) + "}"));
}

}  // namespace obs::server
