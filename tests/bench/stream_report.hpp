// The stream benchmark's arithmetic (pure): joins what the poster had
// acknowledged with what every listener received, by offset, after the run.
//   commit-to-delivery = arrival at the listener - arrival of the 201 answer.
// The 201 is sent after the commit, so its arrival is an upper bound of the
// commit time and this latency a slight underestimate (a frame can even beat
// its own 201: the value is then negative). send-to-delivery (arrival - the
// POST's send time) is the matching upper bound: it adds the request's trip,
// validation and the wait for the group commit. receive-to-delivery
// (arrival - the event's `received_at`, the server's clock read when it
// decoded the request) is the tighter upper bound: it leaves out the
// request's trip and wait, and keeps validation and the commit. At 10,000
// listeners the 201 itself waits behind the fan-out on the io thread, so
// the truth lies between commit- and receive-to-delivery.
#pragma once

#include "tests/bench/event_poster.hpp"
#include "tests/bench/stream_listeners.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace obs::bench {

struct latency_summary {
    double p50_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
};

struct stream_summary {
    std::size_t listeners = 0;
    std::size_t events_acked = 0;              // events the poster got a 201 for
    std::uint64_t expected_deliveries = 0;     // listeners x events_acked
    std::uint64_t delivered = 0;               // distinct (listener, acked offset) pairs received
    std::uint64_t lost = 0;                    // expected - delivered
    std::uint64_t duplicated = 0;              // frames received again for an offset already seen
    std::uint64_t unexpected = 0;              // frames for offsets the poster never saw acknowledged
    std::size_t overflowed_listeners = 0;      // sent `event: overflow`
    std::size_t closed_listeners = 0;          // ended before the run did
    std::uint64_t bad_ids = 0;                 // unparsable `id:` lines
    double deliveries_per_second = 0;          // delivered / (last arrival - window start)
    latency_summary commit_to_delivery;
    latency_summary send_to_delivery;
    latency_summary receive_to_delivery;  // from the events the first listener read a received_at of
};

// Summarizes one run. `window_start_ns` is the poster's tick 0 (now_ns()).
// `unix_minus_steady_ns` converts now_ns() stamps to Unix time (both clocks
// read together once; the run is too short for the clocks to drift apart).
stream_summary summarize(const std::vector<posted_event>& posted, const std::vector<listener_record>& listeners,
                         const std::vector<server_receipt>& receipts, std::int64_t window_start_ns,
                         std::int64_t unix_minus_steady_ns);

}  // namespace obs::bench
