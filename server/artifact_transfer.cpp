// The byte streaming of the artifact routes (see artifact_transfer.hpp). A
// chunk buffer of chunk_bytes is reused for the whole transfer; it is only
// touched by the worker while the io side awaits that worker, so it needs no
// lock.
#include "server/artifact_transfer.hpp"

#include "server/artifact_service.hpp"
#include "server/http_io.hpp"
#include "server/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <utility>
#include <vector>

namespace obs::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t chunk_bytes = 256 * 1024;
// How much of an unwanted body is read and dropped after a refusal, and for
// how long, before the connection is closed.
constexpr std::size_t drain_limit_bytes = 4 * 1024 * 1024;
constexpr auto drain_time = std::chrono::milliseconds(1000);

}  // namespace

asio::awaitable<void> drain_after_refusal(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    buffer.clear();
    std::vector<char> scratch(64 * 1024);
    std::size_t dropped = 0;
    stream.expires_after(drain_time);
    while (dropped < drain_limit_bytes) {
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
        if (ec) break;
        dropped += n;
    }
}

asio::awaitable<body_end> receive_artifact_body(app& a, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                http::request_parser<http::buffer_body>& parser,
                                                std::shared_ptr<persistence::artifact_upload> upload,
                                                std::uint64_t& total) {
    auto& service = *a.artifacts;
    std::vector<char> chunk(chunk_bytes);
    while (!parser.is_done()) {
        parser.get().body().data = chunk.data();
        parser.get().body().size = chunk.size();
        // Per chunk: a slow but steady upload of a large file is fine.
        stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
        auto [ec, ignored] = co_await http::async_read(stream, buffer, parser, use_tuple);
        if (ec == http::error::need_buffer) ec = {};
        const std::size_t got = chunk.size() - parser.get().body().size;
        if (ec) co_return is_http_parse_error(ec) && ec != http::error::partial_message ? body_end::bad_http
                                                                                         : body_end::gone;
        total += got;
        if (total > service.max_bytes()) co_return body_end::too_large;
        if (got == 0) continue;
        bool written = false;
        try {
            auto write_chunk = [upload, data = chunk.data(), got] {
                upload->write(data, got);
                return true;
            };
            written = co_await service.on_worker(std::move(write_chunk));
        } catch (const std::exception& e) {
            log_line("error", "artifact upload failed", {{"reason", e.what()}});
        }
        if (!written) co_return body_end::storage_failed;
    }
    co_return body_end::complete;
}

asio::awaitable<std::optional<std::size_t>> send_artifact_content(
    app& a, beast::tcp_stream& stream, http::response<http::buffer_body>& res,
    std::shared_ptr<persistence::artifact_content> content, std::uint64_t first, std::uint64_t length) {
    auto& service = *a.artifacts;
    http::response_serializer<http::buffer_body> serializer(res);
    std::vector<char> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, length)));
    std::size_t sent = 0;
    std::uint64_t offset = first;
    std::uint64_t left = length;
    do {
        std::size_t got = 0;
        if (left > 0) {
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), left));
            try {
                auto read_chunk = [content, data = chunk.data(), offset, want] {
                    return content->read_at(offset, data, want);
                };
                got = co_await service.on_worker(std::move(read_chunk));
            } catch (const std::exception& e) {
                log_line("error", "artifact read failed", {{"reason", e.what()}});
            }
            if (got == 0) co_return std::nullopt;  // failed or truncated on disk
        }
        res.body().data = got > 0 ? chunk.data() : nullptr;
        res.body().size = got;
        res.body().more = left > got;
        stream.expires_after(std::chrono::milliseconds(a.cfg().body_timeout_ms));
        auto [ec, n] = co_await http::async_write(stream, serializer, use_tuple);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return std::nullopt;
        sent += n;
        offset += got;
        left -= got;
    } while (left > 0);
    co_return sent;
}

}  // namespace obs::server
