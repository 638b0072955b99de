// The stream benchmark's SSE scanner: see sse_scanner.hpp. memchr finds each
// line end; only the first kept_bytes of a line are looked at or copied,
// unless the caller wants data lines whole.
#include "tests/bench/sse_scanner.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace obs::bench {

namespace {

bool starts_with(const char* p, std::size_t n, std::string_view prefix) {
    return n >= prefix.size() && std::memcmp(p, prefix.data(), prefix.size()) == 0;
}

}  // namespace

void sse_scanner::feed(const char* data, std::size_t size, const sse_handlers& handlers) {
    const bool keep_whole = static_cast<bool>(handlers.on_data);
    std::size_t pos = 0;
    while (pos < size && state_ != state::failed) {
        const auto* nl = static_cast<const char*>(std::memchr(data + pos, '\n', size - pos));
        const std::size_t end = nl != nullptr ? static_cast<std::size_t>(nl - data) : size;
        const std::size_t len = end - pos;
        if (nl == nullptr || in_line_) {
            // Keep the start of a split line; its full length lives in line_len_.
            const std::size_t take = std::min(len, kept_bytes - carried_);
            std::memcpy(carry_.data() + carried_, data + pos, take);
            carried_ += take;
            line_len_ += len;
            if (keep_whole) {
                whole_carry_.append(data + pos, len);
            }
            in_line_ = true;
            if (nl == nullptr) {
                return;
            }
            on_line(carry_.data(), carried_, line_len_, whole_carry_, handlers);
            carried_ = 0;
            line_len_ = 0;
            whole_carry_.clear();
            in_line_ = false;
        } else {
            on_line(data + pos, std::min(len, kept_bytes), len, std::string_view(data + pos, len), handlers);
        }
        pos = end + 1;
    }
}

void sse_scanner::on_line(const char* p, std::size_t n, std::size_t full, std::string_view whole,
                          const sse_handlers& handlers) {
    switch (state_) {
        case state::status_line:
            state_ = (starts_with(p, n, "HTTP/1.1 200 ") || starts_with(p, n, "HTTP/1.0 200 ")) ? state::headers
                                                                                                  : state::failed;
            return;
        case state::headers:
            if (full == 0 || (full == 1 && p[0] == '\r')) {
                state_ = state::body;
            }
            return;
        case state::failed:
            return;
        case state::body:
            break;
    }
    if (full == 0) {
        // The frame ended; an `id:` without a `data:` line is not an event.
        pending_id_ = -1;
        named_ = false;
        return;
    }
    if (starts_with(p, n, "id: ")) {
        std::int64_t value = -1;
        const auto [ptr, ec] = std::from_chars(p + 4, p + n, value);
        if (full != n || ec != std::errc{} || ptr != p + n || value < 0) {
            ++bad_ids_;
            pending_id_ = -1;
            return;
        }
        pending_id_ = value;
        return;
    }
    if (starts_with(p, n, "event: ")) {
        // Event frames are unnamed; a named frame is a control frame.
        named_ = true;
        if (full == n && std::string_view(p + 7, n - 7) == "overflow") {
            overflowed_ = true;
        }
        return;
    }
    if (starts_with(p, n, "data: ")) {
        if (pending_id_ >= 0 && !named_) {
            handlers.on_event(pending_id_);
            if (handlers.on_data) {
                handlers.on_data(pending_id_, whole.substr(6));
            }
        }
        pending_id_ = -1;  // only the first data line
        return;
    }
    // `retry:` and `: ping` lines carry nothing the benchmark counts.
}

}  // namespace obs::bench
