// The routes that take the connection over: the live stream and artifact
// uploads/downloads; see special_routes.hpp.
#include "server/special_routes.hpp"

#include "server/artifact_routes.hpp"
#include "server/http_io.hpp"
#include "server/log.hpp"
#include "server/stream_session.hpp"

#include <boost/beast/http/field.hpp>

namespace obs::server {
namespace http = boost::beast::http;

bool is_special_route(route_id id) {
    return id == route_id::stream || id == route_id::put_artifact || id == route_id::get_artifact;
}

std::string access_token_of(std::string_view target) {
    auto parsed = parse_stream_query(target, std::nullopt);
    if (!parsed || !parsed->access_token) return "";
    return *parsed->access_token;
}

namespace {

stream_settings settings_of(const config& cfg) {
    stream_settings s;
    s.ping_interval = std::chrono::milliseconds(cfg.stream_ping_ms);
    s.write_timeout = std::chrono::milliseconds(cfg.body_timeout_ms);
    s.queue.max_frames = cfg.stream_queue_frames;
    s.queue.max_bytes = cfg.stream_queue_bytes;
    return s;
}

boost::asio::awaitable<bool> serve_stream(app& a, boost::beast::tcp_stream& stream,
                                          http::request_parser<http::empty_body>& head,
                                          std::chrono::steady_clock::time_point started) {
    const auto& h = head.get();
    std::string target(h.target());
    std::string path = target.substr(0, target.find('?'));
    std::optional<std::string_view> last_event_id;
    if (auto it = h.find("Last-Event-ID"); it != h.end()) last_event_id = it->value();
    auto query = parse_stream_query(target, last_event_id);
    auto settings = settings_of(a.cfg());
    std::optional<api_error> refusal;
    subscription sub;
    if (!query) {
        refusal = query.error();
    } else if (auto opened = open_event_stream(a.hub(), *query, settings); !opened) {
        refusal = opened.error();
    } else {
        sub = *opened;
    }
    if (refusal) {
        auto answer = error_answer(*refusal);
        bool keep = h.keep_alive() && head.is_done();
        auto sent = co_await write_answer(stream, answer, keep, "GET", a);
        if (a.cfg().log_requests) log_request("GET", path, answer.status, elapsed_us(started), 0, sent);
        co_return keep && sent > 0;
    }
    if (a.cfg().log_requests) log_request("GET", path, 200, elapsed_us(started), 0, 0);
    stream_context ctx;
    ctx.readers = &a.readers();
    ctx.settings = settings;
    ctx.log_error = [path](const std::string& why) { log_line("warning", "stream ended", {{"route", path}, {"reason", why}}); };
    stream.expires_never();
    // Named first: a prvalue argument to a coroutine is copied bitwise by GCC 12.
    auto socket = stream.release_socket();
    co_await run_event_stream(std::move(socket), std::move(*query), std::move(sub), std::move(ctx));
    co_return false;
}

}  // namespace

boost::asio::awaitable<bool> serve_special_route(app& a, route_match route, boost::beast::tcp_stream& stream,
                                                 boost::beast::flat_buffer& buffer,
                                                 http::request_parser<http::empty_body>& head,
                                                 std::chrono::steady_clock::time_point started) {
    switch (route.id) {
        case route_id::stream: co_return co_await serve_stream(a, stream, head, started);
        case route_id::put_artifact: co_return co_await serve_artifact_put(a, std::move(route), stream, buffer, head, started);
        case route_id::get_artifact: co_return co_await serve_artifact_get(a, std::move(route), stream, buffer, head, started);
        default: break;
    }
    co_return false;
}

}  // namespace obs::server
