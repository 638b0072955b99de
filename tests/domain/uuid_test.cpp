// Tests of domain/uuid.cpp: the canonical UUIDv7 form, the version and
// variant bits, the 48-bit time prefix, ordering within one thread (also
// past the 12-bit counter), and uniqueness across threads.
#include "domain/uuid.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using obs::domain::make_uuid_v7;

BOOST_AUTO_TEST_SUITE(uuid_suite)

namespace {

const std::regex uuid_v7_form("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");

// The 48-bit time field as 12 hex digits (the first 8-4 groups).
std::string time_prefix(const std::string& uuid) { return uuid.substr(0, 8) + uuid.substr(9, 4); }

std::string hex12(std::int64_t ms) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%012llx", static_cast<unsigned long long>(ms));
    return buffer;
}

}  // namespace

BOOST_AUTO_TEST_CASE(form_version_variant_and_time) {
    // Increasing and far apart, so no value continues the previous one.
    const std::int64_t times[] = {1, 0x0123456789ab, 1795817045123, 1795817145123, (std::int64_t{1} << 48) - 1};
    for (const std::int64_t ms : times) {
        BOOST_TEST_CONTEXT(ms) {
            const std::string id = make_uuid_v7(ms);
            BOOST_TEST(id.size() == 36u);
            BOOST_TEST(std::regex_match(id, uuid_v7_form), id);
            BOOST_TEST(time_prefix(id) == hex12(ms));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_large_step_back_starts_a_new_time_base) {
    make_uuid_v7(1795817045123);
    const std::string id = make_uuid_v7(1000);
    BOOST_TEST(time_prefix(id) == hex12(1000));
}

BOOST_AUTO_TEST_CASE(increasing_within_one_millisecond) {
    // 10000 ids in one millisecond exhaust the 12-bit counter at least twice;
    // the order must hold across the borrowed milliseconds too.
    const std::int64_t ms = 1795817245123;
    std::string previous = make_uuid_v7(ms);
    BOOST_TEST(time_prefix(previous) == hex12(ms));
    for (int i = 0; i < 10000; ++i) {
        const std::string id = make_uuid_v7(ms);
        BOOST_TEST_CONTEXT("id " << i) {
            BOOST_TEST_REQUIRE(std::regex_match(id, uuid_v7_form));
            BOOST_TEST_REQUIRE(id > previous, id << " after " << previous);
        }
        previous = id;
    }
    // The counter borrows at most a few milliseconds, never many.
    BOOST_TEST(time_prefix(previous) <= hex12(ms + 10));
}

BOOST_AUTO_TEST_CASE(increasing_across_milliseconds_and_small_clock_steps_back) {
    std::string previous = make_uuid_v7(1795817345123);
    const std::int64_t steps[] = {1795817345124, 1795817345124, 1795817345200, 1795817345150, 1795817345201};
    for (const std::int64_t ms : steps) {
        const std::string id = make_uuid_v7(ms);
        BOOST_TEST_CONTEXT(ms) { BOOST_TEST(id > previous, id << " after " << previous); }
        previous = id;
    }
}

BOOST_AUTO_TEST_CASE(random_part_differs) {
    const std::string a = make_uuid_v7(1795817445123);
    const std::string b = make_uuid_v7(1795817445123);
    BOOST_TEST(a.substr(19) != b.substr(19));
}

BOOST_AUTO_TEST_CASE(unique_across_threads) {
    constexpr int per_thread = 5000;
    std::vector<std::string> ids_a, ids_b;
    auto make = [](std::vector<std::string>& out) {
        for (int i = 0; i < per_thread; ++i) out.push_back(make_uuid_v7(1795817545123));
    };
    std::thread a(make, std::ref(ids_a));
    std::thread b(make, std::ref(ids_b));
    a.join();
    b.join();
    std::set<std::string> all(ids_a.begin(), ids_a.end());
    all.insert(ids_b.begin(), ids_b.end());
    BOOST_TEST(all.size() == 2u * per_thread);
}

BOOST_AUTO_TEST_SUITE_END()
