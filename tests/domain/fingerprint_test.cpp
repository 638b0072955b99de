// Tests of domain/fingerprint.cpp: the canonical form is pinned byte for
// byte (keys sorted bytewise at every level, compact, strings escaped as
// append_json_string does, numbers as Boost.JSON writes them), since stored
// fingerprints must keep matching re-sent events across versions; and the
// run id is added only when the event has none. The fingerprint's effect on
// decoded events is tested in validation_test.cpp.
#include "domain/fingerprint.hpp"

#include "domain/sha256.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace domain = obs::domain;
namespace json = boost::json;

BOOST_AUTO_TEST_SUITE(fingerprint_suite)

struct canonical_case {
    std::string event;      // the event object as sent
    std::string run_id;     // the effective run id
    std::string canonical;  // the text whose hash is the fingerprint
};

BOOST_AUTO_TEST_CASE(hash_of_the_canonical_text) {
    const canonical_case cases[] = {
        {R"({"b":1,"a":2})", "r", R"({"a":2,"b":1,"run_id":"r"})"},
        // Bytewise: upper case sorts before lower case; run_id takes its place.
        {R"({"s":0,"b":1,"B":2,"a":3})", "r", R"({"B":2,"a":3,"b":1,"run_id":"r","s":0})"},
        // A sent run_id is kept as sent; the argument is not added twice.
        {R"({"run_id":"x","type":"log"})", "x", R"({"run_id":"x","type":"log"})"},
        // Nested objects are sorted too; array order is kept.
        {R"({ "p" : { "z" : [ {"d":"x","c":null}, 2, 1 ], "y" : true } })", "r",
         R"({"p":{"y":true,"z":[{"c":null,"d":"x"},2,1]},"run_id":"r"})"},
        // Escapes: only what RFC 8259 requires, whatever the client wrote.
        {R"({"s":"a\"b\\c\n\u0001\u00e9\/"})", "r", "{\"run_id\":\"r\",\"s\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9/\"}"},
        // Numbers: integers as written, doubles in Boost.JSON's form.
        {R"({"i":-3,"u":18446744073709551615,"d":1.5,"e":1e2})", "r",
         R"({"d":1.5E0,"e":1E2,"i":-3,"run_id":"r","u":18446744073709551615})"},
        {R"({})", "r", R"({"run_id":"r"})"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.event) {
            const json::object event = json::parse(c.event).as_object();
            BOOST_TEST(domain::detail::fingerprint_of(event, c.run_id) == domain::sha256_hex(c.canonical));
        }
    }
}

BOOST_AUTO_TEST_CASE(run_id_argument_counts_only_when_absent) {
    const json::object without = json::parse(R"({"type":"log"})").as_object();
    const json::object with = json::parse(R"({"type":"log","run_id":"r1"})").as_object();
    BOOST_TEST(domain::detail::fingerprint_of(without, "r1") == domain::detail::fingerprint_of(with, "r1"));
    BOOST_TEST(domain::detail::fingerprint_of(without, "r1") != domain::detail::fingerprint_of(without, "r2"));
    BOOST_TEST(domain::detail::fingerprint_of(with, "r1") == domain::detail::fingerprint_of(with, "other"));
}

BOOST_AUTO_TEST_SUITE_END()
