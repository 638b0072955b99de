// A stand-in for the event log in the stream session's tests: numbered
// events whose run, type and payload follow from their offset, "commits"
// that append them and publish them to the hub as the writer's listener
// does, and replay pages read from them as persistence::read_replay_page
// reads the database. committing_source commits while each page is read, so
// the replay hand-over meets events that arrive mid-replay.
#pragma once

#include "persistence/queries.hpp"
#include "server/stream/stream_hub.hpp"
#include "server/stream/stream_session.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace obs::server::test {

// The event at `offset`: id "e<offset>", run r1 when odd and r2 when even,
// a thought every third offset and a log otherwise, with `payload_bytes`
// of filler text in the payload.
domain::stored_event make_event(std::int64_t offset, std::size_t payload_bytes = 0);

// The offset in an SSE frame's `id:` line. REQUIRES: the frame starts with it.
std::int64_t offset_of(const std::string& frame);

// The event log as the test sees it. Lives on the hub's executor.
struct fake_log {
    stream_hub& hub;
    std::vector<domain::stored_event> events;  // every event committed so far

    // Appends `n` events after the last and publishes them as one batch.
    void commit(std::size_t n, std::size_t payload_bytes = 0);

    // What persistence::read_replay_page answers: at most `window` offsets
    // looked at, at most `limit` matching events.
    persistence::replay_page page(std::int64_t after, std::int64_t up_to, const stream_filter& filter,
                                  std::size_t limit, std::size_t window = 1000) const;
};

// A page source over `log` that hops through the executor (as the reader
// pool does) and commits `commits_per_page` events while each page is read,
// counting pages in `pages`. The caller keeps `log` and `pages` alive while
// the source is in use.
replay_page_source committing_source(fake_log& log, stream_filter filter, std::size_t commits_per_page, int& pages,
                                     std::size_t window = 1000);

}  // namespace obs::server::test
