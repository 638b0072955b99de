// Tests of server/stream_session.cpp's replay hand-over (replay_until_live)
// as a socket-free unit: a fake page source that commits events between
// pages must give no gap, no duplicate and the log's order, whatever the
// page size, scan window and filter; and the replay ends as it should on a
// live-queue overflow, a closed subscription, a failed write, a failed read
// and a source that makes no progress. The session over real TCP is in
// stream_session_test.cpp.
#include <boost/test/unit_test.hpp>

#include "fake_event_log.hpp"
#include "server/stream/stream_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <vector>

namespace obs::server {
namespace {

namespace asio = boost::asio;
using domain::event_type;
using namespace std::chrono_literals;
using namespace test;

}  // namespace

BOOST_AUTO_TEST_SUITE(stream_session_replay)

BOOST_AUTO_TEST_CASE(replay_hands_over_to_live_without_gap_or_duplicate) {
    struct row {
        const char* name;
        std::size_t initial;            // events committed before the stream (H)
        std::size_t before_replay;      // committed after subscribing, before replay starts
        std::int64_t last_event_id;     // N
        std::size_t page_size;
        std::size_t commits_per_page;   // committed while each page is read
        std::size_t window;             // rows a page looks at
        stream_filter filter;
    };
    const row rows[] = {
        {"from 0, small pages", 10, 0, 0, 3, 2, 1000, stream_filter()},
        {"one per page, by run", 10, 1, 4, 1, 1, 1000, stream_filter({"r1"}, {})},
        {"by type, big log", 50, 2, 3, 7, 5, 1000, stream_filter({}, {event_type::thought})},
        {"sparse filter, small scan window", 50, 2, 3, 7, 5, 4, stream_filter({}, {event_type::thought})},
        {"window of one row", 12, 1, 0, 100, 1, 1, stream_filter({"r2"}, {})},
        {"caught up already", 10, 3, 10, 5, 3, 1000, stream_filter()},
        {"client ahead of the hub", 10, 10, 15, 5, 0, 1000, stream_filter()},
        {"empty log", 0, 3, 0, 2, 1, 1000, stream_filter()},
        {"page size equals the rest", 6, 0, 0, 6, 4, 1000, stream_filter()},
        {"nothing matches", 20, 0, 0, 5, 2, 6, stream_filter({"r9"}, {})},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name) {
            asio::io_context io;
            stream_hub hub(io.get_executor(), 0);
            fake_log log{hub, {}};
            int pages = 0;
            std::vector<std::int64_t> written;
            std::size_t biggest_write = 0;
            std::optional<replay_end> end;
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    log.commit(r.initial);
                    auto sub = hub.subscribe(r.filter);
                    BOOST_REQUIRE(sub.has_value());
                    BOOST_TEST((*sub)->start_offset() == static_cast<std::int64_t>(r.initial));
                    log.commit(r.before_replay);
                    frame_sink sink = [&](const std::vector<shared_frame>& frames) -> asio::awaitable<bool> {
                        biggest_write = std::max(biggest_write, frames.size());
                        for (const auto& f : frames) {
                            written.push_back(offset_of(*f));
                        }
                        co_return true;
                    };
                    end = co_await replay_until_live(*sub, r.last_event_id,
                                                     committing_source(log, r.filter, r.commits_per_page, pages, r.window),
                                                     sink, r.page_size);
                    log.commit(2);  // live after the hand-over
                    std::vector<shared_frame> live;
                    (*sub)->take_all(live);
                    for (const auto& f : live) {
                        written.push_back(offset_of(*f));
                    }
                },
                asio::detached);
            io.run_for(10s);
            BOOST_REQUIRE(end.has_value());
            BOOST_TEST((*end == replay_end::caught_up));
            std::vector<std::int64_t> expected;
            for (const auto& ev : log.events) {
                if (ev.offset > r.last_event_id && r.filter.matches(ev)) {
                    expected.push_back(ev.offset);
                }
            }
            BOOST_TEST(written == expected, boost::test_tools::per_element());
            BOOST_TEST(biggest_write <= r.page_size);
            if (r.last_event_id >= static_cast<std::int64_t>(r.initial)) {
                BOOST_TEST(pages == 0);  // nothing to read
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(replay_stops_on_overflow_close_write_failure_and_bad_source) {
    enum class twist { overflow, close, sink_fails, source_throws, no_progress };
    struct row {
        const char* name;
        twist what;
        std::optional<replay_end> expected;  // nullopt: the source's exception
        std::int64_t position;                // sub->position() afterwards
    };
    const row rows[] = {
        {"live queue overflows during replay", twist::overflow, replay_end::overflowed, 4},
        {"client leaves during a page read", twist::close, replay_end::closed, 0},
        {"write fails", twist::sink_fails, replay_end::sink_failed, 0},
        {"read fails", twist::source_throws, std::nullopt, 0},
        {"a source that makes no progress", twist::no_progress, std::nullopt, 0},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name) {
            asio::io_context io;
            stream_hub hub(io.get_executor(), 0);
            fake_log log{hub, {}};
            subscription sub;
            std::optional<replay_end> end;
            std::exception_ptr error;
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<replay_end> {
                    log.commit(20);
                    auto s = hub.subscribe(stream_filter(), queue_limits{3, 1 << 20});
                    BOOST_REQUIRE(s.has_value());
                    sub = *s;
                    replay_page_source source = [&](std::int64_t after, std::int64_t up_to,
                                                    std::size_t limit) -> asio::awaitable<persistence::replay_page> {
                        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
                        if (r.what == twist::source_throws) {
                            throw std::runtime_error("disk I/O error");
                        }
                        if (r.what == twist::close) {
                            sub->close();
                        }
                        if (r.what == twist::no_progress) {
                            co_return persistence::replay_page{{}, after};
                        }
                        if (r.what == twist::overflow) {
                            log.commit(5);  // 3 fit the live queue, the 4th overflows it
                        }
                        co_return log.page(after, up_to, stream_filter(), limit);
                    };
                    frame_sink sink = [&](const std::vector<shared_frame>&) -> asio::awaitable<bool> {
                        co_return r.what != twist::sink_fails;
                    };
                    co_return co_await replay_until_live(sub, 0, source, sink, 4);
                },
                [&](std::exception_ptr e, replay_end result) {
                    error = e;
                    if (!e) {
                        end = result;
                    }
                });
            io.run_for(10s);
            if (r.expected) {
                BOOST_REQUIRE(end.has_value());
                BOOST_TEST((*end == *r.expected));
            } else {
                BOOST_TEST(static_cast<bool>(error));
                BOOST_TEST(!end.has_value());
            }
            BOOST_TEST(sub->position() == r.position);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace obs::server
