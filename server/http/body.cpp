// Buffered bodies and their gzip decoding; see body.hpp. zlib inflates in
// 64 KiB steps into the growing result, which is refused the moment it would
// pass the limit, so a bomb never costs more than the limit in memory.
#include "server/http/body.hpp"

#include "server/http/header_text.hpp"
#include "server/http/respond.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <zlib.h>

#include <algorithm>
#include <memory>

namespace obs::server {
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

api_error too_large(std::size_t limit) {
    return make_error(error_code::too_large, "body is larger than the limit of " + std::to_string(limit) + " bytes");
}

// inflateEnd on every way out.
struct inflater {
    z_stream z{};
    bool ready = false;
    inflater() { ready = inflateInit2(&z, 16 + MAX_WBITS) == Z_OK; }  // 16+: gzip framing only
    ~inflater() {
        if (ready) inflateEnd(&z);
    }
    inflater(const inflater&) = delete;
    inflater& operator=(const inflater&) = delete;
};

// Parses what `buffer` already holds into `parser`, consuming it; true when
// that completed the message, with `ec` set when it is malformed. A small
// body usually arrives with its head, and Beast's async_read, finding it
// all there, would still post its completion: a scheduler round trip per
// request, saved here.
bool parse_from_buffer(http::request_parser<http::string_body>& parser, boost::beast::flat_buffer& buffer,
                       std::size_t& consumed, boost::system::error_code& ec) {
    while (!parser.is_done() && buffer.size() > 0) {
        const std::size_t n = parser.put(buffer.data(), ec);
        buffer.consume(n);
        consumed += n;
        if (ec == http::error::need_more) {
            ec = {};
            return false;
        }
        if (ec || n == 0) return !!ec;
    }
    return parser.is_done();
}

}  // namespace

body_coding coding_of(std::string_view content_encoding) {
    const std::string_view coding = trim_ows(content_encoding);
    if (coding.empty() || boost::beast::iequals(coding, "identity")) return body_coding::identity;
    if (boost::beast::iequals(coding, "gzip") || boost::beast::iequals(coding, "x-gzip")) return body_coding::gzip;
    return body_coding::unsupported;
}

boost::system::result<std::string, api_error> gunzip_bounded(std::string_view compressed, std::size_t limit) {
    inflater inf;
    if (!inf.ready) return make_error(error_code::internal, "cannot start decompression");
    std::string out;
    constexpr std::size_t step = 64 * 1024;
    inf.z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    inf.z.avail_in = static_cast<uInt>(compressed.size());
    for (;;) {
        const std::size_t before = out.size();
        if (before >= limit + 1) return too_large(limit);
        const std::size_t room = std::min(step, limit + 1 - before);
        out.resize(before + room);
        inf.z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
        inf.z.avail_out = static_cast<uInt>(room);
        const int rc = inflate(&inf.z, Z_NO_FLUSH);
        out.resize(before + (room - inf.z.avail_out));
        if (out.size() > limit) return too_large(limit);
        if (rc == Z_STREAM_END) {
            if (inf.z.avail_in != 0)
                return make_error(error_code::bad_request, "the gzip body has bytes after its end");
            return out;
        }
        if (rc == Z_BUF_ERROR && inf.z.avail_in == 0)
            return make_error(error_code::bad_request, "the gzip body is truncated");
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return make_error(error_code::bad_request, "the body is not valid gzip (Content-Encoding: gzip)");
    }
}

asio::awaitable<body_read> read_buffered_body(boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
                                              head_parser& head, std::size_t limit,
                                              std::chrono::milliseconds timeout, bool invite) {
    const auto& h = head.get();
    const body_coding coding = coding_of(h[http::field::content_encoding]);
    if (coding == body_coding::unsupported) {
        co_return body_read{make_error(error_code::unsupported_media_type,
                                       "Content-Encoding must be gzip or identity, not " +
                                           std::string(h[http::field::content_encoding])),
                            head.is_done(), 0};
    }
    // Content-Length says it at once; a chunked body is stopped as it crosses.
    if (auto length = head.content_length(); length && *length > limit)
        co_return body_read{too_large(limit), false, 0};
    if (invite && !head.is_done() && !co_await write_continue(stream, timeout))
        co_return body_read{make_error(error_code::internal, "the client is gone"), false, 0};
    http::request_parser<http::string_body> full(std::move(head));
    full.body_limit(limit);
    std::size_t n = 0;
    boost::system::error_code ec;
    if (!parse_from_buffer(full, buffer, n, ec)) {
        stream.expires_after(timeout);
        auto [read_ec, read_n] = co_await http::async_read(stream, buffer, full, asio::as_tuple(asio::use_awaitable));
        ec = read_ec;
        n += read_n;
    }
    if (ec == http::error::body_limit) co_return body_read{too_large(limit), false, n};
    if (ec) {
        const bool malformed = ec.category() == http::make_error_code(http::error::bad_target).category() &&
                               ec != http::error::partial_message;
        co_return body_read{make_error(malformed ? error_code::bad_request : error_code::internal,
                                       malformed ? "malformed HTTP request body" : "the client is gone"),
                            false, n};
    }
    std::string raw = std::move(full.get().body());
    const std::size_t received = raw.size();
    if (coding == body_coding::identity) co_return body_read{std::move(raw), true, received};
    auto decoded = gunzip_bounded(raw, limit);
    co_return body_read{std::move(decoded), true, received};
}

}  // namespace obs::server
