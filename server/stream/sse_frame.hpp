// Server-Sent Events framing (the "event stream" format of the WHATWG HTML
// standard) for the live stream of API.md, "The stream". Frames are built
// once and shared between every subscriber that receives them, so each
// function returns an immutable shared string.
#pragma once

#include "domain/event.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace obs::server {

// One complete frame, ready to be written as is; immutable once built, shared
// by every queue that holds it.
using shared_frame = std::shared_ptr<const std::string>;

// The general frame: an optional `id:` line, an optional `event:` line, one
// `data:` line per line of `data` (a data value holding "\n", "\r\n" or "\r"
// becomes several `data:` lines, which the client joins back with "\n"), and
// the blank line that ends the frame.
// REQUIRES: `event` holds no line break.
std::string format_frame(std::optional<std::int64_t> id, std::string_view event, std::string_view data);

// "id: OFFSET\ndata: JSON\n\n" with the JSON of domain::encode_stored_event
// (one line). No `event:` line: a browser's EventSource hands unnamed frames
// to onmessage, and an agent's `error` step named `event: error` would fire
// EventSource's own onerror. Only control frames are named.
shared_frame encode_event_frame(const domain::stored_event& ev);

// "retry: MS\n\n": how long the client waits before reconnecting. Negative
// durations are sent as 0.
shared_frame retry_frame(std::chrono::milliseconds delay);

// ": ping\n\n", a comment that keeps proxies from closing an idle stream. The
// same shared string on every call.
shared_frame ping_frame();

// "id: N\nevent: overflow\ndata: {\"last_offset\":N}\n\n": the subscriber fell
// behind and is being closed; it resumes with Last-Event-ID N and loses
// nothing. The `id:` line lets a browser's EventSource resume on its own from
// N even when no event reached it before the overflow.
shared_frame overflow_frame(std::int64_t last_offset);

// "id: N\nevent: rewound\ndata: {\"last_offset\":N}\n\n": the client asked to
// resume after an offset the log does not have (it was rewound, e.g. by a
// restore); the stream goes on live from N, the log's last offset, and the
// `id:` resets the client's resume point there.
shared_frame rewound_frame(std::int64_t last_offset);

}  // namespace obs::server
