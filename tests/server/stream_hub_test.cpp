// Tests of server/stream_hub: fan-out in offset order, filters, encode-once
// sharing, the bounded queue (frames and bytes) and its overflow policy, the
// subscriber cap, shutdown, counters and the wake of a waiting stream. The
// hub lives on the io thread, so each test body runs inside io_context::run.
#include <boost/test/unit_test.hpp>

#include "server/stream/stream_hub.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace obs::server {
namespace {

namespace asio = boost::asio;
using domain::event_type;
using namespace std::chrono_literals;

domain::stored_event make_event(std::int64_t offset, std::string run = "r1", event_type type = event_type::log,
                                std::size_t payload_bytes = 0) {
    domain::stored_event ev;
    ev.offset = offset;
    ev.id = "e" + std::to_string(offset);
    ev.run_id = std::move(run);
    ev.seq = offset;
    ev.type = type;
    ev.ts_ms = 1'700'000'000'000 + offset;
    ev.received_ms = ev.ts_ms;
    ev.payload_json = R"({"level":"info","message":")" + std::string(payload_bytes, 'x') + R"("})";
    return ev;
}

persistence::committed_events batch(std::vector<domain::stored_event> events) {
    return std::make_shared<const std::vector<domain::stored_event>>(std::move(events));
}

// The offset in a frame's "id: N" line.
std::int64_t offset_of(const shared_frame& frame) {
    BOOST_REQUIRE(frame);
    BOOST_REQUIRE(frame->rfind("id: ", 0) == 0);
    return std::stoll(frame->substr(4, frame->find('\n') - 4));
}

std::vector<std::int64_t> take_offsets(stream_subscriber& sub) {
    std::vector<shared_frame> frames;
    sub.take_all(frames);
    std::vector<std::int64_t> out;
    for (const auto& f : frames) {
        out.push_back(offset_of(f));
    }
    return out;
}

// Runs `body` on the io thread (the hub's executor) and waits for it.
template <class F>
void on_io(asio::io_context& io, F body) {
    asio::post(io, body);
    io.restart();
    io.run_for(10s);
}

struct hub_fixture {
    asio::io_context io;
};

subscription must_subscribe(stream_hub& hub, stream_filter filter = {}, queue_limits limits = {}) {
    auto sub = hub.subscribe(std::move(filter), limits);
    BOOST_REQUIRE(sub.has_value());
    return *sub;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(stream_hub_fanout, hub_fixture)

BOOST_AUTO_TEST_CASE(delivers_matching_events_in_offset_order) {
    on_io(io, [&] {
        stream_hub hub(io.get_executor(), 0);
        struct row {
            const char* name;
            stream_filter filter;
            std::vector<std::int64_t> expected;
        };
        std::vector<row> rows = {
            {"all", stream_filter(), {1, 2, 3, 4, 5, 6}},
            {"run r1", stream_filter({"r1"}, {}), {1, 3, 5}},
            {"type error", stream_filter({}, {event_type::error}), {4, 5}},
            {"run r2 or r3, type log", stream_filter({"r2", "r3"}, {event_type::log}), {2, 6}},
            {"nothing matches", stream_filter({"r9"}, {}), {}},
        };
        std::vector<subscription> subs;
        for (const auto& r : rows) {
            subs.push_back(must_subscribe(hub, r.filter));
        }
        hub.publish(batch({make_event(1, "r1"), make_event(2, "r2"), make_event(3, "r1", event_type::thought)}));
        hub.publish(batch({make_event(4, "r2", event_type::error), make_event(5, "r1", event_type::error),
                           make_event(6, "r3")}));
        for (std::size_t i = 0; i < rows.size(); ++i) {
            BOOST_TEST_CONTEXT(rows[i].name) {
                BOOST_TEST(take_offsets(*subs[i]) == rows[i].expected, boost::test_tools::per_element());
                BOOST_TEST(subs[i]->position() == (rows[i].expected.empty() ? 0 : rows[i].expected.back()));
            }
        }
        BOOST_TEST(hub.last_published_offset() == 6);
    });
}

BOOST_AUTO_TEST_CASE(each_frame_is_encoded_once_and_shared) {
    on_io(io, [&] {
        stream_hub hub(io.get_executor(), 0);
        auto a = must_subscribe(hub);
        auto b = must_subscribe(hub, stream_filter({"r1"}, {}));
        auto c = must_subscribe(hub, stream_filter({"r2"}, {}));
        hub.publish(batch({make_event(1, "r1"), make_event(2, "r9")}));
        std::vector<shared_frame> fa;
        std::vector<shared_frame> fb;
        BOOST_REQUIRE(a->take_all(fa) == 2U);
        BOOST_REQUIRE(b->take_all(fb) == 1U);
        BOOST_TEST(fa[0].get() == fb[0].get());  // the very same string
        BOOST_TEST(*fa[0] == *encode_event_frame(make_event(1, "r1")));
        BOOST_TEST(c->queued_frames() == 0U);
        BOOST_TEST(hub.frames_encoded() == 2U);
        // An event nobody wants is never encoded.
        hub.publish(batch({make_event(3, "r-nobody", event_type::log)}));
        a->close();
        hub.publish(batch({make_event(4, "r-nobody")}));
        BOOST_TEST(hub.frames_encoded() == 3U);
    });
}

BOOST_AUTO_TEST_CASE(events_at_or_below_the_published_offset_are_ignored) {
    on_io(io, [&] {
        stream_hub hub(io.get_executor(), 10);
        auto sub = must_subscribe(hub);
        BOOST_TEST(sub->start_offset() == 10);
        hub.publish(batch({make_event(9), make_event(10), make_event(11)}));
        BOOST_TEST(sub->queued_frames() == 1U);
        BOOST_TEST(hub.frames_encoded() == 1U);
        hub.publish(batch({make_event(11), make_event(12)}));  // a repeated batch
        BOOST_TEST(sub->queued_frames() == 2U);
        hub.publish(batch({make_event(5)}));                   // an old one
        hub.publish(persistence::committed_events{});           // null batch: nothing
        BOOST_TEST(sub->queued_frames() == 2U);
        BOOST_TEST(hub.last_published_offset() == 12);
        BOOST_TEST(hub.frames_encoded() == 2U);
        BOOST_TEST(take_offsets(*sub) == (std::vector<std::int64_t>{11, 12}), boost::test_tools::per_element());
        auto late = must_subscribe(hub);
        BOOST_TEST(late->start_offset() == 12);
    });
}

BOOST_AUTO_TEST_CASE(take_all_skips_what_the_position_covers) {
    on_io(io, [&] {
        stream_hub hub(io.get_executor(), 0);
        auto sub = must_subscribe(hub);
        hub.publish(batch({make_event(1), make_event(2), make_event(3)}));
        sub->set_position(2);
        BOOST_TEST(take_offsets(*sub) == (std::vector<std::int64_t>{3}), boost::test_tools::per_element());
        sub->advance_to(1);  // never lowers
        BOOST_TEST(sub->position() == 3);
        BOOST_TEST(hub.frames_queued() == 0U);
    });
}

BOOST_AUTO_TEST_CASE(a_full_queue_overflows_and_is_freed) {
    const std::size_t frame_bytes = encode_event_frame(make_event(1))->size();
    struct row {
        const char* name;
        queue_limits limits;
        std::size_t fits;  // frames accepted before the overflow
    };
    const row rows[] = {
        {"by frames", {3, 1 << 20}, 3},
        {"by bytes", {1000, frame_bytes * 2 + frame_bytes / 2}, 2},
        {"bytes exactly", {1000, frame_bytes * 2}, 2},
        {"one frame", {1, 1 << 20}, 1},
        {"frame over the byte bound still fits an empty queue", {1000, 1}, 1},
    };
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name) {
            on_io(io, [&] {
                stream_hub hub(io.get_executor(), 0);
                auto slow = must_subscribe(hub, {}, r.limits);
                auto other = must_subscribe(hub);
                std::int64_t offset = 0;
                for (std::size_t i = 0; i < r.fits; ++i) {
                    hub.publish(batch({make_event(++offset)}));
                }
                BOOST_TEST(!slow->overflowed());
                BOOST_TEST(slow->queued_frames() == r.fits);
                BOOST_TEST(slow->queued_bytes() == r.fits * frame_bytes);
                hub.publish(batch({make_event(++offset)}));
                BOOST_TEST(slow->overflowed());
                BOOST_TEST(slow->queued_frames() == 0U);
                BOOST_TEST(slow->queued_bytes() == 0U);
                BOOST_TEST(slow->position() == 0);  // nothing was taken: resume from 0
                BOOST_TEST(hub.overflows() == 1U);
                // Later events skip it; the others get everything.
                hub.publish(batch({make_event(++offset)}));
                BOOST_TEST(slow->queued_frames() == 0U);
                BOOST_TEST(other->queued_frames() == r.fits + 2);
                BOOST_TEST(hub.frames_queued() == r.fits + 2);
                BOOST_TEST(hub.subscribers() == 2U);  // until its session closes it
                slow->close();
                BOOST_TEST(hub.subscribers() == 1U);
            });
        }
    }
}

