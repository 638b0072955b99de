// The stream route; see stream_route.hpp.
#include "server/stream/stream_route.hpp"

#include "server/app.hpp"
#include "server/http/query.hpp"
#include "server/log.hpp"
#include "server/stream/stream_session.hpp"

namespace obs::server {
namespace {

stream_settings settings_of(const config& cfg) {
    stream_settings s;
    s.ping_interval = std::chrono::milliseconds(cfg.stream_ping_ms);
    s.write_timeout = std::chrono::milliseconds(cfg.body_timeout_ms);
    s.queue.max_frames = cfg.stream_queue_frames;
    s.queue.max_bytes = cfg.stream_queue_bytes;
    return s;
}

}  // namespace

boost::asio::awaitable<handler_result> open_stream(app& a, request req) {
    if (auto known = parse_query(req.target, {"run_id", "type", "last_event_id", "access_token"}); !known)
        co_return known.error();
    auto query = parse_stream_query(req.target, req.header("last-event-id"));
    if (!query) co_return query.error();
    const auto settings = settings_of(a.cfg());
    auto sub = open_event_stream(a.hub(), *query, settings);
    if (!sub) co_return sub.error();
    if (query->last_event_id) ++a.counters().stream_replays;
    stream_context ctx;
    ctx.readers = &a.readers();
    ctx.settings = settings;
    ctx.log_error = [path = std::string(req.path)](const std::string& why) {
        log_line("warning", "stream ended", {{"route", path}, {"reason", why}});
    };
    stream_takeover takeover;
    takeover.run = [query = std::move(*query), sub = std::move(*sub), ctx = std::move(ctx)](
                       boost::asio::ip::tcp::socket socket, std::string head) mutable -> boost::asio::awaitable<void> {
        ctx.head = std::move(head);
        co_await run_event_stream(std::move(socket), std::move(query), std::move(sub), std::move(ctx));
    };
    co_return takeover;
}

}  // namespace obs::server
