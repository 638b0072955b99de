// Unit tests of server/auth.cpp: scopes, 401 vs 403, the query token, and
// constant-time comparison's results.
#include "server/auth.hpp"

#include <boost/test/unit_test.hpp>

using namespace obs::server;

BOOST_AUTO_TEST_SUITE(auth)

BOOST_AUTO_TEST_CASE(open_when_no_keys) {
    authorizer open_auth({});
    BOOST_TEST(open_auth.open());
    BOOST_TEST(!open_auth.check("", "", scope::admin).has_value());
}

BOOST_AUTO_TEST_CASE(scopes_table) {
    authorizer a({{scope::ingest, "ingest-key-000000"}, {scope::read, "read-key-00000000"}, {scope::admin, "admin-key-0000000"}});
    struct row {
        std::string header, token;
        scope needed;
        std::optional<error_code> expected;
    };
    const std::vector<row> table{
        {"", "", scope::read, error_code::unauthorized},
        {"Bearer nope", "", scope::read, error_code::unauthorized},
        {"Bearer ", "", scope::read, error_code::unauthorized},
        {"bearer read-key-00000000", "", scope::read, std::nullopt},  // RFC 9110: the scheme is case-insensitive
        {"BEARER read-key-00000000", "", scope::read, std::nullopt},
        {"bEaReR ingest-key-000000", "", scope::read, error_code::forbidden},
        {"Bearer  read-key-00000000", "", scope::read, error_code::unauthorized},  // the key is what follows one space
        {"Bearerread-key-00000000", "", scope::read, error_code::unauthorized},
        {"Basic read-key-00000000", "", scope::read, error_code::unauthorized},
        {"Bearer read-key-0000000", "", scope::read, error_code::unauthorized},   // a prefix
        {"Bearer read-key-000000000", "", scope::read, error_code::unauthorized}, // longer
        {"Bearer read-key-00000000", "", scope::read, std::nullopt},
        {"Bearer read-key-00000000", "", scope::ingest, error_code::forbidden},
        {"Bearer read-key-00000000", "", scope::admin, error_code::forbidden},
        {"Bearer ingest-key-000000", "", scope::ingest, std::nullopt},
        {"Bearer ingest-key-000000", "", scope::read, error_code::forbidden},
        {"Bearer admin-key-0000000", "", scope::ingest, std::nullopt},
        {"Bearer admin-key-0000000", "", scope::read, std::nullopt},
        {"Bearer admin-key-0000000", "", scope::admin, std::nullopt},
        {"", "read-key-00000000", scope::read, std::nullopt},
        {"", "wrong", scope::read, error_code::unauthorized},
        {"Bearer wrong", "read-key-00000000", scope::read, error_code::unauthorized},  // the header wins
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT("header '" << r.header << "' token '" << r.token << "'") {
            auto result = a.check(r.header, r.token, r.needed);
            BOOST_TEST(result.has_value() == r.expected.has_value());
            if (result && r.expected) BOOST_TEST(static_cast<int>(result->code) == static_cast<int>(*r.expected));
            if (result) BOOST_TEST(result->message.find("key-0") == std::string::npos);  // never echoes keys
        }
    }
}

BOOST_AUTO_TEST_CASE(constant_time_equal_results) {
    BOOST_TEST(constant_time_equal("", ""));
    BOOST_TEST(constant_time_equal("abc", "abc"));
    BOOST_TEST(!constant_time_equal("abc", "abd"));
    BOOST_TEST(!constant_time_equal("abc", "ab"));
    BOOST_TEST(!constant_time_equal("ab", "abc"));
    BOOST_TEST(!constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

BOOST_AUTO_TEST_SUITE_END()