BOOST_AUTO_TEST_CASE(overflow_reports_the_last_offset_taken) {
    on_io(io, [&] {
        stream_hub hub(io.get_executor(), 0);
        auto sub = must_subscribe(hub, {}, {2, 1 << 20});
        hub.publish(batch({make_event(1), make_event(2)}));
        BOOST_TEST(take_offsets(*sub).size() == 2U);
        hub.publish(batch({make_event(3), make_event(4), make_event(5)}));
        BOOST_TEST(sub->overflowed());
        BOOST_TEST(sub->position() == 2);
    });
}

BOOST_AUTO_TEST_CASE(subscribers_are_capped) {
    on_io(io, [&] {
        stream_hub hub(io.get_executor(), 0, hub_options{2});
        auto a = must_subscribe(hub);
        auto b = must_subscribe(hub);
        auto refused = hub.subscribe(stream_filter());
        BOOST_REQUIRE(refused.has_error());
        BOOST_TEST((refused.error().code == error_code::overloaded));
        BOOST_TEST(refused.error().retry_after_seconds > 0U);
        a.reset();  // a session's end frees its place
        BOOST_TEST(hub.subscribers() == 1U);
        BOOST_TEST(hub.subscribe(stream_filter()).has_value());
    });
}

BOOST_AUTO_TEST_CASE(shutdown_closes_everyone_and_refuses_new_streams) {
    on_io(io, [&] {
        stream_hub hub(io.get_executor(), 0);
        std::vector<subscription> subs;
        int hooks_run = 0;
        for (int i = 0; i < 3; ++i) {
            subs.push_back(must_subscribe(hub));
            subs.back()->set_close_hook([&] { ++hooks_run; });
        }
        hub.publish(batch({make_event(1)}));
        hub.shutdown();
        BOOST_TEST(hub.stopped());
        BOOST_TEST(hub.subscribers() == 0U);
        BOOST_TEST(hub.frames_queued() == 0U);
        BOOST_TEST(hooks_run == 3);
        for (const auto& s : subs) {
            BOOST_TEST(s->closed());
            BOOST_TEST(s->queued_frames() == 0U);
        }
        subs[0]->close();  // idempotent: the hook does not run again
        BOOST_TEST(hooks_run == 3);
        auto refused = hub.subscribe(stream_filter());
        BOOST_REQUIRE(refused.has_error());
        BOOST_TEST((refused.error().code == error_code::unavailable));
        hub.publish(batch({make_event(2)}));
        BOOST_TEST(subs[1]->queued_frames() == 0U);
    });
}

