// The stream session tests' stand-in for the event log (see
// fake_event_log.hpp).
#include "fake_event_log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <memory>

namespace obs::server::test {

namespace asio = boost::asio;
using domain::event_type;

domain::stored_event make_event(std::int64_t offset, std::size_t payload_bytes) {
    domain::stored_event ev;
    ev.offset = offset;
    ev.id = "e" + std::to_string(offset);
    ev.run_id = offset % 2 == 1 ? "r1" : "r2";
    ev.seq = offset;
    ev.type = offset % 3 == 0 ? event_type::thought : event_type::log;
    ev.ts_ms = 1'700'000'000'000 + offset;
    ev.received_ms = ev.ts_ms + 1;
    ev.payload_json = ev.type == event_type::thought
                          ? R"({"text":")" + std::string(payload_bytes, 't') + R"("})"
                          : R"({"level":"info","message":")" + std::string(payload_bytes, 'm') + R"("})";
    return ev;
}

std::int64_t offset_of(const std::string& frame) {
    BOOST_REQUIRE(frame.rfind("id: ", 0) == 0);
    return std::stoll(frame.substr(4, frame.find('\n') - 4));
}

void fake_log::commit(std::size_t n, std::size_t payload_bytes) {
    std::vector<domain::stored_event> batch;
    for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(make_event(static_cast<std::int64_t>(events.size()) + 1, payload_bytes));
        events.push_back(batch.back());
    }
    if (!batch.empty()) {
        hub.publish(std::make_shared<const std::vector<domain::stored_event>>(std::move(batch)));
    }
}

persistence::replay_page fake_log::page(std::int64_t after, std::int64_t up_to, const stream_filter& filter,
                                        std::size_t limit, std::size_t window) const {
    persistence::replay_page out;
    const std::int64_t end = std::min(up_to, after + static_cast<std::int64_t>(window));
    for (const auto& ev : events) {
        if (ev.offset > after && ev.offset <= end && filter.matches(ev) && out.events.size() < limit) {
            out.events.push_back(ev);
        }
    }
    out.scanned_to = out.events.size() == limit ? out.events.back().offset : std::max(after, end);
    return out;
}

replay_page_source committing_source(fake_log& log, stream_filter filter, std::size_t commits_per_page, int& pages,
                                     std::size_t window) {
    return [&log, filter, commits_per_page, &pages, window](
               std::int64_t after, std::int64_t up_to, std::size_t limit) -> asio::awaitable<persistence::replay_page> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        ++pages;
        auto page = log.page(after, up_to, filter, limit, window);
        log.commit(commits_per_page);  // after the read: the live queue must carry them
        co_return page;
    };
}

}  // namespace obs::server::test
