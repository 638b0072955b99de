// Writing answers; see http_io.hpp. The response head is formatted here into
// one string and sent with the body in one gathered write: Beast's generic
// serializer walks its buffer sequences several times per response, which
// cost about a tenth of the io thread's time on small JSON answers.
#include "server/http_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>

#include <array>

namespace obs::server {
namespace http = boost::beast::http;

namespace {

// True when `text` can go into a header line as it is: no CR, LF or NUL,
// which would end the line (or the head) early.
bool fits_header_line(std::string_view text) { return text.find_first_of(std::string_view("\r\n\0", 3)) == text.npos; }

void append_header(std::string& head, std::string_view name, std::string_view value) {
    if (!fits_header_line(name) || !fits_header_line(value)) return;  // never ours to send
    head.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

std::string format_response_head(const http_answer& answer, bool keep_alive) {
    std::string head;
    head.reserve(160);
    const auto reason = http::obsolete_reason(static_cast<http::status>(answer.status));
    head.append("HTTP/1.1 ").append(std::to_string(answer.status)).append(" ").append(reason).append("\r\n");
    append_header(head, "Server", "observability-server");
    if (!answer.content_type.empty()) append_header(head, "Content-Type", answer.content_type);
    for (const auto& [name, value] : answer.headers) append_header(head, name, value);
    // A HEAD answer tells the length the GET would have, without the body.
    append_header(head, "Content-Length", std::to_string(answer.body.size()));
    if (!keep_alive) append_header(head, "Connection", "close");
    head.append("\r\n");
    return head;
}

boost::asio::awaitable<std::size_t> write_answer(boost::beast::tcp_stream& stream, const http_answer& answer,
                                                 bool keep_alive, std::string_view method, app& a) {
    const std::string head = format_response_head(answer, keep_alive);
    const bool with_body = method != "HEAD";
    const std::array<boost::asio::const_buffer, 2> buffers{
        boost::asio::buffer(head), boost::asio::buffer(answer.body.data(), with_body ? answer.body.size() : 0)};
    if (answer.status < 300) ++a.counters().responses_2xx;
    else if (answer.status < 500) ++a.counters().responses_4xx;
    else ++a.counters().responses_5xx;
    stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
    auto [ec, n] = co_await boost::asio::async_write(stream, buffers, boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return ec ? 0 : n;
}

boost::asio::awaitable<bool> write_continue(boost::beast::tcp_stream& stream, app& a) {
    static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
    auto [ec, n] = co_await boost::asio::async_write(stream, boost::asio::buffer(interim),
                                                     boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return !ec;
}

}  // namespace obs::server
