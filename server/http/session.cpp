// One HTTP connection; see session.hpp. Framing rules (RFC 9112): a request
// whose Transfer-Encoding does not end in `chunked` is refused and the
// connection closed, since its body length is unknown and its bytes would
// otherwise be read as a second request (smuggling); an HTTP/1.1 request
// needs a Host; the target must be a path (origin-form). The idle timeout
// runs until a request's first byte, the header timeout from then to the end
// of its head, on every request of a keep-alive connection.
#include "server/http/session.hpp"

#include "server/app.hpp"
#include "server/http/body.hpp"
#include "server/http/header_text.hpp"
#include "server/http/listener.hpp"
#include "server/http/query.hpp"
#include "server/http/respond.hpp"
#include "server/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

namespace obs::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t header_limit_bytes = 16 * 1024;

// Marks a socket idle (closable by shutdown) for the guard's lifetime.
struct idle_mark {
    std::unordered_set<tcp::socket*>& set;
    tcp::socket* socket;
    idle_mark(std::unordered_set<tcp::socket*>& s, tcp::socket* sock) : set(s), socket(sock) { set.insert(socket); }
    ~idle_mark() { set.erase(socket); }
};

bool is_parse_error(const boost::system::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// The last coding of a Transfer-Encoding value ("gzip, chunked" -> "chunked").
std::string_view last_coding(std::string_view value) {
    const auto comma = value.rfind(',');
    return trim_ows(comma == std::string_view::npos ? value : value.substr(comma + 1));
}

// The client asked for an interim 100 Continue before its body.
bool expects_continue(const http::request<http::empty_body>& h) {
    return beast::iequals(h[http::field::expect], "100-continue");
}

// Why the head cannot be served, before any route is looked at.
std::optional<api_error> framing_problem(const http::request<http::empty_body>& h) {
    if (auto te = h.find(http::field::transfer_encoding); te != h.end()) {
        if (!beast::iequals(last_coding(te->value()), "chunked"))
            return make_error(error_code::bad_request, "Transfer-Encoding must end with chunked");
        if (h.find(http::field::content_length) != h.end())
            return make_error(error_code::bad_request, "a request may not have both Transfer-Encoding and Content-Length");
    }
    if (h.version() >= 11 && h.find(http::field::host) == h.end())
        return make_error(error_code::bad_request, "an HTTP/1.1 request needs a Host header");
    const auto target = h.target();
    if (target.empty() || target.front() != '/')
        return make_error(error_code::bad_request, "the request target must be a path such as /healthz");
    return std::nullopt;
}

// The upload body, read chunk by chunk through Beast's buffer_body. The
// interim 100 Continue, when asked for, goes out on the first read: a
// handler that refuses from the head alone never invites the body.
class socket_body_reader final : public body_reader {
public:
    socket_body_reader(app& a, beast::tcp_stream& stream, beast::flat_buffer& buffer, head_parser& head,
                       bool expect_continue)
        : app_(a), stream_(stream), buffer_(buffer), parser_(std::move(head)), expect_continue_(expect_continue) {
        parser_.body_limit(std::numeric_limits<std::uint64_t>::max());  // the handler counts its own limit
    }

    asio::awaitable<chunk> read(std::span<char> into) override {
        if (parser_.is_done()) co_return chunk{status::end, 0};
        if (expect_continue_) {
            expect_continue_ = false;
            const auto timeout = std::chrono::milliseconds(app_.cfg().body_timeout_ms);
            if (!co_await write_continue(stream_, timeout)) co_return chunk{status::gone, 0};
        }
        for (;;) {
            parser_.get().body().data = into.data();
            parser_.get().body().size = into.size();
            // Per chunk: a slow but steady upload of a large file is fine.
            stream_.expires_after(std::chrono::milliseconds(app_.cfg().body_timeout_ms));
            auto [ec, n] = co_await http::async_read(stream_, buffer_, parser_, use_tuple);
            if (ec == http::error::need_buffer) ec = {};
            const std::size_t got = into.size() - parser_.get().body().size;
            received_ += n;
            if (ec)
                co_return chunk{is_parse_error(ec) && ec != http::error::partial_message ? status::bad_http : status::gone,
                                0};
            if (got > 0) co_return chunk{status::data, got};
            if (parser_.is_done()) co_return chunk{status::end, 0};
        }
    }

    bool done() const override { return parser_.is_done(); }
    bool keep_alive() const { return parser_.get().keep_alive(); }
    std::size_t received() const { return received_; }

private:
    app& app_;
    beast::tcp_stream& stream_;
    beast::flat_buffer& buffer_;
    http::request_parser<http::buffer_body> parser_;
    bool expect_continue_;
    std::size_t received_ = 0;
};

// The request of head `h`, its views pointing into `storage`: the
// connection's copy of the method, target and fields, reused from request
// to request (no allocation once it has grown). Not into `h` itself: a
// buffered body's parser takes the head over and is gone before the
// answer is written.
request request_of(const http::request<http::empty_body>& h, std::string& storage) {
    const std::string_view method = h.method_string();
    const std::string_view target = h.target();
    std::size_t size = method.size() + target.size();
    for (const auto& field : h) size += field.name_string().size() + field.value().size();
    storage.clear();
    storage.reserve(size);
    storage.append(method).append(target);
    for (const auto& field : h) storage.append(field.name_string()).append(field.value());
    // Views only once every byte is in: an append may move the buffer.
    std::size_t at = 0;
    const auto next = [&storage, &at](std::size_t n) {
        const std::string_view piece(storage.data() + at, n);
        at += n;
        return piece;
    };
    request req;
    req.method = next(method.size());
    req.target = next(target.size());
    req.path = req.target.substr(0, req.target.find('?'));
    req.headers.reserve(8);
    for (const auto& field : h) {
        const auto name = next(field.name_string().size());
        req.headers.emplace_back(name, next(field.value().size()));
    }
    return req;
}

// The stream's ?access_token= (EventSource cannot send headers), or "".
std::string access_token_of(std::string_view target) {
    auto params = parse_query(target, false);
    if (!params) return "";
    for (const auto& [key, value] : *params)
        if (key == "access_token") return value;
    return "";
}

// One connection's state and the steps of serving a request on it.
class connection {
public:
    connection(app& a, http_listener& listener, tcp::socket socket)
        : counted_(a.counters().open_connections), app_(a), listener_(listener), cfg_(a.cfg()), stream_(std::move(socket)) {}

    asio::awaitable<void> serve() {
        bool first = true;
        while (!listener_.stopping()) {
            // Idle until the next request's first byte (the first request's
            // wait counts as idle too), then the header timeout. (Inline, not
            // a coroutine of its own: each layer of the request path cost a
            // frame and a resumption per request.)
            if (buffer_.size() == 0 && !first) {
                idle_mark idle(listener_.idle(), &stream_.socket());
                stream_.expires_after(std::chrono::milliseconds(cfg_.idle_timeout_ms));
                auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), use_tuple);
                if (ec) break;
                buffer_.commit(n);
            }
            head_parser head;
            head.header_limit(header_limit_bytes);
            head.body_limit(std::numeric_limits<std::uint64_t>::max());  // each body mode sets its own
            stream_.expires_after(std::chrono::milliseconds(cfg_.header_timeout_ms));
            std::optional<idle_mark> idle;
            if (first) idle.emplace(listener_.idle(), &stream_.socket());
            first = false;
            auto [ec, n] = co_await http::async_read_header(stream_, buffer_, head, use_tuple);
            idle.reset();
            if (ec) {
                co_await answer_unreadable_head(ec);
                break;
            }
            if (!co_await serve_request(head)) break;
        }
        boost::system::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        stream_.socket().close(ignored);
    }

