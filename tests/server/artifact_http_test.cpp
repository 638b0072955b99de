// Tests of server/artifact_http.cpp, the artifact routes' header decisions
// as pure functions of header values: which bytes a `Range` asks for (one
// range served, several or malformed ones answered whole, ranges past the
// end unsatisfiable) and whether `If-None-Match` matches a content's ETag.
#include "server/artifacts/artifact_http.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

using namespace obs::server;

BOOST_AUTO_TEST_SUITE(artifact_http_suite)

BOOST_AUTO_TEST_CASE(range_header_decisions) {
    using kind = range_decision::kind;
    struct range_case {
        std::string header;
        std::uint64_t size;
        kind what;
        std::uint64_t first, last;
    };
    const range_case cases[] = {
        {"bytes=0-9", 100, kind::partial, 0, 9},
        {"bytes=10-", 100, kind::partial, 10, 99},
        {"bytes=-5", 100, kind::partial, 95, 99},
        {"bytes=-500", 100, kind::partial, 0, 99},
        {"bytes=90-1000", 100, kind::partial, 90, 99},
        {"bytes=99-99", 100, kind::partial, 99, 99},
        {"Bytes=1-2", 100, kind::partial, 1, 2},
        {"bytes = 1-2", 100, kind::whole, 0, 0},
        {"bytes=0-99999999999999999999999", 100, kind::partial, 0, 99},
        {"bytes=100-", 100, kind::unsatisfiable, 0, 0},
        {"bytes=100-200", 100, kind::unsatisfiable, 0, 0},
        {"bytes=-0", 100, kind::unsatisfiable, 0, 0},
        {"bytes=0-", 0, kind::unsatisfiable, 0, 0},
        {"bytes=-1", 0, kind::unsatisfiable, 0, 0},
        {"bytes=0-1,5-6", 100, kind::whole, 0, 0},
        {"bytes=5-1", 100, kind::whole, 0, 0},
        {"bytes=a-b", 100, kind::whole, 0, 0},
        {"bytes=-", 100, kind::whole, 0, 0},
        {"bytes=1", 100, kind::whole, 0, 0},
        {"items=0-1", 100, kind::whole, 0, 0},
        {"", 100, kind::whole, 0, 0},
        {"bytes=+1-2", 100, kind::whole, 0, 0},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("'" << c.header << "' of " << c.size) {
            const auto d = decide_range(c.header, c.size);
            BOOST_TEST((d.what == c.what));
            if (c.what == kind::partial) {
                BOOST_TEST(d.first == c.first);
                BOOST_TEST(d.last == c.last);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(if_none_match_matching) {
    const std::string sha(64, 'a');
    const std::string other(64, 'b');
    struct etag_case {
        std::string header;
        bool hits;
    };
    for (const etag_case& c : {etag_case{"\"" + sha + "\"", true}, etag_case{"W/\"" + sha + "\"", true},
                               etag_case{"*", true}, etag_case{"\"" + other + "\", \"" + sha + "\"", true},
                               etag_case{"\"" + other + "\"", false}, etag_case{sha, false},
                               etag_case{"", false}, etag_case{"\"" + sha.substr(1) + "\"", false}}) {
        BOOST_TEST_CONTEXT(c.header) { BOOST_TEST(if_none_match_hits(c.header, sha) == c.hits); }
    }
}

BOOST_AUTO_TEST_SUITE_END()
