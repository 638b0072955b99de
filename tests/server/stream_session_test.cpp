// Tests of server/stream_session.cpp: run_event_stream over real loopback
// TCP, as the HTTP session runs it. The head, retry, replay, live frames and
// ping; a client leaving; overflow; shutdown; a stuck client's write
// timeout; a replay from a real SQLite file; and many frames in one write.
// The replay hand-over alone is tested in stream_session_replay_test.cpp.
#include <boost/test/unit_test.hpp>

#include "fake_event_log.hpp"
#include "persistence/migrations.hpp"
#include "persistence/read_pool.hpp"
#include "persistence/sqlite_handle.hpp"
#include "server/stream/stream_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace obs::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
using namespace test;

// Reads an SSE response off a client socket: the head, then frame by frame.
struct sse_reader {
    tcp::socket& socket;
    std::string buffer;

    // The text up to and including `terminator`; nullopt when the connection
    // ends first.
    asio::awaitable<std::optional<std::string>> until(std::string terminator) {
        for (;;) {
            const auto pos = buffer.find(terminator);
            if (pos != std::string::npos) {
                std::string out = buffer.substr(0, pos + terminator.size());
                buffer.erase(0, pos + terminator.size());
                co_return out;
            }
            std::array<char, 4096> chunk{};
            const auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
            if (ec) {
                co_return std::nullopt;
            }
            buffer.append(chunk.data(), n);
        }
    }
    asio::awaitable<std::optional<std::string>> head() { return until("\r\n\r\n"); }
    asio::awaitable<std::optional<std::string>> frame() { return until("\n\n"); }

    // Reads past what every stream opens with, the response head and the
    // `retry` frame; fails the test when the stream ends before them.
    asio::awaitable<void> skip_head_and_retry() {
        BOOST_REQUIRE((co_await head()).has_value());
        BOOST_REQUIRE((co_await frame()).has_value());  // retry
    }
};

// The server side of the socket tests: accepts one connection, subscribes
// for `target` and runs the stream on it, as the HTTP session will.
struct stream_server {
    asio::io_context& io;
    stream_hub& hub;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
    bool done = false;
    asio::steady_timer done_signal{io, std::chrono::steady_clock::time_point::max()};

    void serve_one(std::string target, stream_context ctx, std::function<void(tcp::socket&)> tune = {}) {
        asio::co_spawn(
            io,
            [this, target, ctx, tune]() -> asio::awaitable<void> {
                auto socket = co_await acceptor.async_accept(asio::use_awaitable);
                if (tune) {
                    tune(socket);
                }
                const auto query = parse_stream_query(target, std::nullopt);
                BOOST_REQUIRE(query.has_value());
                auto sub = open_event_stream(hub, *query, ctx.settings);
                BOOST_REQUIRE(sub.has_value());
                co_await run_event_stream(std::move(socket), *query, *sub, ctx);
                done = true;
                done_signal.cancel();
            },
            asio::detached);
    }

    // Resumes once run_event_stream has returned.
    asio::awaitable<void> wait_done() {
        if (!done) {
            co_await done_signal.async_wait(asio::as_tuple(asio::use_awaitable));
        }
    }

    asio::awaitable<tcp::socket> connect(std::size_t receive_buffer = 0) {
        tcp::socket s(io);
        s.open(tcp::v4());
        if (receive_buffer > 0) {
            s.set_option(asio::socket_base::receive_buffer_size(static_cast<int>(receive_buffer)));
        }
        co_await s.async_connect(acceptor.local_endpoint(), asio::use_awaitable);
        co_return s;
    }
};

stream_context fake_context(fake_log& log, int& pages) {
    stream_context ctx;
    ctx.replay = committing_source(log, stream_filter(), 0, pages);
    ctx.log_error = [](const std::string& m) { BOOST_TEST_MESSAGE(m); };
    return ctx;
}

// One stream over loopback TCP: a hub at offset 0 fed by a fake log, a
// server that serves one stream, and the stream's context replaying from
// the fake log. A test adjusts `ctx` before server.serve_one.
struct loopback_stream {
    asio::io_context io;
    stream_hub hub{io.get_executor(), 0};
    fake_log log{hub, {}};
    stream_server server{io, hub};
    int pages = 0;  // replay pages read
    stream_context ctx = fake_context(log, pages);
};

// A frame read, or a marker when the stream ended instead (printable, for
// BOOST_TEST messages).
std::string or_end(const std::optional<std::string>& frame) {
    return frame ? *frame : std::string("<end of stream>");
}

std::string frame_of(const domain::stored_event& ev) {
    return *encode_event_frame(ev);
}