private:
    // A parse error gets its answer (400, or 431 for a head over the
    // limit); end of stream, a timeout or a reset just ends.
    asio::awaitable<void> answer_unreadable_head(const boost::system::error_code& ec) {
        if (!is_parse_error(ec) || ec == http::error::end_of_stream || ec == http::error::partial_message) co_return;
        ++app_.counters().requests;
        answer_context ctx;
        ctx.method = "-";
        ctx.path = "-";
        const bool headers_too_large = ec == http::error::header_limit;
        const auto refusal = make_error(headers_too_large ? error_code::headers_too_large : error_code::bad_request,
                                        headers_too_large ? "request headers are larger than 16 KiB"
                                                          : "malformed HTTP request: " + ec.message());
        response answer = error_answer(refusal);
        co_await respond(app_, stream_, std::move(ctx), std::move(answer), false);
    }

    // The answer the head alone decides, before any body is read: framing,
    // route (404, 405, OPTIONS), key. `keep_alive` turns false when the
    // framing is broken.
    std::optional<response> refusal_from_head(const http::request<http::empty_body>& h, const request& req,
                                              const route_table::match& found, bool& keep_alive) const {
        if (auto problem = framing_problem(h)) {
            keep_alive = false;
            return error_answer(*problem);
        }
        if (found.bad_encoding)
            return error_answer(make_error(error_code::bad_request, "the path has a malformed %-escape"));
        if (req.method == "OPTIONS" && found.path_known) {
            // A CORS preflight (or a plain OPTIONS): the path's methods.
            http_answer preflight{204, "", "", {{"Allow", found.allow + ", OPTIONS"}}};
            listener_.cors().add_preflight_headers(req.header("origin"), found.allow, preflight.headers);
            return preflight;
        }
        if (found.row == nullptr) {
            const api_error e = found.path_known
                                    ? make_error(error_code::method_not_allowed, std::string(req.method) + " is not allowed here")
                                    : make_error(error_code::not_found, "no route " + std::string(req.path));
            http_answer answer = error_answer(e);
            if (found.path_known) answer.headers.emplace_back("Allow", found.allow);
            return answer;
        }
        if (!found.row->needs) return std::nullopt;
        const std::string token = found.row->body == body_mode::event_stream ? access_token_of(req.target) : "";
        if (auto denied = app_.auth().check(req.header("authorization").value_or(""), token, *found.row->needs))
            return error_answer(*denied);
        return std::nullopt;
    }

    // Reads a buffered body, or reads (to drop it) one that came to a route
    // without a body, as the row says. Not a coroutine: the caller awaits
    // read_buffered_body itself, one frame fewer per request.
    asio::awaitable<body_read> read_body(const route& row, head_parser& head) {
        const bool buffered = row.body == body_mode::buffered;
        const std::size_t limit = buffered ? row.body_limit : cfg_.max_body_bytes;
        const bool invite = buffered && expects_continue(head.get());
        const auto timeout = std::chrono::milliseconds(cfg_.body_timeout_ms);
        return read_buffered_body(stream_, buffer_, head, limit, timeout, invite);
    }

    // The request's context for respond(), and its CORS headers.
    answer_context context_of(const request& req) const {
        answer_context ctx;
        ctx.method = req.method;
        ctx.path = req.path;
        listener_.cors().add_answer_headers(req.header("origin"), ctx.extra_headers);
        return ctx;
    }

    // Serves the request whose head was read; false when the connection ends
    // (the client's wish, a refusal that left the body unread, a failed
    // write). Every answer leaves through the one respond() at the end.
    asio::awaitable<bool> serve_request(head_parser& head) {
        ++app_.counters().requests;
        const auto& h = head.get();
        request req = request_of(h, head_copy_);
        answer_context ctx = context_of(req);
        bool keep_alive = h.keep_alive() && !listener_.stopping();

        auto found = listener_.routes().find(req.method, req.path);
        if (found.row != nullptr) ctx.route_index = found.index;
        // A refusal from the head reads no body: the connection closes after
        // it unless the head came without one.
        std::optional<response> answer = refusal_from_head(h, req, found, keep_alive);
        bool body_consumed = head.is_done();
        std::optional<socket_body_reader> upload;
        if (!answer) {
            const route& row = *found.row;
            req.params = std::move(found.params);
            if (row.body == body_mode::upload) {
                upload.emplace(app_, stream_, buffer_, head, expects_continue(h) && !head.is_done());
                req.upload = &*upload;
            } else if (row.body == body_mode::buffered || !head.is_done()) {
                // A refused body may leave the connection unusable.
                const bool was_done = head.is_done();
                auto read = co_await read_body(row, head);
                ctx.bytes_in = read.bytes_in;
                body_consumed = read.connection_usable || was_done;
                if (!read.body) answer = error_answer(read.body.error());
                else if (row.body == body_mode::buffered) req.body = std::move(*read.body);
            }
        }
        if (!answer) {
            // The handler; an exception is a bug: logged, answered 500.
            handler_result result = make_error(error_code::internal, "internal error");
            try {
                result = co_await found.row->handle(app_, std::move(req));
            } catch (const std::exception& e) {
                log_line("error", "request failed", {{"route", printable_text(ctx.path)}, {"error", e.what()}});
            }
            answer = result ? std::move(*result) : error_answer(result.error());
            body_consumed = !upload || upload->done();
            if (upload) {
                ctx.bytes_in = upload->received();
                keep_alive = keep_alive && upload->keep_alive();
            }
        }
        const bool reuse = co_await respond(app_, stream_, std::move(ctx), std::move(*answer),
                                            keep_alive && body_consumed);
        if (!body_consumed) co_await drain_after_refusal(stream_);
        co_return reuse && body_consumed;
    }

    open_connection_mark counted_;  // first in, last out: counts the whole connection
    app& app_;
    http_listener& listener_;
    const config& cfg_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::string head_copy_;  // what the current request's views point into
};

}  // namespace

asio::awaitable<void> run_http_session(app& a, http_listener& listener, tcp::socket socket) {
    connection c(a, listener, std::move(socket));
    co_await c.serve();
}

}  // namespace obs::server
