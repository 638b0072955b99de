// Tests of persistence/histogram.cpp: where a value lands (Prometheus' `le`:
// a value equal to a bound counts in that bound's bucket), cumulative counts
// and the sum, bounds refused at construction, and concurrent recording:
// nothing lost, and snapshots taken meanwhile only ever grow, with the +Inf
// bucket equal to the count.
#include "persistence/histogram.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

using obs::persistence::histogram;
using obs::persistence::histogram_snapshot;

BOOST_AUTO_TEST_SUITE(histogram_type)

BOOST_AUTO_TEST_CASE(a_value_lands_in_the_first_bucket_whose_bound_is_not_below_it) {
    struct row {
        double value;
        std::vector<std::uint64_t> cumulative;  // le=1, le=2, le=5, +Inf
    };
    const row rows[] = {
        {-3, {1, 1, 1, 1}},  {0, {1, 1, 1, 1}},   {1, {1, 1, 1, 1}},  {1.0000001, {0, 1, 1, 1}},
        {2, {0, 1, 1, 1}},   {4.99, {0, 0, 1, 1}}, {5, {0, 0, 1, 1}},  {5.01, {0, 0, 0, 1}},
        {1e300, {0, 0, 0, 1}}, {std::numeric_limits<double>::infinity(), {0, 0, 0, 1}},
    };
    for (const row& r : rows) {
        BOOST_TEST_CONTEXT("value " << r.value) {
            histogram h{1, 2, 5};
            h.observe(r.value);
            const histogram_snapshot s = h.snapshot();
            BOOST_TEST(s.cumulative == r.cumulative, boost::test_tools::per_element());
            BOOST_TEST(s.count() == 1u);
            BOOST_TEST(s.sum == r.value);
        }
    }
}

BOOST_AUTO_TEST_CASE(counts_are_cumulative_and_the_sum_adds_up) {
    histogram h{0.001, 0.01, 0.1};
    for (double v : {0.0005, 0.0007, 0.005, 0.05, 0.05, 3.0}) h.observe(v);
    const auto s = h.snapshot();
    BOOST_TEST(s.bounds == std::vector<double>({0.001, 0.01, 0.1}), boost::test_tools::per_element());
    BOOST_TEST(s.cumulative == std::vector<std::uint64_t>({2, 3, 5, 6}), boost::test_tools::per_element());
    BOOST_TEST(s.count() == 6u);
    BOOST_TEST(s.sum == 0.0005 + 0.0007 + 0.005 + 0.05 + 0.05 + 3.0, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(a_nan_is_not_counted) {
    histogram h{1};
    h.observe(std::numeric_limits<double>::quiet_NaN());
    const auto s = h.snapshot();
    BOOST_TEST(s.count() == 0u);
    BOOST_TEST(s.sum == 0.0);
}

BOOST_AUTO_TEST_CASE(bad_bounds_are_refused) {
    const std::vector<std::vector<double>> bad = {
        {},
        {1, 1},
        {2, 1},
        {1, std::numeric_limits<double>::infinity()},
        {std::numeric_limits<double>::quiet_NaN()},
    };
    for (std::size_t i = 0; i < bad.size(); ++i) {
        BOOST_TEST_CONTEXT("case " << i) { BOOST_CHECK_THROW(histogram{bad[i]}, std::invalid_argument); }
    }
}

BOOST_AUTO_TEST_CASE(the_projects_bucket_sets_are_valid) {
    // Constructing checks them; the latency set spans 0.5 ms to 10 s.
    const histogram latency(obs::persistence::latency_buckets_seconds());
    BOOST_TEST(latency.bounds().front() == 0.0005);
    BOOST_TEST(latency.bounds().back() == 10.0);
    const histogram commit(obs::persistence::commit_buckets_seconds());
    const histogram groups(obs::persistence::group_size_buckets());
    BOOST_TEST(groups.bounds().back() == 20000.0);
}

BOOST_AUTO_TEST_CASE(a_moved_histogram_keeps_its_counts) {
    histogram a{1, 2};
    a.observe(1.5);
    histogram b(std::move(a));
    b.observe(0.5);
    BOOST_TEST(b.snapshot().cumulative == std::vector<std::uint64_t>({1, 2, 2}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(concurrent_recording_loses_nothing_and_snapshots_only_grow) {
    histogram h{1, 2, 3};
    constexpr int threads = 4;
    constexpr int per_thread = 200000;
    std::atomic<bool> done{false};
    std::atomic<bool> reading{false};  // the writers start once the reader runs (a loaded machine may run them first)
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t)
        writers.emplace_back([&h, &reading, t] {
            while (!reading.load()) std::this_thread::yield();
            // Values 1..4 in turn: one in each bucket, +Inf included.
            for (int i = 0; i < per_thread; ++i) h.observe(static_cast<double>((i + t) % 4 + 1));
        });
    std::thread reader([&] {
        histogram_snapshot last = h.snapshot();
        reading = true;
        do {
            const histogram_snapshot now = h.snapshot();
            for (std::size_t i = 0; i < now.cumulative.size(); ++i) {
                BOOST_REQUIRE(now.cumulative[i] >= last.cumulative[i]);  // never goes back
                if (i > 0) BOOST_REQUIRE(now.cumulative[i] >= now.cumulative[i - 1]);  // cumulative
            }
            last = now;
        } while (!done.load());
    });
    for (auto& w : writers) w.join();
    done = true;
    reader.join();
    const auto s = h.snapshot();
    const std::uint64_t total = threads * per_thread;
    BOOST_TEST(s.count() == total);
    BOOST_TEST(s.cumulative == std::vector<std::uint64_t>({total / 4, total / 2, total / 4 * 3, total}),
               boost::test_tools::per_element());
    // Integers add exactly in a double up to 2^53: (1+2+3+4)/4 per value.
    BOOST_TEST(s.sum == 2.5 * static_cast<double>(total));
}

BOOST_AUTO_TEST_SUITE_END()
