// The stream benchmark's arithmetic: see stream_report.hpp. Offsets are
// gap-free on a fresh database with one poster, so the acknowledged events
// are indexed by offset - first offset; a per-listener `seen` table over that
// range counts duplicates without hashing.
#include "tests/bench/stream_report.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace obs::bench {

namespace {

// Nearest-rank percentiles of `ns` (sorted here), in milliseconds.
latency_summary percentiles(std::vector<std::int64_t>& ns) {
    latency_summary out;
    if (ns.empty()) {
        return out;
    }
    std::sort(ns.begin(), ns.end());
    const auto rank = [&](double p) {
        const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(ns.size())));
        return static_cast<double>(ns[std::min(ns.size(), std::max<std::size_t>(k, 1)) - 1]) / 1e6;
    };
    out.p50_ms = rank(0.50);
    out.p99_ms = rank(0.99);
    out.max_ms = static_cast<double>(ns.back()) / 1e6;
    return out;
}

}  // namespace

stream_summary summarize(const std::vector<posted_event>& posted, const std::vector<listener_record>& listeners,
                         const std::vector<server_receipt>& receipts, std::int64_t window_start_ns,
                         std::int64_t unix_minus_steady_ns) {
    stream_summary out;
    out.listeners = listeners.size();
    out.events_acked = posted.size();
    out.expected_deliveries = static_cast<std::uint64_t>(listeners.size()) * posted.size();

    std::int64_t first = std::numeric_limits<std::int64_t>::max();
    std::int64_t last = std::numeric_limits<std::int64_t>::min();
    for (const auto& p : posted) {
        first = std::min(first, p.offset);
        last = std::max(last, p.offset);
    }
    // by_offset[offset - first]: the acknowledged event, or null.
    const std::size_t range = posted.empty() ? 0 : static_cast<std::size_t>(last - first + 1);
    std::vector<const posted_event*> by_offset(range, nullptr);
    for (const auto& p : posted) {
        by_offset[static_cast<std::size_t>(p.offset - first)] = &p;
    }

    // received_ms[offset - first]: the server's receive time, or -1 when unknown.
    std::vector<std::int64_t> received_ms(range, -1);
    for (const auto& r : receipts) {
        if (r.offset >= first && r.offset <= last) {
            received_ms[static_cast<std::size_t>(r.offset - first)] = r.received_unix_ms;
        }
    }

    std::vector<std::int64_t> commit_ns;
    std::vector<std::int64_t> send_ns;
    std::vector<std::int64_t> receive_ns;
    commit_ns.reserve(out.expected_deliveries);
    send_ns.reserve(out.expected_deliveries);
    receive_ns.reserve(out.expected_deliveries);
    std::vector<bool> seen(range);
    std::int64_t last_arrival = window_start_ns;
    for (const auto& l : listeners) {
        std::fill(seen.begin(), seen.end(), false);
        out.overflowed_listeners += l.overflowed ? 1 : 0;
        out.closed_listeners += l.closed_early ? 1 : 0;
        out.bad_ids += l.bad_ids;
        for (const auto& d : l.deliveries) {
            const posted_event* p = (d.offset >= first && d.offset <= last)
                                        ? by_offset[static_cast<std::size_t>(d.offset - first)]
                                        : nullptr;
            if (p == nullptr) {
                ++out.unexpected;
                continue;
            }
            const auto slot = static_cast<std::size_t>(d.offset - first);
            if (seen[slot]) {
                ++out.duplicated;
                continue;
            }
            seen[slot] = true;
            ++out.delivered;
            commit_ns.push_back(d.received_ns - p->acked_ns);
            send_ns.push_back(d.received_ns - p->sent_ns);
            if (received_ms[slot] >= 0) {
                receive_ns.push_back(d.received_ns + unix_minus_steady_ns - received_ms[slot] * 1'000'000);
            }
            last_arrival = std::max(last_arrival, d.received_ns);
        }
    }
    out.lost = out.expected_deliveries - out.delivered;
    const double window_s = static_cast<double>(last_arrival - window_start_ns) / 1e9;
    out.deliveries_per_second = window_s > 0 ? static_cast<double>(out.delivered) / window_s : 0;
    out.commit_to_delivery = percentiles(commit_ns);
    out.send_to_delivery = percentiles(send_ns);
    out.receive_to_delivery = percentiles(receive_ns);
    return out;
}

}  // namespace obs::bench