BOOST_AUTO_TEST_CASE(counters_follow_queues_and_sends) {
    on_io(io, [&] {
        stream_hub hub(io.get_executor(), 0);
        auto a = must_subscribe(hub);
        auto b = must_subscribe(hub);
        hub.publish(batch({make_event(1), make_event(2)}));
        BOOST_TEST(hub.subscribers() == 2U);
        BOOST_TEST(hub.frames_queued() == 4U);
        std::vector<shared_frame> frames;
        a->take_all(frames);
        a->note_sent(frames.size());
        BOOST_TEST(hub.frames_queued() == 2U);
        BOOST_TEST(hub.frames_sent() == 2U);
        BOOST_TEST(hub.flushes() == 1U);
        b.reset();  // destroying a subscriber frees its queue at once
        BOOST_TEST(hub.frames_queued() == 0U);
        BOOST_TEST(hub.subscribers() == 1U);
        BOOST_TEST(hub.overflows() == 0U);
    });
}

BOOST_AUTO_TEST_CASE(a_subscriber_may_outlive_its_hub) {
    subscription survivor;
    on_io(io, [&] {
        auto hub = std::make_unique<stream_hub>(io.get_executor(), 0);
        survivor = must_subscribe(*hub);
        hub->publish(batch({make_event(1)}));
        hub.reset();
        BOOST_TEST(survivor->closed());
        BOOST_TEST(survivor->queued_frames() == 0U);
        survivor->note_sent(1);  // no hub to count in: harmless
        survivor->close();
    });
    survivor.reset();
}

