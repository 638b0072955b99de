// A fixed-bucket histogram for /metrics, shared by every thread that records
// into one (the writer thread's commit durations and group sizes, the io
// thread's request durations) and the io thread that renders it. Recording
// is two relaxed atomic adds (the bucket and the sum, no lock): the writer's
// hot path pays a few nanoseconds per group. The bucket bounds are fixed at
// construction and never change.
//
// A snapshot read while another thread records may see a bucket count and a
// sum from slightly different moments; its total is the sum of the buckets it
// read, so `_count` and the `+Inf` bucket always agree, and every count only
// grows from one snapshot to the next (what Prometheus requires of a
// histogram's series).
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

namespace obs::persistence {

// Cumulative counts as Prometheus exposes them.
struct histogram_snapshot {
    std::vector<double> bounds;            // upper bounds, increasing (the `le` labels, +Inf excluded)
    std::vector<std::uint64_t> cumulative;  // [i]: observations <= bounds[i]; one more entry for +Inf
    double sum = 0;                         // of every observed value
    std::uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
};

class histogram {
public:
    // REQUIRES: `upper_bounds` not empty, finite and strictly increasing
    // (throws std::invalid_argument otherwise).
    explicit histogram(std::vector<double> upper_bounds);
    histogram(std::initializer_list<double> upper_bounds) : histogram(std::vector<double>(upper_bounds)) {}

    // Moving is for building containers before any thread records: it is
    // not safe while another thread uses either histogram.
    histogram(histogram&&) noexcept = default;
    histogram& operator=(histogram&&) noexcept = default;

    // Counts `value` in the first bucket whose bound is >= value (+Inf when
    // none is). Any thread. A NaN is ignored.
    void observe(double value) noexcept;

    // Any thread; see the file comment for what it guarantees.
    histogram_snapshot snapshot() const;

    const std::vector<double>& bounds() const noexcept { return bounds_; }

private:
    std::vector<double> bounds_;                           // immutable after construction
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 (the last: +Inf), not cumulative
    std::unique_ptr<std::atomic<double>> sum_;             // on the heap so the type can move
};

// Request durations in seconds: 0.5 ms to 10 s, about three per decade.
std::vector<double> latency_buckets_seconds();

// Commit durations in seconds: 0.1 ms (a small group on a quiet disk) to 5 s.
std::vector<double> commit_buckets_seconds();

// Events per write group: 1 to 20000 (writer_options::max_group_events).
std::vector<double> group_size_buckets();

}  // namespace obs::persistence
