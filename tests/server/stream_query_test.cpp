// Tests of server/stream_query: the stream's query and Last-Event-ID header,
// good and bad inputs (table-driven), the number parser, and the filter.
#include <boost/test/unit_test.hpp>

#include "server/stream/stream_query.hpp"

#include <optional>
#include <string>
#include <vector>

namespace obs::server {
namespace {

using domain::event_type;
using opt_header = std::optional<std::string_view>;

}  // namespace

BOOST_AUTO_TEST_SUITE(stream_query_parsing)

BOOST_AUTO_TEST_CASE(accepts_good_requests) {
    struct row {
        const char* target;
        opt_header header;
        std::vector<std::string> run_ids;
        std::vector<event_type> types;
        std::optional<std::int64_t> last_event_id;
        std::optional<std::string> access_token;
    };
    const row rows[] = {
        {"/observability/stream", std::nullopt, {}, {}, std::nullopt, std::nullopt},
        {"/observability/stream?", std::nullopt, {}, {}, std::nullopt, std::nullopt},
        {"/observability/stream?run_id=r1&run_id=r2", std::nullopt, {"r1", "r2"}, {}, std::nullopt, std::nullopt},
        {"/observability/stream?run_id=r%3A1", std::nullopt, {"r:1"}, {}, std::nullopt, std::nullopt},
        {"/observability/stream?type=log&type=tool_call", std::nullopt, {}, {event_type::log, event_type::tool_call},
         std::nullopt, std::nullopt},
        {"/observability/stream?type=artifact", std::nullopt, {}, {event_type::artifact}, std::nullopt, std::nullopt},
        {"/observability/stream?last_event_id=42", std::nullopt, {}, {}, 42, std::nullopt},
        {"/observability/stream?last_event_id=0", std::nullopt, {}, {}, 0, std::nullopt},
        {"/observability/stream?last_event_id=007", std::nullopt, {}, {}, 7, std::nullopt},
        {"/observability/stream?last_event_id=9223372036854775807", std::nullopt, {}, {}, INT64_MAX, std::nullopt},
        {"/observability/stream", "42", {}, {}, 42, std::nullopt},
        {"/observability/stream", " 17\t", {}, {}, 17, std::nullopt},
        {"/observability/stream", "", {}, {}, std::nullopt, std::nullopt},
        {"/observability/stream?last_event_id=5", "9", {}, {}, 9, std::nullopt},  // the header wins
        {"/observability/stream?last_event_id=5", "", {}, {}, 5, std::nullopt},   // empty header: absent
        {"/observability/stream?access_token=abc%2Bdef", std::nullopt, {}, {}, std::nullopt, "abc+def"},
        {"/observability/stream?access_token=a+b", std::nullopt, {}, {}, std::nullopt, "a+b"},
        {"/observability/stream?access_token=", std::nullopt, {}, {}, std::nullopt, ""},
        {"/observability/stream?foo=bar&run_id=x&cache=1", std::nullopt, {"x"}, {}, std::nullopt, std::nullopt},
        {"/observability/stream?run_id=a&type=error&last_event_id=3&access_token=k", std::nullopt, {"a"},
         {event_type::error}, 3, "k"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.target << " header=" << (r.header ? std::string(*r.header) : "(none)")) {
            const auto q = parse_stream_query(r.target, r.header);
            BOOST_REQUIRE(q.has_value());
            BOOST_TEST(q->run_ids == r.run_ids, boost::test_tools::per_element());
            BOOST_TEST(q->types.size() == r.types.size());
            for (std::size_t i = 0; i < r.types.size() && i < q->types.size(); ++i) {
                BOOST_TEST((q->types[i] == r.types[i]));
            }
            BOOST_TEST((q->last_event_id == r.last_event_id));
            BOOST_TEST((q->access_token == r.access_token));
        }
    }
}

BOOST_AUTO_TEST_CASE(rejects_bad_requests_with_400) {
    std::string many_runs = "/observability/stream?run_id=r";
    for (std::size_t i = 1; i <= max_stream_run_ids; ++i) {
        many_runs += "&run_id=r";
    }
    struct row {
        std::string target;
        opt_header header;
    };
    const row rows[] = {
        {"/observability/stream?last_event_id=abc", std::nullopt},
        {"/observability/stream?last_event_id=-1", std::nullopt},
        {"/observability/stream?last_event_id=+1", std::nullopt},
        {"/observability/stream?last_event_id=1.5", std::nullopt},
        {"/observability/stream?last_event_id=", std::nullopt},
        {"/observability/stream?last_event_id", std::nullopt},
        {"/observability/stream?last_event_id=%201", std::nullopt},
        {"/observability/stream?last_event_id=9223372036854775808", std::nullopt},
        {"/observability/stream?last_event_id=1&last_event_id=2", std::nullopt},
        {"/observability/stream", "abc"},
        {"/observability/stream", "-3"},
        {"/observability/stream", "1 2"},
        {"/observability/stream?last_event_id=x", "5"},  // a bad query value is bad even with a header
        {"/observability/stream?last_event_id=5", "x"},
        {"/observability/stream?type=nope", std::nullopt},
        {"/observability/stream?type=", std::nullopt},
        {"/observability/stream?type=LOG", std::nullopt},
        {"/observability/stream?run_id=", std::nullopt},
        {"/observability/stream?run_id=bad%20id", std::nullopt},
        {"/observability/stream?run_id=a/b", std::nullopt},
        {"/observability/stream?access_token=a&access_token=b", std::nullopt},
        {"/observability/stream?run_id=%zz", std::nullopt},
        {"observability/stream", std::nullopt},  // not origin-form
        {many_runs, std::nullopt},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.target << " header=" << (r.header ? std::string(*r.header) : "(none)")) {
            const auto q = parse_stream_query(r.target, r.header);
            BOOST_REQUIRE(q.has_error());
            BOOST_TEST((q.error().code == error_code::bad_request));
            BOOST_TEST(!q.error().message.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(the_maximum_number_of_run_ids_is_accepted) {
    std::string target = "/observability/stream?run_id=r0";
    for (std::size_t i = 1; i < max_stream_run_ids; ++i) {
        target += "&run_id=r" + std::to_string(i);
    }
    const auto q = parse_stream_query(target, std::nullopt);
    BOOST_REQUIRE(q.has_value());
    BOOST_TEST(q->run_ids.size() == max_stream_run_ids);
}

BOOST_AUTO_TEST_CASE(parse_offset_takes_plain_non_negative_decimals) {
    struct row {
        const char* text;
        std::optional<std::int64_t> expected;
    };
    const row rows[] = {
        {"0", 0}, {"1", 1}, {"0042", 42}, {"9223372036854775807", INT64_MAX},
        {"", std::nullopt}, {"-0", std::nullopt}, {"+0", std::nullopt}, {" 1", std::nullopt},
        {"1 ", std::nullopt}, {"0x10", std::nullopt}, {"1e3", std::nullopt},
        {"9223372036854775808", std::nullopt}, {"99999999999999999999", std::nullopt},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT("'" << r.text << "'") {
            BOOST_TEST((parse_offset(r.text) == r.expected));
        }
    }
}

BOOST_AUTO_TEST_CASE(filter_matches_by_run_and_type) {
    const auto make = [](std::string run, event_type type) {
        domain::stored_event ev;
        ev.run_id = std::move(run);
        ev.type = type;
        return ev;
    };
    struct row {
        const char* name;
        stream_filter filter;
        std::string run;
        event_type type;
        bool expected;
    };
    const row rows[] = {
        {"no filter", stream_filter(), "r1", event_type::log, true},
        {"run match", stream_filter({"r1", "r2"}, {}), "r2", event_type::log, true},
        {"run miss", stream_filter({"r1", "r2"}, {}), "r3", event_type::log, false},
        {"type match", stream_filter({}, {event_type::error, event_type::log}), "r9", event_type::log, true},
        {"type miss", stream_filter({}, {event_type::error}), "r9", event_type::log, false},
        {"both match", stream_filter({"r1"}, {event_type::thought}), "r1", event_type::thought, true},
        {"run ok type miss", stream_filter({"r1"}, {event_type::thought}), "r1", event_type::log, false},
        {"type ok run miss", stream_filter({"r1"}, {event_type::thought}), "r2", event_type::thought, false},
        {"last type", stream_filter({}, {event_type::artifact}), "r", event_type::artifact, true},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name) {
            BOOST_TEST(r.filter.matches(make(r.run, r.type)) == r.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(filter_of_query_feeds_the_replay_query) {
    const auto q = parse_stream_query("/observability/stream?run_id=a&run_id=b&type=log", std::nullopt);
    BOOST_REQUIRE(q.has_value());
    const auto f = filter_of(*q).to_offset_filter();
    BOOST_TEST(f.run_ids == (std::vector<std::string>{"a", "b"}), boost::test_tools::per_element());
    BOOST_REQUIRE(f.types.size() == 1U);
    BOOST_TEST((f.types[0] == event_type::log));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace obs::server