BOOST_AUTO_TEST_CASE(publish_wakes_a_waiting_stream) {
    stream_hub hub(io.get_executor(), 0);
    subscription sub;
    int wakes = 0;
    std::vector<std::int64_t> seen;
    on_io(io, [&] { sub = must_subscribe(hub); });
    // A stream that waits (an hour at most, so only a wake can end the test
    // in time) and takes what is queued, until it has all four events.
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            while (seen.size() < 4) {
                co_await sub->wait(std::chrono::steady_clock::now() + 1h);
                ++wakes;
                for (auto o : take_offsets(*sub)) {
                    seen.push_back(o);
                }
            }
        },
        asio::detached);
    asio::post(io, [&] { hub.publish(batch({make_event(1), make_event(2)})); });
    // A second batch, published after the first wake was handled.
    asio::post(io, [&] { asio::post(io, [&] { hub.publish(batch({make_event(3), make_event(4)})); }); });
    io.restart();
    io.run_for(10s);
    BOOST_TEST(seen == (std::vector<std::int64_t>{1, 2, 3, 4}), boost::test_tools::per_element());
    BOOST_TEST(wakes >= 1);
}

BOOST_AUTO_TEST_CASE(wait_returns_at_its_deadline_or_at_once_when_there_is_work) {
    stream_hub hub(io.get_executor(), 0);
    subscription sub;
    on_io(io, [&] { sub = must_subscribe(hub); });
    bool returned = false;
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await sub->wait(std::chrono::steady_clock::now() + 20ms);
            returned = true;
        },
        asio::detached);
    io.restart();
    io.run_for(10s);
    BOOST_TEST(returned);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 20ms));

    returned = false;
    on_io(io, [&] { hub.publish(batch({make_event(1)})); });
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await sub->wait(std::chrono::steady_clock::now() + 1h);  // work is queued: no wait
            returned = true;
        },
        asio::detached);
    io.restart();
    io.run_for(10s);
    BOOST_TEST(returned);
}

BOOST_AUTO_TEST_CASE(hold_lets_frames_gather_until_overflow_close_or_deadline) {
    enum class ender { deadline, overflow, close };
    struct row {
        const char* name;
        ender how;
    };
    const row rows[] = {{"deadline", ender::deadline}, {"overflow", ender::overflow}, {"close", ender::close}};
    for (const auto& r : rows) {
        BOOST_TEST_CONTEXT(r.name) {
            stream_hub hub(io.get_executor(), 0);
            subscription sub;
            on_io(io, [&] { sub = must_subscribe(hub, {}, {2, 1 << 20}); });
            bool returned = false;
            const auto deadline = std::chrono::steady_clock::now() + (r.how == ender::deadline ? 50ms : 1h);
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    co_await sub->hold(deadline);
                    returned = true;
                },
                asio::detached);
            asio::post(io, [&] {
                hub.publish(batch({make_event(1)}));  // data alone does not end a hold
                asio::post(io, [&] {
                    BOOST_TEST(!returned);
                    if (r.how == ender::overflow) {
                        hub.publish(batch({make_event(2), make_event(3)}));
                    } else if (r.how == ender::close) {
                        sub->close();
                    }
                });
            });
            io.restart();
            io.run_for(10s);
            BOOST_TEST(returned);
            if (r.how == ender::deadline) {
                BOOST_TEST((std::chrono::steady_clock::now() >= deadline));
                BOOST_TEST(sub->queued_frames() == 1U);
            }
            sub.reset();
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace obs::server