// A database file in the temp folder, removed (with its WAL) at the end.
struct temp_db_file {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("obs_stream_session_test_" + std::to_string(::getpid()) + ".db");
    temp_db_file() { remove(); }
    ~temp_db_file() { remove(); }
    void remove() const {
        std::error_code ignored;
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(path.string() + suffix, ignored);
        }
    }
};

constexpr const char* insert_event_sql =
    "INSERT INTO events(\"offset\", id, run_id, seq, type, ts_ms, received_ms, node, parent_id, payload, "
    "fingerprint) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

void insert_event(sqlite3* db, const domain::stored_event& ev) {
    auto stmt = persistence::prepare(db, insert_event_sql);
    const auto type = std::string(domain::to_string(ev.type));
    sqlite3_bind_int64(stmt.get(), 1, ev.offset);
    sqlite3_bind_text(stmt.get(), 2, ev.id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt.get(), 3, ev.run_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt.get(), 4, ev.seq);
    sqlite3_bind_text(stmt.get(), 5, type.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt.get(), 6, ev.ts_ms);
    sqlite3_bind_int64(stmt.get(), 7, ev.received_ms);
    if (ev.node) {
        sqlite3_bind_text(stmt.get(), 8, ev.node->c_str(), -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(stmt.get(), 8);
    }
    if (ev.parent_id) {
        sqlite3_bind_text(stmt.get(), 9, ev.parent_id->c_str(), -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_null(stmt.get(), 9);
    }
    sqlite3_bind_text(stmt.get(), 10, ev.payload_json.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt.get(), 11, "fingerprint", -1, SQLITE_STATIC);
    persistence::check(db, sqlite3_step(stmt.get()), "insert event");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(stream_session)

BOOST_FIXTURE_TEST_CASE(streams_head_retry_replay_live_and_ping_over_tcp, loopback_stream) {
    ctx.settings.ping_interval = 100ms;
    server.serve_one("/observability/stream?last_event_id=1", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            log.commit(3);  // before the stream subscribes: H = 3
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            const auto head = co_await reader.head();
            BOOST_REQUIRE(head.has_value());
            BOOST_TEST(*head == stream_response_head());
            BOOST_TEST(head->find("HTTP/1.1 200 OK\r\n") == 0U);
            BOOST_TEST(head->find("Content-Type: text/event-stream\r\n") != std::string::npos);
            BOOST_TEST(head->find("Cache-Control: no-store\r\n") != std::string::npos);
            BOOST_TEST(head->find("X-Accel-Buffering: no\r\n") != std::string::npos);
            BOOST_TEST(or_end(co_await reader.frame()) == "retry: 3000\n\n");
            // Replayed from the "database": 2 and 3.
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(log.events[1]));
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(log.events[2]));
            // Live.
            log.commit(2);
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(log.events[3]));
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(log.events[4]));
            // Idle: a ping comes.
            BOOST_TEST(or_end(co_await reader.frame()) == ": ping\n\n");
            BOOST_TEST(hub.subscribers() == 1U);
            socket.close();
            co_await server.wait_done();
            client_finished = true;
        },
        asio::detached);
    io.run_for(20s);
    BOOST_TEST(client_finished);
    BOOST_TEST(server.done);
    BOOST_TEST(pages == 1);
    BOOST_TEST(hub.subscribers() == 0U);
    BOOST_TEST(hub.frames_sent() == 4U);
}

BOOST_FIXTURE_TEST_CASE(a_client_leaving_is_noticed_without_any_write, loopback_stream) {
    ctx.settings.ping_interval = 0ms;  // no pings: only the pending read can notice
    server.serve_one("/observability/stream", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            co_await reader.skip_head_and_retry();
            log.commit(1);
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(log.events[0]));
            socket.close();
            co_await server.wait_done();
            BOOST_TEST(hub.subscribers() == 0U);
            client_finished = true;
        },
        asio::detached);
    io.run_for(20s);
    BOOST_TEST(client_finished);
    BOOST_TEST(pages == 0);  // no Last-Event-ID: no replay
}

BOOST_FIXTURE_TEST_CASE(an_overflowing_stream_gets_overflow_then_is_closed, loopback_stream) {
    ctx.settings.queue = queue_limits{2, 1 << 20};
    server.serve_one("/observability/stream", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            co_await reader.skip_head_and_retry();
            log.commit(1);
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(log.events[0]));
            log.commit(5);  // one batch: 2 and 3 fit, 4 overflows the queue
            BOOST_TEST(or_end(co_await reader.frame()) == *overflow_frame(1));
            BOOST_TEST(!(co_await reader.frame()).has_value());  // then the server closes
            co_await server.wait_done();
            client_finished = true;
        },
        asio::detached);
    io.run_for(20s);
    BOOST_TEST(client_finished);
    BOOST_TEST(hub.overflows() == 1U);
    BOOST_TEST(hub.subscribers() == 0U);
    BOOST_TEST(hub.frames_queued() == 0U);
}

