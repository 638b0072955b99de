// Tests of domain/validation.cpp, the parsing half: parse_json and
// parse_ndjson on good and bad text, each error with the byte offset it
// names (and, for NDJSON, the line), and the nesting bound of 256 levels.
#include "domain/validation.hpp"

#include "validation_support.hpp"

#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <string>

namespace domain = obs::domain;
using namespace obs::domain::test;

BOOST_AUTO_TEST_SUITE(validation_parse_suite)

BOOST_AUTO_TEST_CASE(parse_json_errors_with_offsets) {
    struct parse_case {
        std::string text;
        std::size_t offset;
        std::string message;  // substring
    };
    const parse_case cases[] = {
        {"", 0, ""},
        {"   ", 3, ""},
        {R"({"a":1} x)", 8, "unexpected text"},
        {R"({"a":1}{})", 7, "unexpected text"},
        {"[1,2] [3]", 6, "unexpected text"},
        {"[1,]", 3, ""},
        {R"({"a" 1})", 5, ""},
        {R"({"a":1,})", 7, ""},
        {"{'a':1}", 1, ""},
        {"[1,2", 4, ""},
        {R"({"cost":NaN})", 8, ""},
        {"\"\xff\"", 1, ""},
        {"[\"ok\", \"\xC0\xAF\"]", 8, ""},
        {nested_arrays(257), 256, ""},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("'" << c.text.substr(0, 40) << "'") {
            const auto result = domain::parse_json(c.text);
            BOOST_TEST(!result.value.has_value());
            BOOST_TEST_REQUIRE(result.error.has_value());
            BOOST_TEST(result.error->byte_offset == c.offset);
            BOOST_TEST(!result.error->message.empty());
            BOOST_TEST(result.error->message.find(c.message) != std::string::npos, result.error->message);
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_json_good_values) {
    for (const std::string& text : {std::string(R"({"a":[1,2,{"b":null}]})"), std::string(" \n\t{} \r\n"),
                                   std::string("\"caf\xC3\xA9\""), std::string("12"), nested_arrays(256)}) {
        BOOST_TEST_CONTEXT(text.substr(0, 40)) {
            const auto result = domain::parse_json(text);
            BOOST_TEST(!result.error.has_value());
            BOOST_TEST(result.value.has_value());
        }
    }
    // Duplicate keys are an error (validation_numbers_keys_test.cpp).
    BOOST_TEST(domain::parse_json(R"({"a":1,"a":2})").error.has_value());
}

BOOST_AUTO_TEST_CASE(ndjson_lines) {
    const std::string body = "{\"a\":1}\n\n  \r\n{\"b\":2}\r\n[3]";
    const auto result = domain::parse_ndjson(body);
    BOOST_TEST_REQUIRE(!result.error.has_value());
    BOOST_TEST_REQUIRE(result.values.size() == 3u);
    BOOST_TEST(result.values[0].at("a").as_int64() == 1);
    BOOST_TEST(result.values[1].at("b").as_int64() == 2);
    BOOST_TEST(result.values[2].at(0).as_int64() == 3);

    BOOST_TEST(domain::parse_ndjson("").values.empty());
    BOOST_TEST(!domain::parse_ndjson("\n\n").error.has_value());
    BOOST_TEST(domain::parse_ndjson("{}\n").values.size() == 1u);
}

BOOST_AUTO_TEST_CASE(ndjson_errors_name_the_line) {
    struct ndjson_case {
        std::string body;
        std::size_t offset;
        std::string message;
    };
    const ndjson_case cases[] = {
        {"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":}\n", 27, "line 5: "},
        {"{\"a\":1} {\"b\":2}\n", 8, "line 1: unexpected text"},
        {"{}\n[1,\n2]\n", 6, "line 2: "},
        {"{}\r\n{\"x\":\"\xff\"}", 10, "line 2: "},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.body) {
            const auto result = domain::parse_ndjson(c.body);
            BOOST_TEST_REQUIRE(result.error.has_value());
            BOOST_TEST(result.values.empty());
            BOOST_TEST(result.error->byte_offset == c.offset);
            BOOST_TEST(result.error->message.find(c.message) == 0u, result.error->message);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
