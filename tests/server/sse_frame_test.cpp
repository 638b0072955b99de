// Tests of server/sse_frame: the SSE field layout, the split of multi-line
// data, and the shared frames (event, retry, ping, overflow).
// This file also defines the test module (main) of unit_stream.
#define BOOST_TEST_MODULE unit_stream
#include <boost/test/unit_test.hpp>

#include "server/stream/sse_frame.hpp"

#include <optional>
#include <string>

namespace obs::server {
namespace {

domain::stored_event sample_event() {
    domain::stored_event ev;
    ev.offset = 1042;
    ev.id = "e-1";
    ev.run_id = "r-17";
    ev.seq = 12;
    ev.type = domain::event_type::tool_call;
    ev.ts_ms = 1'764'000'000'123;
    ev.received_ms = 1'764'000'000'130;
    ev.node = "worker-2";
    ev.payload_json = R"({"tool":"search","call_id":"c1","arguments":{"q":"gear\nratio"}})";
    return ev;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sse_frame)

BOOST_AUTO_TEST_CASE(format_frame_lays_out_fields_and_splits_data_lines) {
    struct row {
        const char* name;
        std::optional<std::int64_t> id;
        std::string event;
        std::string data;
        std::string expected;
    };
    const row rows[] = {
        {"all fields", 7, "log", "{}", "id: 7\nevent: log\ndata: {}\n\n"},
        {"no id", std::nullopt, "log", "x", "event: log\ndata: x\n\n"},
        {"no event", 3, "", "x", "id: 3\ndata: x\n\n"},
        {"empty data", std::nullopt, "", "", "data: \n\n"},
        {"LF", std::nullopt, "", "a\nb", "data: a\ndata: b\n\n"},
        {"CRLF is one break", std::nullopt, "", "a\r\nb", "data: a\ndata: b\n\n"},
        {"CR", std::nullopt, "", "a\rb", "data: a\ndata: b\n\n"},
        {"CR CR", std::nullopt, "", "a\r\rb", "data: a\ndata: \ndata: b\n\n"},
        {"trailing LF", std::nullopt, "", "a\n", "data: a\ndata: \n\n"},
        {"three lines", 0, "e", "1\n2\n3", "id: 0\nevent: e\ndata: 1\ndata: 2\ndata: 3\n\n"},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name) {
            BOOST_TEST(format_frame(r.id, r.event, r.data) == r.expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(event_frame_carries_offset_and_one_line_of_json) {
    const auto ev = sample_event();
    const auto frame = encode_event_frame(ev);
    BOOST_REQUIRE(frame);
    const std::string json = domain::encode_stored_event(ev);
    BOOST_TEST(json.find('\n') == std::string::npos);  // the escaped "\n" stays escaped
    BOOST_TEST(*frame == "id: 1042\ndata: " + json + "\n\n");
}

// Unnamed, so EventSource's onmessage gets every type; an `error` step named
// `event: error` would fire EventSource's own onerror instead.
BOOST_AUTO_TEST_CASE(no_event_frame_is_named_its_type_is_in_the_data) {
    for (int t = 0; t < domain::event_type_count; ++t) {
        auto ev = sample_event();
        ev.type = static_cast<domain::event_type>(t);
        const std::string name(domain::to_string(ev.type));
        BOOST_TEST_CONTEXT(name) {
            const auto frame = encode_event_frame(ev);
            BOOST_TEST(frame->find("event:") == std::string::npos);
            BOOST_TEST(frame->find("\"type\":\"" + name + "\"") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(retry_ping_and_overflow_frames) {
    BOOST_TEST(*retry_frame(std::chrono::milliseconds(3000)) == "retry: 3000\n\n");
    BOOST_TEST(*retry_frame(std::chrono::milliseconds(-5)) == "retry: 0\n\n");
    BOOST_TEST(*ping_frame() == ": ping\n\n");
    BOOST_TEST(ping_frame().get() == ping_frame().get());  // one shared string
    BOOST_TEST(*overflow_frame(42) == "id: 42\nevent: overflow\ndata: {\"last_offset\":42}\n\n");
    BOOST_TEST(*overflow_frame(0) == "id: 0\nevent: overflow\ndata: {\"last_offset\":0}\n\n");
    BOOST_TEST(*rewound_frame(7) == "id: 7\nevent: rewound\ndata: {\"last_offset\":7}\n\n");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace obs::server
