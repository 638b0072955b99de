// The stream benchmark's incremental reader of one SSE response (sans-io):
// the HTTP response head, then the event frames of API.md, "The stream". It
// only extracts what the benchmark counts: each event frame's `id:` (the
// offset) and the `overflow` frame. Lines are classified by their first few
// bytes and the rest is skipped, so a listener keeps a fixed 32-byte carry
// between reads instead of a buffer: 10,000 listeners cost almost nothing,
// and one thread can scan hundreds of thousands of frames a second.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace obs::bench {

class sse_scanner {
public:
    enum class state {
        status_line,  // waiting for "HTTP/1.1 200 ..."
        headers,      // the head's header lines, until the empty line
        body,         // SSE frames
        failed,       // the status was not 200: the stream will not come
    };

    // Feeds the next `size` bytes of the response. `on_event(offset)` runs
    // once per event frame (an `id:` line followed by an `event:` line other
    // than `overflow`), in the order the frames arrive.
    // REQUIRES: `data` points at `size` readable bytes (size may be 0).
    void feed(const char* data, std::size_t size, const std::function<void(std::int64_t)>& on_event);

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
    // kept_bytes).
    void on_line(const char* prefix, std::size_t n, std::size_t full,
                 const std::function<void(std::int64_t)>& on_event);

    static constexpr std::size_t kept_bytes = 32;  // enough for "id: " + 19 digits and "event: overflow"

    state state_ = state::status_line;
    std::array<char, kept_bytes> carry_{};  // the start of a line split between two reads
    std::size_t carried_ = 0;               // bytes of carry_ in use (capped at kept_bytes)
    std::size_t line_len_ = 0;              // full length of the split line so far
    bool in_line_ = false;                  // a partial line is pending in carry_
    std::int64_t pending_id_ = -1;          // the last `id:` not yet matched by an `event:` line
    bool overflowed_ = false;
    std::uint64_t bad_ids_ = 0;
};

}  // namespace obs::bench
