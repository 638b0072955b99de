// Unit tests of server/api_error.cpp: each code's status and wire name, and
// the error body's shape.
#include "server/api_error.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace obs::server;

BOOST_AUTO_TEST_SUITE(api_errors)

BOOST_AUTO_TEST_CASE(status_and_names) {
    struct row {
        error_code code;
        unsigned status;
        std::string name;
    };
    const std::vector<row> table{
        {error_code::bad_json, 400, "bad_json"},
        {error_code::bad_request, 400, "bad_request"},
        {error_code::unauthorized, 401, "unauthorized"},
        {error_code::forbidden, 403, "forbidden"},
        {error_code::not_found, 404, "not_found"},
        {error_code::method_not_allowed, 405, "method_not_allowed"},
        {error_code::conflict, 409, "conflict"},
        {error_code::too_large, 413, "too_large"},
        {error_code::range_not_satisfiable, 416, "range_not_satisfiable"},
        {error_code::unsupported_media_type, 415, "unsupported_media_type"},
        {error_code::validation_failed, 422, "validation_failed"},
        {error_code::overloaded, 503, "overloaded"},
        {error_code::bad_gateway, 502, "bad_gateway"},
        {error_code::unavailable, 503, "unavailable"},
        {error_code::internal, 500, "internal"},
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT(r.name) {
            BOOST_TEST(http_status(r.code) == r.status);
            BOOST_TEST(std::string(wire_name(r.code)) == r.name);
        }
    }
}

BOOST_AUTO_TEST_CASE(body_shape) {
    api_error e = make_error(error_code::validation_failed, "2 events are \"invalid\"");
    e.details.push_back(boost::json::object{{"index", 3}, {"path", "payload.tool"}, {"message", "required"}});
    auto v = boost::json::parse(error_body(e));
    BOOST_TEST(v.at("error").at("code").as_string() == "validation_failed");
    BOOST_TEST(v.at("error").at("message").as_string() == "2 events are \"invalid\"");
    BOOST_TEST(v.at("error").at("details").as_array()[0].at("index").as_int64() == 3);
    auto plain = boost::json::parse(error_body(make_error(error_code::not_found, "x")));
    BOOST_TEST(!plain.at("error").as_object().contains("details"));
}

BOOST_AUTO_TEST_SUITE_END()
