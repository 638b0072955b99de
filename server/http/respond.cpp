// Writing, counting and logging answers; see respond.hpp. The head of a
// buffered answer is formatted here into one string and sent with the body in
// one gathered write: Beast's generic serializer walks its buffer sequences
// several times per response, which cost about a tenth of the io thread's
// time on small JSON answers.
#include "server/http/respond.hpp"

#include "server/app.hpp"
#include "server/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>

#include <array>
#include <vector>

namespace obs::server {
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t stream_chunk_bytes = 256 * 1024;
constexpr std::size_t drain_limit_bytes = 4 * 1024 * 1024;
constexpr auto drain_time = std::chrono::milliseconds(1000);

// True when `text` can go into a header line as it is: no CR, LF or NUL,
// which would end the line (or the head) early. A plain loop: find_first_of
// with a set of three was about 500 instructions a header, a tenth of a
// single-event POST's answer.
bool fits_header_line(std::string_view text) {
    for (const char c : text)
        if (c == '\r' || c == '\n' || c == '\0') return false;
    return true;
}

void append_header(std::string& head, std::string_view name, std::string_view value) {
    if (!fits_header_line(name) || !fits_header_line(value)) return;  // never ours to send
    head.append(name).append(": ").append(value).append("\r\n");
}

void count_and_log(app& a, const answer_context& ctx, unsigned status, std::size_t bytes_out) {
    auto& c = a.counters();
    c.responses.count(status);
    if (ctx.route_index && *ctx.route_index < c.per_route.size()) {
        c.per_route[*ctx.route_index].count(status);
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - ctx.started;
        c.durations[*ctx.route_index].by_class[status_counts::class_of(status)].observe(took.count());
    }
    // Only the authorizer answers 401 and 403 (api_error.cpp's mapping).
    if (status == 401 || status == 403) ++c.auth_failures[status == 401 ? 0 : 1];
    if (a.cfg().log_requests)
        log_request(ctx.method, ctx.path, status, elapsed_us(ctx.started), ctx.bytes_in, bytes_out);
}

// The head, then the body piece by piece; nullopt when the connection must
// close (the client left, or the source failed after the length was sent).
asio::awaitable<std::optional<std::size_t>> write_streamed(app& a, boost::beast::tcp_stream& stream,
                                                           const answer_context& ctx, streamed_answer& answer,
                                                           bool keep_alive) {
    answer.headers.insert(answer.headers.end(), ctx.extra_headers.begin(), ctx.extra_headers.end());
    const std::string head =
        format_response_head(answer.status, answer.content_type, answer.headers, answer.length, keep_alive);
    stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(head), use_tuple);
    if (ec) co_return std::nullopt;
    std::size_t sent = n;
    if (ctx.method == "HEAD") co_return sent;
    std::vector<char> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(stream_chunk_bytes, answer.length)));
    std::uint64_t left = answer.length;
    while (left > 0) {
        const std::span<char> into(chunk.data(), static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), left)));
        const auto got = co_await answer.read_next(into);
        if (!got || *got == 0) co_return std::nullopt;
        // Per chunk: a slow but steady reader of a large file is fine.
        stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
        auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(chunk.data(), *got), use_tuple);
        if (wec) co_return std::nullopt;
        sent += wn;
        left -= *got;
    }
    co_return sent;
}

// A stream's life after its head, on a coroutine of its own and counted as
// an open connection: the connection that served the request then ends and
// frees its buffers, parser and frames (about 5 KB a stream, measured with
// massif) instead of holding them for as long as the client listens.
asio::awaitable<void> run_stream(app& a, stream_takeover::runner run, asio::ip::tcp::socket socket, std::string head) {
    open_connection_mark counted(a.counters().open_connections);
    co_await run(std::move(socket), std::move(head));
}

}  // namespace

std::string format_response_head(unsigned status, std::string_view content_type, const header_list& headers,
                                 std::uint64_t content_length, bool keep_alive) {
    std::string head;
    head.reserve(160);
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    head.append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason).append("\r\n");
    append_header(head, "Server", "observability-server");
    if (!content_type.empty()) append_header(head, "Content-Type", content_type);
    for (const auto& [name, value] : headers) append_header(head, name, value);
    // A HEAD answer tells the length the GET would have, without the body;
    // 204 and 304 carry no length at all (RFC 9110 8.6).
    if (status != 204 && status != 304) append_header(head, "Content-Length", std::to_string(content_length));
    if (!keep_alive) append_header(head, "Connection", "close");
    head.append("\r\n");
    return head;
}

asio::awaitable<bool> respond(app& a, boost::beast::tcp_stream& stream, answer_context ctx, response r,
                              bool keep_alive) {
    if (auto* answer = std::get_if<http_answer>(&r)) {
        // Head and body in one gathered write (inline here: a coroutine of
        // its own was a frame and a resumption more per request).
        answer->headers.insert(answer->headers.end(), ctx.extra_headers.begin(), ctx.extra_headers.end());
        const std::string head = format_response_head(answer->status, answer->content_type, answer->headers,
                                                      answer->body.size(), keep_alive);
        const bool with_body = ctx.method != "HEAD";
        const std::array<asio::const_buffer, 2> buffers{
            asio::buffer(head), asio::buffer(answer->body.data(), with_body ? answer->body.size() : 0)};
        stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
        auto [ec, n] = co_await asio::async_write(stream, buffers, use_tuple);
        const std::size_t sent = ec ? 0 : n;
        count_and_log(a, ctx, answer->status, sent);
        co_return keep_alive && sent > 0;
    }
    if (auto* streamed = std::get_if<streamed_answer>(&r)) {
        const auto sent = co_await write_streamed(a, stream, ctx, *streamed, keep_alive);
        count_and_log(a, ctx, streamed->status, sent.value_or(0));
        co_return keep_alive && sent.has_value();
    }
    auto& takeover = std::get<stream_takeover>(r);
    std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Cache-Control: no-store\r\n"
        "X-Accel-Buffering: no\r\n"
        "Connection: close\r\n";
    takeover.headers.insert(takeover.headers.end(), ctx.extra_headers.begin(), ctx.extra_headers.end());
    for (const auto& [name, value] : takeover.headers) append_header(head, name, value);
    head += "\r\n";
    // Counted and logged when it starts: a stream lasts as long as its client.
    count_and_log(a, ctx, 200, 0);
    stream.expires_never();
    auto socket = stream.release_socket();
    auto executor = socket.get_executor();
    asio::co_spawn(executor, run_stream(a, std::move(takeover.run), std::move(socket), std::move(head)), asio::detached);
    co_return false;
}

asio::awaitable<bool> write_continue(boost::beast::tcp_stream& stream, std::chrono::milliseconds timeout) {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    stream.expires_after(timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(interim), use_tuple);
    co_return !ec;
}

asio::awaitable<void> drain_after_refusal(boost::beast::tcp_stream& stream) {
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    std::vector<char> scratch(64 * 1024);
    std::size_t dropped = 0;
    stream.expires_after(drain_time);
    while (dropped < drain_limit_bytes) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
        if (ec) break;
        dropped += n;
    }
}

}  // namespace obs::server
