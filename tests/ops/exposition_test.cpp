// Tests of server/routes/exposition.cpp: numbers read back exactly and `le`
// labels are plain decimals, label values are escaped, and a histogram is
// written as Prometheus' cumulative _bucket, _sum and _count lines.
#include "server/routes/exposition.hpp"

#include <boost/test/unit_test.hpp>

#include <limits>

using namespace obs::server;

BOOST_AUTO_TEST_SUITE(exposition_writer)

BOOST_AUTO_TEST_CASE(numbers_read_back_and_bounds_stay_plain) {
    struct row {
        double value;
        const char* text;
    };
    const row rows[] = {
        {0.0005, "0.0005"},
        {1, "1"},
        {20000, "20000"},
        {1764700000.123, "1764700000.123"},  // a Unix time keeps its milliseconds
        {0.1 + 0.2, "0.30000000000000004"},
        {1e300, "1e+300"},                   // too long as a plain decimal
        {std::numeric_limits<double>::infinity(), "+Inf"},
        {-std::numeric_limits<double>::infinity(), "-Inf"},
        {std::numeric_limits<double>::quiet_NaN(), "NaN"},
    };
    for (const row& r : rows) {
        BOOST_TEST_CONTEXT("value " << r.text) { BOOST_TEST(format_number(r.value) == r.text); }
    }
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
    BOOST_TEST(label("route", "GET /x") == R"(route="GET /x")");
    BOOST_TEST(label("v", "a\"b\\c\nd") == R"(v="a\"b\\c\nd")");
}

BOOST_AUTO_TEST_CASE(a_histogram_is_buckets_sum_and_count) {
    obs::persistence::histogram h{0.5, 1};
    h.observe(0.25);
    h.observe(0.75);
    h.observe(7);
    exposition out;
    out.family("x_seconds", "histogram", "What x took.");
    out.histogram("x_seconds", label("route", "GET /"), h.snapshot());
    BOOST_TEST(out.text() ==
               "# HELP x_seconds What x took.\n"
               "# TYPE x_seconds histogram\n"
               "x_seconds_bucket{route=\"GET /\",le=\"0.5\"} 1\n"
               "x_seconds_bucket{route=\"GET /\",le=\"1\"} 2\n"
               "x_seconds_bucket{route=\"GET /\",le=\"+Inf\"} 3\n"
               "x_seconds_sum{route=\"GET /\"} 8\n"
               "x_seconds_count{route=\"GET /\"} 3\n");
}

BOOST_AUTO_TEST_CASE(an_unlabelled_histogram_has_only_le) {
    obs::persistence::histogram h{2};
    h.observe(1);
    exposition out;
    out.histogram("g", "", h.snapshot());
    BOOST_TEST(out.text() == "g_bucket{le=\"2\"} 1\ng_bucket{le=\"+Inf\"} 1\ng_sum 1\ng_count 1\n");
}

BOOST_AUTO_TEST_CASE(samples_of_each_kind) {
    exposition out;
    out.single("a_total", "counter", "A.", std::uint64_t{18446744073709551615u});
    out.sample("b", "", std::int64_t{-5});
    out.sample("c", label("k", "v"), 0.25);
    BOOST_TEST(out.text() == "# HELP a_total A.\n# TYPE a_total counter\na_total 18446744073709551615\nb -5\nc{k=\"v\"} 0.25\n");
}

BOOST_AUTO_TEST_SUITE_END()
