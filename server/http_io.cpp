// Writing answers; see http_io.hpp.
#include "server/http_io.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace obs::server {
namespace http = boost::beast::http;

boost::asio::awaitable<std::size_t> write_answer(boost::beast::tcp_stream& stream, const http_answer& answer,
                                                 bool keep_alive, std::string_view method, app& a) {
    http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
    res.set(http::field::server, "observability-server");
    res.set(http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) res.set(name, value);
    if (method != "HEAD") res.body() = answer.body;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    if (answer.status < 300) ++a.counters().responses_2xx;
    else if (answer.status < 500) ++a.counters().responses_4xx;
    else ++a.counters().responses_5xx;
    stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
    auto [ec, n] = co_await http::async_write(stream, res, boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return ec ? 0 : n;
}

}  // namespace obs::server
