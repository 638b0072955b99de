// gunzip() for the tests of embedded files: inflates a whole gzip member
// with zlib, so a test can check that a gzip_body decodes to its body.
#pragma once

#include <zlib.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace obs::test {

// The decoded bytes of the gzip data `gz`, or nullopt when it is not one
// complete, valid gzip member (bad header, bad CRC, trailing bytes).
inline std::optional<std::string> gunzip(std::string_view gz) {
    auto stream = std::make_unique<z_stream>();
    // 16 + MAX_WBITS: gzip wrapper only.
    if (inflateInit2(stream.get(), 16 + MAX_WBITS) != Z_OK) return std::nullopt;
    auto end = [](z_stream* s) { inflateEnd(s); };
    std::unique_ptr<z_stream, decltype(end)> guard(stream.get(), end);
    stream->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    stream->avail_in = static_cast<uInt>(gz.size());
    std::string out;
    char chunk[16384];
    int rc = Z_OK;
    while (rc == Z_OK) {
        stream->next_out = reinterpret_cast<Bytef*>(chunk);
        stream->avail_out = sizeof chunk;
        rc = inflate(stream.get(), Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) return std::nullopt;
        out.append(chunk, sizeof chunk - stream->avail_out);
        if (rc == Z_OK && stream->avail_in == 0 && stream->avail_out != 0) return std::nullopt;  // truncated
    }
    if (stream->avail_in != 0) return std::nullopt;  // bytes after the member
    return out;
}

}  // namespace obs::test
