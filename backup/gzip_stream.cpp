// zlib deflate/inflate with the gzip wrapper (windowBits 15 + 16).
#include "backup/gzip_stream.hpp"

#include <algorithm>
#include <cassert>
#include <string>

namespace obs::backup {

namespace {

constexpr std::size_t out_chunk = 64 * 1024;
constexpr int gzip_window_bits = 15 + 16;  // 32 KiB window, gzip header and trailer

std::string zlib_message(const z_stream& zs, int rc) {
    return std::string(zs.msg != nullptr ? zs.msg : "zlib error") + " (" + std::to_string(rc) + ")";
}

}  // namespace

// The z_stream and its output buffer; deflateEnd/inflateEnd run in the
// owners' destructors once init succeeded.
struct gzip_compressor::state {
    z_stream zs{};
    std::vector<unsigned char> out = std::vector<unsigned char>(out_chunk);
    bool initialised = false;
    ~state() {
        if (initialised) deflateEnd(&zs);
    }
};

gzip_compressor::gzip_compressor(int level, byte_sink out) : s_(std::make_unique<state>()), out_(std::move(out)) {
    if (level < 0 || level > 9) throw gzip_error("gzip level must be 0..9, not " + std::to_string(level));
    const int rc = deflateInit2(&s_->zs, level, Z_DEFLATED, gzip_window_bits, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) throw gzip_error("deflateInit2: " + zlib_message(s_->zs, rc));
    s_->initialised = true;
}

gzip_compressor::~gzip_compressor() = default;

void gzip_compressor::run_(int flush) {
    z_stream& zs = s_->zs;
    // deflate leaves output pending only when it filled the buffer; with
    // Z_FINISH and room to spare it has returned Z_STREAM_END.
    do {
        zs.next_out = s_->out.data();
        zs.avail_out = static_cast<uInt>(s_->out.size());
        const int rc = deflate(&zs, flush);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) throw gzip_error("deflate: " + zlib_message(zs, rc));
        const std::size_t produced = s_->out.size() - zs.avail_out;
        if (produced > 0) out_(reinterpret_cast<const char*>(s_->out.data()), produced);
    } while (zs.avail_out == 0);
}

void gzip_compressor::write(const char* data, std::size_t n) {
    assert(!finished_);
    z_stream& zs = s_->zs;
    while (n > 0) {
        // avail_in is 32-bit: feed huge buffers in slices.
        const std::size_t slice = std::min<std::size_t>(n, 1U << 30);
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
        zs.avail_in = static_cast<uInt>(slice);
        run_(Z_NO_FLUSH);
        data += slice;
        n -= slice;
    }
}

void gzip_compressor::finish() {
    assert(!finished_);
    s_->zs.next_in = nullptr;
    s_->zs.avail_in = 0;
    run_(Z_FINISH);
    finished_ = true;
}

struct gunzip_decompressor::state {
    z_stream zs{};
    std::vector<unsigned char> out = std::vector<unsigned char>(out_chunk);
    bool initialised = false;
    ~state() {
        if (initialised) inflateEnd(&zs);
    }
};

gunzip_decompressor::gunzip_decompressor(byte_sink out) : s_(std::make_unique<state>()), out_(std::move(out)) {
    const int rc = inflateInit2(&s_->zs, gzip_window_bits);
    if (rc != Z_OK) throw gzip_error("inflateInit2: " + zlib_message(s_->zs, rc));
    s_->initialised = true;
}

gunzip_decompressor::~gunzip_decompressor() = default;

void gunzip_decompressor::write(const char* data, std::size_t n) {
    z_stream& zs = s_->zs;
    while (n > 0) {
        if (done_) throw gzip_error("gzip: data after the end of the stream");
        const std::size_t slice = std::min<std::size_t>(n, 1U << 30);
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
        zs.avail_in = static_cast<uInt>(slice);
        // inflate consumed all input once it leaves room in the buffer.
        do {
            zs.next_out = s_->out.data();
            zs.avail_out = static_cast<uInt>(s_->out.size());
            const int rc = inflate(&zs, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                done_ = true;
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
                throw gzip_error("gzip: corrupt stream: " + zlib_message(zs, rc));
            }
            const std::size_t produced = s_->out.size() - zs.avail_out;
            if (produced > 0) out_(reinterpret_cast<const char*>(s_->out.data()), produced);
        } while (zs.avail_out == 0 && !done_);
        if (done_ && zs.avail_in > 0) throw gzip_error("gzip: data after the end of the stream");
        data += slice;
        n -= slice;
    }
}

void gunzip_decompressor::finish() const {
    if (!done_) throw gzip_error("gzip: stream is truncated");
}

}  // namespace obs::backup
