// Tests of tests/bench/sse_scanner, the benchmark's SSE reader: the counts
// it reports are only as honest as its parsing, so every case is fed whole
// and split at every byte (lines broken between reads, long data lines
// past the 32-byte carry). This file also defines the test module.
#define BOOST_TEST_MODULE bench_tools
#include <boost/test/unit_test.hpp>

#include "tests/bench/sse_scanner.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obs::bench {
namespace {

const std::string head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
    "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";

// An event frame as the server writes it: unnamed, the type in the data.
std::string frame(std::int64_t id, const std::string& type) {
    return "id: " + std::to_string(id) + "\ndata: {\"offset\":" + std::to_string(id) + ",\"type\":\"" + type +
           "\",\"id\":\"0193-long-enough-to-pass-the-carry\",\"payload\":{\"text\":\"id: 99\\nevent: x\"}}\n\n";
}

struct outcome {
    std::vector<std::int64_t> events;
    std::vector<std::string> data;  // "offset:data", when captured
    sse_scanner::state state = sse_scanner::state::status_line;
    bool overflowed = false;
    std::uint64_t bad_ids = 0;
};

// Feeds `text` in two pieces split at `split` (text.size(): one piece),
// capturing data lines when `with_data`.
outcome scan(const std::string& text, std::size_t split, bool with_data) {
    sse_scanner scanner;
    outcome out;
    sse_handlers handlers;
    handlers.on_event = [&](std::int64_t offset) { out.events.push_back(offset); };
    if (with_data) {
        handlers.on_data = [&](std::int64_t offset, std::string_view data) {
            out.data.push_back(std::to_string(offset) + ":" + std::string(data));
        };
    }
    scanner.feed(text.data(), split, handlers);
    scanner.feed(text.data() + split, text.size() - split, handlers);
    out.state = scanner.current();
    out.overflowed = scanner.overflowed();
    out.bad_ids = scanner.bad_ids();
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sse_scanner_suite)

BOOST_AUTO_TEST_CASE(counts_event_frames_whatever_the_read_boundaries) {
    struct row {
        const char* name;
        std::string text;
        std::vector<std::int64_t> events;
        sse_scanner::state state;
        bool overflowed;
        std::uint64_t bad_ids;
    };
    const std::vector<row> rows = {
        {"events after the head and retry", head + "retry: 3000\n\n" + frame(5, "thought") + frame(6, "log"),
         {5, 6}, sse_scanner::state::body, false, 0},
        {"pings are not events", head + ": ping\n\n" + frame(7, "thought") + ": ping\n\n", {7},
         sse_scanner::state::body, false, 0},
        {"overflow is not an event",
         head + frame(8, "thought") + "id: 8\nevent: overflow\ndata: {\"last_offset\":8}\n\n", {8},
         sse_scanner::state::body, true, 0},
        {"an id without data is dropped at the frame end",
         head + "id: 9\n\n" + "data: {}\n\n" + frame(10, "thought"), {10}, sse_scanner::state::body, false, 0},
        {"a named frame is a control frame, not an event",
         head + "id: 12\nevent: rewound\ndata: {\"last_offset\":12}\n\n" + frame(13, "error"), {13},
         sse_scanner::state::body, false, 0},
        {"a bad id is counted", head + "id: x1\ndata: {}\n\n" + frame(11, "thought"), {11},
         sse_scanner::state::body, false, 1},
        {"an over-long id is counted", head + "id: 123456789012345678901234567890\ndata: {}\n\n", {},
         sse_scanner::state::body, false, 1},
        {"a refusal", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}" + frame(1, "thought"), {},
         sse_scanner::state::failed, false, 0},
        {"a head not yet complete", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n", {},
         sse_scanner::state::headers, false, 0},
    };
    for (const auto& r : rows) {
        for (std::size_t split = 0; split <= r.text.size(); ++split) {
            BOOST_TEST_CONTEXT(r.name << ", split at " << split) {
                const outcome got = scan(r.text, split, false);
                BOOST_TEST(got.data.empty());
                BOOST_TEST(got.events == r.events, boost::test_tools::per_element());
                BOOST_TEST(static_cast<int>(got.state) == static_cast<int>(r.state));
                BOOST_TEST(got.overflowed == r.overflowed);
                BOOST_TEST(got.bad_ids == r.bad_ids);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(captures_the_first_data_line_of_each_event_when_asked) {
    const std::string data5 = R"({"offset":5,"received_at":"2026-11-28T01:00:00.123Z","payload":{"text":"a"}})";
    struct row {
        const char* name;
        std::string text;
        std::vector<std::string> data;
    };
    const std::vector<row> rows = {
        {"one event", head + "id: 5\ndata: " + data5 + "\n\n", {"5:" + data5}},
        {"only the first data line", head + "id: 6\ndata: first\ndata: second\n\n", {"6:first"}},
        {"not the retry, ping or overflow frames",
         head + "retry: 3000\n\n: ping\n\nid: 7\nevent: overflow\ndata: {\"last_offset\":7}\n\n", {}},
        {"not a data line without its id", head + "data: x\n\nid: 9\ndata: y\n\n", {"9:y"}},
    };
    for (const auto& r : rows) {
        for (std::size_t split = 0; split <= r.text.size(); ++split) {
            BOOST_TEST_CONTEXT(r.name << ", split at " << split) {
                const outcome got = scan(r.text, split, true);
                BOOST_TEST(got.data == r.data, boost::test_tools::per_element());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(byte_by_byte_feeding_matches_one_read) {
    std::string text = head;
    for (std::int64_t id = 1; id <= 50; ++id) {
        text += frame(id, "thought");
    }
    sse_scanner scanner;
    std::vector<std::int64_t> events;
    sse_handlers handlers;
    handlers.on_event = [&](std::int64_t offset) { events.push_back(offset); };
    for (char ch : text) {
        scanner.feed(&ch, 1, handlers);
    }
    std::vector<std::int64_t> expected;
    for (std::int64_t id = 1; id <= 50; ++id) {
        expected.push_back(id);
    }
    BOOST_TEST(events == expected, boost::test_tools::per_element());
    BOOST_TEST(scanner.streaming());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace obs::bench
