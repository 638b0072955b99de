// Tests of server/stream_session: the replay hand-over as a socket-free unit
// (a fake page source that commits events between pages: no gap, no
// duplicate, order kept), and run_event_stream over real loopback TCP: head,
// retry, replay, live frames, ping, overflow, shutdown, a stuck client's
// write timeout, a client leaving, and a replay from a real SQLite file.
#include <boost/test/unit_test.hpp>

#include "persistence/migrations.hpp"
#include "persistence/read_pool.hpp"
#include "persistence/sqlite_handle.hpp"
#include "server/stream_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace obs::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using domain::event_type;
using namespace std::chrono_literals;

domain::stored_event make_event(std::int64_t offset, std::size_t payload_bytes = 0) {
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

// The event log as the test sees it: "commits" append to it and publish to
// the hub, as the writer's listener does.
struct fake_log {
    stream_hub& hub;
    std::vector<domain::stored_event> events;

    void commit(std::size_t n, std::size_t payload_bytes = 0) {
        std::vector<domain::stored_event> batch;
        for (std::size_t i = 0; i < n; ++i) {
            batch.push_back(make_event(static_cast<std::int64_t>(events.size()) + 1, payload_bytes));
            events.push_back(batch.back());
        }
        if (!batch.empty()) {
            hub.publish(std::make_shared<const std::vector<domain::stored_event>>(std::move(batch)));
        }
    }

    // What persistence::read_replay_page answers: at most `window` offsets
    // looked at, at most `limit` matching events.
    persistence::replay_page page(std::int64_t after, std::int64_t up_to, const stream_filter& filter,
                                  std::size_t limit, std::size_t window = 1000) const {
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
};

// A page source over `log` that hops through the executor (as the reader
// pool does) and commits `commits_per_page` events while each page is read.
replay_page_source committing_source(fake_log& log, stream_filter filter, std::size_t commits_per_page,
                                     int& pages, std::size_t window = 1000) {
    return [&log, filter, commits_per_page, &pages, window](
               std::int64_t after, std::int64_t up_to, std::size_t limit) -> asio::awaitable<persistence::replay_page> {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        ++pages;
        auto page = log.page(after, up_to, filter, limit, window);
        log.commit(commits_per_page);  // after the read: the live queue must carry them
        co_return page;
    };
}


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

BOOST_AUTO_TEST_CASE(streams_head_retry_replay_live_and_ping_over_tcp) {
    asio::io_context io;
    stream_hub hub(io.get_executor(), 0);
    fake_log log{hub, {}};
    stream_server server{io, hub};
    int pages = 0;
    auto ctx = fake_context(log, pages);
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

BOOST_AUTO_TEST_CASE(a_client_leaving_is_noticed_without_any_write) {
    asio::io_context io;
    stream_hub hub(io.get_executor(), 0);
    fake_log log{hub, {}};
    stream_server server{io, hub};
    int pages = 0;
    auto ctx = fake_context(log, pages);
    ctx.settings.ping_interval = 0ms;  // no pings: only the pending read can notice
    server.serve_one("/observability/stream", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            BOOST_REQUIRE((co_await reader.head()).has_value());
            BOOST_REQUIRE((co_await reader.frame()).has_value());  // retry
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

BOOST_AUTO_TEST_CASE(an_overflowing_stream_gets_overflow_then_is_closed) {
    asio::io_context io;
    stream_hub hub(io.get_executor(), 0);
    fake_log log{hub, {}};
    stream_server server{io, hub};
    int pages = 0;
    auto ctx = fake_context(log, pages);
    ctx.settings.queue = queue_limits{2, 1 << 20};
    server.serve_one("/observability/stream", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            BOOST_REQUIRE((co_await reader.head()).has_value());
            BOOST_REQUIRE((co_await reader.frame()).has_value());  // retry
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

BOOST_AUTO_TEST_CASE(shutdown_ends_the_stream_cleanly) {
    asio::io_context io;
    stream_hub hub(io.get_executor(), 0);
    fake_log log{hub, {}};
    stream_server server{io, hub};
    int pages = 0;
    server.serve_one("/observability/stream", fake_context(log, pages));
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            BOOST_REQUIRE((co_await reader.head()).has_value());
            BOOST_REQUIRE((co_await reader.frame()).has_value());  // retry
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

BOOST_AUTO_TEST_CASE(a_client_that_stops_reading_is_cut_off_by_the_write_timeout) {
    asio::io_context io;
    stream_hub hub(io.get_executor(), 0);
    fake_log log{hub, {}};
    stream_server server{io, hub};
    int pages = 0;
    auto ctx = fake_context(log, pages);
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
            BOOST_REQUIRE((co_await reader.head()).has_value());
            BOOST_REQUIRE((co_await reader.frame()).has_value());  // retry
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
            BOOST_REQUIRE((co_await reader.head()).has_value());
            BOOST_REQUIRE((co_await reader.frame()).has_value());  // retry
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

BOOST_AUTO_TEST_CASE(a_busy_stream_writes_many_frames_at_once) {
    asio::io_context io;
    stream_hub hub(io.get_executor(), 0);
    fake_log log{hub, {}};
    stream_server server{io, hub};
    int pages = 0;
    auto ctx = fake_context(log, pages);
    ctx.settings.flush_interval = 1s;
    server.serve_one("/observability/stream", ctx);
    bool client_finished = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto socket = co_await server.connect();
            sse_reader reader{socket, {}};
            BOOST_REQUIRE((co_await reader.head()).has_value());
            BOOST_REQUIRE((co_await reader.frame()).has_value());  // retry
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
