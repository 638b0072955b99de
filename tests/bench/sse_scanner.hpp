// The stream benchmark's incremental reader of one SSE response (sans-io):
// the HTTP response head, then the event frames of API.md, "The stream". It
// only extracts what the benchmark counts: each event frame's `id:` (the
// offset), the `overflow` frame and, for listeners that ask, the event's
// `data:` line. Other lines are classified by their first bytes and skipped,
// so a listener keeps a fixed 32-byte carry between reads instead of a
// buffer: 10,000 listeners cost almost nothing, and one thread can scan
// hundreds of thousands of frames a second.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace obs::bench {

struct sse_handlers {
    // Runs once per event frame (an `id:` line followed by a `data:` line,
    // with no `event:` line: named frames are control frames), in arrival
    // order, with the frame's id.
    std::function<void(std::int64_t offset)> on_event;
    // When set, runs with the first `data:` line of each event frame (without
    // "data: " and the line end), after on_event. Empty: data lines are
    // skipped without being kept.
    std::function<void(std::int64_t offset, std::string_view data)> on_data;
};

class sse_scanner {
public:
    enum class state {
        status_line,  // waiting for "HTTP/1.1 200 ..."
        headers,      // the head's header lines, until the empty line
        body,         // SSE frames
        failed,       // the status was not 200: the stream will not come
    };

    // Feeds the next `size` bytes of the response and runs `handlers` for
    // what they complete. Use the same handlers (data or not) on every call.
    // REQUIRES: `data` points at `size` readable bytes (size may be 0).
    void feed(const char* data, std::size_t size, const sse_handlers& handlers);

    state current() const { return state_; }
    // True once the head ended with a 200: the listener is subscribed.
    bool streaming() const { return state_ == state::body; }
    // True once the server sent `event: overflow` (it closes the stream next).
    bool overflowed() const { return overflowed_; }
    // `id:` lines whose value was not a number (a protocol error; expected 0).
    std::uint64_t bad_ids() const { return bad_ids_; }

private:
    // Classifies one complete line of `full` bytes (without its `\n`; the
    // head's `\r` included), of which `prefix` holds the first `n` (at most
    // kept_bytes). `whole` is the entire line when handlers.on_data is set.
    void on_line(const char* prefix, std::size_t n, std::size_t full, std::string_view whole,
                 const sse_handlers& handlers);

    static constexpr std::size_t kept_bytes = 32;  // enough for "id: " + 19 digits and "event: overflow"

    state state_ = state::status_line;
    std::array<char, kept_bytes> carry_{};  // the start of a line split between two reads
    std::size_t carried_ = 0;               // bytes of carry_ in use (capped at kept_bytes)
    std::size_t line_len_ = 0;              // full length of the split line so far
    std::string whole_carry_;               // the whole split line, only when data is wanted
    bool in_line_ = false;                  // a partial line is pending in carry_
    std::int64_t pending_id_ = -1;          // the frame's `id:`, until its first `data:` line
    bool named_ = false;                    // the frame has an `event:` line (a control frame)
    bool overflowed_ = false;
    std::uint64_t bad_ids_ = 0;
};

}  // namespace obs::bench
