// Tests of domain/time.cpp: RFC 3339 parsing (good and bad forms, offsets,
// fractions, impossible dates) and millisecond formatting, plus the round
// trip between the two.
#include "domain/time.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

using obs::domain::append_rfc3339_ms;
using obs::domain::format_rfc3339_ms;
using obs::domain::now_unix_ms;
using obs::domain::parse_rfc3339;
using obs::domain::rfc3339_ms_limit;

BOOST_AUTO_TEST_SUITE(time_suite)

namespace {

struct parse_case {
    std::string text;
    std::int64_t expected_ms;
};

constexpr std::int64_t sample_ms = 1795817045123;  // 2026-11-27T22:04:05.123Z

}  // namespace

BOOST_AUTO_TEST_CASE(parses_good_times) {
    const parse_case cases[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T00:00:00.001Z", 1},
        {"2026-11-27T22:04:05.123Z", sample_ms},
        {"2026-11-27t22:04:05.123z", sample_ms},
        {"2026-11-27T23:04:05.123+01:00", sample_ms},
        {"2026-11-27T16:34:05.123-05:30", sample_ms},
        {"2026-11-28T00:04:05.123+02:00", sample_ms},  // offset crosses midnight
        {"2026-11-27T22:04:05.123+00:00", sample_ms},
        {"2026-11-27T22:04:05.123-00:00", sample_ms},
        {"2026-11-27T22:04:05.1234567Z", sample_ms},  // extra digits truncated
        {"2026-11-27T22:04:05.1239Z", sample_ms},     // truncated, not rounded
        {"2026-11-27T22:04:05.12Z", sample_ms - 3},
        {"2026-11-27T22:04:05.1Z", sample_ms - 23},
        {"2026-11-27T22:04:05Z", sample_ms - 123},
        {"2000-02-29T12:00:00Z", 951825600000},       // leap year (divisible by 400)
        {"2024-02-29T23:59:59.999Z", 1709251199999},  // leap year
        {"1999-12-31T23:59:59Z", 946684799000},
        {"1969-12-31T23:59:59.999Z", -1},             // parses; callers check the range
        {"9999-12-31T23:59:59.999Z", rfc3339_ms_limit - 1},
        {"2026-11-27T22:04:05.123+23:59", sample_ms - (23 * 60 + 59) * 60000},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.text) {
            const auto ms = parse_rfc3339(c.text);
            BOOST_TEST_REQUIRE(ms.has_value());
            BOOST_TEST(*ms == c.expected_ms);
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_bad_times) {
    const std::string cases[] = {
        "",
        "2026-11-27",
        "2026-11-27T22:04:05",         // no zone
        "2026-11-27T22:04:05.123",     // no zone
        "2026-11-27 22:04:05Z",        // space separator
        "2026-11-27X22:04:05Z",
        "2026-02-30T00:00:00Z",        // Feb 30
        "2025-02-29T00:00:00Z",        // not a leap year
        "1900-02-29T00:00:00Z",        // century, not a leap year
        "2026-04-31T00:00:00Z",        // April has 30 days
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-11-27T24:00:00Z",        // hour 24
        "2026-11-27T23:60:00Z",
        "2026-11-27T23:59:60Z",        // leap second
        "2026-11-27T22:04:05.Z",       // empty fraction
        "2026-11-27T22:04:05,123Z",    // comma fraction
        "2026-11-27T22:04:05.12aZ",
        "2026-11-27T22:04:05.123Zx",   // trailing text
        "2026-11-27T22:04:05.123Z ",
        " 2026-11-27T22:04:05.123Z",
        "2026-11-27T22:04:05+01",      // offset without minutes
        "2026-11-27T22:04:05+0100",
        "2026-11-27T22:04:05+01:60",
        "2026-11-27T22:04:05+24:00",
        "2026-11-27T22:04:05+01:00:00",
        "2026-1-27T22:04:05Z",
        "2026-11-27T2:04:05Z",
        "+2026-11-27T22:04:05Z",
        "2026/11/27T22:04:05Z",
        "2026-11-27T22-04-05Z",
        "abcd-ef-ghTij:kl:mnZ",
        "2026-11-27T22:04:05UTC",
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("'" << c << "'") { BOOST_TEST(!parse_rfc3339(c).has_value()); }
    }
}

BOOST_AUTO_TEST_CASE(formats_times) {
    const std::pair<std::int64_t, std::string> cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {sample_ms, "2026-11-27T22:04:05.123Z"},
        {951825600000, "2000-02-29T12:00:00.000Z"},
        {1709251199999, "2024-02-29T23:59:59.999Z"},
        {946684799000, "1999-12-31T23:59:59.000Z"},
        {rfc3339_ms_limit - 1, "9999-12-31T23:59:59.999Z"},
    };
    for (const auto& [ms, text] : cases) {
        BOOST_TEST_CONTEXT(ms) {
            BOOST_TEST(format_rfc3339_ms(ms) == text);
            std::string appended = "x=";
            append_rfc3339_ms(appended, ms);
            BOOST_TEST(appended == "x=" + text);
        }
    }
}

BOOST_AUTO_TEST_CASE(round_trips) {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::int64_t> any_ms(0, rfc3339_ms_limit - 1);
    for (int i = 0; i < 2000; ++i) {
        const std::int64_t ms = any_ms(rng);
        BOOST_TEST_CONTEXT(ms) {
            const auto parsed = parse_rfc3339(format_rfc3339_ms(ms));
            BOOST_TEST_REQUIRE(parsed.has_value());
            BOOST_TEST(*parsed == ms);
        }
    }
}

BOOST_AUTO_TEST_CASE(now_is_plausible) {
    const std::int64_t now = now_unix_ms();
    BOOST_TEST(now > parse_rfc3339("2024-01-01T00:00:00Z").value());
    BOOST_TEST(now < rfc3339_ms_limit);
}

BOOST_AUTO_TEST_SUITE_END()