BOOST_FIXTURE_TEST_CASE(shutdown_ends_the_stream_cleanly, loopback_stream) {
    server.serve_one("/observability/stream", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            co_await reader.skip_head_and_retry();
            hub.shutdown();
            BOOST_TEST(!(co_await reader.frame()).has_value());  // end of stream
            co_await server.wait_done();
            client_finished = true;
        },
        asio::detached);
    io.run_for(20s);
    BOOST_TEST(client_finished);
    BOOST_TEST(hub.subscribers() == 0U);
}

BOOST_FIXTURE_TEST_CASE(a_client_that_stops_reading_is_cut_off_by_the_write_timeout, loopback_stream) {
    ctx.settings.write_timeout = 200ms;
    ctx.settings.ping_interval = 0ms;
    server.serve_one("/observability/stream", ctx, [](tcp::socket& s) {
        s.set_option(asio::socket_base::send_buffer_size(4096));
    });
    bool client_finished = false;
    std::chrono::steady_clock::duration stuck_for{};
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect(4096);
            sse_reader reader{socket, {}};
            co_await reader.skip_head_and_retry();
            const auto start = std::chrono::steady_clock::now();
            log.commit(1, 8 * 1024 * 1024);  // far more than both socket buffers
            co_await server.wait_done();     // without reading a byte
            stuck_for = std::chrono::steady_clock::now() - start;
            client_finished = true;
        },
        asio::detached);
    io.run_for(20s);
    BOOST_TEST(client_finished);
    BOOST_TEST((stuck_for >= 200ms));
    BOOST_TEST(hub.subscribers() == 0U);
}

BOOST_AUTO_TEST_CASE(replays_from_a_real_database_then_goes_live) {
    temp_db_file file;
    std::vector<domain::stored_event> stored;
    {
        auto db = persistence::open_database(file.path.string(), false);
        persistence::apply_migrations(db.get(), persistence::embedded_migrations());
        for (std::int64_t o = 1; o <= 6; ++o) {
            auto ev = make_event(o);
            if (o % 2 == 1) {
                ev.node = "worker-1";
            }
            if (o == 5) {
                ev.parent_id = "e3";
            }
            insert_event(db.get(), ev);
            stored.push_back(ev);
        }
    }
    asio::io_context io;
    stream_hub hub(io.get_executor(), 6);
    persistence::read_pool readers(file.path.string(), 1);  // stopped before io goes
    stream_server server{io, hub};
    stream_context ctx;
    ctx.readers = &readers;
    ctx.settings.replay_page_size = 1;  // one page per event
    ctx.log_error = [](const std::string& m) { BOOST_TEST_MESSAGE(m); };
    server.serve_one("/observability/stream?run_id=r1&last_event_id=1", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            co_await reader.skip_head_and_retry();
            // r1 holds the odd offsets: 3 and 5 after 1.
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(stored[2]));
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(stored[4]));
            const auto live = std::make_shared<const std::vector<domain::stored_event>>(
                std::vector<domain::stored_event>{make_event(7), make_event(8), make_event(9)});
            hub.publish(live);
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of((*live)[0]));
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of((*live)[2]));
            socket.close();
            co_await server.wait_done();
            client_finished = true;
        },
        asio::detached);
    io.run_for(20s);
    BOOST_TEST(client_finished);
    BOOST_TEST(hub.subscribers() == 0U);
    BOOST_TEST(hub.frames_sent() == 4U);
}

BOOST_FIXTURE_TEST_CASE(a_busy_stream_writes_many_frames_at_once, loopback_stream) {
    ctx.settings.flush_interval = 1s;
    server.serve_one("/observability/stream", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            co_await reader.skip_head_and_retry();
            log.commit(1);  // an idle stream's first frame goes at once
            BOOST_TEST(or_end(co_await reader.frame()) == frame_of(log.events[0]));
            // Three commits spaced out, well within the flush interval.
            asio::steady_timer gap(io);
            for (int i = 0; i < 3; ++i) {
                log.commit(1);
                gap.expires_after(20ms);
                co_await gap.async_wait(asio::use_awaitable);
            }
            for (std::size_t i = 1; i < 4; ++i) {
                BOOST_TEST(or_end(co_await reader.frame()) == frame_of(log.events[i]));
            }
            socket.close();
            co_await server.wait_done();  // every write's completion has been counted
            client_finished = true;
        },
        asio::detached);
    io.run_for(20s);
    BOOST_TEST(client_finished);
    BOOST_TEST(hub.frames_sent() == 4U);
    BOOST_TEST(hub.flushes() == 2U);  // the first alone, then the three together
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace obs::server
